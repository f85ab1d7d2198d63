"""SQLite: the online backup API, both ways.

Backup copies the live database in one step, inside one read transaction: in WAL mode
writers go on meanwhile, and the copy is the database as of that moment. The copy then
leaves WAL mode, so it is one self-contained file.

Restore runs the same API the other way, from the backup file into the configured
database, through SQLite's own locking: the target's WAL and shared memory stay
coherent, which copying a file over a database someone has open would not guarantee.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from pathlib import Path

from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool, PoolProxiedConnection

from ..db import display_url
from .checks import (
    BackupFailed,
    BackupRefused,
    BackupSummary,
    RestoreFailed,
    RestoreRefused,
    finish_restore,
    needs_upgrade,
    refuse_unless_empty,
    row_counts,
)
from .staging import staged_file

SQLITE_MAGIC = b"SQLite format 3\x00"


def backup_sqlite(engine: Engine, out: Path, *, force: bool) -> BackupSummary:
    """Copy the SQLite database of ``engine`` to ``out`` while others write to it."""
    source = database_file(engine)
    if _same_file(out, source):
        raise BackupRefused(f"{out} is the database itself: write the backup elsewhere")
    with staged_file(out, force=force) as staged:
        raw = engine.raw_connection()
        try:
            copy = sqlite3.connect(staged)
            try:
                # pages=-1: the whole database in one step, so one consistent read.
                _driver(raw).backup(copy, pages=-1)
                copy.execute("PRAGMA journal_mode=DELETE")
            finally:
                copy.close()
        except sqlite3.Error as exc:
            raise BackupFailed(f"SQLite backup of {source} failed: {exc}") from None
        finally:
            raw.close()
        revision, counts = _contents(staged, verify=False)
        if revision is None:
            raise BackupRefused(
                f"{source} has no accountops schema: nothing to back up (run `accountops init`)",
                code="BACKUP_NOTHING",
            )
    return BackupSummary("sqlite", revision, counts, out.stat().st_size)


def restore_sqlite(engine: Engine, source: Path) -> BackupSummary:
    """Put the SQLite backup ``source`` into the empty SQLite database of ``engine``."""
    target = database_file(engine)
    if _same_file(source, target):
        raise RestoreRefused(f"{source} is the database itself", code="NOT_A_BACKUP")
    revision, counts = _contents(source, verify=True)
    upgrade = needs_upgrade(revision, str(source))
    with engine.connect() as conn:
        refuse_unless_empty(conn, display_url(engine.url.render_as_string(hide_password=False)))
    # A writer arriving between this check and the copy would lose its rows; the target
    # is a new database nobody uses yet, and the backup API cannot run inside a
    # transaction of ours that would hold the lock across both (it takes its own).
    raw = engine.raw_connection()
    try:
        backup = sqlite3.connect(_read_only_uri(source), uri=True)
        try:
            backup.backup(_driver(raw), pages=-1)
        finally:
            backup.close()
    except sqlite3.Error as exc:
        raise RestoreFailed(f"copying {source} into {target} failed: {exc}") from None
    finally:
        raw.close()
    restored = finish_restore(engine, "sqlite", revision, upgrade=upgrade)
    return replace(restored, size_bytes=source.stat().st_size)


def database_file(engine: Engine) -> Path:
    """The file of a SQLite engine; an in-memory database has none to copy."""
    name = engine.url.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        raise BackupRefused(
            "the database is not a SQLite file: back up and restore need sqlite:///PATH",
            code="BACKUP_NOTHING",
        )
    return Path(name)


def _contents(path: Path, *, verify: bool) -> tuple[str | None, dict[str, int]]:
    """The schema revision and row counts of a SQLite file, opened read-only; with
    ``verify``, refuse a damaged file (``PRAGMA quick_check``) first."""
    reader = create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(_read_only_uri(path), uri=True),
        poolclass=NullPool,
    )
    try:
        with reader.connect() as conn:
            if verify:
                problems = conn.exec_driver_sql("PRAGMA quick_check").scalars().all()
                if problems != ["ok"]:
                    raise RestoreRefused(
                        f"{path} is damaged (SQLite quick_check: {problems[0]}): use another "
                        "backup",
                        code="BACKUP_DAMAGED",
                    )
            revision = MigrationContext.configure(conn).get_current_revision()
            return revision, row_counts(conn)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise RestoreRefused(
            f"cannot read {path} (SQLite: {reason}): use another backup",
            code="BACKUP_UNREADABLE",
        ) from None
    finally:
        reader.dispose()


def _driver(raw: PoolProxiedConnection) -> sqlite3.Connection:
    connection = raw.driver_connection
    assert isinstance(connection, sqlite3.Connection)
    return connection


def _read_only_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"


def _same_file(a: Path, b: Path) -> bool:
    return a.exists() and b.exists() and os.path.samefile(a, b)
