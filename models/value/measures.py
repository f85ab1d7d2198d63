"""Per-customer measures from the base aggregates: pure, vectorised, NULL-aware.

Unknown stays unknown: a measure whose inputs are missing (no line with a
known cost, nothing fallen due, no payment on record) is NaN here and NULL in
the database, never zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .numbers import as_float
from .windows import Windows

# A customer's own attributes that the measures and tier rules use (the base frame's first
# columns, whichever implementation built it).
CUSTOMER_COLUMNS = (
    "customer_id",
    "name",
    "status",
    "parent_customer_id",
    "manager_id",
    "influence",
    "named_strategic",
    "estimated_potential",
    "buying_factor",
)

MEASURES = (
    "revenue",
    "revenue_previous",
    "gross_margin_pct",
    "collection_rate",
    "on_time_share",
    "mean_days_late",
    "growth",
    "invoice_count",
    "recency_days",
    "product_line_count",
    "influence",
)
AMOUNTS = ("amount_due", "amount_collected", "revenue_costed", "gross_profit")


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return as_float(frame[column])


def _ratio(num: pd.Series, den: pd.Series, valid: pd.Series) -> pd.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return out.where(valid & den.notna() & num.notna(), np.nan)


def derive_measures(base: pd.DataFrame, windows: Windows) -> pd.DataFrame:
    """Measures for every customer in ``base`` (see :func:`facts.customer_base`).

    Adds ``trading`` (invoiced in either window) and the measure columns; the
    customer's own attributes are kept for the tier rules.
    """
    out = base.copy()
    # A base without the column (no invoice at all) reads as "never invoiced": NaT.
    last = pd.to_datetime(
        out["last_invoice_date"] if "last_invoice_date" in out else pd.Series(None, out.index),
        errors="coerce",
    )
    trading = last.notna()
    out["trading"] = trading
    revenue = _num(out, "revenue").where(trading, np.nan)
    out["revenue"] = revenue.fillna(0.0).where(trading, np.nan)
    out["revenue_previous"] = _num(out, "revenue_previous").fillna(0.0).where(trading, np.nan)
    cost, costed = _num(out, "cost"), _num(out, "revenue_costed")
    out["revenue_costed"] = costed.where(cost.notna(), np.nan)
    out["gross_profit"] = (costed - cost).where(cost.notna(), np.nan)
    out["gross_margin_pct"] = _ratio(costed - cost, costed, costed > 0)
    due = _num(out, "amount_due")
    has_payment = (_num(out, "paid_any").fillna(0) > 0) | (_num(out, "on_account").fillna(0) > 0)
    collected = _num(out, "amount_collected").fillna(0) + _num(out, "on_account").fillna(0)
    knowable = trading & has_payment
    out["amount_due"] = due.where(knowable & (due > 0), np.nan)
    capped = collected.where(collected <= due, due)  # min(collected, due); NaN where due is
    out["amount_collected"] = capped.where(out["amount_due"].notna(), np.nan)
    # Payments on account can exceed what fell due: the rate is capped at 1.
    out["collection_rate"] = _ratio(out["amount_collected"], due, knowable & (due > 0))
    timed = _num(out, "timed_invoices")
    out["on_time_share"] = _ratio(_num(out, "on_time_invoices"), timed, knowable & (timed > 0))
    out["mean_days_late"] = _ratio(_num(out, "days_late_sum"), timed, knowable & (timed > 0))
    prev = out["revenue_previous"]
    out["growth"] = _ratio(out["revenue"], prev, prev > 0) - 1
    out["invoice_count"] = _num(out, "invoice_count").fillna(0).where(trading, np.nan)
    as_of = pd.Timestamp(windows.as_of)
    out["recency_days"] = ((as_of - last).dt.days).astype(float)
    out["product_line_count"] = _num(out, "product_line_count").fillna(0).where(trading, np.nan)
    out["influence"] = _num(out, "influence")
    out["estimated_potential"] = _num(out, "estimated_potential")
    # A base without the column names no customer strategic (not an AttributeError on False).
    named = out["named_strategic"] if "named_strategic" in out else pd.Series(False, out.index)
    out["named_strategic"] = named.fillna(False).astype(bool)
    return out
