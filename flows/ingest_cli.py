"""Terminal side of the ingest commands: progress bar, summary table, ledger listings.

``print_batches`` and ``print_quarantine`` never import Prefect (they start fast).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from rich.console import Console
from rich.table import Table

from models.errors import AccountopsError
from models.ingest.result import NOT_LOADED

if TYPE_CHECKING:
    from prefect.states import State

# Not a terminal (CI, a log file): wide enough that tables and messages stay on one line.
console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)
out = Console(width=None if sys.stdout.isatty() else 200)


@contextmanager
def listen_to_progress(report: Callable[[str, int, int], None]) -> Iterator[None]:
    """Call ``report(file, rows read, rows in the file)`` for each progress record an
    ingest in this process logs meanwhile (see flows.ingest.log_progress)."""
    from flows.ingest import PROGRESS_LOGGER

    logger = logging.getLogger(PROGRESS_LOGGER)
    handler = _ProgressHandler(report)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the bar shows them; the console needs no line per chunk
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


class _ProgressHandler(logging.Handler):
    """Hands the figures of progress records to a callable."""

    def __init__(self, report: Callable[[str, int, int], None]) -> None:
        super().__init__()
        self.report = report

    def emit(self, record: logging.LogRecord) -> None:
        figures = getattr(record, "ingest_progress", None)
        if figures is not None:
            self.report(*figures)


@contextmanager
def ingest_progress() -> Iterator[None]:
    """Draw a progress bar (rows, rows/s) for every batch the ingest flow reads meanwhile."""
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} rows {task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, tuple[TaskID, float]] = {}

        def report(name: str, rows: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = (bar.add_task(name, total=max(total, 1), rate=""), time.monotonic())
            task_id, start = tasks[name]
            rate = rows / max(time.monotonic() - start, 1e-6)
            bar.update(task_id, completed=rows, rate=f"{rate:,.0f} rows/s")

        with listen_to_progress(report):
            yield


def run_ingest(
    database_url: str,
    paths: list[str],
    *,
    mapping: str | None,
    source_url: str | None,
    query: str | None,
    entity: str,
    config_file: str | None,
    dask_address: str | None = None,
    dask_workers: int | None = None,
) -> int:
    """Run the flow with a progress bar; print the summary; return the exit code."""
    import flows.ingest as ingest_flow

    with ingest_progress():
        # The flow returns its final State itself, which Prefect's overloads type as a
        # State holding a State: the call's value is that final State.
        state = cast(
            "State[Any]",
            ingest_flow.ingest(
                paths=paths,
                database_url=database_url,
                mapping_file=mapping,
                source_url=source_url,
                query=query,
                entity=entity if query else None,
                config_file=config_file,
                dask_address=dask_address,
                dask_workers=dask_workers,
                return_state=True,
            ),
        )
    results = state.result(raise_on_failure=False)
    if isinstance(results, AccountopsError):  # e.g. the database stayed busy: one line
        raise results
    if not isinstance(results, list):
        console.print(f"accountops: ingest failed: {state.message}")
        return 1
    return print_ingest_summary(results)


def print_ingest_summary(results: list[dict]) -> int:
    """The per-file table of loaded / updated / quarantined / skipped / rejected; exit code."""
    table = Table(title="ingest summary")
    for col in (
        "file",
        "batch",
        "outcome",
        "loaded",
        "updated",
        "quarantined",
        "skipped",
        "rejected",
    ):
        table.add_column(
            col,
            justify="right" if col not in {"file", "outcome"} else "left",
            overflow="fold",
        )
    for r in results:
        table.add_row(
            r["file"],
            str(r["batch_id"] or ""),
            r["outcome"],
            f"{r['rows_loaded']:,}",
            f"{r['rows_updated']:,}",
            f"{r['rows_quarantined']:,}",
            f"{r['rows_skipped']:,}",
            f"{r['rows_rejected']:,}",
        )
    console.print(table)
    for r in results:
        if r["outcome"] in NOT_LOADED:
            console.print(
                f"accountops: {r['message']}", markup=False, highlight=False, soft_wrap=True
            )
        elif r["outcome"] == "DUPLICATE":
            console.print(r["message"], markup=False, highlight=False, soft_wrap=True)
    return 1 if any(r["outcome"] in NOT_LOADED for r in results) else 0


def print_batches(engine) -> None:
    from models.ingest.ledger import list_batches

    table = Table(title="batches")
    for col in (
        "id",
        "entity",
        "file",
        "status",
        "read",
        "loaded",
        "updated",
        "quarantined",
        "skipped",
        "error",
    ):
        table.add_column(col)
    for b in list_batches(engine):
        table.add_row(
            str(b.batch_id),
            b.entity,
            b.file_name or "",
            b.status,
            f"{b.rows_read:,}",
            f"{b.rows_loaded:,}",
            f"{b.rows_updated:,}",
            f"{b.rows_quarantined:,}",
            f"{b.rows_skipped:,}",
            b.error_code or "",
        )
    out.print(table)


def print_quarantine(engine, batch_id: int | None) -> None:
    from models.ingest.ledger import list_quarantine

    rows = list_quarantine(engine, batch_id)
    table = Table(title=f"quarantine ({len(rows)} rows)")
    for col in ("batch", "file", "line", "column", "rule", "message"):
        table.add_column(col)
    for q in rows:
        table.add_row(
            str(q.batch_id),
            q.file_name or "",
            str(q.line_no or ""),
            q.column_name or "",
            q.rule_code,
            q.message,
        )
    out.print(table)
