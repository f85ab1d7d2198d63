"""The charts of the "Roadmap vs strategy" page, checked through ``fig.to_dict()``: what is
drawn, in which order and colour, and that an unknown value is never drawn as 0."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd

from dashboards import roadmap_charts as rc

GRID = pd.DataFrame(
    [
        ["Acme", "Sensors", "in_time", 1, Decimal("1000"), 0, 0],
        ["Acme", "Software", "late", 2, Decimal("2500.50"), 7, 1],
        ["Beta", "Sensors", "late", 1, Decimal("300"), 2, 1],
        ["Beta", "Nothing on the roadmap", "gap", 1, None, 0, 0],
    ],
    columns=["account", "product_line", "state", "initiatives", "value", "months_late"]
    + ["in_time_elsewhere"],
)
COLUMNS = ["Sensors", "Software", "Nothing on the roadmap"]


def test_heatmap_colours_each_cell_by_state_and_leaves_the_others_grey():
    fig = rc.coverage_heatmap(GRID, "EUR", ["Acme", "Beta"], COLUMNS).to_dict()
    cells, pale = fig["data"][:2]
    assert cells["type"] == pale["type"] == "heatmap"
    assert list(cells["y"]) == ["Acme", "Beta"] and list(cells["x"]) == COLUMNS
    # 0 in time, 1 late, 2 gap, 3 not served by the line; None: drawn by the pale layer.
    assert [list(r) for r in cells["z"]] == [[0, 1, 3], [None, 3, 2]]
    assert [list(r) for r in cells["text"]] == [["In time", "Late 7 mo", ""], ["", "", "Gap"]]
    hover = [list(r) for r in cells["customdata"]]
    assert hover[0][1] == (
        "2 initiatives, €2.5k at stake<br>this line ships up to 7 months after the needed-by "
        "date<br>1 of them in time through another line"
    )
    assert hover[1][2] == "1 initiative, unknown at stake<br>no roadmap item serves them"
    assert hover[0][2] == "no item of this line serves the account's open initiatives"
    # The colour scale maps 0..3 to green, amber, red, grey in equal bands.
    colours = [c for _, c in cells["colorscale"]][::2]
    assert colours == [rc.STATE_COLOURS[s] for s in rc.STATES] + [rc.NO_NEED]
    assert (cells["zmin"], cells["zmax"]) == (-0.5, 3.5)
    assert cells["textfont"]["color"] == "white"
    # Late on Sensors for Beta, but every initiative of it in time via another line: pale.
    assert [list(r) for r in pale["z"]] == [[None, None, None], [1, None, None]]
    assert list(pale["text"][1]) == ["Late 2 mo", "", ""]
    assert {c for _, c in pale["colorscale"]} == {rc.PALE_LATE}
    assert pale["textfont"]["color"] == rc.NEEDED_BY
    assert [t["name"] for t in fig["data"][2:]] == [
        "In time",
        "Late",
        rc.PALE_LATE_LABEL,
        "Gap",
        rc.NO_NEED_LABEL,
    ]
    ticks = fig["layout"]["xaxis"]["ticktext"]
    assert list(ticks) == ["Sensors", "Software", "Nothing on<br>the roadmap"]
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"  # first account on top


def test_heatmap_defaults_to_the_order_of_the_cells():
    fig = rc.coverage_heatmap(GRID, "EUR").to_dict()
    assert list(fig["data"][0]["y"]) == ["Acme", "Beta"]
    assert list(fig["data"][0]["x"]) == COLUMNS


ITEMS = pd.DataFrame(
    {
        "roadmap_item_id": ["RM-1", "RM-2", "RM-3"],
        "item": ["Edge runtime", "Retrofit kit", "Mystery"],
        "product_line": ["Software", "Sensors", "Sensors"],
        "accounts": [2, 1, 1],
        "value_served": [Decimal("300000"), Decimal("1200"), None],
    }
)


def test_items_bars_largest_on_top_and_unknown_left_out():
    fig = rc.items_bars(ITEMS, "EUR").to_dict()
    bars = fig["data"][0]
    assert list(bars["y"]) == ["RM-2 · Retrofit kit", "RM-1 · Edge runtime"]
    assert list(bars["x"]) == [1200.0, 300000.0]
    assert list(bars["text"]) == ["€1.2k · 1 account", "€300.0k · 2 accounts"]
    assert fig["layout"]["title"]["text"] == "Roadmap items by strategic value served (top 2)"
    top = rc.items_bars(ITEMS, "EUR", top=1).to_dict()["data"][0]
    assert list(top["y"]) == ["RM-1 · Edge runtime"]


def test_unserved_bars_in_the_gap_colour():
    unserved = pd.DataFrame(
        {
            "capability": ["esg", "cloud", "unknown-value"],
            "initiatives": [2, 1, 1],
            "accounts": [2, 1, 1],
            "value_at_stake": [Decimal("5000"), Decimal("400"), None],
        }
    )
    bars = rc.unserved_bars(unserved, "EUR").to_dict()["data"][0]
    assert list(bars["y"]) == ["cloud", "esg"]
    assert list(bars["x"]) == [400.0, 5000.0]
    assert bars["marker"]["color"] == rc.STATE_COLOURS["gap"]
    assert list(bars["text"]) == ["€400 · 1 account", "€5.0k · 2 accounts"]


def test_misses_scatter_months_against_value_bigger_for_larger_weight():
    misses = pd.DataFrame(
        {
            "initiative_id": ["I-1", "I-2", "I-3"],
            "initiative": ["Go mobile", "Go green", "Unknown"],
            "account": ["Acme", "Beta", "Gamma"],
            "months_late": [2, 8, 5],
            "value_at_stake": [Decimal("1000"), Decimal("4000"), None],
            "weight": [Decimal("2000"), Decimal("32000"), None],
        }
    )
    points = rc.misses_scatter(misses, "EUR").to_dict()["data"][0]
    assert list(points["x"]) == [2, 8]
    assert list(points["y"]) == [1000.0, 4000.0]
    small, big = points["marker"]["size"]
    assert big == 42 and 12 < small < big
    assert [list(c) for c in points["customdata"]] == [
        ["I-1", "Go mobile", "Acme"],
        ["I-2", "Go green", "Beta"],
    ]


def test_account_timeline_needed_by_against_releases():
    initiatives = pd.DataFrame(
        {
            "initiative_id": ["I-1", "I-2", "I-3"],
            "initiative": ["Go mobile", "Go green", "Go far"],
            "needed_by": [date(2026, 1, 1), date(2026, 6, 1), date(2027, 1, 1)],
            "timing": ["in_time", "late", "gap"],
            "months_late": [0, 3, 0],
        }
    )
    items = pd.DataFrame(
        {
            "initiative_id": ["I-1", "I-2", "I-2"],
            "roadmap_item_id": ["RM-1", "RM-2", "RM-3"],
            "item": ["App", "Green pack", "Green pack 2"],
            "release_on": [date(2025, 12, 1), date(2026, 9, 1), date(2026, 12, 1)],
            "timing": ["in_time", "late", "late"],
        }
    )
    fig = rc.account_timeline(initiatives, items, date(2026, 9, 30)).to_dict()
    bar, in_time, late, needed = fig["data"]
    assert bar["mode"] == "lines" and list(bar["y"]) == ["Go green (I-2)"] * 2
    assert [str(x) for x in bar["x"]] == ["2026-06-01", "2026-09-01"]  # to the first release
    assert in_time["name"] == "Release in time" and list(in_time["y"]) == ["Go mobile (I-1)"]
    assert list(late["y"]) == ["Go green (I-2)"] * 2
    assert late["marker"]["color"] == rc.STATE_COLOURS["late"]
    assert needed["name"] == "Needed by"
    assert list(needed["marker"]["symbol"]) == ["line-ns", "line-ns", "x-thin"]
    assert list(needed["text"]) == ["", "", "  nothing on the roadmap"]
    assert str(fig["layout"]["shapes"][0]["x0"]) == "2026-09-30"  # the snapshot's as-of date
    # From before the first date to well after the last (room for the gap's words).
    assert [str(x) for x in fig["layout"]["xaxis"]["range"]] == ["2025-10-17", "2027-05-31"]
    assert list(fig["layout"]["yaxis"]["categoryarray"]) == [
        "Go far (I-3)",
        "Go green (I-2)",
        "Go mobile (I-1)",
    ]  # first initiative on top


def test_empty_inputs_draw_empty_charts():
    assert list(rc.items_bars(ITEMS.head(0), "EUR").to_dict()["data"][0]["x"]) == []
    empty = pd.DataFrame(columns=["capability", "initiatives", "accounts", "value_at_stake"])
    assert list(rc.unserved_bars(empty, "EUR").to_dict()["data"][0]["y"]) == []
