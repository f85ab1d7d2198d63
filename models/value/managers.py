"""Account-manager measures and customer-group roll-ups (DOMAIN.md sections 2 and 9)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .rules import ValueRules
from .tiers import TIER_ORDER, TRADING_TIERS

MANAGER_COLUMNS = [
    "manager_id",
    "customers",
    "new_customers",
    "churned_customers",
    "revenue",
    "revenue_share",
    "invoices_per_customer",
    "upgrades",
    "downgrades",
    "collection_rate",
    "relationship_revenue_at_risk",
]


def manager_table(
    measures: pd.DataFrame, migrations: pd.DataFrame, rules: ValueRules
) -> pd.DataFrame:
    """Per manager: book size, new and churned customers, spend, frequency, tier moves,
    collection and relationship concentration.

    New: revenue now and none in the previous window. Churned: revenue before and
    none now. Revenue at risk if the manager leaves: the revenue of customers whose
    buying factor follows the person (``managers.relationship_factors``).
    """
    m = measures[measures["trading"].astype(bool) & measures["manager_id"].notna()].copy()
    if m.empty:
        return pd.DataFrame(columns=MANAGER_COLUMNS)
    rev = m["revenue"].astype(float)
    prev = m["revenue_previous"].astype(float)
    m["is_new"] = (rev > 0) & (prev <= 0)
    m["is_churned"] = (prev > 0) & (rev <= 0)
    factor = m["buying_factor"].astype(object).map(lambda v: None if v is None else str(v))
    m["at_risk"] = rev.where(factor.isin(rules.relationship_factors), 0.0)
    m["due"] = m["amount_due"].astype(float)
    m["collected"] = m["amount_collected"].astype(float)
    moves = migrations.set_index("customer_id")["kind"]
    kind = m["customer_id"].map(moves)
    m["up"], m["down"] = kind == "upgrade", kind == "downgrade"
    g = m.groupby("manager_id", sort=True)
    out = pd.DataFrame(
        {
            "customers": g.size(),
            "new_customers": g["is_new"].sum(),
            "churned_customers": g["is_churned"].sum(),
            "revenue": g["revenue"].sum(),
            "invoices": g["invoice_count"].sum(),
            "upgrades": g["up"].sum(),
            "downgrades": g["down"].sum(),
            "due": g["due"].sum(min_count=1),
            "collected": g["collected"].sum(min_count=1),
            "relationship_revenue_at_risk": g["at_risk"].sum(),
        }
    )
    total = out["revenue"].sum()
    out["revenue_share"] = out["revenue"] / total if total > 0 else np.nan
    out["invoices_per_customer"] = out["invoices"] / out["customers"]
    out["collection_rate"] = (out["collected"] / out["due"]).where(out["due"] > 0)
    return out.reset_index()[MANAGER_COLUMNS]


GROUP_COLUMNS = [
    "group_id",
    "members",
    "revenue",
    "revenue_previous",
    "growth",
    "gross_margin_pct",
    "collection_rate",
    "best_tier",
    "problem_members",
]


def group_table(measures: pd.DataFrame, tiers: pd.DataFrame) -> pd.DataFrame:
    """Groups (a parent and the subsidiaries naming it): summed measures, best member tier.

    Ratios are recomputed from the summed amounts (not averaged), so a large
    subsidiary weighs as much as its revenue.
    """
    m = measures.merge(tiers[["customer_id", "tier"]], on="customer_id", how="left")
    m["group_id"] = m["parent_customer_id"].where(m["parent_customer_id"].notna(), m["customer_id"])
    has_children = set(m.loc[m["parent_customer_id"].notna(), "parent_customer_id"])
    m = m[m["group_id"].isin(has_children) & m["tier"].isin(TRADING_TIERS)].copy()
    if m.empty:
        return pd.DataFrame(columns=GROUP_COLUMNS)
    for c in ("revenue", "revenue_previous", "revenue_costed", "gross_profit"):
        m[c] = m[c].astype(float)
    m["due"], m["collected"] = m["amount_due"].astype(float), m["amount_collected"].astype(float)
    m["order"] = m["tier"].map(TIER_ORDER)
    m["problem"] = m["tier"] == "problem"
    g = m.groupby("group_id", sort=True)
    out = pd.DataFrame(
        {
            "members": g.size(),
            "revenue": g["revenue"].sum(),
            "revenue_previous": g["revenue_previous"].sum(),
            "profit": g["gross_profit"].sum(min_count=1),
            "costed": g["revenue_costed"].sum(min_count=1),
            "due": g["due"].sum(min_count=1),
            "collected": g["collected"].sum(min_count=1),
            "best": g["order"].min(),
            "problem_members": g["problem"].sum(),
        }
    )
    out["growth"] = (out["revenue"] / out["revenue_previous"] - 1).where(
        out["revenue_previous"] > 0
    )
    out["gross_margin_pct"] = (out["profit"] / out["costed"]).where(out["costed"] > 0)
    out["collection_rate"] = (out["collected"] / out["due"]).where(out["due"] > 0)
    by_order = {v: k for k, v in TIER_ORDER.items()}
    out["best_tier"] = out["best"].map(by_order)
    return out.reset_index()[GROUP_COLUMNS]
