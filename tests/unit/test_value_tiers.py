"""Score, tier rules at their boundaries, reasons, and the C2 properties (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.config import load_config
from models.value.migrations import DISPLAY_DECIMALS, explain_migrations
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


def migrations(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """explain_migrations between the snapshots of two measure frames (frame_from)."""
    snaps = []
    for frame in (before, after):
        t = assign_tiers(frame, RULES)
        snaps.append(t.merge(frame.drop(columns=["trading", "status"]), on="customer_id"))
    return explain_migrations(snaps[0], snaps[1], RULES)


def shown_moves(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, set[int]]:
    """Per customer, the directions (1 up, -1 down) its measures moved in as a reader
    sees them: a value at the precision shown, or a whole percentile. A measure that
    became known or unknown moved both ways (the rule does not say which)."""
    ranks = [percentile_ranks(frame) * 100 for frame in (before, after)]
    out: dict[str, set[int]] = {c: set() for c in before["customer_id"]}
    for col, shown in DISPLAY_DECIMALS.items():
        values = (before[col].round(shown), after[col].round(shown))
        for a, b in (values, (ranks[0][col].round(), ranks[1][col].round())):
            became = a.isna() != b.isna()  # known <-> unknown
            for cid, sign, both in zip(before["customer_id"], np.sign(b - a), became, strict=True):
                if both:
                    out[cid] |= {1, -1}
                elif sign in (1, -1):
                    out[cid].add(int(sign))
    return out


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
        value = data.draw(st.one_of(st.none(), st.floats(-1, 1e5)))
        after.loc[i, col] = NAN if value is None else value  # 0.0 stays 0.0
    moves = migrations(before, after)
    moved = moves[moves["kind"].isin(["upgrade", "downgrade"])]
    shown = shown_moves(before, after)
    for _, row in moved.iterrows():
        items = row["measures"]
        assert items, row
        # The value-score rank is the documented last resort: named alone, even unmoved,
        # when nothing the reader sees moved the customer's way (a floor crossed below the
        # precision shown: collection rate 80% -> 80% into Problem).
        way = 1 if row["kind"] == "upgrade" else -1
        last_resort = [it["measure"] for it in items] == ["score_rank"]
        last_resort = last_resort and way not in shown[row["customer_id"]]
        for item in items:
            changed = item["before"] != item["after"] or (
                item.get("percentile_before") != item.get("percentile_after")
            )
            assert changed or last_resort, (row["customer_id"], item)
        assert row["explanation"]


def test_growth_that_became_unknown_explains_leaving_potential():
    """The C2 property's minimal failure, by hand. Weights: revenue 0.30, growth 0.15,
    influence 0.10. Before: revenue ranks 0.5 (four tied at 0) and 1.0 (C001); growth
    ranks 1/3 (C004's +50%) and 2.5/3 (C000, C003 at +100%). Scores: C001 1.0, C002
    (0.15 + 0.10) / 0.40 = 0.625, C000 = C003 (0.15 + 0.125) / 0.45 = 0.611, C004
    (0.15 + 0.05) / 0.45 = 0.444: 4 of 5 ahead, top share 80%, Potential by growth.

    C004's growth becomes unknown: its score is revenue's alone, 0.5, still below
    C000's (0.15 + 0.1125) / 0.45 = 0.583, so still 80%. Losing a low growth rank lifts
    the score, yet C004 drops to General, because growth no longer meets Potential's
    25%: growth explains the downgrade, not a value-score rank shown as 80.0% -> 80.0%.
    """
    rows = [
        (0.0, None, None, None, 1.0, None, False),
        (1.0, None, None, None, None, None, False),
        (0.0, None, None, None, None, 0, False),
        (0.0, None, None, None, 1.0, None, False),
        (0.0, None, None, None, 0.5, None, False),
    ]
    before = frame_from(rows)
    after = before.copy()
    after.loc[4, "growth"] = NAN
    placed = [assign_tiers(f, RULES).set_index("customer_id") for f in (before, after)]
    assert placed[0].loc["C004", "score"] == pytest.approx(0.2 / 0.45)
    assert placed[1].loc["C004", "score"] == pytest.approx(0.5)
    assert placed[0].loc["C004", "top_share"] == placed[1].loc["C004", "top_share"] == 0.8
    moves = migrations(before, after).set_index("customer_id")
    assert moves.index[moves["kind"] != "same"].tolist() == ["C004"]
    c4 = moves.loc["C004"]
    assert (c4["previous_tier"], c4["tier"], c4["kind"]) == ("potential", "general", "downgrade")
    assert c4["measures"] == [
        {
            "measure": "growth",
            "before": "+50%",
            "after": "unknown",
            "moved": "fell",
            "percentile_before": 33,
            "percentile_after": None,
        }
    ]
    assert c4["explanation"] == "growth +50% -> unknown"


def test_a_floor_crossed_below_the_precision_shown_is_explained_by_the_rank():
    """The documented last resort. C000's gross margin -2e-309 is below the 0% floor
    (Problem); it becomes 0.0 (out of Problem: both tied at revenue 0, nobody ahead, so
    Diamond). To the tenth of a percent shown the margin held (-0.0% -> 0.0%, the same
    number), and its percentile is 100 both times (the only one known): nothing a reader
    sees moved, so the rank is named, unmoved. (The C2 property with seed 2 found it.)"""
    before = frame_from(
        [(0.0, -2e-309, None, None, None, None, False), (0.0,) + (None,) * 5 + (False,)]
    )
    after = before.copy()
    after.loc[0, "gross_margin_pct"] = 0.0
    moves = migrations(before, after).set_index("customer_id")
    c0 = moves.loc["C000"]
    assert (c0["previous_tier"], c0["tier"], c0["kind"]) == ("problem", "diamond", "upgrade")
    assert c0["measures"] == [
        {"measure": "score_rank", "before": "0.0%", "after": "0.0%", "moved": "improved"}
    ]
    assert shown_moves(before, after)["C000"] == set()
