"""Schema migrations (Alembic) driven from code: init, status and drift check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from .db import require_writable
from .errors import AccountopsError
from .schema import metadata

MIGRATIONS = Path(__file__).resolve().parent / "schema" / "migrations"


def alembic_config() -> Config:
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have exactly one head, found {heads}")
    return heads[0]


def known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this code's migrations (the head or an older one)."""
    from alembic.util.exc import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class SchemaNotCurrent(AccountopsError):
    code = "SCHEMA_NOT_CURRENT"


class SchemaNewer(AccountopsError):
    """The database is at a revision this code does not have: a newer release made it."""

    code = "SCHEMA_NEWER"


def refuse_unknown_revision(engine: Engine, current: str | None) -> None:
    """Raise :class:`SchemaNewer` if ``current`` is none of this code's revisions: a newer
    accountops upgraded the database, and no command of this one may touch it (``init``
    cannot downgrade a revision it has no migration for)."""
    if current is not None and not known_revision(current):
        from .db import display_url

        raise SchemaNewer(
            f"the database {display_url(str(engine.url))} is at schema revision {current}, "
            f"which this accountops does not know: it is older than the database (its "
            f"newest revision is {head_revision()}); a newer accountops upgraded the "
            "database: upgrade accountops to that release or newer (`accountops init` "
            "cannot help)"
        )


def require_current_schema(engine: Engine) -> None:
    """Refuse to work on a database whose schema is missing, behind or ahead of the code."""
    from .db import display_url

    current, head = current_revision(engine), head_revision()
    where = display_url(engine.url.render_as_string(hide_password=False))
    if current is None:
        raise SchemaNotCurrent(f"the database {where} has no schema yet: run `accountops init`")
    refuse_unknown_revision(engine, current)
    if current != head:
        raise SchemaNotCurrent(
            f"the database {where} has schema {current}, the code needs {head}: "
            "run `accountops init`"
        )


@contextmanager
def _migrating(engine: Engine) -> Iterator[Config]:
    """An Alembic config bound to one connection, in one transaction.

    On SQLite, batch mode rebuilds a table by copy, drop and rename, and dropping a
    table that others reference fails while foreign keys are enforced; so, as
    SQLite's own procedure for schema changes says, enforcement is off during the
    change and ``PRAGMA foreign_key_check`` must come back empty before COMMIT.
    """
    cfg = alembic_config()
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # outside any transaction, or SQLite ignores it
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                yield cfg
                if sqlite and (broken := conn.exec_driver_sql("PRAGMA foreign_key_check").all()):
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``revision``; returns (before, after). A no-op when current."""
    before = current_revision(engine)
    refuse_unknown_revision(engine, before)
    if revision == "head" and before == head_revision():
        # Nothing to run, and nothing to check: SQLite's foreign_key_check after a
        # migration reads every fact table (2 s at 10M lines).
        return before, before
    require_writable(engine)  # a read-only database: one line, not Alembic's traceback
    with _migrating(engine) as cfg:
        command.upgrade(cfg, revision)
    return before, current_revision(engine) or ""


def downgrade(engine: Engine, revision: str) -> None:
    with _migrating(engine) as cfg:
        command.downgrade(cfg, revision)


def pending_changes(engine: Engine) -> list:
    """Differences between the models and the migrated database (empty = no drift)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "render_as_batch": conn.dialect.name == "sqlite"},
        )
        return compare_metadata(ctx, metadata)
