"""Invoice roll-ups cut at an as-of date that is not the end of the data.

The roll-ups hold each invoice's final payment state. When payments are dated
after the as-of date, or invoices fall after it in its own month, the measures
need the state as it stood on the as-of date. Only a few invoices differ: those
paid (in part) after the as-of date. So the cut state is the roll-ups as they
are, plus those invoices recounted from their own payments, and the monthly
roll-up rows they (or the as-of month) touch rebuilt from the per-invoice rows.
Everything stays set-based and reads a bounded slice of the facts, giving the
same columns, and the same numbers, as rebuilding the roll-ups from raw facts
cut at the date.

Why the cut is exact: an invoice's settlement date is the first payment date on
which the running total (in value-date order) reaches the amount due. Payments
up to the as-of date come first in that order, so their running totals do not
depend on later payments: settled by the as-of date if and only if the final
settlement date is on or before it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, and_, case, func, or_, select, union_all

from models.schema import Payment

from .invoice_state import MONTH_COLUMNS, invoice_month_select, paid, paid_by_due, settled_by
from .rollups import INVOICE_MONTHS, INVOICES
from .sqlfuncs import date_value, month_start
from .windows import Windows

_pay = Payment.__table__


def _columns(i, as_of, recounted: bool) -> list:
    """Per-invoice roll-up columns, in order; recounted invoices need the payments joined."""
    head = [i.c.invoice_id, i.c.customer_id, i.c.invoice_date, i.c.due_date, i.c.amount_due]
    days = [i.c.invoice_day, i.c.due_day]
    if not recounted:
        payment = [i.c.paid_amount, i.c.paid_by_due, i.c.settled_on, i.c.last_paid_on]
        return [*head, *payment, *days, i.c.settled_day]
    p = _pay
    settled_by_then = settled_by(i.c.settled_on, as_of)
    # The invoice's state (invoice_state) over its payments up to as_of.
    payment = [
        paid(p.c.amount).label("paid_amount"),
        paid_by_due(p.c.amount, p.c.paid_on, i.c.due_date).label("paid_by_due"),
        case((settled_by_then, i.c.settled_on)).label("settled_on"),
        func.max(p.c.paid_on).label("last_paid_on"),
    ]
    return [*head, *payment, *days, case((settled_by_then, i.c.settled_day)).label("settled_day")]


def _paid_after(as_of):
    """The invoices paid (in part) after ``as_of``, found through the last_paid_on index.

    The upper bound is always true but makes the range one SQLite's planner estimates as
    narrow: with the lower bound alone it walked the whole roll-up through the index
    that yields its GROUP BY order instead (53 s of 83 for an as-of date mid-month at
    10M lines). PostgreSQL picks the last_paid_on index either way.
    """
    last_paid = INVOICES.c.last_paid_on
    return and_(last_paid > as_of, last_paid <= date_value(date.max))


def _invoices(as_of_day: date, scope=None) -> list[Select]:
    """Per-invoice facts as of ``as_of_day`` for the invoices ``scope`` keeps (a function
    adding conditions to a select over the invoice roll-up), or for all of them."""
    i = INVOICES
    as_of = date_value(as_of_day)
    later = i.c.last_paid_on > as_of  # paid (in part) after the as-of date: recount
    kept = select(*_columns(i, as_of, False)).where(
        i.c.invoice_date <= as_of, or_(i.c.last_paid_on.is_(None), ~later)
    )
    recounted = (
        select(*_columns(i, as_of, True))
        .select_from(
            i.outerjoin(_pay, and_(_pay.c.invoice_id == i.c.invoice_id, _pay.c.paid_on <= as_of))
        )
        .where(i.c.invoice_date <= as_of, _paid_after(as_of))
        .group_by(*(i.c[c] for c in _GROUP_COLS))
    )
    if scope is not None:
        kept, recounted = scope(kept), scope(recounted)
    return [kept, recounted]  # to be UNION ALLed (flat: SQLite allows no nested compounds)


_GROUP_COLS = (
    "invoice_id",
    "customer_id",
    "invoice_date",
    "due_date",
    "amount_due",
    "settled_on",
    "invoice_day",
    "due_day",
    "settled_day",
)


def cut_invoice_sources(windows: Windows, cut_as_of_month: bool):
    """(per-invoice facts, per-month facts) as of ``windows.as_of``, from the roll-ups.

    ``cut_as_of_month``: invoices exist after the as-of date in its own month, so that
    month's monthly rows are rebuilt from the invoices up to the date.
    """
    i = INVOICES
    as_of, first = date_value(windows.as_of), date_value(windows.as_of_month)
    per_invoice = union_all(*_invoices(windows.as_of)).subquery("inv")
    # Customers with invoices paid after the as-of date, from their first such month on.
    since = (
        select(i.c.customer_id, func.min(month_start(i.c.invoice_date)).label("since"))
        .where(i.c.invoice_date <= as_of, _paid_after(as_of))
        .group_by(i.c.customer_id)
        .subquery("recounted")
    )
    m = INVOICE_MONTHS
    kept_months = select(*(m.c[c] for c in MONTH_COLUMNS)).select_from(
        m.outerjoin(since, since.c.customer_id == m.c.customer_id)
    )
    kept_months = kept_months.where(or_(since.c.since.is_(None), m.c.month < since.c.since))

    def from_since(q: Select) -> Select:
        q = q.join_from(i, since, since.c.customer_id == i.c.customer_id)
        q = q.where(i.c.invoice_date >= since.c.since)
        return q.where(i.c.invoice_date < first) if cut_as_of_month else q

    parts = _invoices(windows.as_of, from_since)
    if cut_as_of_month:
        kept_months = kept_months.where(m.c.month < first)
        parts += _invoices(windows.as_of, lambda q: q.where(i.c.invoice_date >= first))
    rebuilt = union_all(*parts).subquery("rebuilt")
    months = union_all(kept_months, invoice_month_select(rebuilt)).subquery("inv_month")
    return per_invoice, months
