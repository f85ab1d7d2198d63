"""What backup and restore check and report, on either database.

- A backup holds one schema revision: this code's head restores as it is, an older one
  is restored and then upgraded, and one this code does not know (a newer release's) is
  refused, naming both revisions.
- A restore goes only into an empty database: no table holds a row, and no table is one
  accountops does not know. Nothing is changed when it is refused.
- Both report the row count of every table, so an operator compares what a backup
  holds with what its restore put back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, func, inspect, literal, select, table

from ..errors import AccountopsError
from ..migrate import head_revision, known_revision
from ..migrate import upgrade as _upgrade
from ..schema import RunLock, metadata

# Not business data: the schema's own bookkeeping, and the run lock, which names a
# process of the database's past (a restore clears it). Neither is counted.
NOT_COUNTED = frozenset({"alembic_version", "run_lock"})


class BackupRefused(AccountopsError):
    """A backup was not made: the output exists, or there is nothing to back up."""

    code = "BACKUP_REFUSED"


class BackupFailed(AccountopsError):
    """The copy itself failed; no file was left behind."""

    code = "BACKUP_FAILED"


class RestoreRefused(AccountopsError):
    """A restore was refused before anything was changed."""

    code = "RESTORE_REFUSED"


class RestoreFailed(AccountopsError):
    """The restore started and failed; the database holds none of the backup's rows."""

    code = "RESTORE_FAILED"


class ClientToolMissing(AccountopsError):
    """pg_dump or pg_restore is missing, or older than the server."""

    code = "PG_CLIENT_MISSING"


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds, or what a restore put back."""

    backend: str
    revision: str
    counts: dict[str, int]
    size_bytes: int | None = None
    upgraded_from: str | None = None

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows per table of the database on ``conn`` (its own tables, whatever its revision)."""
    names = sorted(set(inspect(conn).get_table_names()) - NOT_COUNTED)
    return {
        name: int(conn.scalar(select(func.count()).select_from(table(name))) or 0) for name in names
    }


def needs_upgrade(revision: str | None, where: str) -> bool:
    """Whether a backup at ``revision`` must be upgraded after it is restored.

    Raises :class:`RestoreRefused` when it holds no accountops schema or one this code
    does not know (a newer release's: its tables would be wrong for this code).
    """
    head = head_revision()
    if revision is None:
        raise RestoreRefused(
            f"{where} holds no accountops schema (no alembic_version row): not an "
            "accountops backup",
            code="NOT_A_BACKUP",
        )
    if revision == head:
        return False
    if not known_revision(revision):
        raise RestoreRefused(
            f"{where} has schema {revision}, which this accountops (schema {head}) does not "
            "know: restore it with the release that made it or a newer one",
            code="RESTORE_SCHEMA_NEWER",
        )
    return True


def refuse_unless_empty(conn: Connection, where: str) -> list[str]:
    """The accountops tables the database on ``conn`` has, all empty; else refuse.

    Empty means: every table is one accountops knows and none holds a row (a database
    fresh from ``accountops init`` is empty). ``alembic_version`` always holds one.
    """
    names = sorted(inspect(conn).get_table_names())
    unknown = sorted(set(names) - set(metadata.tables) - {"alembic_version"})
    if unknown:
        raise RestoreRefused(
            f"{where} has tables accountops does not know ({', '.join(unknown[:5])}): "
            "restore only into a new, empty database; nothing was changed",
            code="RESTORE_NOT_EMPTY",
        )
    filled = [
        name
        for name in names
        if name != "alembic_version"
        and conn.scalar(select(literal(1)).select_from(table(name)).limit(1)) is not None
    ]
    if filled:
        shown = ", ".join(filled[:3]) + (f" and {len(filled) - 3} more" if len(filled) > 3 else "")
        raise RestoreRefused(
            f"{where} is not empty (rows in {shown}): restore only into a new, empty "
            "database; nothing was changed",
            code="RESTORE_NOT_EMPTY",
        )
    return names


def finish_restore(
    engine: Engine, backend: str, revision: str | None, *, upgrade: bool
) -> BackupSummary:
    """After the copy: bring an older schema to this code's head, and clear the run lock
    (it names a run of the backed-up database, not one running against this one)."""
    if upgrade:
        _upgrade(engine)
    with engine.begin() as conn:
        conn.execute(delete(RunLock))
        counts = row_counts(conn)
    return BackupSummary(
        backend, head_revision(), counts, upgraded_from=revision if upgrade else None
    )
