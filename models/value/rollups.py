"""Roll-ups of the fact tables, refreshed incrementally from newly committed batches.

Two derived tables feed every measure: ``sales_rollup`` (customer x product line
x month) and ``invoice_rollup`` (one row per invoice with what was paid and
when it was settled). The first step of each recompute finds the committed
batches the roll-ups do not include yet (``rollup_batch``), lists the customers
those batches touched (fact rows carry their ``batch_id``; amended rows name
their previous customer in ``ingest_change``), deletes those customers' roll-up
rows and rebuilds them, all set-based and in one transaction. New rows only
change the months they fall in, so a batch without amendments rebuilds each
touched customer from its first touched month on; a batch with amendments
rebuilds the touched customers' whole history. The first refresh fills every
roll-up with one INSERT ... SELECT each.

Window tables (``sales_window``, ``invoice_window``) go one step further: the
recompute's per-customer aggregates over the current and previous windows, for
the window ``rollup_window`` names. Each recompute asks for its window
(``facts.window_frame``): the table is rebuilt when it holds another one (the first
recompute of a month), and otherwise read as it stands, because every incremental
refresh rebuilds the touched customers' rows in it too and a full refresh empties
it. So a recompute after a day's ingest reads ~400,000 stored rows instead of
aggregating ~3.6 million roll-up rows again (10M lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    Date,
    Float,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
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
    InvoiceWindow,
    OpenInvoiceRollup,
    Payment,
    RollupBatch,
    RollupWindow,
    SalesRollup,
    SalesWindow,
)

from .sqlfuncs import date_value, day_number, month_start
from .store import bulk_insert, prepare
from .windows import Windows

SALES = SalesRollup.__table__
INVOICES = InvoiceRollup.__table__
INVOICE_MONTHS = InvoiceMonthRollup.__table__
OPEN_INVOICES = OpenInvoiceRollup.__table__
SALES_WINDOW = SalesWindow.__table__
INVOICE_WINDOW = InvoiceWindow.__table__
WINDOW_STATE = RollupWindow.__table__
_inv, _line, _pay = Invoice.__table__, InvoiceLine.__table__, Payment.__table__


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
    # The customers an incremental refresh rebuilt (empty after a full one: everyone).
    rebuilt: frozenset[str] = frozenset()

    def summary(self) -> dict:
        """The result as plain values (for logs and flow results)."""
        return {
            "batches": self.batch_ids,
            "customers_rebuilt": self.customers_rebuilt,
            "full_rebuild": self.full_rebuild,
        }


# Work list of one incremental refresh (a temporary table, per connection): each touched
# customer and the first month whose roll-up rows are rebuilt. New invoices, lines and
# payments only change the months they (or the invoices they pay) fall in, so a batch
# of new data rebuilds a month or two of each customer's history, not all of it;
# amendments (ingest_change rows) rebuild the whole history of old and new owners.
_since = Table(
    "rollup_dirty_since",
    MetaData(),
    Column("customer_id", String(64), primary_key=True),
    Column("since", Date, nullable=False),
    prefixes=["TEMPORARY"],
)
_WHOLE_HISTORY = date(1, 1, 1)


def _dirty_since(customer_id, day):
    """``customer_id`` is a dirty customer's and ``day`` is in its rebuilt months."""
    since = select(_since.c.since).where(_since.c.customer_id == customer_id).scalar_subquery()
    return and_(customer_id.in_(select(_since.c.customer_id)), day >= since)


def _on_since(customer_id, day, first: date):
    """Join condition to the work list: both columns lead the (customer, date) indexes, so
    the database reads only the rebuilt months, not the customer's whole history.
    ``first`` (the earliest ``since``) is redundant but a constant the planner can
    weigh: without it PostgreSQL guesses a third of all rows and scans whole tables."""
    return and_(_since.c.customer_id == customer_id, day >= _since.c.since, day >= first)


def _invoices_since(first: date):
    """The invoices of the rebuilt months (their ids), through the (customer, date) index."""
    return select(_inv.c.invoice_id).join_from(
        _inv, _since, _on_since(_inv.c.customer_id, _inv.c.invoice_date, first)
    )


def _delete_since(conn: Connection, table, day: str, first: date) -> None:
    """Delete ``table``'s rows of the rebuilt months."""
    if conn.dialect.name == "postgresql":
        # DELETE ... USING lets PostgreSQL bound the index scan by the month as well.
        conn.execute(delete(table).where(_on_since(table.c.customer_id, table.c[day], first)))
    else:
        conn.execute(delete(table).where(_dirty_since(table.c.customer_id, table.c[day])))


def sales_select(
    *, dirty_from: date | None = None, date_from: date | None = None, date_to: date | None = None
) -> Select:
    """Lines aggregated to customer x product line x month (roll-up columns, in order);
    with ``dirty_from`` (the work list's earliest month), only the work list's months."""
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
    if dirty_from is not None:
        q = q.join(_since, _on_since(_inv.c.customer_id, _inv.c.invoice_date, dirty_from))
    if date_from is not None:
        q = q.where(_inv.c.invoice_date >= date_from)
    if date_to is not None:
        q = q.where(_inv.c.invoice_date <= date_to)
    return q


def invoice_select(*, dirty_from: date | None = None, paid_until: date | None = None) -> Select:
    """One row per invoice: amount due, paid (by ``paid_until`` if given), settlement date;
    with ``dirty_from`` (the work list's earliest month), only the work list's invoices."""
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
    if dirty_from is not None:
        due = due.join(_since, _on_since(_inv.c.customer_id, _inv.c.invoice_date, dirty_from))
        pays = pays.where(_pay.c.invoice_id.in_(_invoices_since(dirty_from)))
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


def fsum(expr, where=None):
    """The sum of a money expression, added up as floats (over the rows ``where`` holds).

    Aggregates come back as floats (rounded to cents when stored), so no Decimal is
    built per row on the way. Casting each value before summing keeps PostgreSQL's
    aggregate state a plain double instead of an arbitrary-precision NUMERIC, several
    times faster over millions of roll-up rows; SQLite sums REALs either way.
    ``where`` becomes a FILTER clause rather than a CASE inside the sum: the same sum
    (NULL when no row qualifies), but PostgreSQL neither casts nor adds the rows left
    out (the sales aggregate at 10M lines: 2.4 s with CASE, 2.0 s with FILTER).
    """
    total = func.sum(cast(expr, Float))
    return total if where is None else total.filter(where)


def sales_window_select(s, windows: Windows) -> Select:
    """Customer x product line from ``s`` (sales roll-up rows of both windows): revenue
    now and before, cost and costed revenue now (``sales_window``'s columns)."""
    now = s.c.month >= date_value(windows.current_start)
    return select(
        s.c.customer_id,
        s.c.product_line_id,
        func.coalesce(fsum(s.c.revenue, now), 0).label("revenue"),
        func.coalesce(fsum(s.c.revenue, ~now), 0).label("revenue_previous"),
        fsum(s.c.cost, now).label("cost"),
        fsum(s.c.revenue_costed, now).label("revenue_costed"),
    ).group_by(s.c.customer_id, s.c.product_line_id)


def invoice_window_select(m, windows: Windows) -> Select:
    """Per customer from ``m`` (monthly invoice roll-up rows): invoices in the current
    window, the last invoice and paid amounts in both windows, and the settled invoices'
    contribution (``invoice_window``'s columns)."""
    now = m.c.month >= date_value(windows.current_start)

    def now_sum(col, money=False):
        return fsum(col, now) if money else func.sum(col).filter(now)

    return (
        select(
            m.c.customer_id,
            func.coalesce(now_sum(m.c.invoice_count), 0).label("invoice_count"),
            func.max(m.c.last_invoice_date).label("last_invoice_date"),
            fsum(m.c.paid_amount).label("paid_any"),
            now_sum(m.c.settled_due, money=True).label("settled_due"),
            now_sum(m.c.settled_timed).label("settled_timed"),
            now_sum(m.c.settled_on_time).label("settled_on_time"),
            now_sum(m.c.settled_days_late).label("settled_days_late"),
            now_sum(m.c.settled_late).label("settled_late"),
            now_sum(m.c.settled_late_amount_days, money=True).label("settled_late_amount_days"),
        )
        .where(
            m.c.month >= date_value(windows.previous_start),
            m.c.month <= date_value(windows.as_of_month),
        )
        .group_by(m.c.customer_id)
    )


def rolled_sales(windows: Windows, only=None) -> Select:
    """The sales roll-up's rows of both windows (of the customers ``only`` keeps)."""
    cols = [SALES.c[c] for c in ("customer_id", "product_line_id", "month", "revenue", "cost")]
    rows = select(*cols, SALES.c.revenue_costed).where(
        SALES.c.month >= date_value(windows.previous_start),
        SALES.c.month <= date_value(windows.as_of_month),
    )
    return rows if only is None else rows.where(only(SALES.c.customer_id))


def _sales_window_rows(windows: Windows, only=None) -> Select:
    return sales_window_select(rolled_sales(windows, only).subquery("sales"), windows)


def _invoice_window_rows(windows: Windows, only=None) -> Select:
    rows = invoice_window_select(INVOICE_MONTHS, windows)
    return rows if only is None else rows.where(only(INVOICE_MONTHS.c.customer_id))


# Each window table and the rows it holds for a window (of the customers ``only`` keeps).
WINDOW_TABLES = {
    "sales": (SALES_WINDOW, _sales_window_rows),
    "invoices": (INVOICE_WINDOW, _invoice_window_rows),
}


def _lock_windows(conn: Connection) -> None:
    """Serialise writers of the window tables (PostgreSQL; SQLite has one writer anyway):
    two recomputes rebuilding at once would both insert every row."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE rollup_window IN SHARE ROW EXCLUSIVE MODE")


def held_window(conn: Connection, name: str) -> Windows | None:
    row = conn.execute(
        select(WINDOW_STATE.c.as_of_month, WINDOW_STATE.c.months).where(WINDOW_STATE.c.name == name)
    ).first()
    return None if row is None else Windows(row.as_of_month, row.months)


def window_rows(name: str, windows: Windows) -> Select:
    """The rows window table ``name`` ("sales" or "invoices") holds for ``windows``."""
    return WINDOW_TABLES[name][1](windows)


def holds_window(conn: Connection, name: str, windows: Windows) -> bool:
    """Window table ``name`` holds ``windows``'s aggregates (and now stays so until the
    transaction ends: writers of the window tables wait for it on PostgreSQL)."""
    _lock_windows(conn)
    held = held_window(conn, name)
    return held is not None and (held.as_of_month, held.months) == (
        windows.as_of_month,
        windows.months,
    )


def hold_window(conn: Connection, name: str, windows: Windows, frame: pd.DataFrame) -> None:
    """Make window table ``name`` hold ``windows``: ``frame`` (the rows of
    :func:`window_rows`) replaces its rows and the state row names the window."""
    table = WINDOW_TABLES[name][0]
    # Whole numbers with a NULL among them arrive as floats: stored as integers.
    ints = tuple(c.name for c in table.columns if isinstance(c.type, Integer))
    _lock_windows(conn)
    conn.execute(delete(table))
    bulk_insert(conn, table, prepare(frame, [c.name for c in table.columns], ints=ints))
    conn.execute(delete(WINDOW_STATE).where(WINDOW_STATE.c.name == name))
    held = {"name": name, "as_of_month": windows.as_of_month, "months": windows.months}
    conn.execute(insert(WINDOW_STATE).values(**held))


def _rebuild_windows(conn: Connection) -> None:
    """Rebuild the work list's customers in every window table that holds a window."""

    def dirty(customer_id):
        return customer_id.in_(select(_since.c.customer_id))

    _lock_windows(conn)
    for name, (table, rows) in WINDOW_TABLES.items():
        held = held_window(conn, name)
        if held is None:
            continue
        conn.execute(delete(table).where(dirty(table.c.customer_id)))
        cols = [c.name for c in table.columns]
        conn.execute(insert(table).from_select(cols, rows(held, dirty)))


def _clear_windows(conn: Connection) -> None:
    """Forget every window table's contents (a full refresh rebuilt the roll-ups)."""
    _lock_windows(conn)
    conn.execute(delete(WINDOW_STATE))
    for table, _ in WINDOW_TABLES.values():
        conn.execute(delete(table))


_MONTH_COLS = ["customer_id", "month", "invoice_count", "last_invoice_date", "paid_amount"]
_MONTH_COLS += ["settled_count", "settled_due", "settled_timed", "settled_on_time"]
_MONTH_COLS += ["settled_days_late", "settled_late", "settled_late_amount_days"]


_OPEN_COLS = ["invoice_id", "customer_id", "invoice_date", "amount_due", "paid_capped"]
_OPEN_COLS += ["open_amount", "due_day", "overdue_day"]


def open_invoice_select(f) -> Select:
    """The open (unsettled) invoices of ``f`` (per-invoice roll-up rows) with what ageing
    needs and no as-of date changes (``open_invoice_rollup``'s columns, in order).

    The condition is on ``settled_day + 0``, which no index serves: on the rebuilt
    months SQLite otherwise walked the settled_day index over all 334,000 open
    invoices (0.34 s) instead of reaching the few rebuilt ones from the work list.
    """
    unpaid = _cents(f.c.amount_due - f.c.paid_amount)
    return select(
        f.c.invoice_id,
        f.c.customer_id,
        f.c.invoice_date,
        f.c.amount_due,
        case((f.c.paid_amount > f.c.amount_due, f.c.amount_due), else_=f.c.paid_amount).label(
            "paid_capped"
        ),
        case((and_(f.c.amount_due > 0, unpaid > 0), unpaid)).label("open_amount"),
        f.c.due_day,
        func.coalesce(f.c.due_day, f.c.invoice_day).label("overdue_day"),
    ).where((f.c.settled_day + 0).is_(None))  # "+ 0": see the docstring


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
    """Fill the work list: each customer the batches touched, from its first touched month
    (or its whole history when the batches amended rows). Returns how many customers."""
    amended = conn.scalar(
        select(func.count()).select_from(IngestChange).where(IngestChange.batch_id.in_(batch_ids))
    )
    month = literal(_WHOLE_HISTORY, Date) if amended else month_start(_inv.c.invoice_date)
    # The lines of an invoice the batches also wrote add nothing to that invoice's row
    # above; leaving them out first (an anti-join with the batches' invoices) usually
    # leaves no line at all, so the join to every invoice is never run (3.3M rows read
    # for 100k new lines at 10M lines).
    batch_invoice = _inv.alias("batch_invoice")
    own_invoice = (
        select(batch_invoice.c.invoice_id)
        .where(batch_invoice.c.invoice_id == _line.c.invoice_id)
        .where(batch_invoice.c.batch_id.in_(batch_ids))
        .exists()
    )
    parts = [
        select(_inv.c.customer_id, month.label("since")).where(_inv.c.batch_id.in_(batch_ids)),
        select(_inv.c.customer_id, month)
        .select_from(_line.join(_inv, _line.c.invoice_id == _inv.c.invoice_id))
        .where(_line.c.batch_id.in_(batch_ids), ~own_invoice),
        # A payment changes the invoice it pays, in that invoice's month.
        select(_inv.c.customer_id, month)
        .select_from(_pay.join(_inv, _pay.c.invoice_id == _inv.c.invoice_id))
        .where(_pay.c.batch_id.in_(batch_ids)),
    ]
    if amended:
        whole = literal(_WHOLE_HISTORY, Date)
        parts.append(
            select(_pay.c.customer_id, whole).where(_pay.c.batch_id.in_(batch_ids)),
        )
        parts.append(
            select(IngestChange.previous_customer_id, whole)
            .where(IngestChange.batch_id.in_(batch_ids))
            .where(IngestChange.previous_customer_id.is_not(None))
        )
    touched = union_all(*parts).subquery()
    _since.create(conn)
    conn.execute(
        insert(_since).from_select(
            ["customer_id", "since"],
            select(touched.c.customer_id, func.min(touched.c.since)).group_by(
                touched.c.customer_id
            ),
        )
    )
    return conn.scalar(select(func.count()).select_from(_since)) or 0


def refresh_rollups(conn: Connection) -> RefreshResult:
    """Bring the roll-ups up to date with every committed batch (call inside a transaction)."""
    batch_ids = _new_batches(conn)
    if not batch_ids:
        return RefreshResult([], 0, False)
    tune_for_aggregates(conn)
    summarize_batch_indexes(conn)
    full = conn.scalar(select(func.count()).select_from(RollupBatch.__table__)) == 0
    if full:
        # First refresh: rebuild everything in two straight INSERT ... SELECTs.
        _clear_windows(conn)
        conn.execute(delete(SALES))
        conn.execute(delete(INVOICES))
        conn.execute(insert(SALES).from_select(_SALES_COLS, _by_customer(conn, sales_select())))
        invoices = _by_customer(conn, invoice_select())
        conn.execute(insert(INVOICES).from_select(_INVOICE_COLS, invoices))
        conn.execute(delete(INVOICE_MONTHS))
        months = _by_customer(conn, invoice_month_select(INVOICES))
        conn.execute(insert(INVOICE_MONTHS).from_select(_MONTH_COLS, months))
        conn.execute(delete(OPEN_INVOICES))
        conn.execute(insert(OPEN_INVOICES).from_select(_OPEN_COLS, open_invoice_select(INVOICES)))
        rebuilt = conn.scalar(select(func.count(func.distinct(INVOICES.c.customer_id)))) or 0
        customers: frozenset[str] = frozenset()  # everyone: see RefreshResult.rebuilt
    else:
        rebuilt = _mark_dirty(conn, batch_ids)
        if rebuilt:
            _rebuild_since(conn)
            _rebuild_windows(conn)
        customers = frozenset(conn.scalars(select(_since.c.customer_id)))
        _since.drop(conn)
    conn.execute(
        insert(RollupBatch.__table__),
        [{"batch_id": b} for b in batch_ids],
    )
    if full:
        # After an incremental refresh the statistics still hold (autovacuum catches up).
        analyze(conn, ("sales_rollup", "invoice_rollup", "invoice_month_rollup"))
    return RefreshResult(batch_ids, int(rebuilt), full, customers)


def _by_customer(conn: Connection, query: Select) -> Select:
    """``query`` with its rows in customer order, on PostgreSQL (as is on SQLite).

    Rows are stored in the order they are inserted, so a roll-up written this way keeps
    each customer's rows together (a rebuild appends them together too). The measures'
    parallel aggregates then see disjoint customers in each worker: the sales aggregate
    at 10M lines took 2.1 s instead of 3.2 s. Any order groups, so the cheap byte-wise
    collation sorts (a one-off cost of the first refresh: ~6 s for the sales roll-up).
    """
    if conn.dialect.name != "postgresql":
        return query
    return query.order_by(query.selected_columns.customer_id.collate("C"))


def _rebuild_since(conn: Connection) -> None:
    """Delete and rebuild the work list's months of the three roll-ups."""
    if conn.dialect.name == "sqlite":
        # Without statistics SQLite guesses a million rows for the work list as for any
        # table, and walked the whole invoice index to probe the list (1.4 s instead of
        # 0.4 s for 100k new lines at 10M); its row count makes the list drive the joins.
        conn.exec_driver_sql(f"ANALYZE temp.{_since.name}")  # our own table name
    else:
        analyze(conn, (_since.name,))
    first = conn.scalar(select(func.min(_since.c.since)))
    first = date.fromisoformat(first) if isinstance(first, str) else first  # SQLite: text
    _delete_since(conn, SALES, "month", first)
    _delete_since(conn, INVOICES, "invoice_date", first)
    sales = _by_customer(conn, sales_select(dirty_from=first))
    conn.execute(insert(SALES).from_select(_SALES_COLS, sales))
    invoices = _by_customer(conn, invoice_select(dirty_from=first))
    conn.execute(insert(INVOICES).from_select(_INVOICE_COLS, invoices))
    m = INVOICE_MONTHS
    _delete_since(conn, m, "month", first)
    since_first = select(INVOICES).join(
        _since, _on_since(INVOICES.c.customer_id, INVOICES.c.invoice_date, first)
    )
    months = _by_customer(conn, invoice_month_select(since_first.subquery("inv")))
    conn.execute(insert(m).from_select(_MONTH_COLS, months))
    _delete_since(conn, OPEN_INVOICES, "invoice_date", first)
    rebuilt_open = open_invoice_select(since_first.subquery("inv"))
    conn.execute(insert(OPEN_INVOICES).from_select(_OPEN_COLS, rebuilt_open))


# Per transaction, PostgreSQL only. The default 4 MB of work memory makes the roll-up
# aggregates sort and hash on disk; JIT compilation of these one-off statements costs
# seconds (4 s of 8 for the invoice roll-up refresh at 10M lines) and saves nothing.
_PG_SETTINGS = (("work_mem", "256MB"), ("jit", "off"), ("random_page_cost", "1.1"))


def tune_for_aggregates(conn: Connection) -> None:
    """Give this transaction's large aggregates memory and no JIT (a no-op on SQLite)."""
    if conn.dialect.name != "postgresql":
        return
    for name, value in _PG_SETTINGS:  # constants above, never input
        conn.exec_driver_sql(f"SET LOCAL {name} = '{value}'")


def summarize_batch_indexes(conn: Connection) -> None:
    """Summarize the new page ranges of the fact tables' BRIN ``batch_id`` indexes
    (PostgreSQL; a no-op on SQLite).

    A BRIN index answers "every page" for page ranges appended since it was last
    summarized (by VACUUM, which may not have run yet), so finding the new batches' rows
    read the whole of both fact tables: 3.7 s of an incremental refresh at 10M lines.
    Summarizing reads only the unsummarized ranges, the new batches' pages (the whole
    table once, on the first refresh, which reads it all anyway).
    """
    if conn.dialect.name != "postgresql":
        return
    for table in (_inv, _line):
        for index in table.indexes:
            if index.dialect_options["postgresql"]["using"] == "brin":
                conn.execute(
                    text("SELECT brin_summarize_new_values(CAST(:index AS regclass))"),
                    {"index": index.name},
                )


def analyze(conn: Connection, tables: tuple[str, ...], columns: tuple[str, ...] = ()) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk write (a no-op on SQLite);
    with ``columns``, only those columns' statistics (and the table's row count).

    Right after a bulk load the planner still believes the tables are tiny and can
    pick nested loops that take minutes; ANALYZE of a few tables takes milliseconds.
    """
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.quote
    only = f" ({', '.join(quote(c) for c in columns)})" if columns else ""
    for name in tables:  # our own table and column names, never input
        conn.exec_driver_sql(f"ANALYZE {quote(name)}{only}")


def applied_batches(conn: Connection) -> list[int]:
    """The committed batches the roll-ups include (a snapshot's provenance)."""
    return [r[0] for r in conn.execute(select(RollupBatch.batch_id).order_by(RollupBatch.batch_id))]
