"""`accountops backup` and `accountops restore` as an operator meets them: the report a
restore is checked against, one-line errors, exit codes, and no file left by a backup
that failed (a missing, old or failing pg_dump is played by a small script on PATH)."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from models.backup import backup_database
from models.db import make_engine, transaction
from models.migrate import upgrade
from models.schema import Role
from models.users import add_user
from tests.unit.test_cli import assert_one_line_error, run_cli

from .backup_support import require_pg_client, second_database


@pytest.fixture
def target_url(db_url: str, tmp_path: Path, request) -> Iterator[str]:
    with second_database(db_url, tmp_path, request) as url:
        yield url


def _with_a_user(url: str) -> None:
    eng = make_engine(url)
    upgrade(eng)
    with transaction(eng) as session:
        add_user(session, "someone", Role.VIEWER, None, actor="tests")
    eng.dispose()


def _report(result) -> str:
    """The backend, schema and counts of a backup or restore line (no file, no time)."""
    (line,) = result.stderr.strip().splitlines()
    return line.split(": ", 1)[1].rsplit(" (", 1)[0]


def test_backup_then_restore_and_the_refusals(db_url, target_url, tmp_path):
    _with_a_user(db_url)
    out = tmp_path / "backups" / "accountops.backup"
    out.parent.mkdir()  # --out never creates folders

    made = run_cli(
        "backup", "--out", str(out), cwd=tmp_path, env={"ACCOUNTOPS_DATABASE_URL": db_url}
    )
    assert made.returncode == 0, made.stderr
    assert made.stderr.startswith(f"backup written to {out}: ") and "app_user 1" in made.stderr

    again = run_cli(
        "backup", "--out", str(out), cwd=tmp_path, env={"ACCOUNTOPS_DATABASE_URL": db_url}
    )
    assert_one_line_error(again, "BACKUP_EXISTS", str(out), "--force")
    assert again.returncode == 1

    into = {"ACCOUNTOPS_DATABASE_URL": target_url}
    restored = run_cli("restore", str(out), cwd=tmp_path, env=into)
    assert restored.returncode == 0, restored.stderr
    assert restored.stderr.startswith(f"restored {out} into ")
    assert _report(restored) == _report(made)  # what the runbook has the operator compare

    twice = run_cli("restore", str(out), cwd=tmp_path, env=into)
    assert_one_line_error(twice, "RESTORE_NOT_EMPTY", "app_user", "nothing was changed")
    assert twice.returncode == 1


def test_backup_needs_out_and_restore_needs_a_backup(tmp_path):
    missing = run_cli("backup", cwd=tmp_path)
    assert_one_line_error(missing, "Missing option '--out'")
    assert missing.returncode == 2

    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a backup\n")
    for path in (text_file, tmp_path / "nowhere.backup"):
        result = run_cli("restore", str(path), cwd=tmp_path)
        assert_one_line_error(result, "NOT_A_BACKUP", str(path))


@pytest.mark.postgres
def test_a_sqlite_backup_is_not_restored_into_postgresql(pg_url, tmp_path):
    require_pg_client()
    source = make_engine(f"sqlite:///{tmp_path / 'source.db'}")
    upgrade(source)
    backup_database(source, tmp_path / "sqlite.backup")
    source.dispose()
    result = run_cli(
        "restore", "sqlite.backup", cwd=tmp_path, env={"ACCOUNTOPS_DATABASE_URL": pg_url}
    )
    assert_one_line_error(result, "RESTORE_WRONG_BACKEND", "sqlite backup", "postgresql")


@pytest.mark.postgres
def test_without_pg_dump_one_line_and_no_file(pg_url, tmp_path):
    upgrade_url(pg_url)
    out = tmp_path / "backups" / "accountops.backup"
    out.parent.mkdir()
    no_client = {"ACCOUNTOPS_DATABASE_URL": pg_url, "PATH": str(Path(sys.executable).parent)}
    result = run_cli("backup", "--out", str(out), cwd=tmp_path, env=no_client)
    assert_one_line_error(
        result, "PG_CLIENT_MISSING", "pg_dump is not installed", "postgresql-client 15 or newer"
    )
    assert result.returncode == 1
    assert not out.exists() and list(out.parent.glob("*")) == []


@pytest.mark.postgres
def test_a_failing_pg_dump_leaves_no_file_and_never_sees_the_password(pg_url, tmp_path):
    """The script writes half an archive, then fails as pg_dump does."""
    url = make_url(pg_url).set(password="s3cret-pw").render_as_string(hide_password=False)
    upgrade_url(url)  # trust authentication: the password is accepted, and must travel
    log = tmp_path / "pg_dump.log"
    out = tmp_path / "backups" / "accountops.backup"
    out.parent.mkdir()
    env = _fake_pg_dump(tmp_path, log) | {"ACCOUNTOPS_DATABASE_URL": url}

    result = run_cli("backup", "--out", str(out), cwd=tmp_path, env=env)

    assert_one_line_error(result, "BACKUP_FAILED", "pg_dump failed", "permission denied")
    assert not out.exists() and list(out.parent.glob("*")) == []
    argv, password = log.read_text().rsplit("PGPASSWORD=", 1)
    assert "s3cret-pw" not in argv and password.strip() == "s3cret-pw"
    assert "--format=custom" in argv and "--snapshot=" in argv


@pytest.mark.postgres
def test_a_pg_dump_older_than_the_server_is_refused(pg_url, tmp_path):
    upgrade_url(pg_url)
    env = _fake_pg_dump(tmp_path, tmp_path / "log", version="14.9")
    out = tmp_path / "accountops.backup"
    result = run_cli(
        "backup", "--out", str(out), cwd=tmp_path, env=env | {"ACCOUNTOPS_DATABASE_URL": pg_url}
    )
    assert_one_line_error(result, "PG_CLIENT_TOO_OLD", "version 14", "postgresql-client 15")
    assert not out.exists() and not (tmp_path / "log").exists()


def upgrade_url(url: str) -> None:
    eng = make_engine(url)
    upgrade(eng)
    eng.dispose()


def _fake_pg_dump(tmp_path: Path, log: Path, version: str = "15.4") -> dict[str, str]:
    """PATH with a ``pg_dump`` that reports ``version``, then logs its arguments and
    PGPASSWORD, writes half a file where told and fails."""
    folder = tmp_path / "fake-bin"
    folder.mkdir()
    script = folder / "pg_dump"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) {version}"; exit 0; fi\n'
        f'printf "%s\\n" "$@" > "{log}"\n'
        f'echo "PGPASSWORD=$PGPASSWORD" >> "{log}"\n'
        'while [ $# -gt 0 ]; do [ "$1" = "--file" ] && printf "PGDMP half" > "$2"; shift; done\n'
        'echo "pg_dump: error: query failed: ERROR:  permission denied for table customer" >&2\n'
        "exit 1\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}
