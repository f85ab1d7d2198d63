"""Faults of the machine through the real command line (issue 23 item 5): a read-only
database, a database at a revision this accountops does not know, a broken, missing or
mistyped rules file, and a full disk during ingest. Each is one line with its code and a
non-zero exit, never a traceback, and leaves the data as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from models.db import make_engine
from models.migrate import upgrade
from models.schema import IngestBatch, InvoiceLine
from tests.ingest_builders import BASE_ENTITIES, fixture_batch

ACCOUNTOPS = str(Path(sys.executable).with_name("accountops"))
UNKNOWN_REVISION = "0999"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return fixture_batch(tmp_path_factory.mktemp("faults"))


def run_cli(*args: str, cwd: Path, url: str, env: dict | None = None):
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ACCOUNTOPS_") or k == "ACCOUNTOPS_TEST_PG_URL"
    }
    full_env.update({"ACCOUNTOPS_DATABASE_URL": url, "ACCOUNTOPS_DATA_DIR": str(cwd / "var")})
    full_env.update(env or {})
    return subprocess.run(
        [ACCOUNTOPS, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300
    )


def one_line(result, code: str, *fragments: str) -> str:
    """The run failed with exactly one line, carrying ``code``, and no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith(f"accountops: [{code}]"), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def state_of(url: str) -> tuple:
    """What a fault must leave alone: the ledger and the invoice lines, and the schema."""
    engine = make_engine(url)
    with engine.connect() as conn:
        found = (
            conn.scalar(select(func.count()).select_from(IngestBatch)),
            conn.scalar(select(func.count()).select_from(InvoiceLine)),
            conn.scalar(text("SELECT version_num FROM alembic_version")),
        )
    engine.dispose()
    return found


def _migrated(url: str) -> str:
    """``url``, migrated to head."""
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


# --- a read-only database ---------------------------------------------------------------------


@pytest.fixture
def read_only_sqlite(tmp_path) -> tuple[str, str]:
    """(the URL to write with, the URL the commands get) of a SQLite file they cannot
    write: its permissions say so, or, for root (whom no permission stops), SQLite opens
    it read-only. SQLite refuses the first write in both with the same SQLITE_READONLY."""
    path = tmp_path / "accountops.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    if os.geteuid() == 0:
        return url, f"sqlite:///file:{path}?mode=ro&uri=true"
    path.chmod(0o444)
    return url, url


@pytest.fixture
def read_only_postgres(pg_url, pg_admin) -> str:
    """A PostgreSQL database whose sessions are read-only (as on a standby)."""
    engine = make_engine(pg_url)
    upgrade(engine)
    engine.dispose()
    name = pg_url.rsplit("/", 1)[1]
    with pg_admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    return pg_url


COMMANDS_THAT_WRITE = [
    ("ingest", "{base}/customers.csv"),
    ("recompute",),
    ("pipeline", "{base}/customers.csv"),
    ("user", "add", "zed", "--role", "viewer", "--no-password"),
]


@pytest.mark.parametrize("args", COMMANDS_THAT_WRITE, ids=lambda a: a[0])
def test_read_only_sqlite_file_is_one_line(read_only_sqlite, base, tmp_path, args):
    writer_url, url = read_only_sqlite
    before = state_of(writer_url)
    result = run_cli(*(a.format(base=base) for a in args), cwd=tmp_path, url=url)
    one_line(result, "DB_READ_ONLY", "read-only", "nothing was changed")
    assert state_of(writer_url) == before


@pytest.mark.postgres
@pytest.mark.parametrize("args", COMMANDS_THAT_WRITE, ids=lambda a: a[0])
def test_read_only_postgres_database_is_one_line(read_only_postgres, base, tmp_path, args):
    before = state_of(read_only_postgres)
    result = run_cli(*(a.format(base=base) for a in args), cwd=tmp_path, url=read_only_postgres)
    one_line(result, "DB_READ_ONLY", "read-only", "default_transaction_read_only")
    assert state_of(read_only_postgres) == before


# --- a database newer than this accountops ------------------------------------------------------


@pytest.mark.parametrize(
    "args", [("init",), ("batches",), ("ingest", "{base}/customers.csv"), ("recompute",)]
)
def test_database_at_an_unknown_revision_is_one_line(db_url, base, tmp_path, args):
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:  # as a newer release's init leaves it
        conn.execute(text(f"UPDATE alembic_version SET version_num = '{UNKNOWN_REVISION}'"))
    engine.dispose()
    before = state_of(db_url)
    result = run_cli(*(a.format(base=base) for a in args), cwd=tmp_path, url=db_url)
    one_line(
        result,
        "SCHEMA_NEWER",
        f"schema revision {UNKNOWN_REVISION}",
        "older than the database",
        "upgrade accountops",
    )
    assert state_of(db_url) == before


# --- a broken, missing or mistyped rules file ----------------------------------------------------

RULES_FILES = {
    "not-yaml": ("ingest: [\n", "line 2 is not valid YAML"),
    "missing": (None, "No such file or directory"),
    "not-a-number": ("ingest:\n  chunk_rows: lots\n", "chunk_rows='lots'"),
    "unknown-key": ("ingest:\n  chunkrows: 5\n", "unknown key(s) chunkrows"),
    "value-section": ("value:\n  window_months: twelve\n", "value.window_months"),
    "replaced-key": ("ingest:\n  stale_batch_minutes: 60\n", "claim_lease_seconds"),
}


@pytest.mark.parametrize(
    "command, kind",
    [
        *(("ingest", kind) for kind in RULES_FILES),
        # Every run reads the whole file first, whatever sections it uses itself.
        ("recompute", "not-yaml"),
        ("recompute", "unknown-key"),
        ("pipeline", "missing"),
        ("pipeline", "value-section"),
    ],
)
def test_bad_rules_file_is_one_line_before_anything_runs(base, tmp_path, command, kind):
    url = _migrated(f"sqlite:///{tmp_path / 'accountops.db'}")
    content, fragment = RULES_FILES[kind]
    rules = tmp_path / "rules.yaml"
    if content is not None:
        rules.write_text(content, encoding="utf-8")
    args = [command, str(base / "customers.csv")] if command != "recompute" else [command]
    before = state_of(url)
    result = run_cli(*args, cwd=tmp_path, url=url, env={"ACCOUNTOPS_CONFIG_FILE": str(rules)})
    one_line(result, "CONFIG_INVALID", fragment)
    assert state_of(url) == before


# --- a full disk during ingest -------------------------------------------------------------------


@pytest.mark.slow
def test_full_disk_during_ingest_is_one_line_and_writes_nothing(db_url, base, tmp_path):
    """SQLite: the database may not grow, so SQLite fails the load's writes with its
    real SQLITE_FULL; PostgreSQL: the server's disk-full error, injected after the first
    chunk. Either way one line, nothing of the batch in the tables, and the next run
    loads it whole."""
    from .ingest_support import load

    url = _migrated(db_url)
    engine = make_engine(url)
    for entity in BASE_ENTITIES:
        assert load(engine, base / f"{entity}.csv").outcome == "LOADED"
    engine.dispose()
    before = state_of(url)
    lines = str(base / "invoice_lines.csv")
    full = run_cli(
        "ingest", lines, cwd=tmp_path, url=url, env={"ACCOUNTOPS_INGEST_FAULT": "disk_full"}
    )
    output = full.stdout + full.stderr
    assert full.returncode != 0
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("accountops:")]
    assert len(errors) == 1, output
    assert "[DISK_FULL] invoice_lines.csv: the disk is full" in errors[0]
    assert "free space and run the ingest again" in errors[0]
    batches, invoice_lines, revision = state_of(url)
    assert (invoice_lines, revision) == before[1:]  # nothing of the batch was written
    again = run_cli("ingest", lines, cwd=tmp_path, url=url)
    assert again.returncode == 0, again.stderr
    assert state_of(url)[1] > 0
