"""End-to-end: every way out of a table obeys one export policy (issue 19 item 7, issue 23
item 1).

The tables' built-in toolbar download is off for every role (``client.disableDataExport``
in ``dashboards/.streamlit/config.toml``, read wherever the dashboard starts): the page's
download buttons are the only way out, and they are formula-safe, role-checked and
audited. In Chromium: an account manager's customer table (their own book) and a viewer's
offer no *Download as CSV* in the toolbar; the account manager is told downloads are not
for their role; the viewer downloads the customer table through the page's button, and
no cell of the file starts a formula although customer names were made to.
"""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from models.db import make_engine, transaction
from models.schema import AuditEvent, DashboardCustomer, Role
from models.users import add_user
from models.value.exports import FORMULA_START
from tests.dashboards.pages_support import busiest_manager
from tests.e2e.conftest import LiveApp, start_app, stop_app, wait_ready
from tests.e2e.test_signin_roles import MAIN, sign_in, signed_in_as

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DOWNLOAD = re.compile(r"^Download as CSV")
NUMBER = re.compile(r"-?\d+(\.\d+)?")  # a negative amount is a number, not a formula
BOOK_USER, BOOK_PASSWORD = "am-with-a-book", "a-book-of-customers-7"
# Names a spreadsheet would run: a link, arithmetic, a function, a command.
FORMULAS = ('=HYPERLINK("http://x","y")', "=1+1", "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3")


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


@pytest.fixture(scope="module")
def formula_app(live_app, tmp_path_factory):
    """The dashboard on a copy of the e2e database whose first customers are named with
    formulas (its own server: the live one may hold the customer table in its cache)."""
    import sqlite3

    folder = tmp_path_factory.mktemp("formulas")
    copy = folder / "accountops.db"
    source = sqlite3.connect(live_app.database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(copy) as target:
        source.backup(target)  # consistent while the live app writes its audit rows
    source.close()
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    with transaction(engine) as session:
        ids = session.scalars(
            select(DashboardCustomer.customer_id)
            .distinct()
            .order_by(DashboardCustomer.customer_id)
            .limit(len(FORMULAS))
        ).all()
        for customer_id, formula in zip(ids, FORMULAS, strict=True):
            session.execute(
                update(DashboardCustomer)
                .where(DashboardCustomer.customer_id == customer_id)
                .values(name=formula)
            )
    engine.dispose()
    proc, base = start_app(url, folder / "streamlit.log")
    try:
        yield LiveApp(base, live_app.users, folder / "streamlit.log", url)
    finally:
        stop_app(proc)


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
    expect(toolbar.get_by_role("button", name=DOWNLOAD)).to_have_count(0)
    expect(toolbar.get_by_role("button", name="Search")).to_be_visible()  # the rest stays
    assert main.get_by_text("Downloads are not available for your role.").count() >= 1


def test_a_viewer_downloads_only_through_the_formula_safe_audited_button(page, formula_app):
    app = formula_app
    main, toolbar = customer_table(page, app, "viewer", app.users["viewer"], Role.VIEWER)
    expect(toolbar.get_by_role("button", name=DOWNLOAD)).to_have_count(0)
    with page.expect_download() as download:
        main.get_by_role("button", name="Download CSV").first.click()
    assert download.value.suggested_filename == "customers.csv"
    text = open(download.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    runs = [c for c in cells if c.startswith(FORMULA_START) and not NUMBER.fullmatch(c)]
    assert not runs, f"cells a spreadsheet would run: {runs}"
    for formula in FORMULAS:  # each name is there, as text a spreadsheet shows as typed
        assert f"'{formula}" in cells, formula
    # The click's audit event is written by the run the click starts, which may end after
    # the browser has the file: wait for it (bounded).
    engine = make_engine(app.database_url)
    try:
        deadline = time.monotonic() + 30
        while True:
            with transaction(engine) as session:
                audited = session.scalars(
                    select(AuditEvent.target_id).where(
                        AuditEvent.actor == "viewer", AuditEvent.action == "export.download"
                    )
                ).all()
            if "customers" in audited or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        engine.dispose()
    assert "customers" in audited
