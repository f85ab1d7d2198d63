"""End-to-end: a viewer opens "Funnel and forecast" in Chromium on the demo's sample data.

The funnel and the forecast render; the owner filter narrows the page to the owner with
the most open deals, and that owner's forecast downloads as the recompute stored it.
Expected figures come from the stored funnel (the sample's deals may change). The page
is screenshotted to test-output/screenshots/funnel-viewer.png and
funnel-viewer-owner.png.
"""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from dashboards.formatting import count
from models.db import make_engine
from models.funnel.history import STAGE_NAMES
from models.funnel.read import funnel_view
from models.funnel.store import stored_deals, stored_forecast
from models.schema import Role
from tests.e2e.conftest import screenshot, wait_ready
from tests.e2e.test_signin_roles import open_as

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HEADING = "Funnel and forecast"
SID = 2


def expected(database_url: str) -> dict:
    """Open deals in all and of the owner with the most, that owner's name and stored
    forecast rows."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            deals, forecast = stored_deals(conn, SID), stored_forecast(conn, SID)
        view = funnel_view(engine, SID)
    finally:
        engine.dispose()
    assert view is not None, "the sample snapshot holds no funnel"
    open_ = deals[deals["stage"].isin(STAGE_NAMES)]
    owner = open_["owner_manager_id"].value_counts().index[0]
    return {
        "open": len(open_),
        "owner": owner,
        "name": view["options"]["owners"][owner],
        "mine": int((open_["owner_manager_id"] == owner).sum()),
        "forecast": forecast[forecast["owner"] == owner],
    }


def test_viewer_sees_the_funnel_and_forecast_and_filters_by_owner(live_app, page, tmp_path):
    want = expected(live_app.database_url)
    page.set_viewport_size({"width": 1440, "height": 4200})  # the whole page in the shot
    main = open_as(page, live_app, "funnel", Role.VIEWER, HEADING)
    # The funnel: one funnel trace, a bar per stage; the forecast: its grouped bars.
    funnel = main.locator(".js-plotly-plot").filter(has_text="Open deals per stage")
    funnel.locator(".funnellayer .point").first.wait_for()
    assert funnel.locator(".funnellayer .point").count() == len(STAGE_NAMES)
    forecast = main.locator(".js-plotly-plot").filter(has_text="Forecast of the coming")
    forecast.locator(".barlayer .point").first.wait_for()
    forecast.get_by_text("Learned forecast").first.wait_for()
    assert main.locator(".js-plotly-plot").count() == 4
    opened = main.locator('[data-testid="stMetric"]').filter(has_text="Open deals")
    expect(opened.locator('[data-testid="stMetricValue"]')).to_have_text(count(want["open"]))
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "funnel-viewer")

    main.locator('[data-testid="stMultiSelect"]').filter(has_text="Owner").first.click()
    page.get_by_role("option", name=want["name"], exact=True).click()
    page.keyboard.press("Escape")
    expect(opened.locator('[data-testid="stMetricValue"]')).to_have_text(
        count(want["mine"]), timeout=15_000
    )
    main.get_by_text("stay the whole funnel's", exact=False).first.wait_for()
    # A download clicked before the rerun ends asks for the previous run's file.
    wait_ready(page)
    with page.expect_download() as download:
        main.locator(".st-key-export_funnel-forecast").get_by_role("button").click()
    assert download.value.suggested_filename == "funnel-forecast.csv"
    saved = tmp_path / "funnel-forecast.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert {r["owner"] for r in rows} == {want["owner"]}
    stored = want["forecast"]
    assert [(r["period_start"], int(r["deals"])) for r in rows] == [
        (p.isoformat(), int(d))
        for p, d in zip(stored["period_start"], stored["deals"], strict=True)
    ]
    naive = [float(r["naive"]) for r in rows]
    assert naive == pytest.approx([float(n) for n in stored["naive"]], abs=0.005)
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "funnel-viewer-owner")
