"""Engines and sessions: the one place that knows how to open the database."""

from __future__ import annotations

import errno
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from .errors import AccountopsError, DatabaseUnavailable

SQLITE_BUSY_TIMEOUT_MS = 30_000

# Every engine make_engine made and someone still holds, for dispose_engines.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


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


def _postgres_session(dbapi_connection, _record) -> None:
    # No JIT compilation in any session of ours. Our large statements run once each, and
    # PostgreSQL's JIT compiled them for longer than it saved: at 10M lines 4 s of an
    # 8 s roll-up refresh, 2.5 s of the dashboard customers' table, 1.9 s of the DSO
    # trend's 4.6. A SET, not a startup option, so poolers that refuse options connect;
    # a server without the setting (a query source speaking PostgreSQL's protocol, such
    # as an older PostgreSQL or Redshift) is left as it is.
    import psycopg  # the connection is psycopg's: already imported

    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        with dbapi_connection.cursor() as cur:
            cur.execute("SET jit = off")
    except psycopg.Error:
        pass
    finally:
        dbapi_connection.autocommit = autocommit


class DatabaseMissing(AccountopsError):
    """The embedded SQLite file does not exist: nothing but ``accountops init`` makes one."""

    code = "DB_MISSING"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for a server, memory, or a ``file:`` URI)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return None if database.startswith("file:") else Path(database)


def database_exists(engine: Engine) -> bool:
    """False only for a SQLite file that is not there (a server is taken to exist: a
    connection says otherwise), also for an engine made with ``create_file=False``."""
    if engine.dialect.name != "sqlite":
        return True
    database = engine.url.database or ""
    if database.startswith("file:") and engine.url.query.get("mode") == "rw":
        return Path(unquote(database.removeprefix("file:"))).exists()
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    return path is None or path.exists()


def require_existing(url: str) -> None:
    """Raise :class:`DatabaseMissing` if ``url`` names a SQLite file that is not there, so
    a command that only reads (or that needs a schema) never leaves an empty file behind."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise DatabaseMissing(f"no database at {path.resolve()}: run `accountops init`")


def make_engine(url: str, *, create_file: bool = True, **kwargs) -> Engine:
    """Create an engine for ``url`` (SQLite file or PostgreSQL via psycopg 3).

    ``create_file=False``: a SQLite file that does not exist is not made by connecting
    (the connection fails, ``unable to open database file``), for readers such as the
    dashboard, which must never leave an empty database behind. Once ``accountops init``
    has made the file, the same engine opens it."""
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
            plain_file = database and database != ":memory:" and not database.startswith("file:")
            if plain_file and not create_file:
                # SQLite's URI form: mode=rw opens an existing file and never creates one.
                uri = "file:" + quote(str(Path(database).resolve()))
                parsed = parsed.set(
                    database=uri, query={**parsed.query, "mode": "rw", "uri": "true"}
                )
            elif plain_file:
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
            event.listen(engine, "connect", _postgres_session)
    except NoSuchModuleError as exc:
        raise DatabaseUnavailable(
            f"unsupported database URL {display_url(url)}: use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        ) from exc
    _ENGINES.add(engine)
    return engine


def dispose_engines() -> None:
    """Close the pooled connections of every engine :func:`make_engine` made that is still
    held (a command that is over). SQLite folds its write-ahead log back into the database
    file when its last connection closes: the file alone then holds every commit."""
    for engine in list(_ENGINES):
        engine.dispose()


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


class DatabaseReadOnly(AccountopsError):
    """The database can be read but not written."""

    code = "DB_READ_ONLY"


SQLITE_READONLY = 8  # the primary code; its extended codes share the low byte
PG_READ_ONLY_TRANSACTION = "25006"  # a standby, or default_transaction_read_only
PG_INSUFFICIENT_PRIVILEGE = "42501"


def read_only_reason(exc: DBAPIError) -> str | None:
    """Why ``exc`` is a refused write to a read-only database, in a few words; else None."""
    orig = exc.orig
    if (getattr(orig, "sqlite_errorcode", None) or 0) & 0xFF == SQLITE_READONLY:
        return (
            "SQLite cannot write the file (a read-only file, folder or mount, or a read-only URL)"
        )
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == PG_READ_ONLY_TRANSACTION:
        return (
            "the server accepts no writes (a standby, or default_transaction_read_only set "
            "for the database or the role)"
        )
    if sqlstate == PG_INSUFFICIENT_PRIVILEGE:
        return "this role may not write it: " + str(orig).strip().splitlines()[0]
    return None


def require_writable(engine: Engine) -> None:
    """Raise :class:`DatabaseReadOnly` if the database refuses a write.

    The probe is a real write, rolled back: an UPDATE that changes nothing on
    ``alembic_version`` (a schema's own row), or creating a table where there is no
    schema yet. SQLite opens a read-only file without a word and refuses only the first
    write, so nothing short of a write tells.
    """
    from sqlalchemy import inspect

    with engine.connect() as conn:
        try:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            if inspect(conn).has_table("alembic_version"):
                conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            else:
                conn.execute(text("CREATE TABLE accountops_write_check (x INTEGER)"))
        except DBAPIError as exc:
            reason = read_only_reason(exc)
            if reason is None:
                raise
            where = display_url(str(engine.url))
            raise DatabaseReadOnly(
                f"the database {where} is read-only: {reason}; nothing was changed"
            ) from None
        finally:
            conn.rollback()


SQLITE_FULL = 13  # "database or disk is full"
PG_DISK_FULL = "53100"


def disk_full(exc: BaseException) -> str | None:
    """Why ``exc`` (or an error behind it) is a full disk, in a few words; None if not.

    A full disk is not transient (a retry a second later fails the same way) and not the
    data's fault: the user is told in one line to free space."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in {errno.ENOSPC, errno.EDQUOT}:
            where = f" writing {current.filename}" if current.filename else ""
            return f"{current.strerror or 'no space left on device'}{where}"
        orig = current.orig if isinstance(current, DBAPIError) else None
        if orig is not None:
            if (getattr(orig, "sqlite_errorcode", None) or 0) & 0xFF == SQLITE_FULL:
                return "the SQLite database file cannot grow: database or disk is full"
            if getattr(orig, "sqlstate", None) == PG_DISK_FULL:
                return "the PostgreSQL server: " + str(orig).strip().splitlines()[0]
        current = current.__cause__ or current.__context__
    return None


def database_error(exc: DBAPIError) -> AccountopsError:
    """The one-line error a user is shown for a database error no command handled."""
    if (reason := read_only_reason(exc)) is not None:
        return DatabaseReadOnly(f"the database is read-only: {reason}; nothing was changed")
    if (full := disk_full(exc)) is not None:
        return AccountopsError(
            f"the disk is full ({full}): free space and run again", code="DISK_FULL"
        )
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
    return AccountopsError(f"database error: {reason}", code="DB_ERROR")


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
