"""End-to-end: the tables' built-in download follows the export policy (issue 19, item 7).

In Chromium, an account manager's customer table (their own book, not empty) offers no
*Download as CSV* in its toolbar, as the download buttons say downloads are not for their
role; a viewer, who may export, gets it.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from models.db import make_engine, transaction
from models.schema import Role
from models.users import add_user
from tests.dashboards.pages_support import busiest_manager
from tests.e2e.conftest import wait_ready
from tests.e2e.test_signin_roles import MAIN, sign_in, signed_in_as

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DOWNLOAD = re.compile(r"^Download as CSV")
BOOK_USER, BOOK_PASSWORD = "am-with-a-book", "a-book-of-customers-7"


@pytest.fixture(scope="module")
def manager_with_customers(live_app) -> str:
    """An account manager user whose book holds customers (the demo one's holds none of the
    small sample); the demo users are left as they are for the other tests."""
    engine = make_engine(live_app.database_url)
    try:
        with transaction(engine) as session:
            manager = busiest_manager(session)
            user = add_user(session, BOOK_USER, Role.ACCOUNT_MANAGER, BOOK_PASSWORD, actor="test")
            user.manager_id = manager
    finally:
        engine.dispose()
    return manager


def customer_table(page, live_app, username: str, password: str, role: Role):
    page.set_viewport_size({"width": 1440, "height": 1600})
    page.goto(f"{live_app.url}/customers", wait_until="domcontentloaded")
    sign_in(page, username, password)
    signed_in_as(page, role)
    main = page.locator(MAIN)
    main.get_by_role("heading", name="Customers").first.wait_for()
    wait_ready(page)
    summary = main.get_by_text(" customers · revenue ").first.inner_text()
    assert not summary.startswith("0 of"), summary  # a table with rows: it could offer one
    # The customer table: the first one shown (the provenance panel's is folded away).
    table = main.locator('[data-testid="stDataFrame"] >> visible=true').first
    table.hover()  # the toolbar shows while the pointer is over the table
    toolbar = main.locator('[data-testid="stElementToolbar"] >> visible=true').first
    expect(toolbar.get_by_role("button").first).to_be_visible()
    return main, toolbar


def test_an_account_manager_is_offered_no_table_download(live_app, page, manager_with_customers):
    main, toolbar = customer_table(page, live_app, BOOK_USER, BOOK_PASSWORD, Role.ACCOUNT_MANAGER)
    expect(toolbar.get_by_role("button", name=DOWNLOAD)).to_be_hidden()
    expect(toolbar.get_by_role("button", name="Search")).to_be_visible()  # the rest stays
    assert main.get_by_text("Downloads are not available for your role.").count() >= 1


def test_a_viewer_is_offered_the_table_download(live_app, page):
    _, toolbar = customer_table(page, live_app, "viewer", live_app.users["viewer"], Role.VIEWER)
    expect(toolbar.get_by_role("button", name=DOWNLOAD)).to_be_visible()
