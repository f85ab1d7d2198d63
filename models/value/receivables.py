"""Receivables: ageing, DSO, collection, and the cost of credit (DOMAIN.md section 5)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from sqlalchemy import Select, case, select

from .facts import Sources, invoice_sources
from .numbers import as_float
from .rules import ValueRules
from .sqlfuncs import date_value, days_between

CENT = Decimal("0.01")


def sales_to_make_up(loss: Decimal, net_margin: Decimal) -> Decimal:
    """Extra sales needed to earn back a bad debt: loss / net profit margin.

    DOMAIN.md: a 500 loss at a 3% net margin needs 16,667 of extra sales; at 2%, 25,000.
    """
    if net_margin <= 0:
        raise ValueError("net margin must be positive to make up a loss")
    return (Decimal(loss) / Decimal(net_margin)).quantize(Decimal(1), ROUND_HALF_UP)


def months_of_delay_eating_profit(net_margin: Decimal, annual_borrowing_rate: Decimal) -> Decimal:
    """Months of payment delay that consume a sale's whole profit: margin / rate x 12.

    DOMAIN.md: 10% margin at 5% borrowing cost: 24 months; 2% at 15%: 1.6 months.
    """
    if annual_borrowing_rate <= 0:
        raise ValueError("the borrowing rate must be positive")
    return Decimal(net_margin) / Decimal(annual_borrowing_rate) * 12


def late_invoice_cost(amount: Decimal, annual_borrowing_rate: Decimal, days_late: int) -> Decimal:
    """What financing a late invoice costs: amount x annual rate x days late / 365, in cents."""
    cost = Decimal(amount) * Decimal(annual_borrowing_rate) * max(int(days_late), 0) / 365
    return cost.quantize(CENT, ROUND_HALF_UP)


def late_invoices_select(src: Sources, customer_id: str | None = None) -> Select:
    """Each late invoice of the current window with its days late (cost is applied in Python)."""
    w = src.windows
    f, _ = invoice_sources(src)
    as_of = date_value(w.as_of)
    days_late = case(
        (f.c.settled_on.is_not(None), days_between(f.c.due_date, f.c.settled_on)),
        else_=days_between(f.c.due_date, as_of),
    )
    q = (
        select(
            f.c.customer_id,
            f.c.invoice_id,
            f.c.invoice_date,
            f.c.due_date,
            f.c.settled_on,
            f.c.amount_due,
            days_late.label("days_late"),
        )
        .where(f.c.invoice_date >= date_value(w.current_start), f.c.invoice_date <= as_of)
        .where(f.c.amount_due > 0, f.c.due_date.is_not(None))
        .where(
            ((f.c.settled_on.is_not(None)) & (f.c.settled_on > f.c.due_date))
            | ((f.c.settled_on.is_(None)) & (f.c.due_date < as_of))
        )
        .order_by(f.c.customer_id, f.c.invoice_id)
    )
    if customer_id is not None:
        q = q.where(f.c.customer_id == customer_id)
    return q


def receivables_table(measures: pd.DataFrame, rules: ValueRules, days: int) -> pd.DataFrame:
    """One row per trading customer: ageing buckets, DSO, collection, late cost, bad-debt cover.

    The ageing columns come from the same scan as the measures
    (:func:`facts.invoices_by_customer`).
    """
    trading = measures.loc[
        measures["trading"].astype(bool), ["customer_id", "revenue", "collection_rate"]
    ]
    cols = ["current", "days_1_30", "days_31_60", "days_61_90", "days_over_90"]
    aged = measures[["customer_id", *cols, "late_invoices", "late_amount_days"]]
    out = trading.merge(aged, on="customer_id", how="left")
    for c in cols:
        out[c] = as_float(out[c]).fillna(0.0)
    out["outstanding"] = out[cols].sum(axis=1)
    revenue = out["revenue"].astype(float)
    out["dso_days"] = (out["outstanding"] / revenue * days).where(revenue > 0)
    out["late_invoices"] = as_float(out["late_invoices"]).fillna(0).astype(int)
    amount_days = as_float(out["late_amount_days"]).fillna(0.0)
    rate = float(rules.annual_borrowing_rate)
    out["late_cost"] = amount_days * rate / 365
    out["sales_to_recover_90"] = (out["days_over_90"] / float(rules.net_profit_margin)).where(
        out["days_over_90"] > 0
    )
    for c in [*cols, "outstanding", "late_cost", "sales_to_recover_90"]:
        out[c] = out[c].astype(float).round(2)
    return out.drop(columns=["revenue", "late_amount_days"]).sort_values("customer_id")
