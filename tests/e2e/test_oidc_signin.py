"""End-to-end: sign-in through a real OpenID Connect provider, in Chromium.

The provider is ``oidc-provider-mock`` (a real OIDC server: discovery, authorization
code, signed ID tokens, end session), started by the test in a thread on localhost; the
app is ``streamlit run`` with ``ACCOUNTOPS_AUTH_MODE=oidc`` and a ``.streamlit/secrets.toml``
in its working folder, exactly as in production (docs/OPERATIONS.md, "Connecting your
identity provider (OIDC)"). On the provider's page the test types the person's subject;
the provider then signs in that subject with the claims set below (its e-mail), and the
app must take the role from its own ``app_user`` table, keyed by that e-mail.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from dashboards.app_pages.registry import PAGES
from models.access import Identity, can
from models.auth import set_user_active
from models.db import make_engine, transaction
from models.migrate import upgrade
from models.schema import AuditEvent, Role
from models.users import add_user
from tests.e2e.conftest import (
    _free_port,
    _missing,
    screenshot,
    start_app,
    stop_app,
    wait_ready,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


SIDEBAR = '[data-testid="stSidebar"]'
MAIN = '[data-testid="stMain"]'
NAV_LINK = '[data-testid="stSidebarNavLink"]'
SIGN_IN_BUTTON = "Sign in with your organisation account"


@dataclass(frozen=True)
class Person:
    """Someone the identity provider knows: the subject typed on its page, the e-mail it returns."""

    subject: str
    email: str


# The e-mail differs from the subject (and in case from our user name): the app matches
# on the e-mail claim, trimmed and lower-case, never on the subject when an e-mail is there.
VIEWER = Person("00u1vera", "Vera.Viewer@Example.com")
DEACTIVATED = Person("00u2dora", "dora.former@example.com")
STRANGER = Person("00u3sam", "sam.stranger@example.com")
LEAVER = Person("00u4leo", "leo.leaving@example.com")  # deactivated while signed in


@dataclass(frozen=True)
class OidcApp:
    url: str
    provider: str
    database_url: str
    log: Path


@pytest.fixture(scope="module")
def oidc_app(tmp_path_factory) -> Iterator[OidcApp]:
    """The dashboard in OIDC mode, signing in through a local provider; users: Vera
    (viewer, no password), Dora (planner, deactivated) and Leo (approver, deactivated by
    his test). Sam is unknown to accountops."""
    try:
        import oidc_provider_mock
    except ImportError:  # skips, or fails under CI=true, like a missing browser
        _missing("oidc-provider-mock is not installed: pip install -e .[dev]")
    folder = tmp_path_factory.mktemp("oidc")
    database_url = f"sqlite:///{folder / 'accountops.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    with transaction(engine) as session:
        # As `accountops user add EMAIL --role ROLE --no-password` does: no password at all.
        add_user(session, VIEWER.email.lower(), Role.VIEWER, None, actor="test")
        dora = add_user(session, DEACTIVATED.email, Role.PLANNER, None, actor="test")
        dora.is_active = False
        add_user(session, LEAVER.email, Role.APPROVER, None, actor="test")
    engine.dispose()

    users = [
        oidc_provider_mock.User(sub=p.subject, claims={"email": p.email, "name": p.email})
        for p in (VIEWER, DEACTIVATED, STRANGER, LEAVER)
    ]
    # The provider refuses plain http unless told otherwise (it runs in this process).
    with (
        pytest.MonkeyPatch.context() as env,
        oidc_provider_mock.run_server_in_thread(user_claims=users) as server,
    ):
        env.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
        provider = f"http://localhost:{server.server_port}"
        port = _free_port()
        streamlit_dir = folder / ".streamlit"
        streamlit_dir.mkdir()  # the secrets, read from the folder it starts in
        (streamlit_dir / "secrets.toml").write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
            'client_id = "accountops"\n'
            'client_secret = "accountops-test-secret"\n'
            f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
            encoding="utf-8",
        )
        log = folder / "streamlit.log"
        proc, url = start_app(database_url, log, auth_mode="oidc", cwd=folder, port=port)
        try:
            yield OidcApp(url, provider, database_url, log)
        finally:
            stop_app(proc)
    server_log = log.read_text(errors="replace")
    assert "Traceback" not in server_log, server_log


def sign_in_through_provider(page, app: OidcApp, person: Person) -> None:
    """From the app's sign-in page to the provider's, type the subject, and back."""
    page.goto(app.url, wait_until="domcontentloaded")
    wait_ready(page)
    assert page.locator(NAV_LINK).count() == 0  # nobody signed in: no menu
    page.get_by_role("button", name=SIGN_IN_BUTTON).click()
    page.wait_for_url(re.compile(rf"^{re.escape(app.provider)}/oauth2/authorize\?"))
    page.locator('input[name="sub"]').fill(person.subject)
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(app.url)}/?$"))
    wait_ready(page)


def signed_out_at_the_provider(page, app: OidcApp) -> None:
    """After a sign-out in the app: the provider's end-session page, then back at the
    app's sign-in page, with no menu."""
    page.wait_for_url(re.compile(rf"^{re.escape(app.provider)}/oauth2/end_session\?"))
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(re.compile(rf"^{re.escape(app.url)}/?$"))
    wait_ready(page)
    page.get_by_role("button", name=SIGN_IN_BUTTON).wait_for()
    assert page.locator(NAV_LINK).count() == 0


def audit(app: OidcApp, person: Person) -> list[tuple[str, str | None]]:
    engine = make_engine(app.database_url)
    try:
        with transaction(engine) as session:
            rows = session.execute(
                select(AuditEvent.action, AuditEvent.detail)
                .where(AuditEvent.actor == person.email.lower())
                .order_by(AuditEvent.event_id)
            ).all()
    finally:
        engine.dispose()
    return [(action, detail) for action, detail in rows]


def test_a_known_person_gets_the_role_from_our_user_table_and_signs_out(oidc_app, page):
    sign_in_through_provider(page, oidc_app, VIEWER)

    sidebar = page.locator(SIDEBAR)
    sidebar.get_by_text("Role: viewer", exact=True).wait_for()
    wait_ready(page)
    # The viewer's pages, and only those (the admin page is not among them).
    allowed = [s.title for s in PAGES if can(Role.VIEWER, s.action) and not s.hidden]
    nav = [t.strip().splitlines()[-1] for t in page.locator(NAV_LINK).all_inner_texts()]
    assert nav == allowed
    assert "Admin: users" not in nav
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "oidc-viewer-signed-in")
    assert ("auth.signed_in", "identity provider") in audit(oidc_app, VIEWER)

    sidebar.get_by_role("button", name="Sign out").click()
    signed_out_at_the_provider(page, oidc_app)
    # For good: a fresh load of the app (the identity cookie is gone) asks to sign in again.
    page.reload(wait_until="domcontentloaded")
    wait_ready(page)
    page.get_by_role("button", name=SIGN_IN_BUTTON).wait_for()
    assert page.locator(SIDEBAR).get_by_text("Role:").count() == 0
    # The sign-in had a session of ours (idle and lifetime limits: tests/dashboards),
    # ended by the sign-out.
    actions = [action for action, _ in audit(oidc_app, VIEWER)]
    assert actions.count("auth.session_started") == 1, actions
    ended = [detail for action, detail in audit(oidc_app, VIEWER) if action == "auth.session_ended"]
    assert len(ended) == 1 and ended[0].endswith(": signed_out"), ended


@pytest.mark.parametrize(
    ("person", "says"),
    [
        (STRANGER, "is not a user of accountops; ask an administrator to add"),
        (DEACTIVATED, "is deactivated; ask an administrator to reactivate"),
    ],
    ids=["unknown", "deactivated"],
)
def test_a_person_we_do_not_let_in_is_refused_with_what_to_do(oidc_app, page, person, says):
    sign_in_through_provider(page, oidc_app, person)

    main = page.locator(MAIN)
    refusal = main.locator('[data-testid="stAlertContentError"]')
    refusal.wait_for()
    wait_ready(page)
    # The e-mail shows as its characters; formatting.literal puts an invisible word joiner
    # before "@" so it is not turned into a mailto link.
    shown = refusal.inner_text().replace("\u2060", "")
    assert person.email.lower() in shown
    assert f"mailto:{person.email.lower()}" not in refusal.inner_html()
    assert says in shown
    # No page of the app, no role; only the way out of the provider's session.
    assert page.locator(NAV_LINK).count() == 0
    assert page.get_by_text("Role:").count() == 0
    screenshot(page, f"oidc-refused-{person.subject}")
    assert audit(oidc_app, person)[-1][0] == "auth.failed"
    # The way out: leave the provider's session, to sign in as someone else.
    main.get_by_role("button", name="Sign out of the identity provider").click()
    signed_out_at_the_provider(page, oidc_app)
    assert page.locator(MAIN).get_by_text(says).count() == 0


def test_a_person_deactivated_while_signed_in_is_refused_at_the_next_click(oidc_app, page):
    sign_in_through_provider(page, oidc_app, LEAVER)
    page.locator(SIDEBAR).get_by_text("Role: approver", exact=True).wait_for()
    wait_ready(page)

    engine = make_engine(oidc_app.database_url)
    try:  # as an admin does on the Admin: users page
        set_user_active(engine, Identity("admin", Role.ADMIN), LEAVER.email, False)
    finally:
        engine.dispose()

    page.locator(NAV_LINK).filter(has_text="Customers").click()
    refusal = page.locator(MAIN).locator('[data-testid="stAlertContentError"]')
    refusal.wait_for()
    wait_ready(page)  # the run is over: the signed-in page's elements are gone
    assert "your account was deactivated" in refusal.inner_text()
    assert page.locator(NAV_LINK).count() == 0
    assert page.get_by_text("Role:").count() == 0
    # Signing in again at the provider is refused, saying why and what to do.
    page.locator(MAIN).get_by_role("button", name=SIGN_IN_BUTTON).click()
    page.wait_for_url(re.compile(rf"^{re.escape(oidc_app.provider)}/oauth2/authorize\?"))
    page.locator('input[name="sub"]').fill(LEAVER.subject)
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(oidc_app.url)}/?$"))
    wait_ready(page)
    refusal.wait_for()
    assert "is deactivated; ask an administrator to reactivate" in refusal.inner_text()
    assert page.locator(NAV_LINK).count() == 0
