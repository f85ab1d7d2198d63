"""Getting started: ``init`` (the schema, safe to repeat) and ``sample`` (deterministic
sample data and plan files). Neither imports Prefect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli_context import echo, engine, parse_date
from models.errors import OutputNotWritable


def init() -> None:
    """Create the database schema, or upgrade it to the latest migration (safe to repeat)."""
    from models.db import display_url
    from models.migrate import head_revision, upgrade

    eng = engine(migrated=False, creates=True)
    before, after = upgrade(eng)
    where = display_url(str(eng.url.render_as_string(hide_password=False)))
    if before == after:
        echo(f"schema already at {after} in {where}: nothing to do")
    else:
        echo(f"schema upgraded {before or 'empty'} -> {after} in {where}")
    assert after == head_revision()


def sample(
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder to write the CSV files into (made if its parent exists)."
        ),
    ] = Path("sample-data"),
    customers: Annotated[int, typer.Option(min=1, help="Number of customers.")] = 500,
    years: Annotated[int, typer.Option(min=1, max=20, help="Years of history.")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, byte-identical files.")] = 42,
    end_date: Annotated[
        str, typer.Option(help="Last day of the data (YYYY-MM-DD); fixed so output is stable.")
    ] = "2026-09-30",
    bad_rows: Annotated[
        bool,
        typer.Option(
            "--bad-rows",
            help="Also write a few bad rows for the ingest to quarantine (the demo does); "
            "intended/quarantined_on_purpose.csv lists them.",
        ),
    ] = False,
) -> None:
    """Write deterministic sample data: one canonical CSV per entity and the strategic
    accounts' plans as YAML files in plans/ (see README)."""
    end = parse_date(end_date, "--end-date")
    _ensure_writable_dir(out)
    from models.sampledata import generate_sample
    from models.sampledata.plans import PLANS_DIR

    with _progress() as report:
        counts = generate_sample(
            out,
            customers=customers,
            years=years,
            seed=seed,
            end_date=end,
            progress=report,
            bad_rows=bad_rows,
        )
    for name, rows in counts.items():
        echo(f"  {name:<26} {rows:>12,} rows")
    plans = len(list((out / PLANS_DIR).glob("*.yaml")))
    echo(f"  {PLANS_DIR + '/':<26} {plans:>12,} files")
    echo(f"sample data written to {out}")


def _ensure_writable_dir(folder: Path) -> None:
    """``folder`` made (its parent must exist: ``--out`` never creates a path of folders)
    and writable, or a one-line error."""
    from models.errors import refuse_missing_folder

    refuse_missing_folder(folder)
    try:
        folder.mkdir(exist_ok=True)
        probe = folder / ".accountops-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputNotWritable(f"cannot write to {folder}: {exc.strerror or exc}") from None


def _progress():
    """A context manager yielding ``report(file_name, rows)`` that draws progress on stderr."""
    from contextlib import contextmanager

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

    @contextmanager
    def manager():
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            tasks: dict[str, TaskID] = {}

            def report(name: str, rows: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name)
                bar.update(tasks[name], description=f"{name}: {rows:,} rows")

            yield report

    return manager()
