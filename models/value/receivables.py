"""Receivables and the cost of credit: each figure defined once.

- **DSO** (days sales outstanding) at a date = open receivables at that date / revenue
  invoiced in the measurement window ending at that date x the window's calendar days
  (:func:`dso`). One figure: a customer's, the total's and each point of the trend are
  the same formula over different customers and dates.
- **Cost of late payment** = amount x annual borrowing rate x days late / 365, over the
  late invoices of the current window (:func:`late_cost`; days late as
  :mod:`invoice_state` defines them).
- **Bad-debt cover**: the sales needed to make up a loss = loss / net profit margin
  (:func:`sales_to_make_up`); the receivables more than 90 days overdue are the loss
  it is shown for.
- **Months of payment delay that eat a sale's profit** = net margin / annual borrowing
  rate x 12 (:func:`months_of_delay_eating_profit`).

The formulas take numbers or columns alike. One rounding rule: money and days are kept
to the cent, half up (:func:`numbers.to_cents`), when a figure is stored or shown.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from sqlalchemy import Select, select

from . import invoice_state as state
from .facts import Sources, invoice_sources
from .numbers import as_float, round_cents, to_cents
from .rules import ValueRules
from .sqlfuncs import date_value, day_of
from .windows import Windows

DAYS_A_YEAR = 365
AGEING_COLUMNS = ["current", "days_1_30", "days_31_60", "days_61_90", "days_over_90"]


def dso(outstanding, revenue, days: int):
    """Open receivables / revenue of the window x the window's days; unknown (None, or NaN
    in a column) when the revenue is not positive."""
    if isinstance(revenue, pd.Series):
        return (outstanding / revenue * days).where(revenue > 0)
    if revenue is None or revenue <= 0:
        return None
    return outstanding / revenue * days


def late_cost(amount_days, annual_borrowing_rate):
    """The cost of late payment of ``amount_days`` (amount x days late, summed over the
    late invoices) at the annual borrowing rate: amount_days x rate / 365."""
    return amount_days * annual_borrowing_rate / DAYS_A_YEAR


def late_invoice_cost(amount: Decimal, annual_borrowing_rate: Decimal, days_late: int) -> Decimal:
    """One invoice's :func:`late_cost`, to the cent (no cost when it is not late).

    DOMAIN: 10,000 at 5% for 73 days costs 100.00."""
    return to_cents(late_cost(Decimal(amount) * max(int(days_late), 0), annual_borrowing_rate))


def sales_to_make_up(loss, net_margin):
    """Extra sales needed to earn back a bad debt: loss / net profit margin.

    A 500 loss at a 3% net margin needs 16,666.67 of extra sales (16,667 rounded to
    whole units); at 2%, 25,000.
    """
    if net_margin <= 0:
        raise ValueError("net margin must be positive to make up a loss")
    return loss / net_margin


def months_of_delay_eating_profit(net_margin: Decimal, annual_borrowing_rate: Decimal) -> Decimal:
    """Months of payment delay that consume a sale's whole profit: margin / rate x 12.

    10% margin at 5% borrowing cost: 24 months; 2% at 15%: 1.6 months.
    """
    if annual_borrowing_rate <= 0:
        raise ValueError("the borrowing rate must be positive")
    return Decimal(net_margin) / Decimal(annual_borrowing_rate) * 12


def late_invoices_of(f, windows: Windows, customer_id: str | None = None) -> Select:
    """Each late invoice of ``f`` (per-invoice rows with their state, see
    :mod:`invoice_state`) in the current window, with its days late at the as-of date;
    its cost is :func:`late_invoice_cost`."""
    today = day_of(windows.as_of)
    q = (
        select(
            f.c.customer_id,
            f.c.invoice_id,
            f.c.invoice_date,
            f.c.due_date,
            f.c.settled_on,
            f.c.amount_due,
            state.days_late(f, today).label("days_late"),
        )
        .where(f.c.invoice_date >= date_value(windows.current_start))
        .where(f.c.invoice_date <= date_value(windows.as_of))
        .where(state.is_late(f, today))
        .order_by(f.c.customer_id, f.c.invoice_id)
    )
    return q if customer_id is None else q.where(f.c.customer_id == customer_id)


def late_invoices_select(src: Sources, customer_id: str | None = None) -> Select:
    """:func:`late_invoices_of` the roll-ups (cut at the as-of date where they must be)."""
    f, _ = invoice_sources(src)
    return late_invoices_of(f, src.windows, customer_id)


def receivables_table(measures: pd.DataFrame, rules: ValueRules, days: int) -> pd.DataFrame:
    """One row per customer that trades or owes: ageing buckets, DSO, collection, late
    cost, bad-debt cover (the ageing columns come from the measures' own scan).

    A customer that no longer trades but still owes money is a receivable too (its DSO
    is unknown: no revenue in the window)."""
    cols = AGEING_COLUMNS
    keep = ["customer_id", "trading", "revenue", "collection_rate", *cols]
    out = measures[[*keep, "late_invoices", "late_amount_days"]].copy()
    for c in cols:
        out[c] = as_float(out[c]).fillna(0.0)
    out["outstanding"] = out[cols].sum(axis=1)
    out = out[out["trading"].astype(bool) | (out["outstanding"] > 0)].copy()
    out["dso_days"] = dso(out["outstanding"], as_float(out["revenue"]), days)
    out["late_invoices"] = as_float(out["late_invoices"]).fillna(0).astype(int)
    amount_days = as_float(out["late_amount_days"]).fillna(0.0)
    out["late_cost"] = late_cost(amount_days, float(rules.annual_borrowing_rate))
    out["sales_to_recover_90"] = sales_to_make_up(
        out["days_over_90"], float(rules.net_profit_margin)
    )
    for c in [*cols, "outstanding", "late_cost", "sales_to_recover_90", "dso_days"]:
        out[c] = round_cents(out[c])
    out = out.drop(columns=["trading", "revenue", "late_amount_days"])
    return out.sort_values("customer_id")


def receivables_total(
    sums: dict, *, revenue: Decimal, due: Decimal, collected: Decimal, days: int, rules: ValueRules
) -> dict:
    """The receivables of every customer together, from the stored per-customer rows:
    ``sums`` holds the sums of their amounts (outstanding, the ageing buckets, late cost)
    and the count of late invoices; ``revenue``, ``due`` and ``collected`` are the window's
    totals over every customer. Amounts add up; DSO, the collection rate and the bad-debt
    cover are the same formulas applied to the totals."""
    total: dict[str, Decimal | int | None] = {
        c: to_cents(sums.get(c) or 0) for c in ["outstanding", *AGEING_COLUMNS]
    }
    total["late_cost"] = to_cents(sums.get("late_cost") or 0)
    total["late_invoices"] = int(sums.get("late_invoices") or 0)
    outstanding, over_90 = to_cents(sums.get("outstanding") or 0), total["days_over_90"]
    days_sales = dso(outstanding, revenue, days)
    total["dso_days"] = None if days_sales is None else to_cents(days_sales)
    total["collection_rate"] = (collected / due).quantize(Decimal("0.000001")) if due else None
    total["sales_to_recover_90"] = to_cents(sales_to_make_up(over_90, rules.net_profit_margin))
    return total
