"""End-to-end: a viewer opens "Roadmap vs strategy" in Chromium on the demo's sample data.

The heatmap, the other charts and the tables render without an exception; the page is
screenshotted to test-output/screenshots/roadmap-viewer.png.
"""

from __future__ import annotations

import pytest

from models.db import make_engine
from models.roadmap.read import roadmap_view
from models.schema import Role
from tests.e2e.conftest import screenshot, wait_ready
from tests.e2e.test_signin_roles import open_as

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HEADING = "Roadmap vs strategy"


def expected_sections(database_url: str) -> int:
    """Charts the page draws on this data: the heatmap and the timeline always, the items,
    unserved needs and timing misses when there are any."""
    engine = make_engine(database_url)
    try:
        ranks = roadmap_view(engine, 2)["rankings"]
    finally:
        engine.dispose()
    assert ranks["headline"]["initiatives"] > 0, "the sample has no strategic initiative"
    return 2 + sum(len(ranks[k]) > 0 for k in ("items", "unserved", "misses"))


def test_viewer_opens_the_roadmap_page(live_app, page):
    charts = expected_sections(live_app.database_url)
    page.set_viewport_size({"width": 1440, "height": 4200})  # the whole page in the shot
    main = open_as(page, live_app, "roadmap", Role.VIEWER, HEADING)
    main.get_by_text("Strategic accounts are accounts with an account plan", exact=False).wait_for()
    # The heatmap: its title, and one coloured cell per (account, product line) served.
    heatmap = main.locator(".js-plotly-plot").filter(has_text="Strategic accounts x product")
    heatmap.locator(".heatmaplayer").first.wait_for()
    assert heatmap.locator(".heatmaplayer").count() == 1
    main.get_by_text("Needed by (black tick)", exact=False).wait_for()  # the timeline
    assert main.locator(".js-plotly-plot").count() == charts
    assert main.locator('[data-testid="stMetric"]').count() == 5
    # A table beside (or under) each chart but the heatmap's (folded), and the account's.
    grids = main.locator('[data-testid="stDataFrame"]:visible')
    grids.nth(charts - 2).wait_for()
    assert grids.count() == charts - 1
    assert main.get_by_role("button", name="Download CSV").count() >= charts - 1
    wait_ready(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "roadmap-viewer")
