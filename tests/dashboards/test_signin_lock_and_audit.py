"""The dashboard side of sign-in throttling and the audit trail: the sign-in form's one
message, unlocking on the admin page, and the audit page (admins only, filters, download)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboards.formatting import literal
from models.auth import AuthenticationFailed, authenticate, locked_users
from models.db import transaction
from models.schema import AuditEvent, Role
from models.signin import SignInRules
from models.users import add_user
from tests.dashboards.conftest import app_test

GENERIC = "Sign-in failed or temporarily blocked; try again later."
RULES = SignInRules(
    delay_after=5, lock_after=2, lock_minutes=15, window_minutes=60, max_delay_seconds=300
)


@pytest.fixture
def locked_pia(app_db, monkeypatch):
    """User pia, locked after two wrong passwords (the app's rules: lock after 2)."""
    monkeypatch.setenv("ACCOUNTOPS_SIGNIN_LOCK_AFTER", "2")
    with transaction(app_db) as s:
        add_user(s, "pia", Role.PLANNER, "planner-pass", actor="test")
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            authenticate(app_db, "pia", "wrong-pass", rules=RULES)
    return app_db


def _sign_in(at, username, password):
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    return at.button[0].click().run()


def test_unknown_user_and_locked_user_get_the_same_message(locked_pia):
    unknown = _sign_in(app_test().run(), "nobody", "whatever-pass")
    locked = _sign_in(app_test().run(), "pia", "planner-pass")  # the right password
    for at in (unknown, locked):
        assert not at.exception
        assert [e.value for e in at.error] == [literal(GENERIC)]
        assert "identity" not in at.session_state and not at.metric
    assert any("next attempt is possible in 15 min" in c.value for c in locked.caption)
    with Session(locked_pia) as s:
        reasons = s.execute(
            select(AuditEvent.actor, AuditEvent.action)
            .where(AuditEvent.action.like("auth.%"))
            .order_by(AuditEvent.event_id.desc())
            .limit(2)
        ).all()
    assert [tuple(r) for r in reasons] == [("pia", "auth.blocked"), ("nobody", "auth.failed")]


def test_admin_unlocks_on_the_admin_page_and_pia_signs_in(locked_pia, signed_in_app):
    at = signed_in_app("admin").run()
    at.switch_page("app_pages/admin_users.py").run()
    assert not at.exception
    locks = at.dataframe[1].value
    assert list(locks["User name"]) == ["pia"] and list(locks["Is a user"]) == ["yes"]
    at.selectbox(key="unlock_user").select("pia")
    next(b for b in at.button if b.label == "Unlock").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["pia is unlocked."]
    assert locked_users(locked_pia, RULES, datetime.now(UTC)) == {}
    with Session(locked_pia) as s:
        event = s.execute(
            select(AuditEvent.actor, AuditEvent.target_id).where(
                AuditEvent.action == "auth.unlocked"
            )
        ).one()
    assert tuple(event) == ("test-admin", "pia")
    signed = _sign_in(app_test().run(), "pia", "planner-pass")
    assert signed.session_state["identity"].username == "pia"


def test_audit_page_lists_filters_and_downloads_for_an_admin(locked_pia, signed_in_app):
    at = signed_in_app("admin").run()
    at.switch_page("app_pages/admin_audit.py").run()
    assert not at.exception
    assert at.title[0].value == "Audit trail"
    rows = at.dataframe[0].value
    assert list(rows.columns) == ["When (UTC)", "Who", "What", "On", "Details", "Client"]
    assert {"auth.failed", "auth.locked", "user.add"} <= set(rows["What"])
    at.text_input(key="audit_who").input("pia").run()
    at.multiselect(key="audit_kinds").select("auth").run()
    assert not at.exception
    rows = at.dataframe[0].value
    assert list(rows["What"]) == ["auth.locked", "auth.failed", "auth.failed"]
    assert set(rows["Who"]) == {"pia"}
    button = at.download_button(key="export_audit_trail")
    assert button.proto.label == "Download CSV"


def test_a_viewer_cannot_reach_the_audit_page(signed_in_app):
    at = signed_in_app("viewer").run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/admin_audit.py")


def test_admin_changes_a_role_on_the_admin_page_and_it_is_audited(signed_in_app, app_db):
    with transaction(app_db) as s:
        add_user(s, "vera", Role.VIEWER, None, actor="test")
    at = signed_in_app("admin").run()
    at.switch_page("app_pages/admin_users.py").run()
    at.selectbox(key="role_user").select("vera")
    at.selectbox(key="role_value").select(Role.PLANNER)
    next(b for b in at.button if b.label == "Save role").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["vera is now planner (was viewer)."]
    assert list(at.dataframe[0].value["Role"]) == ["admin", "planner"]
    with Session(app_db) as s:
        event = s.execute(
            select(AuditEvent.actor, AuditEvent.detail).where(AuditEvent.action == "user.role")
        ).one()
    assert tuple(event) == ("test-admin", "viewer -> planner")
