"""The per-customer base aggregates read plainly from the facts: the specification.

Plain GROUP BY queries over ``invoice``, ``invoice_line`` and ``payment``, cut at the
as-of date, one rule a line, written to be read beside docs/RULES.md. The state of each
invoice (paid, settled on, days late, open) is :mod:`invoice_state`'s, the one definition.
No roll-up, window table or cut-off path is involved: the fast path
(:mod:`models.value.facts`) is tested against this one on random books
(tests/value/test_base_contract.py), and a small installation may run it instead
(see :mod:`models.value.aggregates`). Every aggregation runs in the database; pandas
only merges the per-customer parts and marks what is unknown.

The rules, as of the end of the as-of day (``w`` = the windows, see :class:`Windows`):

- An invoice's **amount due** is the sum of its lines (a credit note's is negative).
- **Paid**: what the payments naming the invoice dated up to the as-of date add up to.
- **Settled on**: the first payment date on which the running total of those payments,
  in (paid_on, payment_id) order, reaches the amount due (only amounts due above zero).
- **Counts as due** (collection rate): an invoice of the current window with an amount
  due above zero that is settled, or has no due date, or whose due date has come.
  Collected from it: what was paid, at most the amount due.
- **Timed** (timeliness): counts as due and has a due date. **On time**: settled on or
  before the due date. **Days late**: from the due date to the settlement date, or to
  the as-of date while it is open; **late** when that is above zero.
- **Ageing**: every invoice not settled (however old) with something still owed, by
  days past its due date (its invoice date when it has none): not yet due, then the
  ``bucket_days`` bands.
- **On account**: payments naming no invoice, received in the current window.

Unknown is not zero: a figure of the current window is NULL (NaN) for a customer with
no invoice dated in it, a figure of both windows for one with no invoice in either,
cost and costed revenue when no line of the current window has a known cost, an
ageing band when nothing is owed in it, and ``on_account`` when no such payment came.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Select, and_, case, func, or_, select

from models.schema import Customer, Invoice, InvoiceLine, Payment

from . import invoice_state as state
from .measures import CUSTOMER_COLUMNS
from .numbers import as_float
from .sqlfuncs import cents, date_value, day_of
from .windows import Windows

SALES_COLUMNS = ("revenue", "revenue_previous", "cost", "revenue_costed", "product_line_count")
# Over both windows: NULL for a customer with no invoice in either.
BOTH_WINDOWS_COLUMNS = ("invoice_count", "last_invoice_date", "paid_any")
# Over the current window's invoices: NULL for a customer with no invoice in it.
CURRENT_WINDOW_COLUMNS = (
    "amount_due",
    "amount_collected",
    "timed_invoices",
    "on_time_invoices",
    "days_late_sum",
    "late_invoices",
    "late_amount_days",
)
AGEING_COLUMNS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
# The base frame's columns, in order: the contract both implementations keep.
BASE_COLUMNS = (
    *CUSTOMER_COLUMNS,
    *SALES_COLUMNS,
    *BOTH_WINDOWS_COLUMNS,
    *CURRENT_WINDOW_COLUMNS,
    *AGEING_COLUMNS,
    "on_account",
)
PER_LINE_COLUMNS = (
    "customer_id",
    "product_line_id",
    "revenue",
    "revenue_previous",
    "cost",
    "revenue_costed",
)

_inv, _line, _pay = Invoice.__table__, InvoiceLine.__table__, Payment.__table__


def sales_by_product_line(w: Windows) -> Select:
    """Customer x product line, over the lines of invoices in either window: revenue now
    and before (0 when none), and now the cost and the revenue of lines with a known cost
    (NULL when no line has one)."""
    now = _inv.c.invoice_date >= date_value(w.current_start)
    costed = _line.c.cost.is_not(None)
    return (
        select(
            _inv.c.customer_id,
            _line.c.product_line_id,
            cents(func.coalesce(func.sum(case((now, _line.c.amount))), 0)).label("revenue"),
            cents(func.coalesce(func.sum(case((~now, _line.c.amount))), 0)).label(
                "revenue_previous"
            ),
            cents(func.sum(case((now, _line.c.cost)))).label("cost"),
            cents(func.sum(case((and_(now, costed), _line.c.amount)))).label("revenue_costed"),
        )
        .join_from(_line, _inv, _line.c.invoice_id == _inv.c.invoice_id)
        .where(_inv.c.invoice_date >= date_value(w.previous_start))
        .where(_inv.c.invoice_date <= date_value(w.as_of))
        .group_by(_inv.c.customer_id, _line.c.product_line_id)
    )


def sales_by_customer(w: Windows) -> Select:
    """Per customer, the product lines added up; product lines bought = revenue above 0 now."""
    s = sales_by_product_line(w).subquery("per_line")
    return select(
        s.c.customer_id,
        cents(func.sum(s.c.revenue)).label("revenue"),
        cents(func.sum(s.c.revenue_previous)).label("revenue_previous"),
        cents(func.sum(s.c.cost)).label("cost"),
        cents(func.sum(s.c.revenue_costed)).label("revenue_costed"),
        func.count(case((s.c.revenue > 0, 1))).label("product_line_count"),
    ).group_by(s.c.customer_id)


def invoice_states(as_of: date) -> Select:
    """One row per invoice dated up to ``as_of`` with its payment state as of that date
    (:mod:`invoice_state`: paid, settled on, and the day numbers), straight from the facts."""
    rows = state.invoice_select(pays=state.payments_running(as_of))
    return rows.where(rows.selected_columns.invoice_date <= date_value(as_of))


def invoices_by_customer(w: Windows, bucket_days: tuple[int, int, int]) -> Select:
    """Per customer with an invoice up to the as-of date, every invoice figure (see the
    module's rules), and how many invoices fall in both windows and in the current one."""
    s = invoice_states(w.as_of).subquery("state")
    today = day_of(w.as_of)
    in_windows = s.c.invoice_date >= date_value(w.previous_start)
    now = s.c.invoice_date >= date_value(w.current_start)
    settled = state.is_settled(s)
    counts_as_due = and_(now, or_(and_(settled, state.something_due(s)), state.fell_due(s, today)))
    timed = and_(counts_as_due, s.c.due_day.is_not(None))
    on_time = and_(timed, state.settled_on_time(s))
    days_late = state.days_late(s, today)
    late = and_(now, state.is_late(s, today))
    owed = state.open_amount(s)
    still_owed = and_(~settled, owed.is_not(None))
    days_past_due = today - state.overdue_day(s)
    b1, b2, b3 = bucket_days

    def owed_if(*days_past_due_conditions):
        return cents(func.sum(case((and_(still_owed, *days_past_due_conditions), owed))))

    def count_of(condition):
        return func.count(case((condition, 1)))

    def total_of(condition, value):
        return cents(func.sum(case((condition, value), else_=0)))

    return select(
        s.c.customer_id,
        count_of(in_windows).label("invoices_in_windows"),
        count_of(now).label("invoices_now"),
        count_of(now).label("invoice_count"),
        func.max(case((in_windows, s.c.invoice_date))).label("last_invoice_date"),
        cents(func.sum(case((in_windows, s.c.paid_amount)))).label("paid_any"),
        total_of(counts_as_due, s.c.amount_due).label("amount_due"),
        total_of(counts_as_due, state.paid_capped(s)).label("amount_collected"),
        count_of(timed).label("timed_invoices"),
        count_of(on_time).label("on_time_invoices"),
        func.coalesce(func.sum(case((late, days_late))), 0).label("days_late_sum"),
        count_of(late).label("late_invoices"),
        total_of(late, s.c.amount_due * days_late).label("late_amount_days"),
        owed_if(days_past_due <= 0).label("current"),
        owed_if(days_past_due > 0, days_past_due <= b1).label("days_1_30"),
        owed_if(days_past_due > b1, days_past_due <= b2).label("days_31_60"),
        owed_if(days_past_due > b2, days_past_due <= b3).label("days_61_90"),
        owed_if(days_past_due > b3).label("days_over_90"),
    ).group_by(s.c.customer_id)


def on_account_by_customer(w: Windows) -> Select:
    """Payments naming no invoice, received in the current window, per customer."""
    return (
        select(_pay.c.customer_id, cents(func.sum(_pay.c.amount)).label("on_account"))
        .where(_pay.c.invoice_id.is_(None))
        .where(_pay.c.paid_on >= date_value(w.current_start))
        .where(_pay.c.paid_on <= date_value(w.as_of))
        .group_by(_pay.c.customer_id)
    )


def _frame(conn: Connection, query: Select) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.mappings().all(), columns=list(result.keys()))


def plain_base_aggregates(
    conn: Connection, windows: Windows, bucket_days: tuple[int, int, int] = (30, 60, 90)
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(base, per_line): one row per customer with every base aggregate (columns
    :data:`BASE_COLUMNS`, NaN where unknown), and the customer x product line sales
    (:data:`PER_LINE_COLUMNS`), both in customer order. Money and counts are floats,
    dates ``date`` objects."""
    c = Customer.__table__
    customers = _frame(conn, select(*(c.c[k] for k in CUSTOMER_COLUMNS)))
    per_line = _frame(conn, sales_by_product_line(windows))
    parts = [
        _frame(conn, sales_by_customer(windows)),
        _frame(conn, invoices_by_customer(windows, bucket_days)),
        _frame(conn, on_account_by_customer(windows)),
    ]
    base = customers
    for part in parts:
        base = base.merge(part, on="customer_id", how="left")
    # A customer without invoices in a window has no figures of it: unknown, not zero.
    base.loc[~(base["invoices_in_windows"] > 0), list(BOTH_WINDOWS_COLUMNS)] = np.nan
    base.loc[~(base["invoices_now"] > 0), list(CURRENT_WINDOW_COLUMNS)] = np.nan
    base["last_invoice_date"] = [
        None if v is None or v != v else v for v in base["last_invoice_date"]
    ]
    for col in (*SALES_COLUMNS, *BOTH_WINDOWS_COLUMNS, *CURRENT_WINDOW_COLUMNS, "on_account"):
        if col != "last_invoice_date":
            base[col] = as_float(base[col])
    for col in (*AGEING_COLUMNS, "estimated_potential", "influence"):
        base[col] = as_float(base[col])
    for col in PER_LINE_COLUMNS[2:]:
        per_line[col] = as_float(per_line[col])
    base = base.sort_values("customer_id", ignore_index=True)
    per_line = per_line.sort_values(["customer_id", "product_line_id"], ignore_index=True)
    return base[list(BASE_COLUMNS)], per_line[list(PER_LINE_COLUMNS)]
