"""End-to-end: each role signs in to the real app in Chromium and sees what its role allows.

Every page a role sees is screenshotted to test-output/screenshots/<role>-<page>.png.
"""

from __future__ import annotations

import re

import pytest

from dashboards.app_pages.registry import PAGES
from models.access import can
from models.schema import Role
from tests.e2e.conftest import screenshot, wait_ready

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NAV_LINK = '[data-testid="stSidebarNavLink"]'
SIDEBAR = '[data-testid="stSidebar"]'
MAIN = '[data-testid="stMain"]'


def texts(locator) -> list[str]:
    """Visible texts without icons (a Material Symbols ligature comes first, on its own line)."""
    return [t.strip().splitlines()[-1] for t in locator.all_inner_texts()]


def sign_in(page, username: str, password: str) -> None:
    wait_ready(page)
    page.get_by_label("User name or e-mail").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def signed_in_as(page, role: Role) -> None:
    """Wait for the sidebar that shows who is signed in, and for the page to settle."""
    page.locator(SIDEBAR).get_by_role("button", name="Sign out").wait_for()
    page.locator(SIDEBAR).get_by_text(
        f"Role: {role.value.replace('_', ' ')}", exact=True
    ).wait_for()
    wait_ready(page)


def open_as(page, app, path: str, role: Role, heading: str):
    """Open ``path`` of the app signed in as the demo user of ``role``; the main area, once
    the page's heading and its provenance (snapshot 2 of the sample) show."""
    page.goto(f"{app.url}/{path}", wait_until="domcontentloaded")
    sign_in(page, role.value, app.users[role.value])
    signed_in_as(page, role)
    main = page.locator(MAIN)
    main.get_by_role("heading", name=heading).first.wait_for()
    wait_ready(page)
    main.get_by_text("Snapshot 2, as of 30 Sep 2026", exact=False).first.wait_for()
    return main


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_each_role_signs_in_and_sees_exactly_its_pages(live_app, page, role):
    page.goto(live_app.url, wait_until="domcontentloaded")
    sign_in(page, role.value, live_app.users[role.value])
    signed_in_as(page, role)

    # Pages reached by links (the plan page) are not in the menu.
    allowed = [spec for spec in PAGES if can(role, spec.action) and not spec.hidden]
    nav = page.locator(NAV_LINK)
    # Streamlit shows no menu for a single page: then the landing page is the only one.
    assert texts(nav) == ([s.title for s in allowed] if len(allowed) > 1 else [])
    current = next(spec for spec in allowed if spec.default)  # lands on the default page
    for spec in allowed:
        if spec is not current:
            before = page.locator(f"{MAIN} h1").first.inner_text()
            nav.filter(has_text=spec.title).click()
            path = "" if spec.default else spec.url_path
            page.wait_for_url(re.compile(rf"^{re.escape(live_app.url)}/{path}$"))
            page.wait_for_function(  # the new page's content, not the previous one's
                "([sel, old]) => { const h = document.querySelector(sel);"
                " return h !== null && h.innerText !== old; }",
                arg=[f"{MAIN} h1", before],
            )
            current = spec
        wait_ready(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        screenshot(page, f"{role.value}-{spec.url_path}")


def test_a_page_not_allowed_is_refused_by_direct_url(live_app, page):
    """Opening the admin page's URL: sign-in first, then the app's refusal, never the content."""
    role = Role.VIEWER
    page.goto(f"{live_app.url}/admin_users", wait_until="domcontentloaded")
    sign_in(page, role.value, live_app.users[role.value])
    signed_in_as(page, role)
    main = page.locator(MAIN)
    main.get_by_text("does not give access to this page").wait_for()
    main.get_by_role("link", name="Go to Overview").wait_for()
    assert main.locator('[data-testid="stDataFrame"]').count() == 0
    assert "Admin: users" not in texts(page.locator(NAV_LINK))
    screenshot(page, f"{role.value}-admin_users-refused")


def test_admin_opens_the_user_list_by_direct_url_and_downloads_it(live_app, page, tmp_path):
    page.goto(f"{live_app.url}/admin_users", wait_until="domcontentloaded")
    sign_in(page, "admin", live_app.users["admin"])
    signed_in_as(page, Role.ADMIN)
    main = page.locator(MAIN)
    main.get_by_role("heading", name="Users and roles").wait_for()
    main.locator('[data-testid="stDataFrame"]').first.wait_for()
    wait_ready(page)
    with page.expect_download() as download:
        main.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename == "users.csv"
    saved = tmp_path / "users.csv"
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("User,Name,Role,")
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(live_app.users)


def test_wrong_password_shows_a_clear_error(live_app, page):
    page.goto(live_app.url, wait_until="domcontentloaded")
    wait_ready(page)
    page.get_by_text("User name or e-mail", exact=True).wait_for()
    page.get_by_text("Password", exact=True).wait_for()
    screenshot(page, "signed-out-signin")
    sign_in(page, "viewer", "not-the-password")
    error = page.locator('[data-testid="stAlertContentError"]')
    error.wait_for()
    assert texts(error) == ["Sign-in failed or temporarily blocked; try again later."]
    assert page.locator(SIDEBAR).get_by_role("button", name="Sign out").count() == 0
    screenshot(page, "signed-out-wrong-password")


def test_sign_out_returns_to_the_sign_in_page(live_app, page):
    page.goto(live_app.url, wait_until="domcontentloaded")
    sign_in(page, "approver", live_app.users["approver"])
    signed_in_as(page, Role.APPROVER)
    page.locator(SIDEBAR).get_by_role("button", name="Sign out").click()
    page.get_by_label("User name or e-mail").wait_for()
    assert page.locator(NAV_LINK).count() == 0
