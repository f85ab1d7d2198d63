"""Engines and sessions: the one place that knows how to open the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from .errors import DatabaseUnavailable

SQLITE_BUSY_TIMEOUT_MS = 30_000


def display_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Foreign keys are off by default in SQLite; WAL lets the dashboard read
    # while an ingest writes; busy_timeout turns lock contention into waiting.
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine for ``url`` (SQLite file or PostgreSQL via psycopg 3)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"database URL is not valid: {url!r}") from exc
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise DatabaseUnavailable(
            f"unsupported database {display_url(url)}: use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        )
    try:
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                from pathlib import Path

                try:
                    Path(database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise DatabaseUnavailable(
                        f"cannot create the folder for {database}: {exc.strerror}"
                    ) from exc
            engine = create_engine(parsed, **kwargs)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            kwargs.setdefault("pool_pre_ping", True)
            connect_args = kwargs.pop("connect_args", {})
            connect_args.setdefault("connect_timeout", 10)
            # A dropped connection is noticed within about a minute, not hours: the run
            # lock's connection holds a session lock for the length of a run.
            for key, value in (("keepalives", 1), ("keepalives_idle", 30)):
                connect_args.setdefault(key, value)
            connect_args.setdefault("keepalives_interval", 10)
            connect_args.setdefault("keepalives_count", 3)
            engine = create_engine(parsed, connect_args=connect_args, **kwargs)
    except NoSuchModuleError as exc:
        raise DatabaseUnavailable(
            f"unsupported database URL {display_url(url)}: use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        ) from exc
    return engine


def second_connection_sees_the_data(engine: Engine) -> bool:
    """A second connection sees the same data: a server, or a SQLite file (not memory)."""
    if engine.dialect.name != "sqlite":
        return True
    database = engine.url.database or ""
    return database not in ("", ":memory:") and not database.startswith("file::memory:")


def check_connection(engine: Engine) -> None:
    """Open one connection, or raise :class:`DatabaseUnavailable` with a one-line reason."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(f"cannot connect to database {where}: {reason}") from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error."""
    with session_factory(engine).begin() as session:
        yield session


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Session]:
    """:func:`transaction` that takes the write lock first (``BEGIN IMMEDIATE`` on SQLite).

    A deferred SQLite transaction whose first write finds another writer waits for it,
    then fails with "database is locked" because its snapshot is older than that
    writer's commit; taking the lock up front makes it wait (busy_timeout) and then see
    the other's work, so a compare-and-set reports a conflict instead of an error.
    """
    with session_factory(engine).begin() as session:
        if engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        yield session
