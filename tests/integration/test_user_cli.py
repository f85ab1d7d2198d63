"""``accountops user list|set-role|deactivate|activate|reset-password``: the admin page's
services from the shell, with its checks and its audit events, on both databases."""

from __future__ import annotations

import getpass

import pytest
from sqlalchemy import select

from models.auth import AuthenticationFailed, authenticate, list_users
from models.db import make_engine, transaction
from models.migrate import upgrade
from models.schema import AppUser, AuditEvent, Role, SignInSession
from models.sessions import begin_session
from models.users import add_user, verify_password
from tests.unit.test_cli import assert_one_line_error, run_cli

ADMIN = f"cli:{getpass.getuser()}"


def _events(engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                AuditEvent.actor, AuditEvent.action, AuditEvent.target_id, AuditEvent.detail
            ).order_by(AuditEvent.event_id)
        )
        return [tuple(r) for r in rows]


def test_user_commands_use_the_services_checks_and_audit(db_url, tmp_path):
    engine = make_engine(db_url)
    upgrade(engine)
    with transaction(engine) as s:
        add_user(s, "vera", Role.VIEWER, "old-password", actor="test")
    env = {"ACCOUNTOPS_DATABASE_URL": db_url}

    def cli(*args: str, stdin: str = ""):
        return run_cli(*args, cwd=tmp_path, env=env, stdin=stdin)

    oidc = cli("user", "add", "Olga@Example.com", "--role", "planner", "--oidc")
    assert oidc.returncode == 0, oidc.stderr
    listed = cli("user", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:3] == ["user", "role", "status"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["olga@example.com", "planner", "active"],
        ["vera", "viewer", "active"],
    ]
    assert "identity provider" in lines[1] and "password" in lines[2]

    promoted = cli("user", "set-role", "VERA", "approver")
    assert promoted.returncode == 0, promoted.stderr
    assert "'vera' is now approver (was viewer)" in promoted.stderr
    same = cli("user", "set-role", "vera", "approver")
    assert same.returncode == 0 and "nothing to do" in same.stderr
    assert cli("user", "deactivate", "vera").returncode == 0
    assert [u.is_active for u in list_users(engine) if u.username == "vera"] == [False]
    assert cli("user", "activate", "vera").returncode == 0
    begin_session(engine, authenticate(engine, "vera", "old-password"))  # a reset ends it
    reset = cli("user", "reset-password", "vera", "--password-stdin", stdin="new-password\n")
    assert reset.returncode == 0, reset.stderr
    assert "password of 'vera' reset; 1 open session(s) ended" in reset.stderr
    with transaction(engine) as s:
        vera = s.scalar(select(AppUser).where(AppUser.username == "vera"))
        assert vera is not None and verify_password("new-password", vera.password_hash)
        assert vera.role == Role.APPROVER and vera.is_active
        ended = s.scalars(select(SignInSession.end_reason).where(SignInSession.username == "vera"))
        assert list(ended) == ["password_reset"]
    assert authenticate(engine, "vera", "new-password").role == Role.APPROVER

    events = [e for e in _events(engine) if e[1].startswith("user.")]
    assert events == [
        ("test", "user.add", "vera", "role=viewer"),
        (ADMIN, "user.add", "olga@example.com", "role=planner"),
        (ADMIN, "user.role", "vera", "viewer -> approver"),
        (ADMIN, "user.deactivate", "vera", None),
        (ADMIN, "user.activate", "vera", None),
        (ADMIN, "user.password_reset", "vera", "password replaced; 1 session(s) ended"),
    ]

    # One line each, nothing changed.
    before = _events(engine)  # every event, refusals included
    for args in (
        ("set-role", "nobody", "viewer"),
        ("deactivate", "nobody"),
        ("activate", "nobody"),
    ):
        assert_one_line_error(cli("user", *args), "[USER_UNKNOWN]", "'nobody'")
    assert_one_line_error(
        cli("user", "reset-password", "nobody", "--password-stdin", stdin="long-enough\n"),
        "[USER_UNKNOWN]",
    )
    assert_one_line_error(cli("user", "set-role", "vera", "god"), "unknown role 'god'")
    assert_one_line_error(
        cli("user", "reset-password", "vera", "--password-stdin", stdin="short\n"),
        "[USER_INVALID]",
        "shorter than 8",
    )
    assert _events(engine) == before
    with pytest.raises(AuthenticationFailed):  # the refused password was not set
        authenticate(engine, "vera", "short")
    engine.dispose()
