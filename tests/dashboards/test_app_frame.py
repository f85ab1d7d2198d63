"""The app frame: sign-in first (A3), navigation by role, refusals, and D1 on every page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session

from dashboards.app_pages.registry import PAGES
from dashboards.formatting import literal
from models.access import Identity, can
from models.auth import set_user_active
from models.db import transaction
from models.schema import AppUser, AuditEvent, Role, SignInSession
from models.users import add_user
from tests.dashboards.conftest import app_test

ROLES = [r.value for r in Role]


@pytest.fixture
def sql_spy():
    """Counts every SQL statement any engine in this process sends."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield statements
    event.remove(Engine, "before_cursor_execute", record)


def _buttons(at):
    return [b for b in at.button if not b.disabled]


def test_a3_unauthenticated_sees_only_the_sign_in_form_and_nothing_is_read(app_db, sql_spy):
    at = app_test().run()
    assert not at.exception
    assert sql_spy == []
    assert [t.label for t in at.text_input] == ["User name or e-mail", "Password"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.dataframe and not at.sidebar.button
    assert "identity" not in at.session_state
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/overview.py")


def _sign_in(at, username, password):
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    return at.button[0].click().run()


def test_sign_in_with_password_lands_on_the_overview(app_db):
    with transaction(app_db) as s:
        add_user(s, "Pia@Example.com", Role.PLANNER, "planner-pass", actor="test")
    at = _sign_in(app_test().run(), " pia@example.com", "planner-pass")
    assert not at.exception
    assert at.session_state["identity"].role == Role.PLANNER
    # The run ends sending the browser for its session cookie (models/sessions.py): a
    # session waits for that hand-over. (The cookie itself: tests/e2e/test_sessions.py.)
    with Session(app_db) as s:
        session = s.scalars(select(SignInSession)).one()
    assert session.username == "pia@example.com" and session.handoff_hash
    assert at.session_state["session_id"] == session.session_id
    at.run()  # the page, loaded again: this session is checked in the database
    assert at.title[0].value == "accountops" and at.metric  # the overview
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    assert at.sidebar.caption[0].value == "Role: planner"
    at.sidebar.button(key="sign_out").click().run()
    assert "identity" not in at.session_state and "session_id" not in at.session_state
    with Session(app_db) as s:
        assert s.get(SignInSession, session.session_id).end_reason == "signed_out"
    at.run()
    assert [t.label for t in at.text_input] == ["User name or e-mail", "Password"]


@pytest.mark.parametrize("ends", ["idle", "lifetime", "deactivated"])
def test_a_session_that_ends_signs_out_with_the_reason(app_db, time_machine, ends):
    time_machine.move_to(datetime(2026, 12, 5, 9, 0, tzinfo=UTC), tick=False)
    with transaction(app_db) as s:
        add_user(s, "pia", Role.PLANNER, "planner-pass", actor="test")
        add_user(s, "root", Role.ADMIN, "root-pass", actor="test")
    at = _sign_in(app_test().run(), "pia", "planner-pass").run()
    assert at.metric
    if ends == "idle":  # default: 30 minutes without a click
        time_machine.shift(timedelta(minutes=31))
        expected = "signed out after 30 minutes without activity"
    elif ends == "lifetime":  # default: 12 hours, however busy
        for _ in range(12 * 3):
            time_machine.shift(timedelta(minutes=20))
            at.run()
        expected = "session ended 12 hours after sign-in"
    else:
        set_user_active(app_db, Identity("root", Role.ADMIN), "pia", False)
        expected = "your account was deactivated"
    at.run()
    assert not at.exception and not at.metric
    assert "identity" not in at.session_state and "session_id" not in at.session_state
    assert any(literal(expected) in w.value for w in at.warning), [w.value for w in at.warning]
    assert [t.label for t in at.text_input] == ["User name or e-mail", "Password"]


def test_wrong_password_says_so_and_stays_signed_out(app_db):
    with transaction(app_db) as s:
        add_user(s, "pia", Role.PLANNER, "planner-pass", actor="test")
    at = _sign_in(app_test().run(), "pia", "not-my-password")
    assert not at.exception
    assert [e.value for e in at.error] == [  # messages are shown as text (escaped)
        literal("Sign-in failed or temporarily blocked; try again later.")
    ]
    assert "identity" not in at.session_state and not at.metric
    with Session(app_db) as s:
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.actor == "pia")) == (
            "auth.failed"
        )


def test_a3_viewer_has_no_admin_pages_and_no_enabled_controls(signed_in_app):
    at = signed_in_app("viewer").run()
    assert not at.exception
    assert [b.label for b in _buttons(at)] == ["Sign out"]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/admin_users.py")


def test_a5_deactivated_during_the_session_is_signed_out(signed_in_app, app_db):
    at = signed_in_app("approver").run()
    assert at.metric
    with transaction(app_db) as s:
        s.execute(update(AppUser).values(is_active=False))
    at.run()
    assert "identity" not in at.session_state
    assert any("deactivated" in w.value for w in at.warning)
    assert not at.metric


def test_injected_identity_of_an_unknown_user_is_not_trusted(app_db):
    at = app_test()
    at.session_state["identity"] = Identity("ghost", Role.ADMIN)
    at.run()
    assert "identity" not in at.session_state and not at.metric


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_d1_every_page_for_every_role(signed_in_app, role, spec):
    """D1: every page renders for each role that may see it; the others cannot reach it."""
    at = signed_in_app(role).run()
    assert not at.exception
    if can(role, spec.action):
        at.switch_page(spec.file).run()
        assert not at.exception
        assert at.title
    else:
        with pytest.raises(ValueError):
            at.switch_page(spec.file)


def test_admin_page_lists_users_and_deactivates_one(signed_in_app, app_db):
    with transaction(app_db) as s:
        add_user(s, "vera", Role.VIEWER, None, actor="test")
    at = signed_in_app("admin").run()
    at.switch_page("app_pages/admin_users.py").run()
    assert not at.exception
    users = at.dataframe[0].value
    assert list(users["User"]) == ["test-admin", "vera"]
    assert list(users["Role"]) == ["admin", "viewer"]
    policy = at.dataframe[1].value
    assert list(policy.columns) == ["Permission", *[r.replace("_", " ") for r in ROLES]]
    at.selectbox(key="status_user").select("vera")
    at.radio(key="status_value").set_value("deactivated")
    next(b for b in at.button if b.label == "Save status").click().run()
    assert not at.exception
    with Session(app_db) as s:
        assert s.scalar(select(AppUser.is_active).where(AppUser.username == "vera")) is False
    assert list(at.dataframe[0].value["Status"]) == ["active", "deactivated"]
    assert [s.value for s in at.success] == ["vera is now deactivated."]


def test_dev_mode_signs_in_as_a_dev_admin_without_a_form(app_db, monkeypatch):
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "dev")
    at = app_test().run()
    assert not at.exception
    assert at.metric and not at.text_input
    assert any("Dev mode" in c.value for c in at.sidebar.caption)
    at.switch_page("app_pages/admin_users.py").run()
    assert not at.exception and at.title[0].value == "Users and roles"


def test_prod_refuses_dev_mode(app_db, monkeypatch):
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "dev")
    monkeypatch.setenv("ACCOUNTOPS_ENV", "prod")
    at = app_test().run()
    assert not at.metric and not at.text_input
    assert any("auth_mode 'dev' (no sign-in) is not allowed" in e.value for e in at.error)


def test_oidc_mode_offers_the_identity_provider_and_reads_nothing(app_db, monkeypatch, sql_spy):
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "oidc")
    at = app_test().run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in with your organisation account"]
    assert not at.text_input and sql_spy == []


def test_a5_oidc_role_comes_from_app_user_not_from_the_claims(app_db, monkeypatch):
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "oidc")
    with transaction(app_db) as s:
        add_user(s, "ceo@example.com", Role.VIEWER, None, actor="test")
    at = app_test()
    at.user = {"is_logged_in": True, "email": "CEO@Example.com", "sub": "x1", "role": "admin"}
    at.run()
    assert not at.exception
    assert at.session_state["identity"] == Identity(
        "ceo@example.com", Role.VIEWER, None, at.session_state["identity"].display_name
    )
    assert at.metric and at.sidebar.caption[0].value == "Role: viewer"
    with pytest.raises(ValueError):
        at.switch_page("app_pages/admin_users.py")


def test_a5_oidc_person_unknown_to_accountops_is_refused_once(app_db, monkeypatch):
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "oidc")
    at = app_test()
    at.user = {"is_logged_in": True, "email": "stranger@example.com", "role": "admin"}
    at.run().run()
    assert not at.exception
    assert "identity" not in at.session_state and not at.metric
    assert any("not a user of accountops" in e.value for e in at.error)
    assert [b.label for b in at.button] == ["Sign out of the identity provider"]
    with Session(app_db) as s:
        refusals = s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "auth.failed"))
        assert list(refusals) == ["stranger@example.com"]


def _provider_sign_in(nonce: str) -> dict[str, object]:
    """st.user after a sign-in at the identity provider (an ID token's claims)."""
    return {
        "is_logged_in": True,
        "iss": "https://idp.example.com",
        "sub": "00u1ceo",
        "email": "ceo@example.com",
        "iat": 1796547600,
        "nonce": nonce,
    }


def _provider_tab(claims: dict[str, object]):
    at = app_test()
    at.user = dict(claims)
    return at.run()


@pytest.mark.parametrize("ends", ["idle", "lifetime"])
def test_an_oidc_sign_in_ends_like_a_password_session_in_every_tab(
    app_db, monkeypatch, time_machine, ends
):
    # Streamlit's identity cookie lasts 30 days; the sign-in's session ends by our rules.
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "oidc")
    time_machine.move_to(datetime(2026, 12, 5, 9, 0, tzinfo=UTC), tick=False)
    with transaction(app_db) as s:
        add_user(s, "ceo@example.com", Role.VIEWER, None, actor="test")
    first = _provider_sign_in("n-1")
    tab = _provider_tab(first)
    other = _provider_tab(first)  # a second tab of the same browser: the same session
    assert tab.metric and other.metric
    with Session(app_db) as s:
        (session,) = s.scalars(select(SignInSession)).all()
    assert session.username == "ceo@example.com" and session.token_hash
    if ends == "idle":
        time_machine.shift(timedelta(minutes=31))
        expected = "signed out after 30 minutes without activity"
    else:
        for _ in range(12 * 3 - 1):  # busy all day
            time_machine.shift(timedelta(minutes=20))
            assert tab.run().metric
        time_machine.shift(timedelta(minutes=20))
        expected = "session ended 12 hours after sign-in"
    for at in (tab.run(), other.run(), _provider_tab(first)):  # the cookie is still there
        assert not at.exception and not at.metric
        assert "identity" not in at.session_state
        assert any(literal(expected) in e.value for e in at.error), [e.value for e in at.error]
        assert [b.label for b in at.button] == ["Sign in with your organisation account"]
    with Session(app_db) as s:
        assert s.get(SignInSession, session.session_id).end_reason == ends.replace(
            "lifetime", "expired"
        )
    # Signing in again at the provider is a new sign-in (a new nonce): a new session.
    again = _provider_tab(_provider_sign_in("n-2"))
    assert again.metric and not again.error
    assert again.session_state["session_id"] != session.session_id


def test_an_oidc_tab_follows_the_sign_in_the_browser_holds_now(app_db, monkeypatch):
    # Another tab signed in anew as someone else: this tab's next click is that person.
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "oidc")
    with transaction(app_db) as s:
        add_user(s, "ceo@example.com", Role.VIEWER, None, actor="test")
        add_user(s, "cfo@example.com", Role.APPROVER, None, actor="test")
    tab = _provider_tab(_provider_sign_in("n-1"))
    assert tab.session_state["identity"].username == "ceo@example.com"
    tab.user = {**_provider_sign_in("n-2"), "sub": "00u2cfo", "email": "cfo@example.com"}
    tab.run()
    assert tab.session_state["identity"].username == "cfo@example.com"
    assert tab.sidebar.caption[0].value == "Role: approver"


def test_an_oidc_person_deactivated_while_signed_in_needs_a_new_sign_in(app_db, monkeypatch):
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "oidc")
    with transaction(app_db) as s:
        add_user(s, "ceo@example.com", Role.VIEWER, None, actor="test")
        add_user(s, "root", Role.ADMIN, "root-pass", actor="test")
    first = _provider_sign_in("n-1")
    tab = _provider_tab(first)
    assert tab.metric
    admin = Identity("root", Role.ADMIN)
    set_user_active(app_db, admin, "ceo@example.com", False)
    for _ in range(2):  # signed out, and asked about once: no sign-in audited meanwhile
        tab.run()
        assert not tab.metric and "identity" not in tab.session_state
        assert any("your account was deactivated" in e.value for e in tab.error)
        assert [b.label for b in tab.button] == ["Sign in with your organisation account"]
    # Reactivated: the ended sign-in stays ended; a new one lets the person in.
    set_user_active(app_db, admin, "ceo@example.com", True)
    assert not tab.run().metric
    again = _provider_tab(_provider_sign_in("n-2"))
    assert again.metric
    with Session(app_db) as s:
        signed_in = s.scalars(
            select(AuditEvent.action).where(
                AuditEvent.actor == "ceo@example.com", AuditEvent.action == "auth.signed_in"
            )
        ).all()
    assert len(signed_in) == 2  # the two sign-ins at the provider, nothing in between


def test_an_oidc_sign_out_ends_the_session_in_every_tab(app_db, monkeypatch):
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "oidc")
    with transaction(app_db) as s:
        add_user(s, "ceo@example.com", Role.VIEWER, None, actor="test")
    claims = _provider_sign_in("n-1")
    tab, other = _provider_tab(claims), _provider_tab(claims)
    assert tab.metric and other.metric
    tab.sidebar.button(key="sign_out").click().run()
    assert "identity" not in tab.session_state
    other.run()  # still holding the identity cookie (as if st.logout had not reached it)
    assert not other.metric and "identity" not in other.session_state
    with Session(app_db) as s:
        (reason,) = s.scalars(select(SignInSession.end_reason)).all()
        started = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "auth.signed_in")
        ).all()
    assert reason == "signed_out"
    assert started == ["auth.signed_in"]  # one sign-in, however many tabs


def test_sign_in_when_the_database_is_unreachable_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "password")
    monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    at = _sign_in(app_test().run(), "viewer", "viewer-demo-pass")
    assert not at.exception
    assert any("cannot connect to database" in e.value.lower() for e in at.error)
    assert "identity" not in at.session_state


def test_sign_in_before_init_says_to_run_init(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", "password")
    monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    (tmp_path / "empty.db").touch()  # a file without a schema
    at = _sign_in(app_test().run(), "viewer", "viewer-demo-pass")
    assert not at.exception
    assert any("accountops init" in w.value for w in at.warning)


@pytest.mark.parametrize("mode", ["password", "dev"])
def test_the_app_before_init_makes_no_database_file(tmp_path, monkeypatch, mode):
    """Opening the app (and signing in) where no database exists says to run init and
    leaves no empty SQLite file behind: only init, restore and the demo make one."""
    missing = tmp_path / "data" / "accountops.db"
    monkeypatch.setenv("ACCOUNTOPS_AUTH_MODE", mode)
    monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", f"sqlite:///{missing}")
    at = app_test().run()
    if mode == "password":
        at = _sign_in(at, "viewer", "viewer-demo-pass")
        shown = [e.value.replace("\\", "") for e in at.error]  # markdown-escaped text
        assert any(line.startswith("No database at ") for line in shown)
        assert any(line.endswith("run `accountops init`.") for line in shown)
    else:
        assert any("accountops init" in w.value for w in at.warning)
    assert not at.exception
    assert not missing.exists() and not missing.parent.exists()


def test_admin_downloads_the_user_list_and_the_download_is_audited(signed_in_app, app_db):
    with transaction(app_db) as s:
        add_user(s, "=cmd|' /C calc'!A0", Role.VIEWER, None, actor="test")
    at = signed_in_app("admin").run()
    at.switch_page("app_pages/admin_users.py").run()
    button = at.download_button(key="export_users")
    assert button.proto.label == "Download CSV"
    button.click().run()
    assert not at.exception
    with Session(app_db) as s:
        events = s.execute(
            select(AuditEvent.actor, AuditEvent.target_id).where(
                AuditEvent.action == "export.download"
            )
        ).all()
    assert [tuple(e) for e in events] == [("test-admin", "users")]


EXPORT_SCRIPT = """
import sys
sys.path.insert(0, {dashboards!r})
import pandas as pd
from app_pages.exports import export_button
export_button(pd.DataFrame({{"name": ["=1+1", "Acme"]}}), name="customers")
"""


@pytest.mark.parametrize(("role", "offered"), [("account_manager", False), ("viewer", True)])
def test_export_button_only_for_roles_that_may_export(signed_in_app, role, offered):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    dashboards = str(Path(__file__).resolve().parents[2] / "dashboards")
    at = AppTest.from_string(EXPORT_SCRIPT.format(dashboards=dashboards), default_timeout=30)
    at.session_state["identity"] = signed_in_app(role).session_state["identity"]
    at.run()
    assert not at.exception
    assert len(at.download_button) == int(offered)
    if not offered:
        assert at.caption[0].value == "Downloads are not available for your role."
