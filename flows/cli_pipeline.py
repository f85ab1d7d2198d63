"""The pipeline's commands: ``ingest``, ``batches`` and ``quarantine list`` (data in),
``recompute`` (a snapshot, published to the dashboard) and ``pipeline`` (ingest,
recompute, refresh in one run).

Each checks the database in one line before Prefect starts; Prefect itself is imported
only by ``recompute`` and ``pipeline``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from typer._click import exceptions as click_exc  # Typer 0.29 vendors click: catch its own

from flows.cli_context import echo, engine, parse_date, rules, settings
from models.errors import AccountopsError

if TYPE_CHECKING:  # Prefect is imported by the commands that run flows, not at start-up
    from prefect.states import State


class PipelineFailed(AccountopsError):
    code = "PIPELINE_FAILED"


# Scale-out (flows/scaleout.py): default the settings' ACCOUNTOPS_DASK_ADDRESS / _WORKERS.
DaskAddress = Annotated[
    str | None,
    typer.Option(
        "--dask-address",
        help="Run the ingest's batches and the recompute's customer ranges on this Dask "
        "scheduler (tcp://host:8786). PostgreSQL only.",
    ),
]
DaskWorkers = Annotated[
    int | None,
    typer.Option(
        "--dask-workers",
        min=1,
        help="The same on a local Dask cluster of N workers. PostgreSQL only.",
    ),
]


def _check_scale_out(database_url: str, address: str | None, workers: int | None) -> None:
    """Scale-out on SQLite: one line, before Prefect starts (the flows refuse it too)."""
    from flows.scaleout import scale_out

    scale_out(database_url, address, workers)


quarantine_app = typer.Typer(
    help="Rows kept out of the data, with their reasons.", no_args_is_help=True
)


# --- data in --------------------------------------------------------------------------------


def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders of canonical CSVs.")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping for a foreign export.")] = None,
    source_url: Annotated[
        str | None, typer.Option("--source-url", help="SQLAlchemy URL of a source database.")
    ] = None,
    query: Annotated[str | None, typer.Option(help="SQL query run on --source-url.")] = None,
    entity: Annotated[
        str, typer.Option(help="What the query returns: invoice_lines or payments.")
    ] = "invoice_lines",
    dask_address: DaskAddress = None,
    dask_workers: DaskWorkers = None,
) -> None:
    """Validate and load input files exactly once; bad rows go to quarantine."""
    from flows.ingest_cli import run_ingest

    if not paths and not query:
        raise click_exc.UsageError("give PATH... or --source-url URL --query SQL")
    if query and not source_url:
        raise click_exc.UsageError("--query needs --source-url")
    _check_paths(paths or [], mapping)
    cfg = settings()
    _check_scale_out(cfg.database_url, dask_address, dask_workers)
    rules(cfg.config_file)
    engine(writes=True).dispose()  # reachable, migrated and writable, or a one-line error
    code = run_ingest(
        cfg.database_url,
        [str(p) for p in paths or []],
        mapping=str(mapping) if mapping else None,
        source_url=source_url,
        query=query,
        entity=entity,
        config_file=str(cfg.config_file) if getattr(cfg, "config_file", None) else None,
        dask_address=dask_address,
        dask_workers=dask_workers,
    )
    if code:
        raise typer.Exit(code)


def _check_paths(paths: list[Path] | list[str], mapping: Path | None) -> None:
    """A path that does not exist, a bad mapping, or a file no entity or mapping matches:
    one line naming it, before Prefect starts and before any batch is recorded (the flow
    checks a deployment's paths for the first; it records the others as refused)."""
    from models.ingest.paths import files_to_ingest

    if mapping is not None:
        from models.ingest.mapping import load_mapping  # pandas: only with a mapping

        load_mapping(mapping)
    files_to_ingest(paths, mapped=mapping is not None)


def batches() -> None:
    """List ingested batches with their status and validation results."""
    from flows.ingest_cli import print_batches

    print_batches(engine())


@quarantine_app.command("list")
def quarantine_list(
    batch: Annotated[int | None, typer.Option(help="Only this batch id.")] = None,
) -> None:
    """List quarantined rows with the rules they broke."""
    from flows.ingest_cli import print_quarantine

    print_quarantine(engine(), batch)


# --- computation ----------------------------------------------------------------------------


def recompute(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="As-of date YYYY-MM-DD (default: last invoice).")
    ] = None,
    dask_address: DaskAddress = None,
    dask_workers: DaskWorkers = None,
) -> None:
    """Recompute measures, tiers, segments and receivables into a new snapshot, and publish
    it to the dashboard (the pipeline without an ingest, as the recompute-daily deployment)."""
    day = parse_date(as_of, "--as-of") if as_of is not None else None
    data = run_pipeline([], as_of=day, dask_address=dask_address, dask_workers=dask_workers)
    snapshot = data.get("snapshot") or {}
    counts = ", ".join(f"{k} {v}" for k, v in snapshot.get("tier_counts", {}).items())
    echo(f"tiers in snapshot {snapshot.get('snapshot_id')}: {counts}")


def pipeline(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders to ingest first.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="As-of date YYYY-MM-DD (default: last invoice).")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping for a foreign export.")] = None,
    dask_address: DaskAddress = None,
    dask_workers: DaskWorkers = None,
) -> None:
    """Ingest, then recompute, then refresh the dashboard's tables (a step that fails stops
    the steps after it; what earlier steps committed stays)."""
    day = parse_date(as_of, "--as-of") if as_of is not None else None
    run_pipeline(
        [str(p) for p in paths or []],
        as_of=day,
        mapping=mapping,
        dask_address=dask_address,
        dask_workers=dask_workers,
    )


def run_pipeline(
    paths: list[str],
    *,
    as_of: date | None = None,
    mapping: Path | None = None,
    dask_address: str | None = None,
    dask_workers: int | None = None,
) -> dict[str, Any]:
    """Run the pipeline flow with ingest progress; print each step; fail in one line.
    Returns the run's data (steps, batches, the snapshot's summary)."""
    _check_paths(paths, mapping)
    cfg = settings()
    _check_scale_out(cfg.database_url, dask_address, dask_workers)
    rules(cfg.config_file)
    engine(writes=True).dispose()  # reachable, migrated, writable; else one line, no Prefect
    from flows.ingest_cli import ingest_progress, print_ingest_summary
    from flows.pipeline import pipeline as pipeline_flow

    with ingest_progress():
        # The flow returns its final State itself, which Prefect's overloads type as a
        # State holding a State: the call's value is that final State.
        state = cast(
            "State[Any]",
            pipeline_flow(
                paths=paths or None,
                database_url=cfg.database_url,
                as_of=as_of,
                mapping_file=str(mapping) if mapping else None,
                config_file=str(cfg.config_file) if cfg.config_file else None,
                dask_address=dask_address,
                dask_workers=dask_workers,
                return_state=True,
            ),
        )
    data = state.result(raise_on_failure=False)
    data = data if isinstance(data, dict) else {}
    if data.get("batches"):
        print_ingest_summary(data["batches"])
    for step in data.get("steps", []):
        took = f"{step['seconds']} s" if step.get("seconds") else ""
        echo(f"  {step['step']:<10} {step['outcome']:<8} {took:>8}  {step['detail']}")
    if not state.is_completed():
        code = data.get("error_code", PipelineFailed.code)
        raise PipelineFailed(state.message or "the pipeline failed", code=code)
    echo(state.message or "pipeline complete")
    return data
