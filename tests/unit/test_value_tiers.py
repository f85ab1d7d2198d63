"""Score, tier rules at their boundaries, reasons, and the C2 properties (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.config import load_config
from models.value.migrations import explain_migrations
from models.value.rules import value_rules
from models.value.tiers import TRADING_TIERS, assign_tiers, composite_score, percentile_ranks

RULES = value_rules(load_config())
NAN = float("nan")


def customers(n: int, **columns) -> pd.DataFrame:
    """n trading customers with neutral, healthy measures; override any column."""
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:03d}" for i in range(n)],
            "trading": True,
            "status": "active",
            "revenue": np.arange(n, dtype=float) * 100 + 100,
            "revenue_previous": 1000.0,
            "gross_margin_pct": 0.3,
            "collection_rate": 0.95,
            "on_time_share": 0.9,
            "growth": 0.0,
            "influence": 10.0,
            "named_strategic": False,
            "estimated_potential": NAN,
        }
    )
    for key, value in columns.items():
        frame[key] = value
    return frame


def tier_of(frame: pd.DataFrame) -> dict[str, str]:
    out = assign_tiers(frame, RULES)
    return dict(zip(out["customer_id"], out["tier"], strict=True))


# --- score --------------------------------------------------------------------------------------


def test_percentile_rank_by_hand_with_ties():
    frame = pd.DataFrame({k: [10.0, 20.0, 20.0, 40.0] for k in RULES.weights})
    ranks = percentile_ranks(frame)
    assert ranks["revenue"].tolist() == [0.25, 0.625, 0.625, 1.0]


def test_score_reweights_over_the_measures_a_customer_has():
    ranks = pd.DataFrame(
        {
            "revenue": [1.0, 0.5],
            "gross_margin_pct": [NAN, 1.0],  # no cost known for the first customer
            "collection_rate": [1.0, 1.0],
            "on_time_share": [1.0, 1.0],
            "growth": [0.5, 0.5],
            "influence": [NAN, 1.0],
        }
    )
    score, effects = composite_score(ranks, RULES)
    # first: (0.30*1 + 0.15*1 + 0.10*1 + 0.15*0.5) / (0.30+0.15+0.10+0.15) = 0.625/0.70
    assert score[0] == pytest.approx(0.625 / 0.70)
    # second: 0.30*0.5 + 0.20 + 0.15 + 0.10 + 0.15*0.5 + 0.10 = 0.775 over weight 1.0
    assert score[1] == pytest.approx(0.775)
    assert np.isnan(effects.loc[0, "gross_margin_pct"])
    assert effects.loc[0, "revenue"] == pytest.approx(0.30 * 0.5 / 0.70)


# --- tier rules at their boundaries --------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("collection_rate", 0.80, False),
        ("collection_rate", 0.7999, True),
        ("on_time_share", 0.50, False),
        ("on_time_share", 0.4999, True),
        ("gross_margin_pct", 0.0, False),
        ("gross_margin_pct", -0.0001, True),
        ("collection_rate", NAN, False),  # unknown is not a breach
    ],
)
def test_problem_floors_at_the_boundary(column, value, problem):
    frame = customers(20)
    frame.loc[19, column] = value  # the largest customer
    assert (tier_of(frame)["C019"] == "problem") is problem


def test_diamond_gold_strategic_by_share_of_customers_ahead():
    tiers = tier_of(customers(20, gross_margin_pct=np.arange(20) / 100))
    ordered = [tiers[f"C{i:03d}"] for i in reversed(range(20))]
    # 20 customers: top 5% = 1, next 10% = 2, next 15% = 3.
    assert ordered[:6] == ["diamond", "gold", "gold", "strategic", "strategic", "strategic"]
    assert set(ordered[6:]) == {"general"}


def test_tied_scores_share_a_tier():
    tiers = tier_of(customers(20, revenue=100.0))
    assert set(tiers.values()) == {"diamond"}


@pytest.mark.parametrize(
    ("column", "value", "tier"),
    [
        ("influence", 80.0, "strategic"),
        ("influence", 79.0, "potential"),
        ("influence", 60.0, "potential"),
        ("influence", 59.0, "general"),
        ("growth", 0.25, "potential"),
        ("growth", 0.2499, "general"),
        ("named_strategic", True, "strategic"),
    ],
)
def test_strategic_and_potential_rules_at_the_boundary(column, value, tier):
    frame = customers(20)
    frame.loc[0, column] = value  # the smallest customer: no score tier
    assert tier_of(frame)["C000"] == tier


def test_prospects_key_opportunity_by_influence_or_top_potential():
    frame = customers(3)
    prospects = pd.DataFrame(
        {
            "customer_id": [f"P{i}" for i in range(10)],
            "trading": False,
            "status": "prospect",
            "influence": [60.0, 59.0] + [NAN] * 8,
            "estimated_potential": [NAN, NAN] + [float(i) for i in range(8)],
            "named_strategic": False,
        }
    )
    tiers = tier_of(pd.concat([frame, prospects], ignore_index=True))
    assert tiers["P0"] == "key_opportunity"  # influence 60
    assert tiers["P1"] == "general_opportunity"  # influence 59, no potential
    # 8 prospects with a potential: top 20% = those with fewer than 1.6 ahead -> 2 of them
    assert tiers["P9"] == tiers["P8"] == "key_opportunity"
    assert tiers["P7"] == "general_opportunity"


def test_a_churned_customer_without_trade_gets_no_tier():
    frame = customers(3)
    frame.loc[2, ["trading", "status"]] = [False, "churned"]
    assert "C002" not in tier_of(frame)


def test_reasons_name_the_rule_and_up_to_three_measures_with_policy():
    frame = customers(20)
    frame.loc[19, "collection_rate"] = 0.5
    out = assign_tiers(frame, RULES).set_index("customer_id")
    reasons = out.loc["C019", "reasons"]
    assert reasons[0].startswith("Problem: collection rate 50% is below the 80% floor")
    assert 2 <= len(reasons) <= 4
    assert any("lowers the score" in r for r in reasons[1:])
    assert "Collection first" in out.loc["C019", "policy"]
    top = out.loc["C018", "reasons"]
    assert top[0].startswith("Diamond: value score")
    assert "revenue" in top[1] and "lifts the score" in top[1]


# --- C2 properties ------------------------------------------------------------------------------

ratio = st.one_of(st.none(), st.floats(0, 1))
measure_rows = st.lists(
    st.tuples(
        st.floats(-1000, 1e6),  # revenue
        st.one_of(st.none(), st.floats(-0.5, 0.9)),  # margin
        ratio,  # collection
        ratio,  # on time
        st.one_of(st.none(), st.floats(-1, 3)),  # growth
        st.one_of(st.none(), st.integers(0, 100)),  # influence
        st.booleans(),  # named strategic
    ),
    min_size=1,
    max_size=40,
)


def frame_from(rows) -> pd.DataFrame:
    cols = ["revenue", "gross_margin_pct", "collection_rate", "on_time_share", "growth"]
    cols += ["influence", "named_strategic"]
    data = pd.DataFrame(rows, columns=cols).astype(
        {c: float for c in cols if c != "named_strategic"}
    )
    n = len(data)
    return data.assign(
        customer_id=[f"C{i:03d}" for i in range(n)],
        trading=True,
        status="active",
        estimated_potential=NAN,
    )


@settings(max_examples=30, deadline=None)
@given(measure_rows, st.randoms(use_true_random=False))
def test_c2_every_trading_customer_gets_exactly_one_tier_independent_of_row_order(rows, rnd):
    frame = frame_from(rows)
    out = assign_tiers(frame, RULES)
    assert sorted(out["customer_id"]) == sorted(frame["customer_id"])
    assert out["customer_id"].is_unique
    assert set(out["tier"]) <= TRADING_TIERS
    order = list(range(len(frame)))
    rnd.shuffle(order)
    shuffled = assign_tiers(frame.iloc[order].reset_index(drop=True), RULES)
    pd.testing.assert_frame_equal(
        out[["customer_id", "tier", "rule", "score"]],
        shuffled[["customer_id", "tier", "rule", "score"]],
    )


@settings(max_examples=30, deadline=None)
@given(measure_rows, st.floats(0, 0.7999), st.sampled_from(["collection_rate", "on_time_share"]))
def test_c2_problem_criteria_override_size(rows, bad, column):
    frame = frame_from(rows)
    frame.loc[0, "revenue"] = frame["revenue"].max() * 10 + 1e7  # by far the largest
    frame.loc[0, column] = min(bad, 0.4999) if column == "on_time_share" else bad
    out = assign_tiers(frame, RULES).set_index("customer_id")
    assert out.loc["C000", "tier"] == "problem"


@settings(max_examples=30, deadline=None)
@given(measure_rows, st.data())
def test_c2_every_upgrade_or_downgrade_names_a_measure_that_moved(rows, data):
    before = frame_from(rows)
    after = before.copy()
    # Move a random subset of measures of random customers.
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(after) - 1))
        col = data.draw(
            st.sampled_from(
                [
                    "revenue",
                    "gross_margin_pct",
                    "collection_rate",
                    "on_time_share",
                    "growth",
                    "influence",
                ]
            )
        )
        after.loc[i, col] = data.draw(st.one_of(st.none(), st.floats(-1, 1e5))) or NAN
    snaps = []
    for frame in (before, after):
        t = assign_tiers(frame, RULES)
        snaps.append(t.merge(frame.drop(columns=["trading", "status"]), on="customer_id"))
    moves = explain_migrations(snaps[0], snaps[1], RULES)
    moved = moves[moves["kind"].isin(["upgrade", "downgrade"])]
    for _, row in moved.iterrows():
        assert row["measures"], row
        for item in row["measures"]:
            changed = item["before"] != item["after"] or (
                item.get("percentile_before") != item.get("percentile_after")
            )
            assert changed, (row["customer_id"], item)
        assert row["explanation"]
