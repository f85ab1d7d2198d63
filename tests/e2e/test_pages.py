"""End-to-end: the executive pages in Chromium on sample data.

Signs in, opens every executive page (screenshot each to
test-output/screenshots/pages-<page>.png), filters the customer table, opens a customer
and downloads the customer export in both formats, checking the files.
"""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from models.schema import Role
from tests.e2e.conftest import screenshot, wait_ready
from tests.e2e.test_signin_roles import MAIN, sign_in, signed_in_as

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PAGES = [
    ("", "Executive overview"),
    ("customers", "Customers"),
    ("attack_defend", "Attack / defend"),
    ("receivables", "Receivables"),
    ("managers", "Account managers"),
    ("data_health", "Data health"),
]


def open_page(page, base: str, path: str, heading: str) -> None:
    page.goto(f"{base}/{path}", wait_until="domcontentloaded")
    wait_ready(page)
    page.locator(MAIN).get_by_role("heading", name=heading).first.wait_for()
    wait_ready(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_every_executive_page_renders_with_its_figures(live_app, page):
    page.set_viewport_size({"width": 1440, "height": 2400})  # whole pages in the screenshots
    page.goto(live_app.url, wait_until="domcontentloaded")
    sign_in(page, "viewer", live_app.users["viewer"])
    signed_in_as(page, Role.VIEWER)
    for path, heading in PAGES:
        nav = page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=heading)
        if path and nav.count():
            nav.first.click()
        main = page.locator(MAIN)
        main.get_by_role("heading", name=heading).first.wait_for()
        wait_ready(page)
        if path != "data_health":
            main.get_by_text("Snapshot 2, as of 30 Sep 2026", exact=False).first.wait_for()
        if path in ("", "receivables", "managers", "attack_defend"):
            page.wait_for_selector(".js-plotly-plot .main-svg")
        assert page.locator('[data-testid="stException"]').count() == 0
        screenshot(page, f"pages-{path or 'overview'}")


def test_filter_customers_open_one_and_download(live_app, page, tmp_path):
    page.set_viewport_size({"width": 1440, "height": 2400})
    page.goto(live_app.url, wait_until="domcontentloaded")
    sign_in(page, "planner", live_app.users["planner"])
    signed_in_as(page, Role.PLANNER)
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Customers").click()
    main = page.locator(MAIN)
    main.get_by_role("heading", name="Customers").first.wait_for()
    wait_ready(page)
    before = main.get_by_text(" customers · revenue ").first.inner_text()
    main.locator('[data-testid="stMultiSelect"]').filter(has_text="Tier").first.click()
    page.get_by_role("option", name="Problem").click()
    page.keyboard.press("Escape")
    wait_ready(page)
    # The rerun may not have started when wait_ready looks: wait for the summary to change.
    expect(main.get_by_text(" customers · revenue ").first).not_to_have_text(before, timeout=15_000)
    after = main.get_by_text(" customers · revenue ").first.inner_text()
    assert after != before and not after.startswith(before.split(" of ")[0] + " of")
    # The summary is drawn early in the rerun: a download clicked before the rerun ends
    # asks for the previous run's file, which the server has dropped by then.
    wait_ready(page)

    with page.expect_download() as download:
        main.get_by_role("button", name="Download CSV").first.click()
    assert download.value.suggested_filename == "customers.csv"
    saved = tmp_path / "customers.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert rows and {r["tier"] for r in rows} == {"problem"}
    assert int(after.split(" of ")[0]) == len(rows)

    main.get_by_text("Excel", exact=True).first.click()
    wait_ready(page)
    with page.expect_download() as download:
        main.get_by_role("button", name="Download Excel").first.click()
    assert download.value.suggested_filename == "customers.xlsx"
    xlsx = tmp_path / "customers.xlsx"
    download.value.save_as(xlsx)
    sheet = load_workbook(xlsx).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == len(rows) + 1 and values[0][0] == "customer_id"
    assert {v[values[0].index("tier")] for v in values[1:]} == {"problem"}

    main.locator('[data-testid="stSelectbox"]').filter(has_text="Open a customer").click()
    page.get_by_role("option").first.click()
    wait_ready(page)
    main.get_by_text("Tier history and the reasons").wait_for()
    main.get_by_text("Receivables and late invoices").wait_for()
    page.wait_for_selector(".js-plotly-plot .main-svg")
    screenshot(page, "pages-customer-detail")
