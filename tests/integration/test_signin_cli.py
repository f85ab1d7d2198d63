"""``accountops user unlock NAME``: an administrator lifts a sign-in lock from the shell."""

from __future__ import annotations

import getpass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.auth import AuthenticationFailed, authenticate, locked_users
from models.db import make_engine, transaction
from models.schema import AuditEvent, Role
from models.signin import SignInRules
from models.users import add_user
from tests.unit.test_cli import assert_one_line_error, data_dir, run_cli

RULES = SignInRules(
    delay_after=5, lock_after=2, lock_minutes=15, window_minutes=60, max_delay_seconds=300
)


def test_user_unlock_lifts_the_lock_and_is_audited(tmp_path):
    assert run_cli("init", cwd=tmp_path).returncode == 0
    engine = make_engine(f"sqlite:///{data_dir(tmp_path) / 'accountops.db'}")
    with transaction(engine) as s:
        add_user(s, "ana", Role.VIEWER, "correct-horse", actor="test")
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            authenticate(engine, "ana", "wrong-horse", rules=RULES)
    assert "ana" in locked_users(engine, RULES)
    with pytest.raises(AuthenticationFailed):
        authenticate(engine, "ana", "correct-horse", rules=RULES)

    env = {"ACCOUNTOPS_SIGNIN_LOCK_AFTER": "2"}
    done = run_cli("user", "unlock", "ANA", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "'ana' unlocked (it was locked until " in done.stderr
    assert authenticate(engine, "ana", "correct-horse", rules=RULES).username == "ana"
    with Session(engine) as s:
        event = s.execute(
            select(AuditEvent.actor, AuditEvent.target_id).where(
                AuditEvent.action == "auth.unlocked"
            )
        ).one()
    assert tuple(event) == (f"cli:{getpass.getuser()}", "ana")

    again = run_cli("user", "unlock", "ana", cwd=tmp_path, env=env)
    assert again.returncode == 0 and "'ana' was not locked" in again.stderr
    assert_one_line_error(run_cli("user", "unlock", "nobody", cwd=tmp_path), "USER_UNKNOWN")
    engine.dispose()
