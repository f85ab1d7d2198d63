"""Signing in on both backends: passwords, deactivated users (A5), OIDC subjects, demo users."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.access import Identity, PermissionDenied
from models.auth import (
    AuthenticationFailed,
    authenticate,
    create_demo_users,
    current_identity,
    demo_password,
    identity_for_subject,
    list_users,
    set_user_active,
)
from models.db import transaction
from models.schema import AccountManager, AppUser, AuditEvent, Role
from models.users import add_user


def _add(engine, name, role, password="correct-horse", **fields):
    with transaction(engine) as s:
        user = add_user(s, name, role, password, actor="test")
        for key, value in fields.items():
            setattr(user, key, value)


def _events(engine) -> list[tuple[str, str, str | None]]:
    with Session(engine) as s:
        rows = s.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.action.like("auth.%"))
            .order_by(AuditEvent.event_id)
        ).all()
    return [tuple(r) for r in rows]


def test_sign_in_with_normalised_name(engine):
    _add(engine, "Ana.Lima@Example.com", Role.PLANNER)
    who = authenticate(engine, "  ANA.LIMA@example.COM ", "correct-horse")
    assert who == Identity("ana.lima@example.com", Role.PLANNER, None, "Ana.Lima@Example.com")
    assert _events(engine) == [("ana.lima@example.com", "auth.signed_in", "password")]


def test_wrong_password_and_unknown_user_fail_alike_and_are_audited(engine):
    _add(engine, "ana", Role.VIEWER)
    with pytest.raises(AuthenticationFailed) as wrong:
        authenticate(engine, "ana", "not-the-password")
    with pytest.raises(AuthenticationFailed) as unknown:
        authenticate(engine, "nobody", "whatever-pass")
    assert (
        str(wrong.value)
        == str(unknown.value)
        == ("[AUTH_FAILED] sign-in failed or temporarily blocked; try again later")
    )
    assert _events(engine) == [
        ("ana", "auth.failed", "wrong password (failure 1 for this user name)"),
        ("nobody", "auth.failed", "unknown user (failure 1 for this user name)"),
    ]


def test_unknown_user_still_pays_for_a_hash_check(engine, monkeypatch):
    """Timing does not tell who exists: an unknown name is checked against a dummy hash."""
    import models.auth as auth

    calls = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda p, h: calls.append(h) or real(p, h))
    with pytest.raises(AuthenticationFailed):
        authenticate(engine, "ghost", "whatever-pass")
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


def test_a5_deactivated_user_is_denied_everywhere(engine):
    _add(engine, "dora@example.com", Role.APPROVER, is_active=False)
    with pytest.raises(AuthenticationFailed) as err:
        authenticate(engine, "dora@example.com", "correct-horse")
    assert err.value.code == "AUTH_DEACTIVATED"
    with pytest.raises(AuthenticationFailed) as oidc:
        identity_for_subject(engine, "Dora@Example.com")
    assert oidc.value.code == "AUTH_DEACTIVATED"
    assert current_identity(engine, "dora@example.com") is None
    assert [e[1] for e in _events(engine)] == ["auth.failed", "auth.failed"]


def test_a5_oidc_role_comes_from_app_user_and_unknown_is_refused(engine):
    _add(engine, "ceo@example.com", Role.VIEWER, password=None)
    assert identity_for_subject(engine, " CEO@example.com") == Identity(
        "ceo@example.com", Role.VIEWER, None, "ceo@example.com"
    )
    with pytest.raises(AuthenticationFailed) as err:
        identity_for_subject(engine, "intruder@example.com")
    assert err.value.code == "AUTH_UNKNOWN_USER"
    # A provider-only user has no password: password sign-in is refused.
    with pytest.raises(AuthenticationFailed):
        authenticate(engine, "ceo@example.com", "")
    assert _events(engine)[-1][2].startswith("user signs in through the identity provider")


def test_role_change_and_deactivation_reach_a_running_session(engine):
    _add(engine, "ana", Role.VIEWER)
    assert current_identity(engine, "ana").role == Role.VIEWER
    with transaction(engine) as s:
        s.execute(update(AppUser).where(AppUser.username == "ana").values(role=Role.PLANNER))
    assert current_identity(engine, "ana").role == Role.PLANNER
    admin = Identity("root", Role.ADMIN)
    set_user_active(engine, admin, "ANA", False)
    assert current_identity(engine, "ana") is None
    set_user_active(engine, admin, "ana", True)
    assert current_identity(engine, "ana") is not None


def test_only_admins_manage_users_and_refusals_are_audited(engine):
    _add(engine, "ana", Role.VIEWER)
    with pytest.raises(PermissionDenied):
        set_user_active(engine, Identity("pia", Role.PLANNER), "ana", False)
    assert current_identity(engine, "ana") is not None
    with Session(engine) as s:
        assert s.scalar(select(AuditEvent.action).order_by(AuditEvent.event_id.desc())) == (
            "user.manage_denied"
        )
    with pytest.raises(Exception, match="cannot deactivate yourself"):
        set_user_active(engine, Identity("ana", Role.ADMIN), "ana", False)


def test_demo_users_one_per_role_idempotent(engine):
    with transaction(engine) as s:
        s.add(AccountManager(manager_id="AM002", name="Bea"))
        s.add(AccountManager(manager_id="AM001", name="Al"))
    first = create_demo_users(engine)
    assert first == [(r.value, r.value, f"{r.value}-demo-pass") for r in Role]
    assert create_demo_users(engine) == first
    for username, role, password in first:
        who = authenticate(engine, username, password)
        assert who.role == Role(role)
    assert authenticate(engine, "account_manager", demo_password(Role.ACCOUNT_MANAGER)) == (
        Identity("account_manager", Role.ACCOUNT_MANAGER, "AM001", "Demo account manager")
    )
    rows = list_users(engine)
    assert [r.username for r in rows] == sorted(r.value for r in Role)
    assert {r.sign_in for r in rows} == {"password"}
    assert all(r.is_active for r in rows)


def test_demo_leaves_an_existing_user_of_the_same_name_alone(engine):
    _add(engine, "admin", Role.ADMIN, password="a-real-secret")
    rows = dict((u, p) for u, _, p in create_demo_users(engine))
    assert rows["admin"] is None
    assert authenticate(engine, "admin", "a-real-secret").role == Role.ADMIN


def test_demo_command_prints_how_to_sign_in_as_each_role(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCOUNTOPS_")}
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "demo", "--no-dashboard", "--customers", "20"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    start = lines.index("  user name        password                   role")
    assert [line.split() for line in lines[start + 1 : start + 6]] == [
        [r.value, f"{r.value}-demo-pass", r.value] for r in Role
    ]
    assert "never use them in production" in lines[start - 1]
