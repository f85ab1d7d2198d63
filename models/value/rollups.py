"""Roll-ups of the fact tables, refreshed incrementally from newly committed batches.

Two derived tables feed every measure: ``sales_rollup`` (customer x product line
x month) and ``invoice_rollup`` (one row per invoice with what was paid and
when it was settled). The first step of each recompute finds the committed
batches the roll-ups do not include yet (``rollup_batch``), lists the customers
those batches touched (fact rows carry their ``batch_id``; amended rows name
their previous customer in ``ingest_change``), deletes those customers' roll-up
rows and rebuilds them, all set-based and in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    Connection,
    Select,
    and_,
    case,
    delete,
    func,
    insert,
    select,
    union,
)

from models.schema import (
    BatchStatus,
    IngestBatch,
    IngestChange,
    Invoice,
    InvoiceLine,
    InvoiceMonthRollup,
    InvoiceRollup,
    Payment,
    RollupBatch,
    RollupDirtyCustomer,
    SalesRollup,
)

from .sqlfuncs import day_number, month_start

SALES = SalesRollup.__table__
INVOICES = InvoiceRollup.__table__
INVOICE_MONTHS = InvoiceMonthRollup.__table__
_inv, _line, _pay = Invoice.__table__, InvoiceLine.__table__, Payment.__table__
_dirty = RollupDirtyCustomer.__table__


def _cents(expr):
    # SQLite sums money as REAL: 0.10 + 0.20 is 0.30000000000000004. Rounding every
    # stored sum to cents makes comparisons (paid >= due) agree with PostgreSQL's NUMERIC.
    return func.round(expr, 2)


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh did: the batches it applied and the customers it rebuilt."""

    batch_ids: list[int]
    customers_rebuilt: int
    full_rebuild: bool


def sales_select(
    *, dirty_only: bool = False, date_from: date | None = None, date_to: date | None = None
) -> Select:
    """Lines aggregated to customer x product line x month (roll-up columns, in order)."""
    month = month_start(_inv.c.invoice_date)
    costed = _line.c.cost.is_not(None)
    q = (
        select(
            _inv.c.customer_id,
            _line.c.product_line_id,
            month.label("month"),
            _cents(func.sum(_line.c.amount)).label("revenue"),
            _cents(func.sum(_line.c.cost)).label("cost"),
            _cents(func.sum(case((costed, _line.c.amount)))).label("revenue_costed"),
            func.count().label("line_count"),
        )
        .select_from(_line.join(_inv, _line.c.invoice_id == _inv.c.invoice_id))
        .group_by(_inv.c.customer_id, _line.c.product_line_id, month)
    )
    if dirty_only:
        q = q.where(_inv.c.customer_id.in_(select(_dirty.c.customer_id)))
    if date_from is not None:
        q = q.where(_inv.c.invoice_date >= date_from)
    if date_to is not None:
        q = q.where(_inv.c.invoice_date <= date_to)
    return q


def invoice_select(*, dirty_only: bool = False, paid_until: date | None = None) -> Select:
    """One row per invoice: amount due, paid (by ``paid_until`` if given), settlement date."""
    due = (
        select(
            _inv.c.invoice_id,
            _inv.c.customer_id,
            _inv.c.invoice_date,
            _inv.c.due_date,
            _cents(func.coalesce(func.sum(_line.c.amount), 0)).label("amount_due"),
        )
        .select_from(_inv.outerjoin(_line, _line.c.invoice_id == _inv.c.invoice_id))
        .group_by(_inv.c.invoice_id, _inv.c.customer_id, _inv.c.invoice_date, _inv.c.due_date)
    )
    pays = select(
        _pay.c.invoice_id,
        _pay.c.paid_on,
        _pay.c.amount,
        # Running total in value-date order: the settlement day is the first day it
        # reaches the amount due (ties broken by payment id, so it is deterministic).
        func.sum(_pay.c.amount)
        .over(partition_by=_pay.c.invoice_id, order_by=(_pay.c.paid_on, _pay.c.payment_id))
        .label("running"),
    ).where(_pay.c.invoice_id.is_not(None))
    if dirty_only:
        due = due.where(_inv.c.customer_id.in_(select(_dirty.c.customer_id)))
        pays = pays.where(
            _pay.c.invoice_id.in_(
                select(_inv.c.invoice_id).where(
                    _inv.c.customer_id.in_(select(_dirty.c.customer_id))
                )
            )
        )
    if paid_until is not None:
        pays = pays.where(_pay.c.paid_on <= paid_until)
    d, p = due.subquery("d"), pays.subquery("p")
    settled = and_(d.c.amount_due > 0, _cents(p.c.running) >= d.c.amount_due)
    return (
        select(
            d.c.invoice_id,
            d.c.customer_id,
            d.c.invoice_date,
            d.c.due_date,
            d.c.amount_due,
            _cents(func.coalesce(func.sum(p.c.amount), 0)).label("paid_amount"),
            _cents(
                func.coalesce(func.sum(case((p.c.paid_on <= d.c.due_date, p.c.amount))), 0)
            ).label("paid_by_due"),
            func.min(case((settled, p.c.paid_on))).label("settled_on"),
            func.max(p.c.paid_on).label("last_paid_on"),
            day_number(d.c.invoice_date).label("invoice_day"),
            day_number(d.c.due_date).label("due_day"),
            day_number(func.min(case((settled, p.c.paid_on)))).label("settled_day"),
        )
        .select_from(d.outerjoin(p, p.c.invoice_id == d.c.invoice_id))
        .group_by(d.c.invoice_id, d.c.customer_id, d.c.invoice_date, d.c.due_date, d.c.amount_due)
    )


def invoice_month_select(f) -> Select:
    """Invoices of ``f`` (roll-up columns) per customer and invoice month: counts, paid,
    and what the settled ones contribute to collection and timeliness."""
    settled = f.c.settled_day.is_not(None)  # settled implies an amount due above zero
    timed = and_(settled, f.c.due_day.is_not(None))
    late = and_(timed, f.c.settled_day > f.c.due_day)
    month = month_start(f.c.invoice_date)
    return select(
        f.c.customer_id,
        month.label("month"),
        func.count().label("invoice_count"),
        func.max(f.c.invoice_date).label("last_invoice_date"),
        _cents(func.sum(f.c.paid_amount)).label("paid_amount"),
        func.sum(case((settled, 1), else_=0)).label("settled_count"),
        _cents(func.coalesce(func.sum(case((settled, f.c.amount_due))), 0)).label("settled_due"),
        func.sum(case((timed, 1), else_=0)).label("settled_timed"),
        func.sum(case((and_(timed, f.c.settled_day <= f.c.due_day), 1), else_=0)).label(
            "settled_on_time"
        ),
        func.coalesce(func.sum(case((late, f.c.settled_day - f.c.due_day))), 0).label(
            "settled_days_late"
        ),
        func.sum(case((late, 1), else_=0)).label("settled_late"),
        _cents(
            func.coalesce(
                func.sum(case((late, f.c.amount_due * (f.c.settled_day - f.c.due_day)))), 0
            )
        ).label("settled_late_amount_days"),
    ).group_by(f.c.customer_id, month)


_MONTH_COLS = ["customer_id", "month", "invoice_count", "last_invoice_date", "paid_amount"]
_MONTH_COLS += ["settled_count", "settled_due", "settled_timed", "settled_on_time"]
_MONTH_COLS += ["settled_days_late", "settled_late", "settled_late_amount_days"]


_SALES_COLS = ["customer_id", "product_line_id", "month", "revenue", "cost", "revenue_costed"]
_SALES_COLS += ["line_count"]
_INVOICE_COLS = ["invoice_id", "customer_id", "invoice_date", "due_date", "amount_due"]
_INVOICE_COLS += ["paid_amount", "paid_by_due", "settled_on", "last_paid_on", "invoice_day"]
_INVOICE_COLS += ["due_day", "settled_day"]


def _new_batches(conn: Connection) -> list[int]:
    applied = select(RollupBatch.batch_id)
    rows = conn.execute(
        select(IngestBatch.batch_id)
        .where(IngestBatch.status == BatchStatus.COMMITTED)
        .where(IngestBatch.batch_id.not_in(applied))
        .order_by(IngestBatch.batch_id)
    )
    return [r[0] for r in rows]


def _mark_dirty(conn: Connection, batch_ids: list[int]) -> int:
    touched = union(
        select(_inv.c.customer_id).where(_inv.c.batch_id.in_(batch_ids)),
        select(_inv.c.customer_id)
        .select_from(_line.join(_inv, _line.c.invoice_id == _inv.c.invoice_id))
        .where(_line.c.batch_id.in_(batch_ids)),
        select(_pay.c.customer_id).where(_pay.c.batch_id.in_(batch_ids)),
        # Payments name the invoice's customer through the invoice as well.
        select(_inv.c.customer_id)
        .select_from(_pay.join(_inv, _pay.c.invoice_id == _inv.c.invoice_id))
        .where(_pay.c.batch_id.in_(batch_ids)),
        select(IngestChange.previous_customer_id)
        .where(IngestChange.batch_id.in_(batch_ids))
        .where(IngestChange.previous_customer_id.is_not(None)),
    ).subquery()
    conn.execute(delete(_dirty))
    conn.execute(
        insert(_dirty).from_select(["customer_id"], select(touched.c[0]).distinct()),
    )
    return conn.scalar(select(func.count()).select_from(_dirty)) or 0


def refresh_rollups(conn: Connection) -> RefreshResult:
    """Bring the roll-ups up to date with every committed batch (call inside a transaction)."""
    batch_ids = _new_batches(conn)
    if not batch_ids:
        return RefreshResult([], 0, False)
    full = conn.scalar(select(func.count()).select_from(RollupBatch.__table__)) == 0
    if full:
        # First refresh: rebuild everything in two straight INSERT ... SELECTs.
        conn.execute(delete(SALES))
        conn.execute(delete(INVOICES))
        conn.execute(insert(SALES).from_select(_SALES_COLS, sales_select()))
        conn.execute(insert(INVOICES).from_select(_INVOICE_COLS, invoice_select()))
        conn.execute(delete(INVOICE_MONTHS))
        conn.execute(
            insert(INVOICE_MONTHS).from_select(_MONTH_COLS, invoice_month_select(INVOICES))
        )
        rebuilt = conn.scalar(select(func.count(func.distinct(INVOICES.c.customer_id)))) or 0
    else:
        rebuilt = _mark_dirty(conn, batch_ids)
        analyze(conn, ("rollup_dirty_customer",))
        dirty = select(_dirty.c.customer_id)
        conn.execute(delete(SALES).where(SALES.c.customer_id.in_(dirty)))
        conn.execute(delete(INVOICES).where(INVOICES.c.customer_id.in_(dirty)))
        conn.execute(insert(SALES).from_select(_SALES_COLS, sales_select(dirty_only=True)))
        conn.execute(insert(INVOICES).from_select(_INVOICE_COLS, invoice_select(dirty_only=True)))
        conn.execute(delete(INVOICE_MONTHS).where(INVOICE_MONTHS.c.customer_id.in_(dirty)))
        months = invoice_month_select(INVOICES).where(INVOICES.c.customer_id.in_(dirty))
        conn.execute(insert(INVOICE_MONTHS).from_select(_MONTH_COLS, months))
        conn.execute(delete(_dirty))
    conn.execute(
        insert(RollupBatch.__table__),
        [{"batch_id": b} for b in batch_ids],
    )
    analyze(conn, ("sales_rollup", "invoice_rollup", "invoice_month_rollup"))
    return RefreshResult(batch_ids, int(rebuilt), full)


def analyze(conn: Connection, tables: tuple[str, ...]) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk write (a no-op on SQLite).

    Right after a bulk load the planner still believes the tables are tiny and can
    pick nested loops that take minutes; ANALYZE of a few tables takes milliseconds.
    """
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.quote
    for name in tables:  # our own table names, never input
        conn.exec_driver_sql(f"ANALYZE {quote(name)}")


def applied_batches(conn: Connection) -> list[int]:
    """The committed batches the roll-ups include (a snapshot's provenance)."""
    return [r[0] for r in conn.execute(select(RollupBatch.batch_id).order_by(RollupBatch.batch_id))]
