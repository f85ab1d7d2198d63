"""The charts of the "Funnel and forecast" page, checked through ``fig.to_dict()``: what is
drawn, in which order and colour, with units and currency, and that an unknown value is
left out, never drawn as 0."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboards import funnel_charts as fc

FUNNEL = pd.DataFrame(
    {
        "stage": ["target_account", "build_trust", "discover_needs", "win_commitment"],
        "open_deals": [4, 10, 0, 2],
        "open_amount": [12000.0, 1_250_000.0, 0.0, 80500.5],
    }
)
STAGES = pd.DataFrame(
    {
        "stage": ["target_account", "build_trust", "win_commitment"],
        "conversion": [0.95, None, 0.8125],
        "decided": [20, 0, 16],
        "reached": [22, 5, 18],
    }
)


def test_labels_read_as_words():
    assert fc.stage_label("discover_needs") == "Discover needs"
    assert fc.period_label(date(2026, 7, 1), "quarter") == "Q3 2026"
    assert fc.period_label(date(2027, 1, 1), "quarter") == "Q1 2027"
    assert fc.period_label(date(2026, 9, 1), "month") == "Sep 2026"


def test_funnel_draws_open_deals_per_stage_with_amounts_and_the_bulge_amber():
    fig = fc.funnel_stages(FUNNEL, "EUR", bulge_stage="build_trust").to_dict()
    (trace,) = fig["data"]
    assert trace["type"] == "funnel"
    assert list(trace["y"]) == ["Target account", "Build trust", "Discover needs", "Win commitment"]
    assert list(trace["x"]) == [4, 10, 0, 2]
    assert list(trace["text"]) == [
        "4 deals · €12.0k",
        "10 deals · €1.3M",  # 1,250,000: half up
        "0 deals · €0",
        "2 deals · €80.5k",
    ]
    assert list(trace["marker"]["color"]) == [fc.STAGE, fc.BULGE, fc.STAGE, fc.STAGE]
    assert "EUR" in fig["layout"]["title"]["text"] and "EUR" in trace["hovertemplate"]
    plain = fc.funnel_stages(FUNNEL, "USD").to_dict()["data"][0]
    assert set(plain["marker"]["color"]) == {fc.STAGE}  # no bulge named: none drawn
    assert plain["text"][1] == "10 deals · $1.3M"


def test_conversion_leaves_a_stage_with_nothing_decided_out():
    fig = fc.conversion_bars(STAGES).to_dict()
    (trace,) = fig["data"]
    assert trace["orientation"] == "h"
    assert list(trace["y"]) == [
        "Target account → Build trust",
        "Build trust → Win commitment",
        "Win commitment → Won",
    ]
    assert list(trace["x"]) == [95.0, None, 81.3]  # unknown is a gap, not 0; 81.25 half up
    assert list(trace["text"]) == ["95.0%", "", "81.3%"]
    assert [list(c) for c in trace["customdata"]] == [[20, 22], [0, 5], [16, 18]]
    assert "%" in fig["layout"]["xaxis"]["title"]["text"]
    assert "%" in fig["layout"]["title"]["text"]
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"  # first stage on top


def test_forecast_groups_learned_naive_and_won_per_period_in_the_currency():
    totals = pd.DataFrame(
        {
            "period_start": [date(2026, 7, 1), date(2026, 10, 1)],
            "learned": [150000.0, 98000.25],
            "naive": [120000.0, 110000.0],
            "won": [45000.0, None],  # the second period has not begun
        }
    )
    fig = fc.forecast_bars(totals, "EUR", "quarter").to_dict()
    learned, naive, won = fig["data"]
    assert [t["name"] for t in fig["data"]] == ["Learned forecast", "Naive forecast", "Won so far"]
    assert [t["marker"]["color"] for t in fig["data"]] == [fc.LEARNED, fc.NAIVE, fc.WON]
    assert list(learned["x"]) == ["Q3 2026", "Q4 2026"]
    assert list(learned["y"]) == [150000.0, 98000.25]
    assert list(naive["y"]) == [120000.0, 110000.0]
    assert list(won["y"]) == [45000.0, None]
    assert list(won["text"]) == ["€45.0k", ""]
    assert fig["layout"]["barmode"] == "group"
    assert fig["layout"]["yaxis"]["title"]["text"] == "Amount (EUR)"
    assert fig["layout"]["xaxis"]["title"]["text"] == "Quarter"
    assert "EUR" in fig["layout"]["title"]["text"]


def test_backtest_errors_are_percentages_and_a_period_with_nothing_won_is_a_gap():
    backtest = pd.DataFrame(
        {
            "period_start": [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)],
            "learned_error": [0.0512, None, 0.2],
            "naive_error": [0.3, None, 0.25],
        }
    )
    fig = fc.backtest_errors(backtest, "month").to_dict()
    learned, naive = fig["data"]
    assert [t["name"] for t in fig["data"]] == ["Learned forecast", "Naive forecast"]
    assert list(learned["x"]) == ["Jan 2026", "Feb 2026", "Mar 2026"]
    assert list(learned["y"]) == [5.1, None, 20.0]
    assert list(naive["y"]) == [30.0, None, 25.0]
    assert learned["connectgaps"] is False
    assert learned["line"]["color"] == fc.LEARNED and naive["line"]["color"] == fc.NAIVE
    assert fig["layout"]["yaxis"]["title"]["text"] == "Absolute error (% of the amount won)"
    assert fig["layout"]["xaxis"]["title"]["text"] == "Month"


def test_empty_inputs_draw_empty_figures():
    empty = FUNNEL.iloc[0:0]
    assert list(fc.funnel_stages(empty, "EUR").to_dict()["data"][0]["x"]) == []
    none = pd.DataFrame(columns=["period_start", "learned", "naive", "won"])
    assert [list(t["x"]) for t in fc.forecast_bars(none, "EUR", "quarter").to_dict()["data"]] == [
        [],
        [],
        [],
    ]
