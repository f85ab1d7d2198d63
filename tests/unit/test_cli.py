"""The command line as a user meets it: one-line errors, exit codes, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ACCOUNTOPS = [sys.executable, "-m", "flows.cli"]


def run_cli(
    *args: str, cwd: Path, env: dict | None = None, stdin: str = ""
) -> subprocess.CompletedProcess:
    unset = {"ACCOUNTOPS_DATABASE_URL", "ACCOUNTOPS_DATA_DIR"}
    full_env = {k: v for k, v in os.environ.items() if k not in unset}
    full_env["XDG_DATA_HOME"] = str(cwd / "xdg")  # this test's own per-user data folder
    full_env.update(env or {})
    return subprocess.run(
        [*ACCOUNTOPS, *args],
        cwd=cwd,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def data_dir(cwd: Path) -> Path:
    """The default ACCOUNTOPS_DATA_DIR of a command :func:`run_cli` starts in ``cwd``."""
    return cwd / "xdg" / "accountops"


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_init_creates_then_is_a_no_op(tmp_path):
    first = run_cli("init", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "upgraded empty ->" in first.stderr
    assert (data_dir(tmp_path) / "accountops.db").exists()
    assert str(data_dir(tmp_path) / "accountops.db") in first.stderr  # says where it is
    assert not (tmp_path / "var").exists()
    second = run_cli("init", cwd=tmp_path)
    assert second.returncode == 0
    assert "nothing to do" in second.stderr


def test_a_command_leaves_the_sqlite_database_whole_in_its_file(tmp_path):
    # The process exits without the interpreter's last collections (flows/processes.py
    # leaving_quickly), yet its connections are closed first: SQLite folds its write-ahead
    # log back into the file, so a copy of the file alone is the whole database.
    import shutil
    import sqlite3

    assert run_cli("init", cwd=tmp_path).returncode == 0
    database = data_dir(tmp_path) / "accountops.db"
    assert not database.with_name("accountops.db-wal").exists()
    copy = tmp_path / "copy.db"
    shutil.copy(database, copy)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def test_unknown_option_is_one_line_and_exit_2(tmp_path):
    result = run_cli("sample", "--bogus", cwd=tmp_path)
    assert_one_line_error(result, "No such option: --bogus", "accountops sample --help")
    assert result.returncode == 2


def test_unwritable_output_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    target = "/proc/accountops" if os.geteuid() == 0 else str(locked / "out")
    result = run_cli("sample", "--out", target, "--customers", "5", cwd=tmp_path)
    assert_one_line_error(result, "OUTPUT_NOT_WRITABLE", target)


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", "Connection refused"),
        ("postgresql+psycopg://postgres@nohost.invalid/x", "nohost.invalid"),
        ("mysql://x/y", "unsupported database"),
        ("not a url", "not valid"),
    ],
)
def test_unreachable_or_bad_database_url(tmp_path, url, fragment):
    result = run_cli("init", cwd=tmp_path, env={"ACCOUNTOPS_DATABASE_URL": url})
    assert_one_line_error(result, "DB_UNREACHABLE", fragment)


def test_password_never_printed_in_database_errors(tmp_path):
    url = "postgresql+psycopg://postgres:hunter2secret@127.0.0.1:1/x"
    result = run_cli("init", cwd=tmp_path, env={"ACCOUNTOPS_DATABASE_URL": url})
    assert "hunter2secret" not in result.stderr
    assert "***" in result.stderr


def test_invalid_setting_names_the_variable(tmp_path):
    result = run_cli("init", cwd=tmp_path, env={"ACCOUNTOPS_ENV": "staging"})
    assert_one_line_error(result, "ACCOUNTOPS_ENV")


def test_help_on_every_command(tmp_path):
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in (
        "init",
        "sample",
        "demo",
        "ingest",
        "batches",
        "quarantine",
        "recompute",
        "pipeline",
        "export",
        "plan",
        "user",
        "dashboard",
    ):
        assert command in result.stdout


def test_commands_refuse_a_database_without_schema(tmp_path):
    data_dir(tmp_path).mkdir(parents=True)
    database = data_dir(tmp_path) / "accountops.db"
    database.touch()  # a file, but no schema in it
    result = run_cli(
        "user",
        "add",
        "ana",
        "--role",
        "viewer",
        "--password-stdin",
        cwd=tmp_path,
        stdin="correct horse\n",
    )
    assert_one_line_error(result, "SCHEMA_NOT_CURRENT", str(database), "accountops init")


def test_user_add_hashes_and_refuses_duplicates(tmp_path):
    assert run_cli("init", cwd=tmp_path).returncode == 0
    ok = run_cli(
        "user",
        "add",
        "Alice@Example.com",
        "--role",
        "planner",
        "--password-stdin",
        cwd=tmp_path,
        stdin="correct horse\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert "alice@example.com" in ok.stderr
    again = run_cli(
        "user",
        "add",
        "alice@example.com",
        "--role",
        "viewer",
        "--password-stdin",
        cwd=tmp_path,
        stdin="correct horse\n",
    )
    assert_one_line_error(again, "USER_EXISTS")
    bad_role = run_cli(
        "user",
        "add",
        "bob",
        "--role",
        "god",
        "--password-stdin",
        cwd=tmp_path,
        stdin="correct horse\n",
    )
    assert_one_line_error(bad_role, "unknown role 'god'")


def test_user_add_no_password_adds_a_person_of_the_identity_provider(tmp_path):
    """No password is asked for (no terminal here) or stored: that user signs in only
    through the identity provider, which returns the e-mail the role is keyed by."""
    from models.access import Role
    from models.auth import identity_for_subject, list_users
    from models.db import make_engine

    assert run_cli("init", cwd=tmp_path).returncode == 0
    ok = run_cli(
        "user", "add", "Olga@Example.com", "--role", "viewer", "--no-password", cwd=tmp_path
    )
    assert ok.returncode == 0, ok.stderr
    assert "'olga@example.com' added with role viewer (signs in through the identity" in ok.stderr
    engine = make_engine(f"sqlite:///{data_dir(tmp_path) / 'accountops.db'}")
    assert [(u.username, u.sign_in) for u in list_users(engine)] == [
        ("olga@example.com", "identity provider")  # no password hash stored
    ]
    assert identity_for_subject(engine, "OLGA@example.com").role == Role.VIEWER
    engine.dispose()
    both = run_cli(
        "user", "add", "pia", "--role", "viewer", "--no-password", "--password-stdin", cwd=tmp_path
    )
    assert both.returncode == 2
    assert "--no-password and --password-stdin exclude each other" in both.stderr


@pytest.mark.parametrize("args", [["init"], ["user", "add", "--help"], ["plan", "list"]])
def test_commands_without_orchestration_never_import_prefect(tmp_path, args):
    probe = (
        "import sys\n"
        "from flows.cli import app\n"
        "try:\n"
        f"    app({args!r}, standalone_mode=False, prog_name='accountops')\n"
        "except Exception:\n"
        "    pass\n"
        "heavy = [m for m in ('prefect', 'great_expectations', 'streamlit') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "HEAVY="


@pytest.mark.slow
def test_demo_sets_up_schema_and_sample_data(tmp_path):
    result = run_cli("demo", "--no-dashboard", "--customers", "40", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (data_dir(tmp_path) / "accountops.db").exists()
    assert (data_dir(tmp_path) / "demo-data" / "invoice_lines.csv").stat().st_size > 0
    again = run_cli("demo", "--no-dashboard", "--customers", "40", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "reusing sample data" in again.stderr
