"""End-to-end: a password sign-in survives a reload, a new tab and a shared link; a link
opened before sign-in lands on its page; sign-out and deactivation end the session in
every tab; the cookie is HttpOnly, SameSite=Strict and out of reach of page scripts."""

from __future__ import annotations

import http.client
from urllib.parse import quote, urlsplit

import pytest

from models.access import Identity
from models.auth import set_user_active
from models.db import make_engine
from models.schema import Role
from models.sessions import SESSION_COOKIE
from tests.e2e.conftest import wait_ready
from tests.e2e.test_signin_roles import MAIN, SIDEBAR, sign_in, signed_in_as

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SIGN_IN_FORM = "User name or e-mail"


def _on_page(page, app, path: str, heading: str) -> None:
    page.wait_for_url(f"{app.url}/{path}")
    page.locator(MAIN).get_by_role("heading", name=heading).first.wait_for()
    wait_ready(page)


def _signed_out(page) -> None:
    page.get_by_label(SIGN_IN_FORM).wait_for()
    # The signed-in sidebar goes with the run that draws the form: wait for it to go
    # (fails if it stays), rather than count while the old frame may still be drawn.
    page.locator(SIDEBAR).get_by_role("button", name="Sign out").wait_for(
        state="detached", timeout=15_000
    )


def test_a_link_opened_before_sign_in_and_reloads_and_new_tabs_stay_signed_in(live_app, new_page):
    page = new_page()
    # A shared link, opened signed out: the sign-in form at that address...
    page.goto(f"{live_app.url}/plan?customer=C-0001", wait_until="domcontentloaded")
    sign_in(page, "planner", live_app.users["planner"])
    # ... and after sign-in the same page, its query kept.
    signed_in_as(page, Role.PLANNER)
    _on_page(page, live_app, "plan?customer=C-0001", "Account plan")

    cookie = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert SESSION_COOKIE not in page.evaluate("document.cookie")  # no script can read it

    page.reload(wait_until="domcontentloaded")
    signed_in_as(page, Role.PLANNER)
    _on_page(page, live_app, "plan?customer=C-0001", "Account plan")

    tab = page.context.new_page()  # a new tab of the same browser
    tab.goto(f"{live_app.url}/receivables", wait_until="domcontentloaded")
    signed_in_as(tab, Role.PLANNER)
    _on_page(tab, live_app, "receivables", "Receivables")

    # Another browser (no cookie) is not signed in, whatever address it opens.
    stranger = new_page()
    stranger.goto(f"{live_app.url}/receivables", wait_until="domcontentloaded")
    _signed_out(stranger)


def test_sign_out_ends_the_session_in_every_tab(live_app, new_page):
    page = new_page()
    page.goto(f"{live_app.url}/receivables", wait_until="domcontentloaded")
    sign_in(page, "viewer", live_app.users["viewer"])
    signed_in_as(page, Role.VIEWER)
    other = page.context.new_page()
    other.goto(f"{live_app.url}/customers", wait_until="domcontentloaded")
    signed_in_as(other, Role.VIEWER)

    page.locator(SIDEBAR).get_by_role("button", name="Sign out").click()
    _signed_out(page)
    assert SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}
    # The other tab is over at its next click (here: a page of the menu).
    other.locator(SIDEBAR).get_by_role("link", name="Overview").click()
    _signed_out(other)


def test_a_deactivated_user_is_signed_out_at_the_next_click(live_app, new_page):
    page = new_page()
    page.goto(live_app.url, wait_until="domcontentloaded")
    sign_in(page, "approver", live_app.users["approver"])
    signed_in_as(page, Role.APPROVER)
    engine = make_engine(live_app.database_url)
    admin = Identity("admin", Role.ADMIN)
    set_user_active(engine, admin, "approver", False)
    try:
        page.reload(wait_until="domcontentloaded")
        _signed_out(page)
        page.get_by_text("your account was deactivated", exact=False).wait_for()
    finally:
        set_user_active(engine, admin, "approver", True)
        engine.dispose()


def _get(app, path: str) -> http.client.HTTPResponse:
    where = urlsplit(app.url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/receivables?customer=C-0001", "/receivables?customer=C-0001"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("", "/"),
    ],
)
def test_the_hand_over_stays_on_the_site_and_a_bad_code_sets_no_cookie(live_app, asked, goes_to):
    for address in ("_accountops/session?code=not-a-code&next=", "_accountops/signout?next="):
        answer = _get(live_app, f"/{address}{quote(asked, safe='')}")
        assert answer.status == 303 and answer.getheader("Location") == goes_to
        assert answer.getheader("Cache-Control") == "no-store"
        cookies = answer.getheader("Set-Cookie") or ""
        if "signout" in address:  # clears it: empty, expired, same attributes
            assert cookies.startswith(f'{SESSION_COOKIE}=""') and "Max-Age=0" in cookies
            assert "HttpOnly" in cookies and "SameSite=strict" in cookies
        else:
            assert SESSION_COOKIE not in cookies


def test_every_answer_carries_the_security_headers(live_app):
    for path in ("/", "/receivables", "/_stcore/health", "/_accountops/signout"):
        answer = _get(live_app, path)
        policy = answer.getheader("Content-Security-Policy") or ""
        for directive in ("default-src 'self'", "img-src 'self' data: blob:", "object-src 'none'"):
            assert directive in policy, (path, policy)
        assert "frame-ancestors 'self'" in policy and "'unsafe-eval'" not in policy, path
        assert answer.getheader("X-Frame-Options") == "SAMEORIGIN", path
        assert answer.getheader("X-Content-Type-Options") == "nosniff", path


def test_the_browser_loads_nothing_from_another_host(live_app, browser):
    """An image from another host (as a smuggled name or file could ask for) is refused by
    the browser itself, under the page's policy."""
    context = browser.new_context()
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else 0)
    try:
        page.goto(live_app.url, wait_until="domcontentloaded")
        wait_ready(page)
        loaded = page.evaluate(
            """() => new Promise((done) => {
                const img = document.createElement('img');
                img.onload = () => done(true);
                img.onerror = () => done(false);
                img.src = 'http://192.0.2.1/pixel.png';
                document.body.appendChild(img);
            })"""
        )
    finally:
        context.close()
    assert loaded is False
    assert any("img-src" in text for text in refused), refused
