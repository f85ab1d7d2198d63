"""The work list of one incremental roll-up refresh (models/value/rollups.py).

Two temporary tables, per connection: :data:`DIRTY`, each customer the new batches
touched with the first month whose roll-up rows are rebuilt, and :data:`CHANGED`, the
invoices they changed; :func:`mark_dirty` fills them, and the join helpers here read the
roll-ups' and facts' rows of the rebuilt months through the (customer, date) indexes.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Column,
    Connection,
    Date,
    MetaData,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    union,
    union_all,
)

from models.schema import IngestChange, Invoice, InvoiceLine, Payment

from .dbtuning import analyze
from .sqlfuncs import month_start

_inv, _line, _pay = Invoice.__table__, InvoiceLine.__table__, Payment.__table__

# Work list of one incremental refresh (a temporary table, per connection): each touched
# customer and the first month whose roll-up rows are rebuilt: ``since`` for the invoices'
# roll-ups, ``sales_since`` for the sales roll-up (NULL: none of its sales changed). New
# invoices, lines and payments only change the months they (or the invoices they pay)
# fall in, so a batch of new data rebuilds a month or two of each customer's history, not
# all of it, and a payment changes no sale: a night's payments to ~7,000 customers who
# bought nothing that night (at 10M lines) rebuild their invoices' months only.
# Amendments (ingest_change rows) rebuild the whole history of old and new owners.
DIRTY = Table(
    "rollup_dirty_since",
    MetaData(),
    Column("customer_id", String(64), primary_key=True),
    Column("since", Date, nullable=False),
    Column("sales_since", Date, nullable=True),
    prefixes=["TEMPORARY"],
)
WHOLE_HISTORY = date(1, 1, 1)
# The invoices a batch without amendments changed (new, or with new lines or payments):
# an invoice's roll-up rows depend on its own lines and payments only, so just these are
# rebuilt in the per-invoice roll-ups, not every invoice of the rebuilt months (at 10M
# lines a night's ~23,000 invoices instead of ~250,000).
CHANGED = Table(
    "rollup_dirty_invoice",
    MetaData(),
    Column("invoice_id", String(64), primary_key=True),
    prefixes=["TEMPORARY"],
)


def dirty_since(customer_id, day, since):
    """``customer_id`` is a dirty customer's and ``day`` is in its rebuilt months (from its
    work list column ``since``)."""
    first = select(since).where(DIRTY.c.customer_id == customer_id).scalar_subquery()
    return and_(customer_id.in_(select(DIRTY.c.customer_id)), day >= first)


def on_since(customer_id, day, first: date, since=DIRTY.c.since):
    """Join condition to the work list (its column ``since``): both columns lead the
    (customer, date) indexes, so the database reads only the rebuilt months, not the
    customer's whole history. ``first`` (the earliest ``since``) is redundant but a
    constant the planner can weigh: without it PostgreSQL guesses a third of all rows and
    scans whole tables. A NULL ``since`` joins nothing."""
    return and_(DIRTY.c.customer_id == customer_id, day >= since, day >= first)


def invoices_since(first: date):
    """The invoices of the rebuilt months (their ids), through the (customer, date) index."""
    return select(_inv.c.invoice_id).join_from(
        _inv, DIRTY, on_since(_inv.c.customer_id, _inv.c.invoice_date, first)
    )


def delete_since(conn: Connection, table, day: str, first: date, since=DIRTY.c.since) -> None:
    """Delete ``table``'s rows of the rebuilt months (from work list column ``since``)."""
    if conn.dialect.name == "postgresql":
        # DELETE ... USING lets PostgreSQL bound the index scan by the month as well.
        on = on_since(table.c.customer_id, table.c[day], first, since)
        conn.execute(delete(table).where(on))
    else:
        conn.execute(delete(table).where(dirty_since(table.c.customer_id, table.c[day], since)))


def mark_dirty(conn: Connection, batch_ids: list[int]) -> tuple[int, bool]:
    """Fill the work list: each customer the batches touched, from its first touched month
    (or its whole history when the batches amended rows), and from its first month whose
    sales changed (none when only payments touched it); and, when the batches amended
    nothing, the list of changed invoices. Returns how many customers, and whether the
    invoices' list was made."""
    amended = conn.scalar(
        select(func.count()).select_from(IngestChange).where(IngestChange.batch_id.in_(batch_ids))
    )
    month = literal(WHOLE_HISTORY, Date) if amended else month_start(_inv.c.invoice_date)
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
        whole = literal(WHOLE_HISTORY, Date)
        parts.append(
            select(_pay.c.customer_id, whole, whole).where(_pay.c.batch_id.in_(batch_ids)),
        )
        parts.append(
            select(IngestChange.previous_customer_id, whole, whole)
            .where(IngestChange.batch_id.in_(batch_ids))
            .where(IngestChange.previous_customer_id.is_not(None))
        )
    touched = union_all(*parts).subquery()
    DIRTY.create(conn)
    t = touched.c
    conn.execute(
        insert(DIRTY).from_select(
            ["customer_id", "since", "sales_since"],
            select(t.customer_id, func.min(t.since), func.min(t.sales_since)).group_by(
                t.customer_id
            ),
        )
    )
    if not amended:
        CHANGED.create(conn)
        changed = union(
            select(_inv.c.invoice_id).where(_inv.c.batch_id.in_(batch_ids)),
            select(_line.c.invoice_id).where(_line.c.batch_id.in_(batch_ids)),
            select(_pay.c.invoice_id).where(
                _pay.c.batch_id.in_(batch_ids), _pay.c.invoice_id.is_not(None)
            ),
        ).subquery()
        conn.execute(insert(CHANGED).from_select(["invoice_id"], select(changed.c.invoice_id)))
    return conn.scalar(select(func.count()).select_from(DIRTY)) or 0, not amended


def analyze_work_list(conn: Connection, name: str) -> None:
    """Statistics for work list ``name`` (a temporary table). Without them SQLite guesses a
    million rows for it as for any table, and walked the whole invoice index to probe the
    list (1.4 s instead of 0.4 s for 100k new lines at 10M); its row count makes the
    list drive the joins."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"ANALYZE temp.{name}")  # our own table names
    else:
        analyze(conn, (name,))
