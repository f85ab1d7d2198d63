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
invoices or lines (a payment changes no sale); a batch with amendments rebuilds the
touched customers' whole history. The first refresh fills every
roll-up with one INSERT ... SELECT each.

Each invoice's row holds its payment state as :mod:`invoice_state` defines it; the
window tables built on these roll-ups are in :mod:`window_tables`, the database tuning
the large statements need in :mod:`dbtuning`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    Column,
    Connection,
    Date,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    union,
    union_all,
)

from models.schema import (
    BatchStatus,
    IngestBatch,
    IngestChange,
    Invoice,
    InvoiceLine,
    InvoiceMonthRollup,
    InvoiceRollup,
    OpenInvoiceRollup,
    Payment,
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
    INVOICE_COLUMNS,
    MONTH_COLUMNS,
    OPEN_COLUMNS,
    amounts_due,
    invoice_month_select,
    invoice_select,
    open_invoice_select,
    payments_running,
)
from .sqlfuncs import cents, month_start
from .window_tables import clear_windows, rebuild_windows

SALES = SalesRollup.__table__
INVOICES = InvoiceRollup.__table__
INVOICE_MONTHS = InvoiceMonthRollup.__table__
OPEN_INVOICES = OpenInvoiceRollup.__table__
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


# Work list of one incremental refresh (a temporary table, per connection): each touched
# customer and the first month whose roll-up rows are rebuilt: ``since`` for the invoices'
# roll-ups, ``sales_since`` for the sales roll-up (NULL: none of its sales changed). New
# invoices, lines and payments only change the months they (or the invoices they pay)
# fall in, so a batch of new data rebuilds a month or two of each customer's history, not
# all of it, and a payment changes no sale: a night's payments to ~7,000 customers who
# bought nothing that night (at 10M lines) rebuild their invoices' months only.
# Amendments (ingest_change rows) rebuild the whole history of old and new owners.
_since = Table(
    "rollup_dirty_since",
    MetaData(),
    Column("customer_id", String(64), primary_key=True),
    Column("since", Date, nullable=False),
    Column("sales_since", Date, nullable=True),
    prefixes=["TEMPORARY"],
)
_WHOLE_HISTORY = date(1, 1, 1)
# The invoices a batch without amendments changed (new, or with new lines or payments):
# an invoice's roll-up rows depend on its own lines and payments only, so just these are
# rebuilt in the per-invoice roll-ups, not every invoice of the rebuilt months (at 10M
# lines a night's ~23,000 invoices instead of ~250,000).
_changed = Table(
    "rollup_dirty_invoice",
    MetaData(),
    Column("invoice_id", String(64), primary_key=True),
    prefixes=["TEMPORARY"],
)


def _dirty_since(customer_id, day, since):
    """``customer_id`` is a dirty customer's and ``day`` is in its rebuilt months (from its
    work list column ``since``)."""
    first = select(since).where(_since.c.customer_id == customer_id).scalar_subquery()
    return and_(customer_id.in_(select(_since.c.customer_id)), day >= first)


def _on_since(customer_id, day, first: date, since=_since.c.since):
    """Join condition to the work list (its column ``since``): both columns lead the
    (customer, date) indexes, so the database reads only the rebuilt months, not the
    customer's whole history. ``first`` (the earliest ``since``) is redundant but a
    constant the planner can weigh: without it PostgreSQL guesses a third of all rows and
    scans whole tables. A NULL ``since`` joins nothing."""
    return and_(_since.c.customer_id == customer_id, day >= since, day >= first)


def _invoices_since(first: date):
    """The invoices of the rebuilt months (their ids), through the (customer, date) index."""
    return select(_inv.c.invoice_id).join_from(
        _inv, _since, _on_since(_inv.c.customer_id, _inv.c.invoice_date, first)
    )


def _delete_since(conn: Connection, table, day: str, first: date, since=_since.c.since) -> None:
    """Delete ``table``'s rows of the rebuilt months (from work list column ``since``)."""
    if conn.dialect.name == "postgresql":
        # DELETE ... USING lets PostgreSQL bound the index scan by the month as well.
        on = _on_since(table.c.customer_id, table.c[day], first, since)
        conn.execute(delete(table).where(on))
    else:
        conn.execute(delete(table).where(_dirty_since(table.c.customer_id, table.c[day], since)))


def sales_select(
    *, dirty_from: date | None = None, date_from: date | None = None, date_to: date | None = None
) -> Select:
    """Lines aggregated to customer x product line x month (roll-up columns, in order);
    with ``dirty_from`` (the work list's earliest sales month), only the work list's sales
    months."""
    month = month_start(_inv.c.invoice_date)
    costed = _line.c.cost.is_not(None)
    q = (
        select(
            _inv.c.customer_id,
            _line.c.product_line_id,
            month.label("month"),
            cents(func.sum(_line.c.amount)).label("revenue"),
            cents(func.sum(_line.c.cost)).label("cost"),
            cents(func.sum(case((costed, _line.c.amount)))).label("revenue_costed"),
            func.count().label("line_count"),
        )
        .select_from(_line.join(_inv, _line.c.invoice_id == _inv.c.invoice_id))
        .group_by(_inv.c.customer_id, _line.c.product_line_id, month)
    )
    if dirty_from is not None:
        on = _on_since(_inv.c.customer_id, _inv.c.invoice_date, dirty_from, _since.c.sales_since)
        q = q.join(_since, on)
    if date_from is not None:
        q = q.where(_inv.c.invoice_date >= date_from)
    if date_to is not None:
        q = q.where(_inv.c.invoice_date <= date_to)
    return q


def invoice_rows(*, dirty_from: date | None = None, changed: bool = False) -> Select:
    """Each invoice's state (:func:`invoice_state.invoice_select`) from the facts; with
    ``dirty_from`` (the work list's earliest month), only the work list's invoices; with
    ``changed``, only the changed invoices' (``_changed``)."""
    due, pays = amounts_due(), payments_running()
    if changed:
        due = due.where(_inv.c.invoice_id.in_(select(_changed.c.invoice_id)))
        pays = pays.where(_pay.c.invoice_id.in_(select(_changed.c.invoice_id)))
    elif dirty_from is not None:
        due = due.join(_since, _on_since(_inv.c.customer_id, _inv.c.invoice_date, dirty_from))
        pays = pays.where(_pay.c.invoice_id.in_(_invoices_since(dirty_from)))
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


def _mark_dirty(conn: Connection, batch_ids: list[int]) -> tuple[int, bool]:
    """Fill the work list: each customer the batches touched, from its first touched month
    (or its whole history when the batches amended rows), and from its first month whose
    sales changed (none when only payments touched it); and, when the batches amended
    nothing, the list of changed invoices. Returns how many customers, and whether the
    invoices' list was made."""
    amended = conn.scalar(
        select(func.count()).select_from(IngestChange).where(IngestChange.batch_id.in_(batch_ids))
    )
    month = literal(_WHOLE_HISTORY, Date) if amended else month_start(_inv.c.invoice_date)
    # The lines of an invoice the batches also wrote add nothing to that invoice's row
    # above; leaving them out first usually leaves no line at all, so the join to every
    # invoice is never run (3.3M rows read for 100k new lines at 10M lines). NOT IN a
    # subquery, which PostgreSQL hashes once: as an anti-join, the planner, estimating
    # one row for batches newer than its statistics, rescanned the batches' invoices
    # for each line (30 s for a night's 34,000 lines at 10M).
    batch_invoices = select(_inv.c.invoice_id).where(_inv.c.batch_id.in_(batch_ids))
    other_invoice = _line.c.invoice_id.not_in(batch_invoices)
    # With amendments every touched customer's sales are rebuilt too; otherwise a
    # payment changes the invoice it pays, in that invoice's month, and no sale.
    no_sale = month if amended else null().cast(Date)
    parts = [
        select(_inv.c.customer_id, month.label("since"), month.label("sales_since")).where(
            _inv.c.batch_id.in_(batch_ids)
        ),
        select(_inv.c.customer_id, month, month)
        .select_from(_line.join(_inv, _line.c.invoice_id == _inv.c.invoice_id))
        .where(_line.c.batch_id.in_(batch_ids), other_invoice),
        select(_inv.c.customer_id, month, no_sale)
        .select_from(_pay.join(_inv, _pay.c.invoice_id == _inv.c.invoice_id))
        .where(_pay.c.batch_id.in_(batch_ids)),
    ]
    if amended:
        whole = literal(_WHOLE_HISTORY, Date)
        parts.append(
            select(_pay.c.customer_id, whole, whole).where(_pay.c.batch_id.in_(batch_ids)),
        )
        parts.append(
            select(IngestChange.previous_customer_id, whole, whole)
            .where(IngestChange.batch_id.in_(batch_ids))
            .where(IngestChange.previous_customer_id.is_not(None))
        )
    touched = union_all(*parts).subquery()
    _since.create(conn)
    t = touched.c
    conn.execute(
        insert(_since).from_select(
            ["customer_id", "since", "sales_since"],
            select(t.customer_id, func.min(t.since), func.min(t.sales_since)).group_by(
                t.customer_id
            ),
        )
    )
    if not amended:
        _changed.create(conn)
        changed = union(
            select(_inv.c.invoice_id).where(_inv.c.batch_id.in_(batch_ids)),
            select(_line.c.invoice_id).where(_line.c.batch_id.in_(batch_ids)),
            select(_pay.c.invoice_id).where(
                _pay.c.batch_id.in_(batch_ids), _pay.c.invoice_id.is_not(None)
            ),
        ).subquery()
        conn.execute(insert(_changed).from_select(["invoice_id"], select(changed.c.invoice_id)))
    return conn.scalar(select(func.count()).select_from(_since)) or 0, not amended


def refresh_rollups(conn: Connection) -> RollupRefresh:
    """Bring the roll-ups up to date with every committed batch (call inside a transaction)."""
    batch_ids = _new_batches(conn)
    if not batch_ids:
        return RollupRefresh([], 0, False)
    tune_for_aggregates(conn)
    analyze_stale_facts(conn)
    summarize_batch_indexes(conn)
    full = conn.scalar(select(func.count()).select_from(RollupBatch.__table__)) == 0
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
        rebuilt = conn.scalar(select(func.count(func.distinct(INVOICES.c.customer_id)))) or 0
        customers: frozenset[str] = frozenset()  # everyone: see RollupRefresh.rebuilt
        sales_customers: frozenset[str] = frozenset()
    else:
        rebuilt, per_invoice = _mark_dirty(conn, batch_ids)
        touched = select(_since.c.customer_id)
        sold = touched.where(_since.c.sales_since.is_not(None))
        if rebuilt:
            _rebuild_since(conn, per_invoice)
            # Each window table's rows of the customers whose roll-up rows it reads changed
            # (as RollupRefresh.rebuilt_in says).
            rebuild_windows(
                conn,
                lambda name, customer_id: customer_id.in_(sold if name == "sales" else touched),
            )
        customers = frozenset(conn.scalars(touched))
        sales_customers = frozenset(conn.scalars(sold))
        _since.drop(conn)
        if per_invoice:
            _changed.drop(conn)
    conn.execute(
        insert(RollupBatch.__table__),
        [{"batch_id": b} for b in batch_ids],
    )
    if full:
        # After an incremental refresh the statistics still hold (autovacuum catches up).
        analyze(conn, ("sales_rollup", "invoice_rollup", "invoice_month_rollup"))
    return RollupRefresh(batch_ids, int(rebuilt), full, customers, sales_customers)


def _rebuild_since(conn: Connection, per_invoice: bool) -> None:
    """Delete and rebuild the work list's months of the roll-ups; with ``per_invoice``,
    only the changed invoices' rows of the per-invoice roll-ups (``_changed``)."""
    _analyze_work_list(conn, _since.name)
    earliest = conn.execute(select(func.min(_since.c.since), func.min(_since.c.sales_since)))
    first_day, first_sale = map(_day, earliest.one())
    assert first_day is not None  # called with a work list: ``since`` is never NULL
    first: date = first_day
    if first_sale is not None:
        _delete_since(conn, SALES, "month", first_sale, _since.c.sales_since)
        sales = by_customer(conn, sales_select(dirty_from=first_sale))
        conn.execute(insert(SALES).from_select(_SALES_COLS, sales))
    changed = select(_changed.c.invoice_id)
    if per_invoice:
        _analyze_work_list(conn, _changed.name)
        conn.execute(delete(INVOICES).where(INVOICES.c.invoice_id.in_(changed)))
    else:
        _delete_since(conn, INVOICES, "invoice_date", first)
    invoices = by_customer(conn, invoice_rows(dirty_from=first, changed=per_invoice))
    conn.execute(insert(INVOICES).from_select(INVOICE_COLUMNS, invoices))
    m = INVOICE_MONTHS
    _delete_since(conn, m, "month", first)
    since_first = select(INVOICES).join(
        _since, _on_since(INVOICES.c.customer_id, INVOICES.c.invoice_date, first)
    )
    months = by_customer(conn, invoice_month_select(since_first.subquery("inv")))
    conn.execute(insert(m).from_select(MONTH_COLUMNS, months))
    if per_invoice:
        conn.execute(delete(OPEN_INVOICES).where(OPEN_INVOICES.c.invoice_id.in_(changed)))
        rebuilt = select(INVOICES).where(INVOICES.c.invoice_id.in_(changed))
    else:
        _delete_since(conn, OPEN_INVOICES, "invoice_date", first)
        rebuilt = since_first
    rebuilt_open = open_invoice_select(rebuilt.subquery("inv"))
    conn.execute(insert(OPEN_INVOICES).from_select(OPEN_COLUMNS, rebuilt_open))


def _analyze_work_list(conn: Connection, name: str) -> None:
    """Statistics for work list ``name`` (a temporary table). Without them SQLite guesses a
    million rows for it as for any table, and walked the whole invoice index to probe the
    list (1.4 s instead of 0.4 s for 100k new lines at 10M); its row count makes the
    list drive the joins."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"ANALYZE temp.{name}")  # our own table names
    else:
        analyze(conn, (name,))


def _day(value) -> date | None:
    """A date as the database returned it (SQLite: ISO text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def applied_batches(conn: Connection) -> list[int]:
    """The committed batches the roll-ups include (a snapshot's provenance)."""
    return [r[0] for r in conn.execute(select(RollupBatch.batch_id).order_by(RollupBatch.batch_id))]
