"""Sign-in throttling and lockout on both backends, with an injected clock (no sleeps):
delays that grow, the lock after N failures and its expiry, counts per user name and per
client, one message whatever the reason, unlock by an administrator, the audit events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.access import Identity, PermissionDenied
from models.auth import (
    SIGN_IN_REFUSED,
    AuthenticationFailed,
    authenticate,
    locked_users,
    unlock_user,
)
from models.db import transaction
from models.errors import AccountopsError
from models.schema import AuditEvent, Role
from models.signin import SignInRules, delay_seconds
from models.users import add_user

RULES = SignInRules(
    delay_after=2, lock_after=4, lock_minutes=15, window_minutes=60, max_delay_seconds=8
)
T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
ADMIN = Identity("root", Role.ADMIN)
RIGHT = "correct-horse"


@pytest.fixture
def ana(engine):
    with transaction(engine) as s:
        add_user(s, "ana", Role.PLANNER, RIGHT, actor="test")
    return engine


def _at(seconds: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(seconds=seconds, minutes=minutes)


def _try(engine, name, password, at, client=None) -> AuthenticationFailed | Identity:
    try:
        return authenticate(engine, name, password, client=client, rules=RULES, now=at)
    except AuthenticationFailed as exc:
        return exc


def _refused(result, retry_after) -> None:
    assert isinstance(result, AuthenticationFailed), result
    assert result.args[0] == SIGN_IN_REFUSED and result.code == "AUTH_FAILED"
    assert result.retry_after == retry_after


def _auth_events(engine) -> list[tuple[str, str, str | None]]:
    with Session(engine) as s:
        rows = s.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.action.like("auth.%"))
            .order_by(AuditEvent.event_id)
        ).all()
    return [tuple(r) for r in rows]


def test_delay_grows_then_the_name_locks_and_the_lock_expires(ana):
    engine = ana
    _refused(_try(engine, "ana", "nope-1", _at(0)), None)  # 1 failure: no wait yet
    _refused(_try(engine, "ana", "nope-2", _at(1)), 1)  # 2: wait 1 s
    # Too soon, even with the right password: refused unchecked, not counted.
    _refused(_try(engine, "ana", RIGHT, _at(1.5)), 1)
    _refused(_try(engine, "ana", "nope-3", _at(2)), 2)  # 3: wait 2 s
    _refused(_try(engine, "ana", "nope-4", _at(4)), 15 * 60)  # 4: locked for 15 minutes
    # The right password during the lock is refused with the same message.
    _refused(_try(engine, "ana", RIGHT, _at(minutes=10)), 5 * 60 + 4)
    assert locked_users(engine, RULES, _at(minutes=10)) == {"ana": _at(4, minutes=15)}
    # Once the lock has expired the right password signs in.
    who = _try(engine, "ana", RIGHT, _at(4, minutes=15))
    assert who == Identity("ana", Role.PLANNER, None, "ana")
    assert locked_users(engine, RULES, _at(5, minutes=15)) == {}
    assert [(a, d.split(" (")[0].split(";")[0]) for _, a, d in _auth_events(engine)] == [
        ("auth.failed", "wrong password"),
        ("auth.failed", "wrong password"),
        ("auth.blocked", "too soon after failed sign-ins"),
        ("auth.failed", "wrong password"),
        ("auth.failed", "wrong password"),
        ("auth.locked", "after 4 failed sign-ins"),
        ("auth.blocked", "user name is locked"),
        ("auth.signed_in", "password"),
    ]


def test_after_the_lock_expires_the_count_starts_again(ana):
    engine = ana
    for i in range(4):
        _try(engine, "ana", "nope", _at(i * 10))
    _refused(_try(engine, "ana", "nope", _at(minutes=16)), None)  # 1st failure again
    _refused(_try(engine, "ana", "nope", _at(1, minutes=16)), 1)


def test_a_successful_sign_in_clears_the_user_names_count(ana):
    engine = ana
    for i in range(3):
        _try(engine, "ana", "nope", _at(i * 10))
    assert isinstance(_try(engine, "ana", RIGHT, _at(60)), Identity)
    _refused(_try(engine, "ana", "nope", _at(61)), None)


def test_failures_older_than_the_window_do_not_count(ana):
    engine = ana
    for i in range(3):
        _try(engine, "ana", "nope", _at(i * 10))
    _refused(_try(engine, "ana", "nope", _at(minutes=61)), None)  # only 1 in the window


def test_unknown_user_is_throttled_and_locked_exactly_like_a_real_one(ana):
    engine = ana
    real = [_try(engine, "ana", "nope", _at(s)) for s in (0, 1, 2, 4)]
    ghost = [_try(engine, "ghost", "nope", _at(s)) for s in (0, 1, 2, 4)]
    assert [(str(r), r.retry_after) for r in real] == [(str(g), g.retry_after) for g in ghost]
    _refused(_try(engine, "ghost", "nope", _at(minutes=1)), 14 * 60 + 4)
    assert set(locked_users(engine, RULES, _at(minutes=1))) == {"ana", "ghost"}


def test_failures_count_per_client_across_user_names(ana):
    engine = ana
    _refused(_try(engine, "bob", "nope", _at(0), client="10.0.0.9"), None)
    _refused(_try(engine, "cid", "nope", _at(0), client="10.0.0.9"), 1)  # 2 from the client
    # A third name from that client waits too, even with the right password of a real user.
    _refused(_try(engine, "ana", RIGHT, _at(0.5), client="10.0.0.9"), 1)
    # Another client is not slowed down by them.
    assert isinstance(_try(engine, "ana", RIGHT, _at(0.5), client="10.0.0.7"), Identity)
    with Session(engine) as s:
        blocked = s.execute(
            select(AuditEvent.actor, AuditEvent.client).where(AuditEvent.action == "auth.blocked")
        ).all()
    assert [tuple(b) for b in blocked] == [("ana", "10.0.0.9")]


def test_failures_count_per_user_name_across_clients(ana):
    engine = ana
    _try(engine, "ana", "nope", _at(0), client="10.0.0.1")
    _refused(_try(engine, "ana", "nope", _at(0), client="10.0.0.2"), 1)
    _refused(_try(engine, "ana", RIGHT, _at(0.2), client="10.0.0.3"), 1)


def test_admin_unlocks_and_the_right_password_then_works(ana):
    engine = ana
    for s in (0, 1, 2, 4):
        _try(engine, "ana", "nope", _at(s))
    done = unlock_user(engine, ADMIN, " ANA ", rules=RULES, now=_at(minutes=1))
    assert done.username == "ana" and done.was_locked_until == _at(4, minutes=15)
    assert isinstance(_try(engine, "ana", RIGHT, _at(1, minutes=1)), Identity)
    with Session(engine) as s:
        event = s.execute(
            select(AuditEvent.actor, AuditEvent.target_id, AuditEvent.detail).where(
                AuditEvent.action == "auth.unlocked"
            )
        ).one()
    assert tuple(event) == ("root", "ana", "was locked until 2026-12-05T09:15:04+00:00")
    # Unlocking a user who is not locked says so; an unknown user is an error.
    assert (
        unlock_user(engine, ADMIN, "ana", rules=RULES, now=_at(minutes=2)).was_locked_until is None
    )
    with pytest.raises(AccountopsError, match="no user 'nobody'"):
        unlock_user(engine, ADMIN, "nobody", rules=RULES, now=_at(minutes=2))


def test_only_an_admin_unlocks_and_the_refusal_is_audited(ana):
    engine = ana
    for s in (0, 1, 2, 4):
        _try(engine, "ana", "nope", _at(s))
    with pytest.raises(PermissionDenied):
        unlock_user(engine, Identity("pia", Role.PLANNER), "ana", rules=RULES, now=_at(60))
    assert "ana" in locked_users(engine, RULES, _at(61))
    with Session(engine) as s:
        last = s.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.target_id).order_by(
                AuditEvent.event_id.desc()
            )
        ).first()
    assert tuple(last) == ("pia", "user.manage_denied", "ana")


def test_delay_doubles_and_is_capped():
    assert [delay_seconds(n, RULES) for n in range(8)] == [0, 0, 1, 2, 4, 8, 8, 8]
    assert delay_seconds(10_000, RULES) == 8
