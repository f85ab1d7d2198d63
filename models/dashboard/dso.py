"""The DSO trend: the snapshot's DSO at each month end before its as-of date.

Each point is :func:`models.value.receivables.dso` at one date: the receivables open
at that date over the revenue invoiced in the measurement window ending at it, times
the window's days. The last point is at the snapshot's as-of date, so it is the
snapshot's own DSO (the receivables export's TOTAL row); a point is shown once a whole
window of history lies behind it.

Open at a date follows :mod:`models.value.invoice_state`: an invoice with something
due counts from its invoice date for its amount due less what its payments up to that
date paid of it (never more than the amount due). Summed month by month this is two
grouped queries: the amounts due by invoice month, and each payment's applied part by
the month it was applied in (its payment date, or the invoice date when paid before:
:func:`models.value.invoice_state.applied_on`). A payment applies in full unless the
invoice was overpaid, then only up to what was still due: only overpaid invoices need
their payments' running totals. The roll-up refresh sums both per customer and month
(``invoice_month_rollup``, ``payment_month_rollup``): the trend reads those sums for the
months before the as-of month, and the as-of month's invoices up to the as-of date
itself (through the invoice-date index); its payments too, unless nothing lies after
the as-of date (then the month's sums are the cut).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, Select, case, func, select, union_all

from models.schema import InvoiceMonthRollup, InvoiceRollup, Payment, PaymentMonthRollup
from models.value import invoice_state as state
from models.value.numbers import to_cents
from models.value.receivables import dso
from models.value.sqlfuncs import date_value, month_start
from models.value.windows import Windows

COLUMNS = ["month", "invoiced", "paid", "outstanding", "trailing_revenue", "dso_days"]


def _monthly(conn: Connection, query) -> pd.Series:
    rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=["month", "amount"])
    frame["month"] = pd.to_datetime(frame["month"])
    return frame.groupby("month")["amount"].sum().astype(float)


def _invoiced(conn: Connection, as_of: date) -> pd.DataFrame:
    """Per invoice month up to ``as_of``: the revenue (every invoice's amount due), and
    the amounts due that open (:func:`~models.value.invoice_state.something_due`).

    The months before the as-of month are the refresh's sums per customer and month
    (``invoice_month_rollup``); the as-of month's invoices up to the as-of date are read
    here, through the roll-up's invoice-date index (summing every invoice took ~1 s of
    three processes a night at 10M lines)."""
    i, m = InvoiceRollup.__table__, InvoiceMonthRollup.__table__
    cut, start = date_value(as_of), date_value(as_of.replace(day=1))
    before = (
        select(
            m.c.month,
            func.sum(m.c.amount_due).label("revenue"),
            func.sum(m.c.amount_due_positive).label("due"),
        )
        .where(m.c.month < start)
        .group_by(m.c.month)
    )
    month = month_start(i.c.invoice_date)
    this_month = (
        select(
            month.label("month"),
            func.sum(i.c.amount_due),
            func.coalesce(func.sum(case((state.something_due(i), i.c.amount_due))), 0),
        )
        .where(i.c.invoice_date >= start, i.c.invoice_date <= cut)
        .group_by(month)
    )
    rows = conn.execute(union_all(before, this_month)).all()
    frame = pd.DataFrame(rows, columns=["month", "revenue", "due"])
    frame["month"] = pd.to_datetime(frame["month"])
    return frame.set_index("month").astype(float)  # one row a month: the parts do not overlap


def _applied(conn: Connection, as_of: date) -> pd.Series:
    """Per month up to ``as_of``: what payments took off the open amounts due.

    The months before the as-of month are the refresh's sums per customer and month
    (``payment_month_rollup``), and the as-of month's too when no payment and no invoice
    of the roll-ups lies after the as-of date (the usual case: the as-of date is the
    latest invoice's). Otherwise the as-of month is cut at the as-of date, so its
    payments are read here, through the invoices paid or invoiced in it (at 10M lines
    the whole join of 3.1M payments with their invoices took ~3 s a night; this month's
    part still ~0.8 s of three processes). The overpaid invoices' payments apply only up
    to what was due, from their running totals."""
    i, p, kept = InvoiceRollup.__table__, Payment.__table__, PaymentMonthRollup.__table__
    cut, start = date_value(as_of), date_value(as_of.replace(day=1))
    whole = _nothing_after(conn, as_of)
    before = (
        select(kept.c.month, func.sum(kept.c.applied).label("amount"))
        .where(kept.c.month <= start if whole else kept.c.month < start)
        .group_by(kept.c.month)
    )
    parts = [before, applied_to_overpaid(as_of)]
    if not whole:
        when = state.applied_on(p.c.paid_on, i.c.invoice_date)
        this_month = state.payments_applied_in_full(
            i, when >= start, when <= cut, state.applying_from(i, start)
        ).subquery("this_month")
        in_full = select(this_month.c.month, func.sum(this_month.c.applied)).group_by(
            this_month.c.month
        )
        parts.append(in_full)
    return _monthly(conn, union_all(*parts))


def _nothing_after(conn: Connection, as_of: date) -> bool:
    """No invoice and no invoice's payment of the per-invoice roll-up is dated after
    ``as_of`` (two reads of its indexes): the payments applied in the as-of month up to
    the as-of date are then the month's whole."""
    i = InvoiceRollup.__table__
    for column in (i.c.invoice_date, i.c.last_paid_on):
        last = conn.scalar(select(func.max(column)))
        if last is not None and last > as_of:  # a date on both databases (typed max)
            return False
    return True


def applied_to_overpaid(as_of: date) -> Select:
    """Per month up to ``as_of`` (columns month, amount): what payments took off the
    invoices their payments overpaid, each payment only up to what was still due, from
    the payments' running totals per invoice."""
    i, p = InvoiceRollup.__table__, Payment.__table__
    overpaid = select(i.c.invoice_id).where(state.overpaid(i))  # by their index
    r = (
        state.payments_running(as_of)
        .where(p.c.invoice_id.in_(overpaid))
        .add_columns(i.c.amount_due, i.c.invoice_date)
        .join(i, i.c.invoice_id == p.c.invoice_id)
        .where(i.c.invoice_date <= date_value(as_of))
        .subquery("r")
    )
    when = state.applied_on(r.c.paid_on, r.c.invoice_date)
    # The part of each payment below the amount due: min(running, due) - min(before, due).
    capped = case((r.c.running < r.c.amount_due, r.c.running), else_=r.c.amount_due)
    before = r.c.running - r.c.amount
    capped_before = case((before < r.c.amount_due, before), else_=r.c.amount_due)
    return select(
        month_start(when).label("month"), func.sum(capped - capped_before).label("amount")
    ).group_by(month_start(when))


def dso_trend(conn: Connection, as_of: date, months: int, window_months: int) -> pd.DataFrame:
    """Up to ``months`` points ending with the as-of date (columns :data:`COLUMNS`): one per
    month end, the as-of month's at the as-of date; ``window_months`` is the rules'
    measurement window."""
    invoiced = _invoiced(conn, as_of)
    if invoiced.empty:
        return pd.DataFrame(columns=COLUMNS)
    applied = _applied(conn, as_of)
    # Payments apply from their invoice's date on: no month before the first invoice's.
    span = pd.date_range(invoiced.index.min(), pd.Timestamp(as_of.replace(day=1)), freq="MS")
    frame = pd.DataFrame(
        {
            "invoiced": invoiced["due"].reindex(span, fill_value=0.0),
            "paid": applied.reindex(span, fill_value=0.0),
            "revenue": invoiced["revenue"].reindex(span, fill_value=0.0),
        }
    )
    frame["outstanding"] = frame["invoiced"].cumsum() - frame["paid"].cumsum()
    frame["trailing_revenue"] = frame["revenue"].rolling(window_months).sum()
    frame = frame.dropna(subset=["trailing_revenue"]).tail(months)
    points = []
    for stamp, invoiced_due, paid, open_amount, trailing in zip(
        frame.index,
        frame["invoiced"],
        frame["paid"],
        frame["outstanding"],
        frame["trailing_revenue"],
        strict=True,
    ):  # a few dozen months
        month = pd.Timestamp(stamp)
        at = min(as_of, (month + pd.offsets.MonthEnd(0)).date())
        outstanding, revenue = to_cents(open_amount), to_cents(trailing)
        days_sales = dso(outstanding, revenue, Windows(at, window_months).days)
        points.append(
            {
                "month": month.date(),
                "invoiced": to_cents(invoiced_due),
                "paid": to_cents(paid),
                "outstanding": outstanding,
                "trailing_revenue": revenue,
                "dso_days": None if days_sales is None else to_cents(days_sales),
            }
        )
    return pd.DataFrame(points, columns=COLUMNS)


def dso_rows(frame: pd.DataFrame, snapshot_id: int) -> list[dict]:
    """The trend as rows for ``dashboard_dso_month``."""
    return [{"snapshot_id": snapshot_id, **row} for row in frame.to_dict("records")]
