"""Account-manager measures and customer-group roll-ups on hand-computed cases."""

from __future__ import annotations

import pandas as pd
import pytest

from models.config import load_config
from models.value.managers import group_table, manager_table
from models.value.rules import value_rules

RULES = value_rules(load_config())
NAN = float("nan")


def book() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "trading": [True, True, True, True],
            "manager_id": ["AM1", "AM1", "AM2", None],
            "parent_customer_id": [None, "A", "A", None],
            "buying_factor": ["relationship", "price", "relationship", None],
            "revenue": [3700.0, 800.0, 0.0, 500.0],
            "revenue_previous": [1200.0, 0.0, 900.0, 100.0],
            "invoice_count": [4.0, 1.0, 0.0, 2.0],
            "amount_due": [3500.0, NAN, 900.0, NAN],
            "amount_collected": [3000.0, NAN, 900.0, NAN],
            "revenue_costed": [3200.0, NAN, 800.0, NAN],
            "gross_profit": [960.0, NAN, 200.0, NAN],
        }
    )


def test_manager_measures_by_hand():
    moves = pd.DataFrame({"customer_id": ["A", "C"], "kind": ["upgrade", "downgrade"]})
    out = manager_table(book(), moves, RULES).set_index("manager_id")
    am1, am2 = out.loc["AM1"], out.loc["AM2"]
    assert (am1["customers"], am1["new_customers"], am1["churned_customers"]) == (2, 1, 0)
    assert (am2["customers"], am2["new_customers"], am2["churned_customers"]) == (1, 0, 1)
    assert am1["revenue"] == 4500 and am2["revenue"] == 0
    assert am1["revenue_share"] == 1.0  # of the revenue held by managers
    assert am1["invoices_per_customer"] == 2.5
    assert (am1["upgrades"], am1["downgrades"], am2["downgrades"]) == (1, 0, 1)
    assert am1["collection_rate"] == pytest.approx(3000 / 3500)
    assert am1["relationship_revenue_at_risk"] == 3700  # only A buys on the relationship
    assert "D" not in out.index  # no manager, no row


def test_group_rolls_subsidiaries_up_to_the_parent():
    tiers = pd.DataFrame(
        {"customer_id": ["A", "B", "C", "D"], "tier": ["gold", "diamond", "problem", "general"]}
    )
    out = group_table(book(), tiers).set_index("group_id")
    assert list(out.index) == ["A"]  # D has no subsidiaries: not a group
    a = out.loc["A"]
    assert a["members"] == 3
    assert a["revenue"] == 4500 and a["revenue_previous"] == 2100
    assert a["growth"] == pytest.approx(4500 / 2100 - 1)
    assert a["gross_margin_pct"] == pytest.approx((960 + 200) / (3200 + 800))
    assert a["collection_rate"] == pytest.approx((3000 + 900) / (3500 + 900))
    assert a["best_tier"] == "diamond" and a["problem_members"] == 1
