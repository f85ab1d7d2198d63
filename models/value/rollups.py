"""Roll-ups of the fact tables, refreshed incrementally from newly committed batches.

Two derived tables feed every measure: ``sales_rollup`` (customer x product line
x month) and ``invoice_rollup`` (one row per invoice with what was paid and
when it was settled). The first step of each recompute finds the committed
batches the roll-ups do not include yet (``rollup_batch``), lists the customers
those batches touched (fact rows carry their ``batch_id``; amended rows name
their previous customer in ``ingest_change``), deletes those customers' roll-up
rows and rebuilds them, all set-based and in one transaction. New rows only
change the months they fall in, so a batch without amendments rebuilds each
touched customer from its first touched month on, and its sales only if it has new
invoices or lines (a payment changes no sale; on PostgreSQL the new lines are added to
their months' sales rows instead); a batch with amendments rebuilds the
touched customers' whole history. The first refresh fills every
roll-up with one INSERT ... SELECT each. On PostgreSQL the roll-ups are UNLOGGED
(migration 0028): a database crash empties them together with ``rollup_batch``, so the
next refresh is a first one again; what reads them outside the recompute asks
:func:`rolled_up` first.

Each invoice's row holds its payment state as :mod:`invoice_state` defines it; the
work list of touched customers and changed invoices is in :mod:`worklist`, the window
tables built on these roll-ups in :mod:`window_tables`, the database tuning the large
statements need in :mod:`dbtuning`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    Connection,
    Select,
    case,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from models.schema import (
    BatchStatus,
    IngestBatch,
    Invoice,
    InvoiceLine,
    InvoiceMonthRollup,
    InvoiceRollup,
    OpenInvoiceRollup,
    Payment,
    PaymentMonthRollup,
    RollupBatch,
    SalesRollup,
)

from .dbtuning import (
    analyze,
    analyze_stale_facts,
    by_customer,
    summarize_batch_indexes,
    tune_for_aggregates,
)
from .invoice_state import (
    APPLIED_COLUMNS,
    INVOICE_COLUMNS,
    MONTH_COLUMNS,
    OPEN_COLUMNS,
    amounts_due,
    applied_on,
    applying_from,
    invoice_month_select,
    invoice_select,
    open_invoice_select,
    payments_applied_in_full,
    payments_running,
)
from .sqlfuncs import date_value, month_start, whole_cents
from .window_tables import clear_windows, rebuild_windows
from .worklist import (
    CHANGED,
    DIRTY,
    analyze_work_list,
    delete_since,
    invoices_since,
    mark_dirty,
    on_since,
)

SALES = SalesRollup.__table__
INVOICES = InvoiceRollup.__table__
INVOICE_MONTHS = InvoiceMonthRollup.__table__
OPEN_INVOICES = OpenInvoiceRollup.__table__
APPLIED = PaymentMonthRollup.__table__
_inv, _line, _pay = Invoice.__table__, InvoiceLine.__table__, Payment.__table__


@dataclass(frozen=True)
class RollupRefresh:
    """What one refresh did: the batches it applied and the customers it rebuilt."""

    batch_ids: list[int]
    customers_rebuilt: int
    full_rebuild: bool
    # The customers an incremental refresh rebuilt (empty after a full one: everyone).
    rebuilt: frozenset[str] = frozenset()
    # Of those, the ones whose sales were rebuilt too: the customers with new invoices or
    # lines (payments change no sale). Empty after a full refresh (everyone's).
    sales_rebuilt: frozenset[str] = frozenset()

    def rebuilt_in(self, window: str) -> frozenset[str]:
        """The customers whose rows in window table ``window`` (models/value/window_tables.py)
        the refresh rebuilt: the sales window reads only the sales roll-up."""
        return self.sales_rebuilt if window == "sales" else self.rebuilt

    def summary(self) -> dict:
        """The result as plain values (for logs and flow results)."""
        return {
            "batches": self.batch_ids,
            "customers_rebuilt": self.customers_rebuilt,
            "full_rebuild": self.full_rebuild,
        }


def sales_select(
    *,
    dirty_from: date | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    batches: list[int] | None = None,
) -> Select:
    """Lines aggregated to customer x product line x month (roll-up columns, in order;
    money in whole cents);
    with ``dirty_from`` (the work list's earliest sales month), only the work list's sales
    months; with ``batches``, only the lines those ingest batches wrote."""
    month = month_start(_inv.c.invoice_date)
    costed = _line.c.cost.is_not(None)
    q = (
        select(
            _inv.c.customer_id,
            _line.c.product_line_id,
            month.label("month"),
            whole_cents(func.sum(_line.c.amount)).label("revenue"),
            whole_cents(func.sum(_line.c.cost)).label("cost"),
            whole_cents(func.sum(case((costed, _line.c.amount)))).label("revenue_costed"),
            func.count().label("line_count"),
        )
        .select_from(_line.join(_inv, _line.c.invoice_id == _inv.c.invoice_id))
        .group_by(_inv.c.customer_id, _line.c.product_line_id, month)
    )
    if dirty_from is not None:
        on = on_since(_inv.c.customer_id, _inv.c.invoice_date, dirty_from, DIRTY.c.sales_since)
        q = q.join(DIRTY, on)
    if date_from is not None:
        q = q.where(_inv.c.invoice_date >= date_from)
    if date_to is not None:
        q = q.where(_inv.c.invoice_date <= date_to)
    if batches is not None:
        q = q.where(_line.c.batch_id.in_(batches))
    return q


def _known_sum(stored, added):
    """Two sums that are NULL when nothing was known, added: NULL only if both are."""
    return func.coalesce(stored + added, stored, added)


def add_new_sales(conn: Connection, batch_ids: list[int]) -> None:
    """Add the lines of batches that amended nothing to the sales roll-up.

    Without amendments a batch's lines are all new rows (a changed line is an amendment),
    and each roll-up column is a sum or a count, exact in whole cents: adding the
    batches' own sums to their months' rows gives what rebuilding those months gives. So
    a night reads its ~34,000 lines, not every line of the touched customers' month
    (1.9 s of delete and rebuild for a third of the customers at 10M lines). PostgreSQL
    only: it stores each line in whole cents (NUMERIC(18, 2)), so a batch's sum in whole
    cents is exact; SQLite keeps an amount as given, where rounding each batch's part
    could differ from rounding the month's sum once by a cent."""
    new = by_customer(conn, sales_select(batches=batch_ids))
    stmt = pg_insert(SALES).from_select(_SALES_COLS, new)
    s, added = SALES.c, stmt.excluded
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[s.customer_id, s.product_line_id, s.month],
            set_={
                "revenue": s.revenue + added.revenue,
                "cost": _known_sum(s.cost, added.cost),
                "revenue_costed": _known_sum(s.revenue_costed, added.revenue_costed),
                "line_count": s.line_count + added.line_count,
            },
        )
    )


def invoice_rows(*, dirty_from: date | None = None, changed: bool = False) -> Select:
    """Each invoice's state (:func:`invoice_state.invoice_select`) from the facts; with
    ``dirty_from`` (the work list's earliest month), only the work list's invoices; with
    ``changed``, only the changed invoices' (``CHANGED``)."""
    due, pays = amounts_due(), payments_running()
    if changed:
        due = due.where(_inv.c.invoice_id.in_(select(CHANGED.c.invoice_id)))
        pays = pays.where(_pay.c.invoice_id.in_(select(CHANGED.c.invoice_id)))
    elif dirty_from is not None:
        due = due.join(DIRTY, on_since(_inv.c.customer_id, _inv.c.invoice_date, dirty_from))
        pays = pays.where(_pay.c.invoice_id.in_(invoices_since(dirty_from)))
    return invoice_select(due, pays)


_SALES_COLS = ["customer_id", "product_line_id", "month", "revenue", "cost", "revenue_costed"]
_SALES_COLS += ["line_count"]


def _new_batches(conn: Connection) -> list[int]:
    applied = select(RollupBatch.batch_id)
    rows = conn.execute(
        select(IngestBatch.batch_id)
        .where(IngestBatch.status == BatchStatus.COMMITTED)
        .where(IngestBatch.batch_id.not_in(applied))
        .order_by(IngestBatch.batch_id)
    )
    return [r[0] for r in rows]


def refresh_rollups(conn: Connection) -> RollupRefresh:
    """Bring the roll-ups up to date with every committed batch (call inside a transaction)."""
    batch_ids = _new_batches(conn)
    if not batch_ids:
        return RollupRefresh([], 0, False)
    tune_for_aggregates(conn)
    analyze_stale_facts(conn)
    summarize_batch_indexes(conn)
    full = not rolled_up(conn)  # nothing rolled up yet, or a crash emptied the roll-ups
    if full:
        # First refresh: rebuild everything in two straight INSERT ... SELECTs.
        clear_windows(conn)
        conn.execute(delete(SALES))
        conn.execute(delete(INVOICES))
        conn.execute(insert(SALES).from_select(_SALES_COLS, by_customer(conn, sales_select())))
        invoices = by_customer(conn, invoice_rows())
        conn.execute(insert(INVOICES).from_select(INVOICE_COLUMNS, invoices))
        conn.execute(delete(INVOICE_MONTHS))
        months = by_customer(conn, invoice_month_select(INVOICES))
        conn.execute(insert(INVOICE_MONTHS).from_select(MONTH_COLUMNS, months))
        conn.execute(delete(OPEN_INVOICES))
        conn.execute(insert(OPEN_INVOICES).from_select(OPEN_COLUMNS, open_invoice_select(INVOICES)))
        conn.execute(delete(APPLIED))
        applied = by_customer(conn, payments_applied_in_full(INVOICES))
        conn.execute(insert(APPLIED).from_select(APPLIED_COLUMNS, applied))
        rebuilt = conn.scalar(select(func.count(func.distinct(INVOICES.c.customer_id)))) or 0
        customers: frozenset[str] = frozenset()  # everyone: see RollupRefresh.rebuilt
        sales_customers: frozenset[str] = frozenset()
    else:
        rebuilt, per_invoice = mark_dirty(conn, batch_ids)
        touched = select(DIRTY.c.customer_id)
        sold = touched.where(DIRTY.c.sales_since.is_not(None))
        if rebuilt:
            _rebuild_since(conn, batch_ids, per_invoice)
            # Each window table's rows of the customers whose roll-up rows it reads changed
            # (as RollupRefresh.rebuilt_in says).
            rebuild_windows(
                conn,
                lambda name, customer_id: customer_id.in_(sold if name == "sales" else touched),
            )
        customers = frozenset(conn.scalars(touched))
        sales_customers = frozenset(conn.scalars(sold))
        DIRTY.drop(conn)
        if per_invoice:
            CHANGED.drop(conn)
    conn.execute(
        insert(RollupBatch.__table__),
        [{"batch_id": b} for b in batch_ids],
    )
    if full:
        # After an incremental refresh the statistics still hold (autovacuum catches up).
        rolled = ("sales_rollup", "invoice_rollup", "invoice_month_rollup", "payment_month_rollup")
        analyze(conn, rolled)
    return RollupRefresh(batch_ids, int(rebuilt), full, customers, sales_customers)


def _rebuild_since(conn: Connection, batch_ids: list[int], per_invoice: bool) -> None:
    """Delete and rebuild the work list's months of the roll-ups; with ``per_invoice``
    (no amendments), only the changed invoices' rows of the per-invoice roll-ups
    (``CHANGED``), and on PostgreSQL the batches' lines added to the sales roll-up."""
    analyze_work_list(conn, DIRTY.name)
    earliest = conn.execute(select(func.min(DIRTY.c.since), func.min(DIRTY.c.sales_since)))
    first_day, first_sale = map(_day, earliest.one())
    assert first_day is not None  # called with a work list: ``since`` is never NULL
    first: date = first_day
    if first_sale is not None and per_invoice and conn.dialect.name == "postgresql":
        add_new_sales(conn, batch_ids)
    elif first_sale is not None:
        delete_since(conn, SALES, "month", first_sale, DIRTY.c.sales_since)
        sales = by_customer(conn, sales_select(dirty_from=first_sale))
        conn.execute(insert(SALES).from_select(_SALES_COLS, sales))
    changed = select(CHANGED.c.invoice_id)
    if per_invoice:
        analyze_work_list(conn, CHANGED.name)
        conn.execute(delete(INVOICES).where(INVOICES.c.invoice_id.in_(changed)))
    else:
        delete_since(conn, INVOICES, "invoice_date", first)
    invoices = by_customer(conn, invoice_rows(dirty_from=first, changed=per_invoice))
    conn.execute(insert(INVOICES).from_select(INVOICE_COLUMNS, invoices))
    m = INVOICE_MONTHS
    delete_since(conn, m, "month", first)
    since_first = select(INVOICES).join(
        DIRTY, on_since(INVOICES.c.customer_id, INVOICES.c.invoice_date, first)
    )
    months = by_customer(conn, invoice_month_select(since_first.subquery("inv")))
    conn.execute(insert(m).from_select(MONTH_COLUMNS, months))
    if per_invoice:
        conn.execute(delete(OPEN_INVOICES).where(OPEN_INVOICES.c.invoice_id.in_(changed)))
        rebuilt = select(INVOICES).where(INVOICES.c.invoice_id.in_(changed))
    else:
        delete_since(conn, OPEN_INVOICES, "invoice_date", first)
        rebuilt = since_first
    rebuilt_open = open_invoice_select(rebuilt.subquery("inv"))
    conn.execute(insert(OPEN_INVOICES).from_select(OPEN_COLUMNS, rebuilt_open))
    _rebuild_applied(conn, first)


def _rebuild_applied(conn: Connection, first: date) -> None:
    """The work list's months of the payments applied per month: every change a batch
    makes to an invoice (its lines, its payments) moves only what its payments applied,
    which is never before the invoice's month, so from ``since`` on. Those months also
    hold older invoices paid since, read again with them (:func:`applying_from`)."""
    delete_since(conn, APPLIED, "month", first)
    i = INVOICES
    since = DIRTY.c.since
    rows = payments_applied_in_full(
        i,
        applied_on(_pay.c.paid_on, i.c.invoice_date) >= since,
        applying_from(i, since),
        applying_from(i, date_value(first)),  # implied; a constant the planner can weigh
    ).join(DIRTY, DIRTY.c.customer_id == i.c.customer_id)
    conn.execute(insert(APPLIED).from_select(APPLIED_COLUMNS, by_customer(conn, rows)))


def _day(value) -> date | None:
    """A date as the database returned it (SQLite: ISO text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def rolled_up(conn: Connection) -> bool:
    """Whether the roll-ups hold anything: not before the first refresh, nor after a
    database crash, which empties them (they are UNLOGGED on PostgreSQL, migration 0028)
    until the next recompute rebuilds them whole."""
    return conn.scalar(select(RollupBatch.batch_id).limit(1)) is not None


def applied_batches(conn: Connection) -> list[int]:
    """The committed batches the roll-ups include (a snapshot's provenance)."""
    return [r[0] for r in conn.execute(select(RollupBatch.batch_id).order_by(RollupBatch.batch_id))]
