"""Backup and restore: ``backup --out FILE`` while the platform runs, and ``restore FILE``
into an empty database. Both print the schema and the rows per table, so a restore is
checked against the backup it came from (deploy/RUNBOOK.md, "Backup and restore").
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flows.cli_context import echo, engine

if TYPE_CHECKING:
    from models.backup import BackupSummary

# The tables named in the one-line report; every table's count is in the detail lines.
HEADLINE_TABLES = (
    "customer",
    "invoice_line",
    "payment",
    "app_user",
    "account_plan",
    "plan_revision",
    "roadmap_decision",
    "snapshot",
)


def backup(
    out: Annotated[
        Path,
        typer.Option("--out", help="The backup file to write (made only once complete)."),
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
    tables: Annotated[
        bool, typer.Option("--tables", help="Also list the rows of every table.")
    ] = False,
) -> None:
    """Copy the database to a file while the platform runs (SQLite: online backup;
    PostgreSQL: pg_dump, from postgresql-client 15 or newer)."""
    from models.backup import backup_database
    from models.errors import refuse_missing_folder

    refuse_missing_folder(out)  # before the database is opened
    started = time.monotonic()
    summary = backup_database(engine(migrated=False), out, force=force)
    echo(f"backup written to {out}: {describe(summary)} ({time.monotonic() - started:.1f} s)")
    if tables:
        _list_tables(summary)


def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `accountops backup`.")],
    tables: Annotated[
        bool, typer.Option("--tables", help="Also list the rows of every table.")
    ] = False,
) -> None:
    """Put a backup into the configured database, which must be empty (new, or fresh from
    `accountops init`) and of the same kind; an older schema is upgraded afterwards."""
    from models.backup import restore_database
    from models.db import display_url

    eng = engine(migrated=False, creates=True)
    started = time.monotonic()
    summary = restore_database(eng, file)
    where = display_url(eng.url.render_as_string(hide_password=False))
    upgraded = f", upgraded from {summary.upgraded_from}" if summary.upgraded_from else ""
    echo(
        f"restored {file} into {where}: {describe(summary)}{upgraded} "
        f"({time.monotonic() - started:.1f} s)"
    )
    if tables:
        _list_tables(summary)


def describe(summary: BackupSummary) -> str:
    """The backend, schema and rows: the same words after a backup and its restore."""
    headline = ", ".join(
        f"{name} {summary.counts[name]:,}" for name in HEADLINE_TABLES if name in summary.counts
    )
    size = f", {summary.size_bytes / 1e6:,.1f} MB" if summary.size_bytes is not None else ""
    return (
        f"{summary.backend}, schema {summary.revision}{size}; {summary.rows:,} rows in "
        f"{len(summary.counts)} tables ({headline})"
    )


def _list_tables(summary: BackupSummary) -> None:
    for name, rows in summary.counts.items():
        echo(f"  {name:<28} {rows:>14,}")
