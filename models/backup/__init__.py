"""Backup and restore of the platform's database, on SQLite and PostgreSQL.

``backup_database`` makes a consistent copy while the platform runs: SQLite's online
backup API, or pg_dump's custom format. The file says what it is: a SQLite database or
a pg_dump archive, holding its schema revision in ``alembic_version``.

``restore_database`` puts a backup into an empty database of the same kind after
checking its schema revision (older: restored, then upgraded; unknown: refused).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from .checks import (
    BackupFailed,
    BackupRefused,
    BackupSummary,
    ClientToolMissing,
    RestoreFailed,
    RestoreRefused,
)
from .postgres import PG_MAGIC, backup_postgres, restore_postgres
from .sqlite import SQLITE_MAGIC, backup_sqlite, restore_sqlite
from .staging import refuse_existing

__all__ = [
    "BackupFailed",
    "BackupRefused",
    "BackupSummary",
    "ClientToolMissing",
    "RestoreFailed",
    "RestoreRefused",
    "backup_database",
    "backup_kind",
    "restore_database",
]


def backup_database(engine: Engine, out: Path, *, force: bool = False) -> BackupSummary:
    """Copy the database of ``engine`` to the file ``out``, consistent as of one moment.

    ``out`` appears only once complete; an existing ``out`` is replaced only with
    ``force``. Any schema revision is backed up (before an upgrade is when it matters).
    """
    refuse_existing(out, force=force)  # before any work: a dump may take minutes
    if engine.dialect.name == "sqlite":
        return backup_sqlite(engine, out, force=force)
    return backup_postgres(engine, out, force=force)


def restore_database(engine: Engine, source: Path) -> BackupSummary:
    """Put the backup ``source`` into the empty database of ``engine``, at this code's
    schema; refuse, changing nothing, a non-empty database, a backup of the other kind
    of database, or one from a schema this code does not know."""
    kind = backup_kind(source)
    if kind != engine.dialect.name:
        raise RestoreRefused(
            f"{source} is a {kind} backup and the database is {engine.dialect.name}: restore "
            "into a database of the same kind (copying between kinds is not supported)",
            code="RESTORE_WRONG_BACKEND",
        )
    if kind == "sqlite":
        return restore_sqlite(engine, source)
    return restore_postgres(engine, source)


def backup_kind(path: Path) -> str:
    """``sqlite`` or ``postgresql``, from the file's first bytes; refuses anything else."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise RestoreRefused(
            f"cannot read {path}: {exc.strerror or exc}", code="NOT_A_BACKUP"
        ) from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise RestoreRefused(
        f"{path} is neither a SQLite database nor a pg_dump custom archive: not an accountops "
        "backup",
        code="NOT_A_BACKUP",
    )
