"""``accountops plan ...`` and ``user assign`` as a user meets them: output, exit codes,
one-line refusals (unknown or deactivated user, malformed file, conflict)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.plan_builders import ACCOUNT, plan_data, write_plan_file

from .test_cli import assert_one_line_error, run_cli


@pytest.fixture
def book(cli_book):
    return cli_book


def test_plan_commands_end_to_end(book):
    folder, env, _ = book

    def cli(*args):
        return run_cli(*args, cwd=folder, env=env)

    path = write_plan_file(folder, plan_data())
    done = cli("plan", "import", str(path), "--user", "Planner")
    assert done.returncode == 0, done.stderr
    assert f"plan {ACCOUNT} created (version 1)" in done.stderr
    listed = cli("plan", "list")
    assert listed.returncode == 0
    row = listed.stdout.splitlines()[1].split()
    assert row[0] == ACCOUNT and "draft" in row and "planner" in row and row[-1] == "ok"
    exported = folder / "out.yaml"
    assert cli("plan", "export", ACCOUNT, "--out", str(exported)).returncode == 0
    exported.write_text(exported.read_text().replace("PL-01: 1300000", "PL-01: 1450000"))
    saved = cli("plan", "import", str(exported), "--user", "planner")
    assert "saved (version 2)" in saved.stderr
    assert cli("plan", "submit", ACCOUNT, "--user", "planner").returncode == 0
    approved = cli("plan", "approve", ACCOUNT, "--user", "approver")
    assert "approved: version 4, approved" in approved.stderr
    diff = cli("plan", "diff", ACCOUNT, "1", "2")
    assert diff.stdout.strip() == "targets.2028.PL-01: 1,300,000 -> 1,450,000"
    history = cli("plan", "history", ACCOUNT).stdout.splitlines()
    assert [line.split()[:4] for line in history[1:]] == [
        ["1", "draft", "create", "planner"],
        ["2", "draft", "edit", "planner"],
        ["3", "submitted", "submit", "planner"],
        ["4", "approved", "approve", "approver"],
    ]
    restored = cli("plan", "restore", ACCOUNT, "1", "--user", "planner")
    assert "restored from version 1: version 5, draft" in restored.stderr
    shown = cli("plan", "show", ACCOUNT, "--as-of", "2026-09-30")
    assert shown.returncode == 0, shown.stderr
    assert "1+2+1: ok" in shown.stdout
    assert "approved version 4 by approver" in shown.stdout
    assert "plan vs actual on 2026-09-30" in shown.stdout


def test_plan_writes_refuse_in_one_line(book):
    folder, env, eng = book

    def cli(*args):
        return run_cli(*args, cwd=folder, env=env)

    path = write_plan_file(folder, plan_data())
    assert_one_line_error(cli("plan", "import", str(path), "--user", "nobody"), "USER_UNKNOWN")
    with eng.begin() as conn:
        conn.execute(text("UPDATE app_user SET is_active = false WHERE username = 'planner2'"))
    assert_one_line_error(
        cli("plan", "import", str(path), "--user", "planner2"), "no active user 'planner2'"
    )
    denied = cli("plan", "import", str(path), "--user", "viewer")
    assert_one_line_error(denied, "[PERMISSION_DENIED]", "'viewer' (role viewer)")
    bad = write_plan_file(folder, plan_data(targets={2026: {"PL-01": -5}}), "bad.yaml")
    broken = cli("plan", "import", str(bad), "--user", "planner")
    assert_one_line_error(broken, f"{bad}: targets.2026.PL-01 (line 15)", "negative")
    assert_one_line_error(cli("plan", "show", "C-404"), "[PLAN_NOT_FOUND]")
    assert cli("plan", "import", str(path), "--user", "planner").returncode == 0
    stale = cli("plan", "submit", ACCOUNT, "--user", "planner", "--based-on", "7")
    assert_one_line_error(stale, "[PLAN_NOT_FOUND]")
    assert cli("plan", "submit", ACCOUNT, "--user", "planner").returncode == 0
    conflict = cli(
        "plan", "reject", ACCOUNT, "--user", "approver", "--reason", "x", "--based-on", "1"
    )
    assert_one_line_error(conflict, "[PLAN_CONFLICT]", "saved by planner")


def test_user_assign(book):
    folder, env, _ = book
    done = run_cli("user", "assign", "viewer", ACCOUNT, "C-2", cwd=folder, env=env)
    assert done.returncode == 0 and "2 account(s) assigned" in done.stderr
    again = run_cli("user", "assign", "viewer", ACCOUNT, cwd=folder, env=env)
    assert "0 account(s) assigned, 1 already were" in again.stderr
    assert_one_line_error(
        run_cli("user", "assign", "viewer", "C-404", cwd=folder, env=env), "unknown customer"
    )
