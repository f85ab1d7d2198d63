"""PostgreSQL: pg_dump and pg_restore (the postgresql-client tools, 15 or newer).

Backup: a transaction of ours exports its snapshot and counts every table in it, and
pg_dump (custom format) dumps that same snapshot, so the counts reported are those of
the file, while the platform goes on writing. Restore reads the schema revision out of
the dump first, empties a database fresh from ``accountops init`` (its tables hold no
rows) by downgrading its schema, then runs pg_restore in one transaction.

The connection comes from the SQLAlchemy URL as a libpq conninfo on the command line
without the password, which goes to the child alone, in ``PGPASSWORD``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

from alembic import command
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from ..db import display_url
from ..errors import AccountopsError
from ..migrate import alembic_config, known_revision
from .checks import (
    BackupFailed,
    BackupRefused,
    BackupSummary,
    ClientToolMissing,
    RestoreFailed,
    RestoreRefused,
    finish_restore,
    needs_upgrade,
    refuse_unless_empty,
    row_counts,
)
from .staging import staged_file

PG_MAGIC = b"PGDMP"
MIN_CLIENT_MAJOR = 15
INSTALL_HINT = (
    f"install postgresql-client {MIN_CLIENT_MAJOR} or newer (or put its bin folder on PATH)"
)


def backup_postgres(engine: Engine, out: Path, *, force: bool) -> BackupSummary:
    """Dump the PostgreSQL database of ``engine`` to ``out`` (pg_dump custom format)."""
    pg_dump = client_tool("pg_dump")
    conninfo, env = client_connection(engine.url)
    snapshot_reader = engine.connect().execution_options(
        isolation_level="REPEATABLE READ", postgresql_readonly=True
    )
    with snapshot_reader as conn, conn.begin():
        _require_client_for_server(pg_dump, conn)
        # First statement: fixes the transaction's snapshot and names it for pg_dump.
        snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
        revision = MigrationContext.configure(conn).get_current_revision()
        if revision is None:
            raise BackupRefused(
                "the database has no accountops schema: nothing to back up (run `accountops init`)",
                code="BACKUP_NOTHING",
            )
        # Counting takes each table's ACCESS SHARE lock until we commit, so no schema
        # change slips in between this snapshot and pg_dump's own locks.
        counts = row_counts(conn)
        with staged_file(out, force=force) as staged:
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-password"]
                + ["--file", str(staged), "--dbname", conninfo],
                env,
                BackupFailed,
            )
    return BackupSummary("postgresql", revision, counts, out.stat().st_size)


def restore_postgres(engine: Engine, source: Path) -> BackupSummary:
    """Put the pg_dump archive ``source`` into the empty PostgreSQL database of ``engine``."""
    pg_restore = client_tool("pg_restore")
    conninfo, env = client_connection(engine.url)
    revision = _archive_revision(pg_restore, source, env)
    upgrade = needs_upgrade(revision, str(source))
    _empty_target(engine)
    # One transaction: a failure leaves no table of the backup behind (and the target
    # without tables, where `accountops init` or a second restore starts again).
    _run(
        [pg_restore, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
        + ["--no-password", "--dbname", conninfo, str(source)],
        env,
        RestoreFailed,
    )
    restored = finish_restore(engine, "postgresql", revision, upgrade=upgrade)
    return replace(restored, size_bytes=source.stat().st_size)


def client_tool(name: str) -> str:
    """The path of pg_dump or pg_restore on PATH, or a one-line error saying what to install."""
    path = shutil.which(name)
    if path is None:
        raise ClientToolMissing(f"{name} is not installed: {INSTALL_HINT}")
    return path


def client_connection(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq conninfo for ``url`` without its password, and the child's environment
    (this one plus ``PGPASSWORD`` when the URL has a password)."""
    from psycopg.conninfo import make_conninfo

    params: dict[str, str] = {
        key: str(value)
        for key, value in url.translate_connect_args(username="user", database="dbname").items()
    }
    for key, value in url.query.items():
        params[key] = str(value if isinstance(value, str) else value[-1])
    env = dict(os.environ)
    password = params.pop("password", None)
    if password is not None:
        env["PGPASSWORD"] = password
    return make_conninfo(**params), env


def _require_client_for_server(tool: str, conn: Connection) -> None:
    server = (conn.dialect.server_version_info or (0,))[0]
    found = re.search(r"\)\s*(\d+)", _output([tool, "--version"]))
    client = int(found.group(1)) if found else 0
    if client < max(server, MIN_CLIENT_MAJOR):
        raise ClientToolMissing(
            f"{tool} is version {client or 'unknown'}, older than the PostgreSQL {server} "
            f"server: install postgresql-client {max(server, MIN_CLIENT_MAJOR)} or newer",
            code="PG_CLIENT_TOO_OLD",
        )


def _archive_revision(pg_restore: str, source: Path, env: dict[str, str]) -> str | None:
    """The ``alembic_version`` row in a pg_dump archive, read without a database."""
    script = _run(
        [pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(source)],
        env,
        RestoreRefused,
        code="BACKUP_UNREADABLE",
    )
    lines = script.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if re.match(r"COPY \S*alembic_version\b", line)), None
    )
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i] == "\\."), start + 1)
    rows = lines[start + 1 : end]
    return rows[0].strip() if len(rows) == 1 else None


def _empty_target(engine: Engine) -> None:
    """Leave the target without accountops tables, or refuse and change nothing.

    A database fresh from ``accountops init`` has the schema but no rows; pg_restore
    would fail on every table that exists. The migrations' own downgrade removes them
    (and the function and triggers they made), in one transaction that first locks the
    tables and checks again that they are empty, so no row written meanwhile is lost.
    """
    where = display_url(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        # Cheap first: refuse a database in use without taking any lock on it.
        if not refuse_unless_empty(conn, where):
            return
    with engine.connect() as conn, conn.begin():
        names = refuse_unless_empty(conn, where)
        conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
        quoted = ", ".join(conn.dialect.identifier_preparer.quote(name) for name in names)
        conn.exec_driver_sql(f"LOCK TABLE {quoted} IN ACCESS EXCLUSIVE MODE")
        refuse_unless_empty(conn, where)
        revision = MigrationContext.configure(conn).get_current_revision()
        if revision is not None and not known_revision(revision):
            raise RestoreRefused(
                f"{where} has schema {revision}, which this accountops does not know: restore "
                "into a new, empty database; nothing was changed",
                code="RESTORE_NOT_EMPTY",
            )
        if revision is not None:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def _run(
    args: list[str], env: dict[str, str], error: type[AccountopsError], code: str | None = None
) -> str:
    """Run a client tool; its standard output, or ``error`` with its first error line."""
    # The arguments are the tool found on PATH, our options and paths: no shell, no user SQL.
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        reason = next((line for line in lines if "error:" in line), lines[0] if lines else "")
        message = f"{Path(args[0]).name} failed: {reason or f'exit code {done.returncode}'}"
        raise error(message, code=code)
    return done.stdout


def _output(args: list[str]) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=False).stdout  # noqa: S603
