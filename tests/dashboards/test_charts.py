"""D2: chart builders return Plotly figures with the right traces, titles, units and colours."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go

from dashboards import charts
from dashboards.formatting import count, days, money, percent


def test_pyramid_orders_tiers_top_down_with_one_palette():
    tiers = pd.DataFrame(
        {
            "tier": ["general", "diamond", "problem", "gold", "key_opportunity"],
            "customers": [300, 5, 12, 20, 40],
            "revenue": [
                Decimal("1500000"),
                Decimal("9000000"),
                Decimal("200000"),
                Decimal("4000000"),
                None,
            ],
        }
    )
    fig = charts.value_pyramid(tiers, "EUR")
    assert isinstance(fig, go.Figure)
    spec = fig.to_dict()
    (trace,) = spec["data"]
    assert trace["type"] == "funnel"
    assert list(trace["y"]) == ["Diamond", "Gold", "General", "Problem"]  # prospects excluded
    assert list(trace["x"]) == [5, 20, 300, 12]
    assert list(trace["marker"]["color"]) == [
        charts.TIER_COLOURS[t] for t in ("diamond", "gold", "general", "problem")
    ]
    assert "€9.0M" in trace["text"][0]


def test_migration_sankey_links_previous_to_current_tiers():
    moves = pd.DataFrame(
        {
            "from_tier": ["diamond", "gold", None, "general"],
            "to_tier": ["general", "gold", "potential", None],
            "customers": [1, 18, 4, 2],
        }
    )
    (trace,) = charts.migration_sankey(moves).to_dict()["data"]
    assert trace["type"] == "sankey"
    labels = list(trace["node"]["label"])
    assert "before: Diamond" in labels and "now: General" in labels
    assert "before: New" in labels and "now: Lost" in labels
    assert sum(trace["link"]["value"]) == 25
    first = labels[trace["link"]["source"][0]], labels[trace["link"]["target"][0]]
    assert first == ("before: Diamond", "now: General")


def test_attack_defend_uses_webgl_per_segment_with_currency_axis():
    segments = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "product_line_id": ["PL1", "PL1", "PL2"],
            "potential": [Decimal("100000"), Decimal("5000"), Decimal("90000")],
            "share": [Decimal("0.1"), Decimal("0.8"), Decimal("0.7")],
            "segment": ["acquire", "maintain", "retain"],
        }
    )
    fig = charts.attack_defend_scatter(segments, "EUR")
    traces = fig.to_dict()["data"]
    assert {t["type"] for t in traces} == {"scattergl"}
    assert [t["name"] for t in traces] == ["Acquire", "Retain", "Maintain"]
    assert "EUR" in fig.layout.xaxis.title.text


def test_ageing_and_dso_and_managers_carry_units():
    ageing = pd.DataFrame(
        {
            "bucket": ["current", "1-30", "31-60", "61-90", "90+"],
            "amount": [Decimal("1000"), Decimal("500"), 0, 0, Decimal("2500000")],
        }
    )
    fig = charts.ageing_bars(ageing, "EUR")
    assert fig.to_dict()["data"][0]["text"][-1] == "€2.5M"
    assert "EUR" in fig.layout.yaxis.title.text
    trend = pd.DataFrame({"month": [date(2026, 1, 1), date(2026, 2, 1)], "dso": [41.2, 45.0]})
    assert "days" in charts.dso_trend(trend).layout.yaxis.title.text
    managers = pd.DataFrame({"manager": [f"M{i}" for i in range(30)], "revenue": range(30)})
    (bars,) = charts.manager_concentration(managers, "EUR").to_dict()["data"]
    assert len(bars["y"]) == 25 and bars["y"][-1] == "M29"


def test_formatting_for_people():
    assert money(Decimal("1234567.89"), "EUR") == "€1,234,568"
    assert money(Decimal("1234567.89"), "EUR", compact=True) == "€1.2M"
    assert money(-2500, "USD", compact=True) == "-$2.5k"
    assert money(None, "EUR") == "–"
    assert percent(Decimal("0.1234")) == "12.3%"
    assert percent(0.05, signed=True) == "+5.0%"
    assert percent(float("nan")) == "–"
    assert days(45.4) == "45 days"
    assert count(12345) == "12,345"


def test_d2_pareto_points_start_at_zero_in_percent():
    points = pd.DataFrame({"customer_share": [0.1, 0.5, 1.0], "revenue_share": [0.6, 0.9, 1.0]})
    fig = charts.pareto_points(points, 10, Decimal("1234567"), "EUR")
    curve, diagonal = fig.to_dict()["data"]
    assert list(curve["x"]) == [0.0, 10.0, 50.0, 100.0]
    assert list(curve["y"]) == [0.0, 60.0, 90.0, 100.0]
    assert diagonal["hoverinfo"] == "skip"
    assert "10 customers, €1,234,567" in fig.layout.title.text


def test_d2_sankey_input_maps_new_and_lost_to_open_ends():
    moves = pd.DataFrame(
        {
            "from_tier": ["new", "gold", "gold"],
            "to_tier": ["gold", "lost", "diamond"],
            "customers": [3, 1, 2],
        }
    )
    fig = charts.migration_sankey(charts.sankey_input(moves))
    (sankey,) = fig.to_dict()["data"]
    assert "now: Diamond" in list(sankey["node"]["label"])
    assert sum(sankey["link"]["value"]) == 6


def test_d2_segment_effort_stacks_segments_in_their_colours():
    effort = pd.DataFrame(
        {
            "manager": ["Ana", "Ana", "Ben"],
            "segment": ["acquire", "retain", "acquire"],
            "accounts": [4, 2, 7],
        }
    )
    fig = charts.segment_effort_bars(effort)
    spec = fig.to_dict()
    assert [t["name"] for t in spec["data"]] == ["Acquire", "Retain"]
    assert spec["data"][0]["marker"]["color"] == charts.SEGMENT_COLOURS["acquire"]
    assert list(spec["data"][0]["y"]) == ["Ana", "Ben"]  # most accounts at the top
    assert list(spec["data"][0]["x"]) == [4, 7]
    assert spec["layout"]["barmode"] == "stack"


def test_d2_customer_history_colours_bars_by_tier_and_scores_in_points():
    history = pd.DataFrame(
        {
            "as_of": [date(2026, 3, 31), date(2026, 9, 30)],
            "tier": ["gold", "problem"],
            "revenue": [Decimal("1000"), Decimal("800")],
            "score": [0.71, 0.4],
        }
    )
    bars, line = charts.customer_history_chart(history, "EUR").to_dict()["data"]
    assert list(bars["marker"]["color"]) == [
        charts.TIER_COLOURS["gold"],
        charts.TIER_COLOURS["problem"],
    ]
    assert list(line["y"]) == [71.0, 40.0]
    assert "EUR" in bars["name"]


def test_d2_wallet_bars_compare_potential_with_our_revenue():
    wallet = pd.DataFrame(
        {"product_line": ["Sensors", "Drives"], "potential": [100.0, 50.0], "revenue": [30.0, 0.0]}
    )
    spec = charts.wallet_bars(wallet, "EUR").to_dict()
    assert [t["type"] for t in spec["data"]] == ["bar", "bar"]
    assert list(spec["data"][1]["y"]) == [30.0, 0.0]
    assert spec["layout"]["yaxis"]["title"]["text"] == "Amount per year (EUR)"
