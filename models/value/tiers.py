"""The value pyramid: composite score, tier rules (first match wins) and reasons."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.schema import Tier

from .reasons import measure_reasons, rule_reasons
from .rules import MEASURE_WEIGHT_KEYS, PROBLEM_FLOORS, ValueRules

# The pyramid top to bottom, then the prospect classes: the one tier order (migrations,
# charts, tables). A lower position is a better tier.
PYRAMID: tuple[str, ...] = tuple(t.value for t in Tier)
TIER_ORDER = {tier: position for position, tier in enumerate(PYRAMID)}
PROSPECT_TIERS = (Tier.KEY_OPPORTUNITY.value, Tier.GENERAL_OPPORTUNITY.value)
TRADING_PYRAMID = tuple(t for t in PYRAMID if t not in PROSPECT_TIERS)
TRADING_TIERS = frozenset(TRADING_PYRAMID)


def below_floors(measures: pd.DataFrame, rules: ValueRules) -> pd.DataFrame:
    """For each Problem floor measure, whether the customer's value is below its floor
    (False when the measure is unknown)."""
    return pd.DataFrame(
        {
            measure: (measures[measure].astype(float) < rules.tiers[key]).fillna(False)
            for measure, _, key in PROBLEM_FLOORS
        },
        index=measures.index,
    )


def percentile_ranks(measures: pd.DataFrame) -> pd.DataFrame:
    """Percentile rank (0-1] of each scored measure among the rows that have it.

    Ties share the average rank, so a customer's rank does not depend on row order.
    """
    ranks = pd.DataFrame(index=measures.index)
    for key in MEASURE_WEIGHT_KEYS:
        ranks[key] = measures[key].astype(float).rank(method="average", pct=True)
    return ranks


def composite_score(ranks: pd.DataFrame, rules: ValueRules) -> tuple[pd.Series, pd.DataFrame]:
    """Weighted mean of the ranks a customer has, and each measure's effect on it.

    The effect of a measure is its weight (re-weighted over the measures present)
    times its rank minus the neutral 0.5: positive lifts the score, negative lowers it.
    """
    w = pd.Series(rules.weights)[list(MEASURE_WEIGHT_KEYS)]
    present = ranks.notna()
    total_w = present.mul(w, axis=1).sum(axis=1)
    weighted = ranks.fillna(0).mul(w, axis=1)
    score = (weighted.sum(axis=1) / total_w).where(total_w > 0, np.nan)
    effects = ((ranks - 0.5).mul(w, axis=1)).div(total_w.where(total_w > 0), axis=0)
    return score, effects


def _top_share(values: pd.Series) -> pd.Series:
    """Share of the rows with a strictly higher value (0 for the best); NaN stays NaN."""
    n = values.notna().sum()
    higher = values.rank(method="min", ascending=False) - 1
    return higher / n if n else higher


@dataclass(frozen=True)
class Placement:
    """Every customer's tier without its reasons yet, and what the reasons are told from.

    ``frame`` has customer_id, tier, rule, score, top_share and policy, in customer
    order; :meth:`reasons` words them (the slower part, kept apart so the recompute can
    word them on a worker thread while the database works).
    """

    frame: pd.DataFrame
    trading: pd.DataFrame  # tiered trading customers: rule, score, top_share by customer_id
    trading_measures: pd.DataFrame
    breaches: pd.DataFrame
    effects: pd.DataFrame
    ranks: pd.DataFrame
    prospects: pd.DataFrame
    prospect_measures: pd.DataFrame

    def reasons(self, rules: ValueRules) -> pd.Series:
        """Each customer's reasons (a list of sentences), aligned with ``frame``."""
        trading = rule_reasons(self.trading, self.trading_measures, self.breaches, rules)
        trading = trading + measure_reasons(self.effects, self.ranks, self.trading_measures)
        prospects = rule_reasons(self.prospects, self.prospect_measures, None, rules)
        by_customer = pd.concat([trading, prospects])
        return pd.Series(
            by_customer.reindex(self.frame["customer_id"]).to_numpy(),
            index=self.frame.index,
            dtype=object,
        )


_TIER_COLUMNS = ["customer_id", "tier", "rule", "score", "top_share", "reasons", "policy"]


def assign_tiers(measures: pd.DataFrame, rules: ValueRules) -> pd.DataFrame:
    """Tier, rule, score, top share, reasons and policy for every trading customer and
    prospect (see :func:`place_tiers`)."""
    placed = place_tiers(measures, rules)
    return placed.frame.assign(reasons=placed.reasons(rules))[_TIER_COLUMNS]


def place_tiers(measures: pd.DataFrame, rules: ValueRules) -> Placement:
    """Tier, rule, score and top share for every trading customer and prospect.

    ``measures`` comes from :func:`measures.derive_measures`. Customers that are
    neither trading nor prospects get no tier.
    """
    t = rules.tiers
    m = measures.set_index("customer_id", drop=False).rename_axis(None)
    trading = m["trading"].astype(bool)
    prospect = ~trading & (m["status"] == "prospect")
    tm = m[trading]
    ranks = percentile_ranks(tm)
    score, effects = composite_score(ranks, rules)
    top = _top_share(score)

    breaches = below_floors(tm, rules)
    is_problem = breaches.any(axis=1)
    infl = tm["influence"]
    conditions = [
        is_problem,
        top < t["diamond_top_share"],
        top < t["gold_top_share"],
        top < t["strategic_top_share"],
        tm["named_strategic"],
        infl >= t["strategic_influence_at_least"],
        tm["growth"] >= t["potential_growth_at_least"],
        infl >= t["potential_influence_at_least"],
    ]
    choices = [
        ("problem", "problem"),
        ("diamond", "diamond_top_share"),
        ("gold", "gold_top_share"),
        ("strategic", "strategic_top_share"),
        ("strategic", "named_strategic"),
        ("strategic", "strategic_influence"),
        ("potential", "potential_growth"),
        ("potential", "potential_influence"),
    ]
    rule = np.select(
        [c.fillna(False).to_numpy(bool) for c in conditions], [c[1] for c in choices], "general"
    )
    tier_of = {r: tr for tr, r in choices} | {"general": "general"}
    trading_out = pd.DataFrame(
        {
            "customer_id": tm.index,
            "tier": [tier_of[r] for r in rule],
            "rule": rule,
            "score": score.to_numpy(),
            "top_share": top.to_numpy(),
        },
        index=tm.index,
    )

    pm = m[prospect]
    pot_top = _top_share(pm["estimated_potential"])
    key_infl = pm["influence"] >= t["key_opportunity_influence_at_least"]
    key_pot = pot_top < t["key_opportunity_potential_top_share"]
    p_rule = np.select(
        [key_infl.fillna(False).to_numpy(bool), key_pot.fillna(False).to_numpy(bool)],
        ["key_opportunity_influence", "key_opportunity_potential"],
        "general_opportunity",
    )
    prospect_out = pd.DataFrame(
        {
            "customer_id": pm.index,
            "tier": np.where(
                p_rule == "general_opportunity", "general_opportunity", "key_opportunity"
            ),
            "rule": p_rule,
            "score": np.nan,
            "top_share": pot_top.to_numpy(),
        },
        index=pm.index,
    )
    out = pd.concat([trading_out, prospect_out]).reset_index(drop=True)
    out = out.sort_values("customer_id", kind="stable")
    out["policy"] = out["tier"].map(rules.policies).fillna("")
    return Placement(
        frame=out.reset_index(drop=True),
        trading=trading_out,
        trading_measures=tm,
        breaches=breaches,
        effects=effects,
        ranks=ranks,
        prospects=prospect_out,
        prospect_measures=pm,
    )
