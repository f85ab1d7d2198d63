"""Reasons in a sales director's words: the rule that placed a customer, and the
two or three measures that most lifted or lowered its score."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .rules import MEASURE_WEIGHT_KEYS, ValueRules

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
        out = v.map("{:,.0f}".format)
    elif measure in {"gross_margin_pct", "score_rank"}:
        out = (v * 100).map("{:.1f}%".format)
    elif measure in {"collection_rate", "on_time_share"}:
        out = (v * 100).map("{:.0f}%".format)
    elif measure == "growth":
        out = (v * 100).map("{:+.0f}%".format)
    elif measure == "mean_days_late":
        out = v.map("{:.1f} days".format)
    elif measure == "influence":
        out = v.map("{:.0f}/100".format)
    else:
        out = v.map("{:.0f}".format)
    return out.where(v.notna(), "unknown")


def _pct(x: float) -> str:
    return f"{x * 100:g}%"


def rule_reasons(
    placed: pd.DataFrame, m: pd.DataFrame, breaches: pd.DataFrame | None, rules: ValueRules
) -> pd.Series:
    """One sentence per customer naming the rule that placed it (a list of one string)."""
    if placed.empty:
        return pd.Series([], index=placed.index, dtype=object)
    t = rules.tiers
    score = placed["score"].astype(float).map("{:.2f}".format)
    top = (placed["top_share"].astype(float) * 100).map("{:.1f}%".format)
    texts: dict[str, pd.Series] = {}
    if breaches is not None and len(breaches):
        parts = [
            ("collection_rate", "collection rate", "problem_collection_rate_below"),
            ("on_time_share", "on-time payment share", "problem_on_time_share_below"),
            ("gross_margin_pct", "gross margin", "problem_gross_margin_below"),
        ]
        problem = pd.Series("", index=placed.index)
        for col, label, key in parts:
            text = f"{label} " + fmt_value(col, m[col]) + f" is below the {_pct(t[key])} floor"
            hit = breaches[col].fillna(False).astype(bool)
            problem = problem.where(~hit, problem.where(problem == "", problem + "; ") + text)
        texts["problem"] = "Problem: " + problem + " (payment or margin puts money at risk)"
    rank = " (ahead of " + (100 - placed["top_share"].astype(float) * 100).map("{:.0f}".format)
    rank = rank + "% of trading customers)"
    texts["diamond_top_share"] = (
        "Diamond: value score " + score + f" in the top {_pct(t['diamond_top_share'])}" + rank
    )
    texts["gold_top_share"] = (
        "Gold: value score " + score + f" in the top {_pct(t['gold_top_share'])}" + rank
    )
    texts["strategic_top_share"] = (
        "Strategic: value score " + score + f" in the top {_pct(t['strategic_top_share'])}" + rank
    )
    texts["named_strategic"] = pd.Series("Strategic: named strategic by management", placed.index)
    infl = fmt_value("influence", m["influence"])
    texts["strategic_influence"] = (
        "Strategic: industry influence "
        + infl
        + f" is at least {t['strategic_influence_at_least']:g}"
    )
    if "growth" in m:
        texts["potential_growth"] = (
            "Potential: revenue growth "
            + fmt_value("growth", m["growth"])
            + f" on the previous {rules.window_months} months"
            + f" is at least {_pct(t['potential_growth_at_least'])}"
        )
    texts["potential_influence"] = (
        "Potential: industry influence "
        + infl
        + f" is at least {t['potential_influence_at_least']:g}"
    )
    texts["general"] = (
        "General: value score " + score + " (top " + top + ") and no higher rule applies"
    )
    texts["key_opportunity_influence"] = (
        "Key opportunity: industry influence "
        + infl
        + f" is at least {t['key_opportunity_influence_at_least']:g}"
    )
    pot = m["estimated_potential"].astype(float).map("{:,.0f}".format)
    texts["key_opportunity_potential"] = (
        "Key opportunity: estimated potential "
        + pot
        + f" is in the top {_pct(t['key_opportunity_potential_top_share'])} of prospects"
    )
    texts["general_opportunity"] = pd.Series(
        "General opportunity: influence and estimated potential below the key-opportunity bars",
        placed.index,
    )
    rule = placed["rule"]
    sentence = pd.Series("", index=placed.index, dtype=object)
    for name, text in texts.items():
        sentence = sentence.where(rule != name, text.reindex(placed.index))
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
        pctile = (ranks[key].iloc[who] * 100).map("{:.0f}".format)
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
