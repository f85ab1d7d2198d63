"""What an invoice's payment state means, defined once.

Every payment figure (collection rate, on-time share, days late, ageing, DSO, the
cost of late payment, the customer page's late invoices) starts from one state per
invoice as of a payment cut-off date:

- **paid**: the sum of the invoice's payments dated on or before the cut-off;
  **paid by due**: the part of it dated on or before the due date.
- **settled on**: the first payment date on which the running total of payments
  (in value-date order, ties by payment id) reaches the amount due. An invoice with
  nothing due (a credit note) is never settled. Payments up to the cut-off come
  first in that order, so an invoice is settled by a date exactly when its final
  settlement date is on or before it (what :mod:`cutoff` relies on).
- **open at a date**: not settled by it; its **open amount** is amount due minus
  paid (only when something is due and unpaid).
- **days late**: for a settled invoice, settled day minus due day; for an open one,
  the as-of day minus the due day. **Late**: days late above zero. **On time**:
  settled on or before the due date.
- **days overdue** (ageing): the as-of day minus the due day, or minus the invoice
  day when the invoice has no due date.

The functions return SQLAlchemy expressions over a per-invoice row source ``f`` with
the invoice roll-up's columns (``invoice_rollup`` itself, its cut at an as-of date, or
:func:`invoice_select` run on the facts), so every query that needs a state builds it
here. Dates are compared as day numbers (integers) where the roll-up stores them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, Select, and_, case, func, literal_column, select

from models.schema import Invoice, InvoiceLine, Payment

from .sqlfuncs import cents, day_number, month_start

_inv, _line, _pay = Invoice.__table__, InvoiceLine.__table__, Payment.__table__

# The per-invoice columns, in the roll-up's order.
INVOICE_COLUMNS = ["invoice_id", "customer_id", "invoice_date", "due_date", "amount_due"]
INVOICE_COLUMNS += ["paid_amount", "paid_by_due", "settled_on", "last_paid_on", "invoice_day"]
INVOICE_COLUMNS += ["due_day", "settled_day"]


def something_due(f) -> ColumnElement[bool]:
    """An invoice with something due: not a credit note, nor zero. (A constant, not a
    bound parameter: a prepared statement's generic plan must still see that it implies
    ``ix_invoice_rollup_overpaid``'s condition.)"""
    return f.c.amount_due > literal_column("0")


def overpaid(f) -> ColumnElement[bool]:
    """An invoice with something due that its payments paid more than (the index
    ``ix_invoice_rollup_overpaid`` holds these invoices of the roll-up)."""
    return and_(something_due(f), f.c.paid_amount > f.c.amount_due)


def paid(amount):
    """Paid: the payments' sum (``amount``: the payment amount column of the rows grouped)."""
    return cents(func.coalesce(func.sum(amount), 0))


def paid_by_due(amount, paid_on, due_date):
    """Paid by due: the part of the payments dated on or before the due date."""
    return cents(func.coalesce(func.sum(case((paid_on <= due_date, amount))), 0))


def reaches_due(amount_due, running):
    """The payment whose running total reaches the amount due (something must be due)."""
    return and_(amount_due > 0, cents(running) >= amount_due)


def settled_by(settled_on, as_of):
    """Settled by ``as_of`` (settled on or before it)."""
    return settled_on <= as_of


def is_settled(f):
    return f.c.settled_day.is_not(None)  # settled implies an amount due above zero


def is_timed(f):
    """Settled, with a due date to be on time or late against."""
    return and_(is_settled(f), f.c.due_day.is_not(None))


def settled_on_time(f):
    return and_(is_timed(f), f.c.settled_day <= f.c.due_day)


def settled_late(f):
    return and_(is_timed(f), f.c.settled_day > f.c.due_day)


def settled_days_late(f):
    """Days late of a settled invoice (meaningful where :func:`settled_late` holds)."""
    return f.c.settled_day - f.c.due_day


def unpaid(f):
    return cents(f.c.amount_due - f.c.paid_amount)


def open_amount(f):
    """What is still owed on an open invoice (NULL when nothing is due or unpaid)."""
    return case((and_(something_due(f), unpaid(f) > 0), unpaid(f)))


def paid_capped(f):
    """Paid, counted at most up to the amount due (what counts as collected)."""
    return case((f.c.paid_amount > f.c.amount_due, f.c.amount_due), else_=f.c.paid_amount)


def overdue_day(f):
    """The day from which an open invoice's days overdue count (ageing)."""
    return func.coalesce(f.c.due_day, f.c.invoice_day)


def fell_due(f, today: int):
    """Something was due and its due date (or, without one, its invoice date) has come by
    day number ``today``: the invoice counts in what was due for collection."""
    return and_(something_due(f), (f.c.due_day.is_(None)) | (f.c.due_day <= today))


def open_late(f, today: int):
    """An open invoice past its due date at day number ``today``."""
    return and_(something_due(f), f.c.due_day < today)


def open_days_late(f, today: int):
    """An open invoice's days late so far at day number ``today``."""
    return today - f.c.due_day


def days_late(f, today: int):
    """Days late at day number ``today``: settled day (or, while open, ``today``) - due day."""
    return case((is_settled(f), settled_days_late(f)), else_=open_days_late(f, today))


def is_late(f, today: int):
    """Late at day number ``today``: settled after the due date, or open and past it."""
    return and_(
        something_due(f),
        f.c.due_day.is_not(None),
        case((is_settled(f), f.c.settled_day > f.c.due_day), else_=f.c.due_day < today),
    )


def days_overdue_between(f, today: int, more_than: int | None, at_most: int | None):
    """Open rows (with ``overdue_day``) more than / at most so many days overdue at day
    number ``today`` (days overdue = today - overdue day; either bound may be None).
    The bounds are constants on the stored column, so an index can serve them."""
    cond = []
    if more_than is not None:
        cond.append(f.c.overdue_day < today - more_than)
    if at_most is not None:
        cond.append(f.c.overdue_day >= today - at_most)
    return and_(*cond)


def payments_running(paid_until: date | None = None, batches: list[int] | None = None) -> Select:
    """Invoice payments with their running total per invoice in value-date order (ties by
    payment id, so the order is deterministic), up to ``paid_until`` and of the ingest
    ``batches`` if given."""
    pays = select(
        _pay.c.payment_id,
        _pay.c.invoice_id,
        _pay.c.paid_on,
        _pay.c.amount,
        func.sum(_pay.c.amount)
        .over(partition_by=_pay.c.invoice_id, order_by=(_pay.c.paid_on, _pay.c.payment_id))
        .label("running"),
    ).where(_pay.c.invoice_id.is_not(None))
    if paid_until is not None:
        pays = pays.where(_pay.c.paid_on <= paid_until)
    return pays if batches is None else pays.where(_pay.c.batch_id.in_(batches))


def amounts_due(batches: list[int] | None = None) -> Select:
    """Each invoice with its amount due: the sum of its lines (0 without lines); only the
    invoices and lines of the ingest ``batches`` if given."""
    on = _line.c.invoice_id == _inv.c.invoice_id
    if batches is not None:
        on = and_(on, _line.c.batch_id.in_(batches))
    q = (
        select(
            _inv.c.invoice_id,
            _inv.c.customer_id,
            _inv.c.invoice_date,
            _inv.c.due_date,
            cents(func.coalesce(func.sum(_line.c.amount), 0)).label("amount_due"),
        )
        .select_from(_inv.outerjoin(_line, on))
        .group_by(_inv.c.invoice_id, _inv.c.customer_id, _inv.c.invoice_date, _inv.c.due_date)
    )
    return q if batches is None else q.where(_inv.c.batch_id.in_(batches))


def invoice_select(due: Select | None = None, pays: Select | None = None) -> Select:
    """One row per invoice with its state (:data:`INVOICE_COLUMNS`): ``due`` as
    :func:`amounts_due` gives it and ``pays`` as :func:`payments_running` (cut at a date
    or narrowed to some invoices by the caller; all of them by default)."""
    d = (due if due is not None else amounts_due()).subquery("d")
    p = (pays if pays is not None else payments_running()).subquery("p")
    settled = reaches_due(d.c.amount_due, p.c.running)
    return (
        select(
            d.c.invoice_id,
            d.c.customer_id,
            d.c.invoice_date,
            d.c.due_date,
            d.c.amount_due,
            paid(p.c.amount).label("paid_amount"),
            paid_by_due(p.c.amount, p.c.paid_on, d.c.due_date).label("paid_by_due"),
            func.min(case((settled, p.c.paid_on))).label("settled_on"),
            func.max(p.c.paid_on).label("last_paid_on"),
            day_number(d.c.invoice_date).label("invoice_day"),
            day_number(d.c.due_date).label("due_day"),
            day_number(func.min(case((settled, p.c.paid_on)))).label("settled_day"),
        )
        .select_from(d.outerjoin(p, p.c.invoice_id == d.c.invoice_id))
        .group_by(d.c.invoice_id, d.c.customer_id, d.c.invoice_date, d.c.due_date, d.c.amount_due)
    )


# The monthly roll-up's columns, in order.
MONTH_COLUMNS = ["customer_id", "month", "invoice_count", "last_invoice_date", "paid_amount"]
MONTH_COLUMNS += ["settled_count", "settled_due", "settled_timed", "settled_on_time"]
MONTH_COLUMNS += ["settled_days_late", "settled_late", "settled_late_amount_days"]
MONTH_COLUMNS += ["amount_due", "amount_due_positive"]


def invoice_month_select(f) -> Select:
    """Invoices of ``f`` per customer and invoice month (:data:`MONTH_COLUMNS`): counts,
    paid, what the settled ones contribute to collection and timeliness, and the
    amounts due (all, and of those with :func:`something_due`)."""
    settled, timed, late = is_settled(f), is_timed(f), settled_late(f)
    month = month_start(f.c.invoice_date)

    def count(cond):
        return func.sum(case((cond, 1), else_=0))

    return select(
        f.c.customer_id,
        month.label("month"),
        func.count().label("invoice_count"),
        func.max(f.c.invoice_date).label("last_invoice_date"),
        cents(func.sum(f.c.paid_amount)).label("paid_amount"),
        count(settled).label("settled_count"),
        cents(func.coalesce(func.sum(case((settled, f.c.amount_due))), 0)).label("settled_due"),
        count(timed).label("settled_timed"),
        count(settled_on_time(f)).label("settled_on_time"),
        func.coalesce(func.sum(case((late, settled_days_late(f)))), 0).label("settled_days_late"),
        count(late).label("settled_late"),
        cents(
            func.coalesce(func.sum(case((late, f.c.amount_due * settled_days_late(f)))), 0)
        ).label("settled_late_amount_days"),
        cents(func.sum(f.c.amount_due)).label("amount_due"),
        cents(func.coalesce(func.sum(case((something_due(f), f.c.amount_due))), 0)).label(
            "amount_due_positive"
        ),
    ).group_by(f.c.customer_id, month)


# The open-invoice roll-up's columns, in order.
OPEN_COLUMNS = ["invoice_id", "customer_id", "invoice_date", "amount_due", "paid_capped"]
OPEN_COLUMNS += ["open_amount", "due_day", "overdue_day"]


def open_invoice_select(f) -> Select:
    """The open (unsettled) invoices of ``f`` with what ageing needs and no as-of date
    changes (:data:`OPEN_COLUMNS`).

    The condition is on ``settled_day + 0``, which no index serves: on the rebuilt
    months SQLite otherwise walked the settled_day index over all 334,000 open
    invoices (0.34 s) instead of reaching the few rebuilt ones from the work list.
    """
    return select(
        f.c.invoice_id,
        f.c.customer_id,
        f.c.invoice_date,
        f.c.amount_due,
        paid_capped(f).label("paid_capped"),
        open_amount(f).label("open_amount"),
        f.c.due_day,
        overdue_day(f).label("overdue_day"),
    ).where((f.c.settled_day + 0).is_(None))  # "+ 0": see the docstring


APPLIED_COLUMNS = ["customer_id", "month", "applied"]


def applied_on(paid_on, invoice_date):
    """The day a payment applies to its invoice: its payment date, or the invoice's date
    when it was paid before (a payment never takes off what is not yet invoiced)."""
    return case((paid_on < invoice_date, invoice_date), else_=paid_on)


def applying_from(i, day) -> ColumnElement[bool]:
    """Invoices ``i`` (per-invoice roll-up rows) whose payments can apply on or after
    ``day`` (:func:`applied_on`): paid on or after it, or invoiced on or after it and
    paid at all. Through the roll-up's indexes on the last payment and invoice days, it
    narrows a read of payments to those few invoices."""
    return (i.c.last_paid_on >= day) | ((i.c.invoice_date >= day) & i.c.last_paid_on.is_not(None))


def payments_applied_in_full(i, *where: ColumnElement[bool]) -> Select:
    """Per customer and month (:data:`APPLIED_COLUMNS`): what the payments applied that
    month (:func:`applied_on`) took off invoices ``i`` (rows of the per-invoice roll-up)
    with something due that their payments did not overpay: each payment in full (the
    payments of the ``where`` conditions, on ``i`` and ``payment``, only). An overpaid
    invoice's payments apply only up to what was due: see the DSO trend
    (models/dashboard/dso.py), which reads those apart."""
    month = month_start(applied_on(_pay.c.paid_on, i.c.invoice_date))
    return (
        select(
            i.c.customer_id, month.label("month"), cents(func.sum(_pay.c.amount)).label("applied")
        )
        .select_from(_pay.join(i, i.c.invoice_id == _pay.c.invoice_id))
        .where(something_due(i), i.c.paid_amount <= i.c.amount_due, *where)
        .group_by(i.c.customer_id, month)
    )
