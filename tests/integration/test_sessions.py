"""Dashboard sessions on both backends, with an injected clock (no sleeps): the one-time
hand-over, the signed cookie, the idle timeout and the lifetime, sign-out and deactivation
ending a session at once, forged and stale cookies, the secret, the audit events."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.access import Identity
from models.auth import set_user_active, set_user_role
from models.db import transaction
from models.errors import ConfigError
from models.schema import AuditEvent, Role, SignInSession
from models.sessions import (
    DEACTIVATED,
    EXPIRED,
    IDLE,
    NO_SESSION,
    SIGNED_OUT,
    SessionRules,
    begin_provider_session,
    begin_session,
    check_session,
    end_session,
    hand_over,
    provider_sign_in,
    session_secret,
)
from models.settings import Settings
from models.users import add_user

RULES = SessionRules(idle_minutes=30, lifetime_hours=12, handoff_seconds=60, touch_seconds=30)
SECRET = "s" * 40
T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
ANA = Identity("ana", Role.PLANNER, display_name="ana")
ADMIN = Identity("root", Role.ADMIN)


def _at(**delta: float) -> datetime:
    return T0 + timedelta(**delta)


@pytest.fixture
def ana(engine):
    with transaction(engine) as s:
        add_user(s, "ana", Role.PLANNER, "correct-horse", actor="test")
        add_user(s, "root", Role.ADMIN, "root-pass", actor="test")
    return engine


def _signed_in(engine, at=T0) -> tuple[int, str]:
    """A session begun and handed over at ``at``: (session id, cookie value)."""
    begun = begin_session(engine, ANA, client="10.0.0.7", rules=RULES, now=at)
    cookie = hand_over(engine, begun.handoff, secret=SECRET, now=at)
    assert cookie is not None
    return begun.session_id, cookie


def _check(engine, cookie, at, secret=SECRET, rules=RULES):
    """What a page (re)load finds: the session the cookie carries, at ``at``. (The
    signature's own age is checked on the real clock: made just now, it is fresh.)"""
    return check_session(engine, cookie=cookie, secret=secret, rules=rules, now=at)


def test_the_cookie_signs_the_person_in_and_only_its_hash_is_stored(ana):
    session_id, cookie = _signed_in(ana)
    check = _check(ana, cookie, _at(minutes=5))
    assert check.identity == ANA and check.session_id == session_id and check.ended is None
    with Session(ana) as s:
        row = s.get(SignInSession, session_id)
        assert row.token_hash and row.token_hash not in cookie and row.handoff_hash is None
        assert row.client == "10.0.0.7" and row.expires_at == _at(hours=12)
    # The Streamlit session holds the id: the same answer without the cookie.
    assert check_session(ana, session_id=session_id, rules=RULES, now=_at(minutes=6)) == check


def test_the_hand_over_code_works_once_and_only_while_fresh(ana):
    begun = begin_session(ana, ANA, rules=RULES, now=T0)
    assert hand_over(ana, begun.handoff, secret=SECRET, now=_at(seconds=30)) is not None
    assert hand_over(ana, begun.handoff, secret=SECRET, now=_at(seconds=31)) is None
    late = begin_session(ana, ANA, rules=RULES, now=T0)
    assert hand_over(ana, late.handoff, secret=SECRET, now=_at(seconds=61)) is None
    assert hand_over(ana, late.handoff, secret=SECRET, now=_at(seconds=30)) is None  # used up
    assert hand_over(ana, "not-a-code", secret=SECRET, now=T0) is None
    assert hand_over(ana, "", secret=SECRET, now=T0) is None


def test_forged_tampered_or_foreign_cookies_find_no_session(ana):
    _, cookie = _signed_in(ana)
    token, _, signature = cookie.rpartition(".")
    assert _check(ana, cookie, T0).identity == ANA
    assert _check(ana, token + "." + signature[::-1], T0) == NO_SESSION
    assert _check(ana, "x" + cookie, T0) == NO_SESSION
    assert _check(ana, "garbage", T0) == NO_SESSION
    # Another installation's secret (or a changed one) signs nobody in.
    assert _check(ana, cookie, T0, secret="t" * 40) == NO_SESSION


def test_idle_timeout_and_activity(ana):
    session_id, cookie = _signed_in(ana)
    # Active every 20 minutes for 5 hours: never idle (each check counts as activity).
    for minutes in range(20, 300, 20):
        assert _check(ana, cookie, _at(minutes=minutes)).identity == ANA
    gone = _check(ana, cookie, _at(minutes=280 + 31))
    assert gone.identity is None and gone.ended == IDLE
    # Ended stays ended: activity afterwards does not bring it back.
    assert _check(ana, cookie, _at(minutes=312)).ended == IDLE


def test_the_lifetime_ends_even_an_active_session(ana):
    session_id, cookie = _signed_in(ana)
    for minutes in range(20, 12 * 60, 20):  # busy all day
        assert _check(ana, cookie, _at(minutes=minutes)).identity == ANA
    assert check_session(ana, session_id=session_id, rules=RULES, now=_at(hours=12)).ended == (
        EXPIRED
    )


def test_sign_out_ends_the_session_for_every_tab_at_once(ana):
    session_id, cookie = _signed_in(ana)
    other_tab = check_session(ana, session_id=session_id, rules=RULES, now=_at(minutes=1))
    assert other_tab.identity == ANA
    end_session(ana, session_id, now=_at(minutes=2))
    for check in (
        _check(ana, cookie, _at(minutes=3)),
        check_session(ana, session_id=session_id, rules=RULES, now=_at(minutes=3)),
    ):
        assert check.identity is None and check.ended == SIGNED_OUT
    end_session(ana, session_id, now=_at(minutes=4))  # twice: a no-op


def test_deactivation_ends_every_session_of_the_user_and_a_role_change_applies(ana):
    first, cookie1 = _signed_in(ana)
    second, cookie2 = _signed_in(ana)
    set_user_role(ana, ADMIN, "ana", Role.VIEWER)
    assert _check(ana, cookie1, _at(minutes=1)).identity.role == Role.VIEWER
    set_user_active(ana, ADMIN, "ana", False)
    for cookie in (cookie1, cookie2):
        check = _check(ana, cookie, _at(minutes=2))
        assert check.identity is None and check.ended == DEACTIVATED
    # Reactivated, the old sessions stay over: the person signs in again.
    set_user_active(ana, ADMIN, "ana", True)
    assert _check(ana, cookie1, _at(minutes=3)).identity is None


def test_a_user_deactivated_behind_the_services_back_is_signed_out_at_the_next_check(ana):
    session_id, cookie = _signed_in(ana)
    with transaction(ana) as s:  # e.g. an administrator's SQL: the check still notices
        s.get(SignInSession, session_id)
        from models.schema import AppUser

        s.query(AppUser).filter(AppUser.username == "ana").update({"is_active": False})
    assert _check(ana, cookie, _at(minutes=1)).ended == DEACTIVATED


def test_starting_and_ending_are_audited(ana):
    session_id, cookie = _signed_in(ana)
    end_session(ana, session_id, now=_at(minutes=1))
    with Session(ana) as s:
        events = s.execute(
            select(AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.target_id == "ana", AuditEvent.action.like("auth.%"))
            .order_by(AuditEvent.event_id)
        ).all()
    assert events == [
        ("auth.session_started", f"session {session_id}"),
        ("auth.session_ended", f"session {session_id}: {SIGNED_OUT}"),
    ]


def test_last_seen_is_written_at_most_every_touch_interval(ana):
    session_id, cookie = _signed_in(ana)
    for seconds in (5, 10, 29):
        _check(ana, cookie, _at(seconds=seconds))
    with Session(ana) as s:
        assert s.get(SignInSession, session_id).last_seen_at == T0
    _check(ana, cookie, _at(seconds=31))
    with Session(ana) as s:
        assert s.get(SignInSession, session_id).last_seen_at == _at(seconds=31)


def test_the_secret_comes_from_settings_else_a_private_file_never_in_prod(tmp_path):
    given = Settings(session_secret="k" * 32, data_dir=tmp_path)
    assert session_secret(given) == "k" * 32
    made = Settings(data_dir=tmp_path / "data")
    first = session_secret(made)
    assert len(first) >= 48 and session_secret(made) == first  # kept, not remade
    mode = stat.S_IMODE(os.stat(tmp_path / "data" / "session-secret").st_mode)
    assert mode == 0o600
    with pytest.raises(ConfigError, match="ACCOUNTOPS_SESSION_SECRET is not set"):
        session_secret(Settings(env="prod", data_dir=tmp_path))
    with pytest.raises(ValueError, match="at least 32"):
        Settings(session_secret="short")


def test_a_provider_sign_in_is_one_session_found_by_its_key_and_ended_by_the_rules(ana):
    login = "ana\nhttps://idp.example.com\n00u1ana\n1796547600\nnonce-1"
    first = begin_provider_session(ana, ANA, login, rules=RULES, now=T0)
    assert first.identity == ANA and first.session_id is not None
    # A second tab beginning the same sign-in (it raced the first) gets the same session.
    again = begin_provider_session(ana, ANA, login, rules=RULES, now=_at(minutes=1))
    assert again.session_id == first.session_id and again.identity == ANA
    with Session(ana) as s:
        (row,) = s.scalars(select(SignInSession)).all()
        assert login not in (row.token_hash or "") and row.handoff_hash is None
    assert check_session(ana, login=login, rules=RULES, now=_at(minutes=20)).identity == ANA
    # Another sign-in (a new nonce) finds nothing; this one idles out like any session.
    assert check_session(ana, login=login + "2", rules=RULES, now=_at(minutes=20)) == NO_SESSION
    gone = check_session(ana, login=login, rules=RULES, now=_at(minutes=51))
    assert gone.identity is None and gone.ended == IDLE
    # A cookie never reaches a provider sign-in's row, nor the key a cookie's.
    assert _check(ana, login, _at(minutes=52)) == NO_SESSION


def test_provider_sign_in_lets_in_once_and_an_ended_sign_in_stays_ended(ana):
    from models.auth import AuthenticationFailed

    login = "ana\nhttps://idp.example.com\n00u1ana\n1796547600\nnonce-1"
    first = provider_sign_in(ana, "Ana", login, rules=RULES, now=T0)
    assert first.identity == ANA
    assert provider_sign_in(ana, "ana", login, rules=RULES, now=_at(minutes=5)) == first
    set_user_active(ana, ADMIN, "ana", False)
    gone = provider_sign_in(ana, "ana", login, rules=RULES, now=_at(minutes=6))
    assert gone.identity is None and gone.ended == DEACTIVATED
    set_user_active(ana, ADMIN, "ana", True)  # reactivated: this sign-in stays ended
    assert provider_sign_in(ana, "ana", login, rules=RULES, now=_at(minutes=7)).identity is None
    assert provider_sign_in(ana, "ana", login + "2", rules=RULES, now=_at(minutes=8)).identity
    with pytest.raises(AuthenticationFailed, match="not a user of accountops"):
        provider_sign_in(ana, "nobody@example.com", "other", rules=RULES, now=T0)
