"""The ``ingest`` flow: one task per batch (file or query), never per row.

reader -> expectations (GX suite runner) -> models.ingest service. Transient
database errors (OperationalError) are retried with backoff; validation
outcomes never are. The flow ends Failed when any batch was rejected or
quarantined, and leaves a markdown table artifact of every batch.

Progress is a parameter of the service (``progress=``), never a module global:
the task passes :func:`log_progress`, which logs one record per chunk on the
``accountops.ingest.progress`` logger. Nothing listens by default (the records
are below the root logger's WARNING); the CLI's progress bar does, while it runs
the flow (flows/ingest_cli.py). A flow parameter would have to be serialisable.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import date
from itertools import zip_longest
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.states import Completed, Failed, State
from prefect.tasks import exponential_backoff

from flows.data_docs import publish_data_docs
from flows.locking import holding_the_database
from flows.notify import notify_failure, notify_quarantine
from flows.retries import retry_on_transient
from flows.scaleout import ScaleOut, ScaleOutRefused, scale_out
from models.errors import ConfigError
from models.ingest.errors import IngestError
from models.ingest.paths import expand_paths, file_away, load_waves
from models.ingest.result import NOT_LOADED, REFUSED
from models.runlock import RunLockBusy, RunLockLost

PROGRESS_LOGGER = "accountops.ingest.progress"


def log_progress(logger: logging.Logger) -> Callable[[str, int, int], None]:
    """A ``progress`` callable for the ingest service: one INFO record per chunk read,
    its figures in ``record.ingest_progress`` = (file, rows read, rows in the file)."""

    def report(name: str, rows: int, total: int) -> None:
        logger.info(
            "%s: %s of %s rows read",
            name,
            f"{rows:,}",
            f"{total:,}",
            extra={"ingest_progress": (name, rows, total)},
        )

    return report


def with_inbox(paths: list[str] | None, inbox: bool) -> list[str]:
    """``paths``, and the landing folder if ``inbox``. The default folder (<data dir>/inbox)
    is made if missing: nothing has landed yet. One set in ACCOUNTOPS_INBOX is not: a typo
    or a share that is not mounted must fail the run (FILE_NOT_FOUND), not pass as empty."""
    if not inbox:
        return list(paths or [])
    from models.settings import Settings

    settings = Settings()
    folder = settings.landing_folder
    if settings.inbox is None:
        folder.mkdir(parents=True, exist_ok=True)
    return [*(paths or []), str(folder)]


def _runner(config, as_of: date):
    from expectations.runner import SuiteRunner

    return SuiteRunner(config, as_of)


@task(
    name="ingest-batch",
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=1),
    retry_condition_fn=retry_on_transient,
)
def ingest_batch(
    path: str | None,
    database_url: str,
    as_of: date,
    mapping_file: str | None = None,
    source_url: str | None = None,
    query: str | None = None,
    entity: str | None = None,
    config_file: str | None = None,
) -> dict[str, Any]:
    """Load one batch through the service; returns the BatchResult as a dict."""
    from dataclasses import asdict

    from prefect.runtime import flow_run

    from models.config import load_config
    from models.db import make_engine
    from models.ingest import QuerySource, ingest_config, ingest_file, ingest_query, load_mapping

    logger = get_run_logger()
    config = ingest_config(load_config(Path(config_file) if config_file else None))
    engine = make_engine(database_url)
    runner = _runner(config, as_of)
    run_id = str(flow_run.id) if flow_run.id else None
    progress = log_progress(logging.getLogger(PROGRESS_LOGGER))
    try:
        if query:
            result = ingest_query(
                engine,
                QuerySource(source_url or "", query, entity or "invoice_lines"),
                validator=runner,
                config=config,
                as_of=as_of,
                progress=progress,
                flow_run_id=run_id,
                waiting=logger.warning,
            )
        else:
            mapping = load_mapping(Path(mapping_file)) if mapping_file else None
            result = ingest_file(
                engine,
                Path(path or ""),
                validator=runner,
                config=config,
                as_of=as_of,
                mapping=mapping,
                progress=progress,
                flow_run_id=run_id,
                waiting=logger.warning,
            )
    finally:
        engine.dispose()
    publish_data_docs(runner, result, config, logger)  # after the load's COMMIT
    for warning in result.warnings:
        logger.warning(warning)
    logger.info(
        "%s: %s read=%d loaded=%d updated=%d quarantined=%d skipped=%d rejected=%d%s",
        result.file,
        result.outcome,
        result.rows_read,
        result.rows_loaded,
        result.rows_updated,
        result.rows_quarantined,
        result.rows_skipped,
        result.rows_rejected,
        f" [{result.error_code}] {result.message}" if result.error_code else "",
    )
    return asdict(result)


def summary_markdown(results: list[dict[str, Any]]) -> str:
    head = (
        "| file | batch | outcome | loaded | updated | quarantined | skipped | rejected | error |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['file']} | {r['batch_id']} | {r['outcome']} | {r['rows_loaded']} | "
            f"{r['rows_updated']} | {r['rows_quarantined']} | {r['rows_skipped']} | "
            f"{r['rows_rejected']} | {r['error_code'] or ''} |"
        )
    return "\n".join(lines)


@flow(
    name="ingest",
    log_prints=False,
    on_failure=[notify_failure],
    on_crashed=[notify_failure],
    on_completion=[notify_quarantine],
)
def ingest(
    paths: list[str] | None = None,
    database_url: str | None = None,
    as_of: date | None = None,
    mapping_file: str | None = None,
    source_url: str | None = None,
    query: str | None = None,
    entity: str | None = None,
    config_file: str | None = None,
    inbox: bool = False,
    dask_address: str | None = None,
    dask_workers: int | None = None,
):
    """Ingest files/folders (or one SQL query) exactly once; Failed if any batch was refused.

    ``inbox`` adds the landing folder (ACCOUNTOPS_INBOX, default <data dir>/inbox), as
    the scheduled deployments do. ``dask_address`` or ``dask_workers`` (default: the
    settings) load the files in waves on a Dask cluster (flows/scaleout.py)."""
    from models.settings import Settings

    logger = get_run_logger()
    database_url = database_url or Settings().database_url
    as_of = as_of or date.today()
    try:
        scale = scale_out(database_url, dask_address, dask_workers)
    except ScaleOutRefused as exc:
        logger.error("ingest not started: %s", exc)
        return Failed(message=str(exc), data=exc)
    try:
        paths = with_inbox(paths, inbox)
        expand_paths(paths)  # a path that does not exist: refused before anything runs
    except (IngestError, OSError) as exc:
        logger.error("ingest not started: %s", exc)
        return Failed(message=str(exc))
    try:
        with holding_the_database(database_url):
            batches = _ingest_batches(
                paths,
                database_url,
                as_of,
                mapping_file,
                source_url,
                query,
                entity,
                config_file,
                scale,
            )
    except (RunLockBusy, RunLockLost, ConfigError) as exc:
        logger.error("ingest stopped: %s", exc)
        return Failed(message=str(exc), data=exc)
    if inbox:
        landed = [(p, r["outcome"], r["batch_id"]) for p, r in batches if p is not None]
        for problem in file_away(Path(paths[-1]), landed):
            logger.warning(problem)
    results = [r for _, r in batches]
    create_markdown_artifact(
        key="ingest-report", markdown=summary_markdown(results), description="ingest per batch"
    )
    refused = [r for r in results if r["outcome"] in NOT_LOADED]
    if refused:
        what = "refused" if all(r["outcome"] in REFUSED for r in refused) else "refused or failed"
        return Failed(
            message=f"{len(refused)} of {len(results)} batch(es) {what}: "
            + "; ".join(r["message"] or r["file"] for r in refused),
            data=results,
        )
    return Completed(message=f"{len(results)} batch(es) ingested", data=results)


def _ingest_batches(
    paths: list[str] | None,
    database_url: str,
    as_of: date,
    mapping_file: str | None,
    source_url: str | None,
    query: str | None,
    entity: str | None,
    config_file: str | None,
    scale: ScaleOut | None = None,
) -> list[tuple[Path | None, dict[str, Any]]]:
    """Sweep stale batches, then one task per batch: each file (or the query) with its
    result, in load order; with ``scale``, the files in waves on its cluster. A batch
    another process still held when the wait ran out stops the files after it (they may
    need it: payments the invoice lines), to be loaded by the next run."""
    from models.config import load_config
    from models.db import make_engine
    from models.ingest import ingest_config, sweep_stale_batches

    logger = get_run_logger()
    ingest_config(load_config(Path(config_file) if config_file else None))  # or ConfigError
    engine = make_engine(database_url)
    swept = sweep_stale_batches(engine)
    engine.dispose()
    if swept:
        logger.warning("marked %d stale started batch(es) abandoned", swept)
    batches: list[tuple[Path | None, dict[str, Any]]] = []
    if query:
        batches.append(
            (
                None,
                _outcome(
                    query[:60],
                    ingest_batch(
                        None,
                        database_url,
                        as_of,
                        source_url=source_url,
                        query=query,
                        entity=entity,
                        config_file=config_file,
                        return_state=True,
                    ),
                ),
            )
        )
    files = expand_paths(paths or [])
    if scale is not None and files:
        logger.info("loading %d file(s) in waves on %s", len(files), scale.describe())
        waves = ingest_waves.with_options(task_runner=scale.task_runner())
        outcomes = waves([str(f) for f in files], database_url, as_of, mapping_file, config_file)
        return [*batches, *((f, o) for f, o in zip(files, outcomes, strict=True) if o)]
    for i, path in enumerate(files):
        state = ingest_batch(
            str(path),
            database_url,
            as_of,
            mapping_file=mapping_file,
            config_file=config_file,
            return_state=True,
        )
        batches.append((path, _outcome(path.name, state)))
        if batches[-1][1]["outcome"] == "IN_PROGRESS" and files[i + 1 :]:
            later = ", ".join(f.name for f in files[i + 1 :])
            logger.error("not loaded this run (they may need %s): %s", path.name, later)
            break
    return batches


@flow(name="ingest-waves")
def ingest_waves(
    files: list[str],
    database_url: str,
    as_of: date,
    mapping_file: str | None = None,
    config_file: str | None = None,
) -> list[dict[str, Any] | None]:
    """Each file's batch result, in the files' order, loaded in waves on this flow's task
    runner (a Dask cluster): the entities of a wave side by side, each entity's files
    one after the other (:func:`models.ingest.paths.load_waves`). A batch another process
    still held stops the waves after its own: their files get None (not loaded)."""
    from models.ingest import load_mapping

    entity = load_mapping(Path(mapping_file)).entity if mapping_file else None
    slots: dict[Path, deque[int]] = defaultdict(deque)  # a file given twice loads twice
    for i, f in enumerate(files):
        slots[Path(f)].append(i)
    done: dict[int, dict[str, Any]] = {}
    for wave in load_waves([Path(f) for f in files], entity):
        # The n-th file of every chain of the wave, side by side; then the next ones.
        for side_by_side in zip_longest(*wave):
            running = [
                (
                    path,
                    ingest_batch.submit(
                        str(path),
                        database_url,
                        as_of,
                        mapping_file=mapping_file,
                        config_file=config_file,
                    ),
                )
                for path in side_by_side
                if path is not None
            ]
            for path, future in running:
                future.wait()
                done[slots[path].popleft()] = _outcome(path.name, future.state)
        if any(r["outcome"] == "IN_PROGRESS" for r in done.values()):
            break
    return [done.get(i) for i in range(len(files))]


def _outcome(name: str, state: State[dict[str, Any]]) -> dict[str, Any]:
    """The batch's result; a batch whose task failed (an error, not a refusal) becomes a
    FAILED result naming the error, and the other batches go on: nothing of it was
    committed, and the next run loads it again."""
    if state.is_completed():
        return state.result()
    from dataclasses import asdict

    from models.ingest.result import BatchResult

    error = state.result(raise_on_failure=False)
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return asdict(
        BatchResult(name, None, "FAILED", error_code="BATCH_FAILED", message=f"{name}: {reason}")
    )
