"""Reasons in a sales director's words: the rule that placed a customer, and the
two or three measures that most lifted or lowered its score."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .numbers import shown
from .rules import MEASURE_WEIGHT_KEYS, PROBLEM_FLOORS, ValueRules

LABELS = {
    "revenue": "revenue",
    "revenue_previous": "previous revenue",
    "gross_margin_pct": "gross margin",
    "collection_rate": "collection rate",
    "on_time_share": "on-time payment share",
    "mean_days_late": "mean days late",
    "growth": "growth",
    "invoice_count": "invoices",
    "recency_days": "days since last invoice",
    "product_line_count": "product lines bought",
    "influence": "industry influence",
    "named_strategic": "named strategic",
    "score_rank": "value-score rank (share of customers ahead)",
}


def fmt_value(measure: str, values: pd.Series) -> pd.Series:
    """Measure values as a reader expects them (money with separators, ratios as %)."""
    v = values.astype(float)
    if measure in {"revenue", "revenue_previous"}:
        out = shown(v, "{:,.0f}", digits=0)
    elif measure in {"gross_margin_pct", "score_rank"}:
        out = shown(v, "{:.1f}%", digits=1, scale=100)
    elif measure in {"collection_rate", "on_time_share"}:
        out = shown(v, "{:.0f}%", digits=0, scale=100)
    elif measure == "growth":
        out = shown(v, "{:+.0f}%", digits=0, scale=100)
    elif measure == "mean_days_late":
        out = shown(v, "{:.1f} days", digits=1)
    elif measure == "influence":
        out = shown(v, "{:.0f}/100", digits=0)
    else:
        out = shown(v, "{:.0f}", digits=0)
    return out.where(v.notna(), "unknown")


def _pct(x: float) -> str:
    return f"{x * 100:g}%"


def rule_reasons(
    placed: pd.DataFrame, m: pd.DataFrame, breaches: pd.DataFrame | None, rules: ValueRules
) -> pd.Series:
    """One sentence per customer naming the rule that placed it (a list of one string).

    Each rule's sentence is formatted only for the customers that rule placed.
    """
    if placed.empty:
        return pd.Series([], index=placed.index, dtype=object)
    t = rules.tiers

    def score(ix: pd.Index) -> pd.Series:
        return shown(placed.loc[ix, "score"], "{:.2f}", digits=2)

    def top(ix: pd.Index) -> pd.Series:
        return shown(placed.loc[ix, "top_share"], "{:.1f}%", digits=1, scale=100)

    def rank(ix: pd.Index) -> pd.Series:
        ahead = shown(100 - placed.loc[ix, "top_share"].astype(float) * 100, "{:.0f}", digits=0)
        return " (ahead of " + ahead + "% of trading customers)"

    def infl(ix: pd.Index) -> pd.Series:
        return fmt_value("influence", m.loc[ix, "influence"])

    def problem(ix: pd.Index) -> pd.Series:
        assert breaches is not None  # only used when some customer breaches a floor
        found = pd.Series("", index=ix)
        for col, label, key in PROBLEM_FLOORS:
            text = (
                f"{label} " + fmt_value(col, m.loc[ix, col]) + f" is below the {_pct(t[key])} floor"
            )
            hit = breaches.loc[ix, col].fillna(False).astype(bool)
            found = found.where(~hit, found.where(found == "", found + "; ") + text)
        return "Problem: " + found + " (payment or margin puts money at risk)"

    def top_tier(label: str, key: str):
        return lambda ix: (
            f"{label}: value score " + score(ix) + f" in the top {_pct(t[key])}" + rank(ix)
        )

    texts: dict[str, Callable[[pd.Index], pd.Series | str]] = {}
    if breaches is not None and len(breaches):
        texts["problem"] = problem
    texts["diamond_top_share"] = top_tier("Diamond", "diamond_top_share")
    texts["gold_top_share"] = top_tier("Gold", "gold_top_share")
    texts["strategic_top_share"] = top_tier("Strategic", "strategic_top_share")
    texts["named_strategic"] = lambda ix: "Strategic: named strategic by management"
    texts["strategic_influence"] = lambda ix: (
        "Strategic: industry influence "
        + infl(ix)
        + f" is at least {t['strategic_influence_at_least']:g}"
    )
    if "growth" in m:
        texts["potential_growth"] = lambda ix: (
            "Potential: revenue growth "
            + fmt_value("growth", m.loc[ix, "growth"])
            + f" on the previous {rules.window_months} months"
            + f" is at least {_pct(t['potential_growth_at_least'])}"
        )
    texts["potential_influence"] = lambda ix: (
        "Potential: industry influence "
        + infl(ix)
        + f" is at least {t['potential_influence_at_least']:g}"
    )
    texts["general"] = lambda ix: (
        "General: value score " + score(ix) + " (top " + top(ix) + ") and no higher rule applies"
    )
    texts["key_opportunity_influence"] = lambda ix: (
        "Key opportunity: industry influence "
        + infl(ix)
        + f" is at least {t['key_opportunity_influence_at_least']:g}"
    )
    texts["key_opportunity_potential"] = lambda ix: (
        "Key opportunity: estimated potential "
        + shown(m.loc[ix, "estimated_potential"], "{:,.0f}", digits=0)
        + f" is in the top {_pct(t['key_opportunity_potential_top_share'])} of prospects"
    )
    texts["general_opportunity"] = lambda ix: (
        "General opportunity: influence and estimated potential below the key-opportunity bars"
    )
    rule = placed["rule"].to_numpy()
    sentence = np.full(len(placed), "", dtype=object)
    for name, text in texts.items():
        hit = np.flatnonzero(rule == name)
        if len(hit):
            value = text(placed.index[hit])
            sentence[hit] = value.to_numpy(object) if isinstance(value, pd.Series) else value
    return pd.Series([[s] for s in sentence], index=placed.index, dtype=object)


def measure_reasons(effects: pd.DataFrame, ranks: pd.DataFrame, m: pd.DataFrame) -> pd.Series:
    """The up-to-three measures with the largest effect on each customer's score."""
    if m.empty:
        return pd.Series([], index=m.index, dtype=object)
    keys = list(MEASURE_WEIGHT_KEYS)
    eff = effects[keys].to_numpy(dtype=float)
    size = np.where(np.isnan(eff), -1.0, np.abs(eff))
    order = np.argsort(-size, axis=1, kind="stable")[:, :3]
    rows = np.arange(len(eff))[:, None]
    picked = eff[rows, order]  # the effects of each row's top three, in order
    lifts, lowers = picked > 1e-12, picked < -1e-12
    phrases = np.full(order.shape, None, dtype=object)
    for j, key in enumerate(keys):
        # Phrase a measure only for the customers whose top three name it.
        named = (order == j) & (lifts | lowers)
        who = named.any(axis=1)
        if not who.any():
            continue
        value = fmt_value(key, m[key].iloc[who])
        pctile = shown(ranks[key].iloc[who], "{:.0f}", digits=0, scale=100)
        base = (LABELS[key] + " " + value + " (percentile " + pctile + ")").to_numpy(object)
        full = np.empty(len(eff), dtype=object)
        full[who] = base
        for k in range(order.shape[1]):
            up, down = named[:, k] & lifts[:, k], named[:, k] & lowers[:, k]
            phrases[up, k] = full[up] + " lifts the score"
            phrases[down, k] = full[down] + " lowers the score"
    return pd.Series(
        [[x for x in row if x is not None] for row in phrases.tolist()],
        index=m.index,
        dtype=object,
    )
