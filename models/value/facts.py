"""The set-based queries that turn roll-ups into per-customer base aggregates.

Each function returns a SQLAlchemy selectable or a small DataFrame with one row
per customer (or per customer and product line): the heavy aggregation runs in
the database, and only bounded, per-customer results come back to Python.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Numeric,
    Select,
    String,
    TypeDecorator,
    and_,
    func,
    select,
    union_all,
)

from models.schema import Customer, Invoice, Payment

from .cutoff import cut_invoice_sources
from .numbers import as_float
from .rollups import (
    INVOICE_MONTHS,
    INVOICES,
    OPEN_INVOICES,
    SALES,
    WINDOW_TABLES,
    RefreshResult,
    applied_batches,
    fsum,
    held_window,
    hold_window,
    holds_window,
    invoice_month_select,
    invoice_select,
    invoice_window_select,
    open_invoice_select,
    rolled_sales,
    sales_select,
    sales_window_select,
    window_rows,
)
from .sqlfuncs import date_value, day_of
from .windows import Windows


@dataclass(frozen=True)
class Sources:
    """Where this as-of date reads from: the roll-ups, or raw facts where they cannot serve."""

    windows: Windows
    raw_as_of_month: bool  # invoices exist after as_of in its own month
    raw_payments: bool  # payments exist after as_of, so "paid" must be cut at as_of

    @property
    def raw_invoices(self) -> bool:
        """Invoice roll-ups hold final payment states: usable only when nothing is later."""
        return self.raw_as_of_month or self.raw_payments


def choose_sources(conn: Connection, windows: Windows) -> Sources:
    """Roll-ups serve every whole month; the as-of month and late payments may need raw facts.

    The last payment that matters is the last one paying an invoice: payments on
    account are read raw, cut at the as-of date, either way. The invoice roll-up's
    ``last_paid_on`` index answers that at once, where ``max(payment.paid_on)`` read
    every payment (0.25 s at 10M lines).
    """
    last_invoice = conn.scalar(select(func.max(Invoice.invoice_date)))
    last_payment = conn.scalar(select(func.max(INVOICES.c.last_paid_on)))
    as_of = windows.as_of
    return Sources(
        windows=windows,
        raw_as_of_month=last_invoice is not None and last_invoice > as_of,
        raw_payments=last_payment is not None and last_payment > as_of,
    )


def sales_source(src: Sources) -> Select:
    """Monthly sales rows covering both windows, cut at the as-of date."""
    w = src.windows
    rolled = rolled_sales(w)
    if src.raw_as_of_month:
        rolled = rolled.where(SALES.c.month < date_value(w.as_of_month))
        raw = sales_select(date_from=w.as_of_month, date_to=w.as_of).subquery()
        partial = select(*(raw.c[c.name] for c in rolled.selected_columns))
        return union_all(rolled, partial).subquery("sales")
    return rolled.subquery("sales")


def sales_by_product_line(src: Sources) -> Select:
    """Customer x product line: revenue now and before, cost and costed revenue now."""
    return sales_window_select(sales_source(src), src.windows)


def sales_by_customer(per_line: pd.DataFrame) -> pd.DataFrame:
    """Per customer, from the product-line frame: revenue now and before, cost, costed revenue,
    product lines bought (revenue > 0 now)."""
    f = per_line.copy()
    for c in ("revenue", "revenue_previous", "cost", "revenue_costed"):
        f[c] = as_float(f[c])
    f["bought"] = (f["revenue"] > 0).astype(int)
    g = f.groupby("customer_id", sort=True)
    return pd.DataFrame(
        {
            "revenue": g["revenue"].sum(),
            "revenue_previous": g["revenue_previous"].sum(),
            # min_count=1: a customer with no known cost keeps NaN, not 0.
            "cost": g["cost"].sum(min_count=1),
            "revenue_costed": g["revenue_costed"].sum(min_count=1),
            "product_line_count": g["bought"].sum(),
        }
    ).reset_index()


def invoice_sources(src: Sources):
    """(per-invoice facts, per-month facts): the roll-ups, or, when invoices or payments
    exist after the as-of date, the roll-ups cut at it (see :mod:`cutoff`)."""
    if src.raw_invoices:
        return cut_invoice_sources(src.windows, src.raw_as_of_month)
    return INVOICES, INVOICE_MONTHS


def raw_invoice_sources(src: Sources):
    """The same two sources computed from the raw facts cut at the as-of date: slow (every
    line and payment), kept as the reference the roll-up paths are tested against."""
    raw = invoice_select(paid_until=src.windows.as_of)
    raw = raw.where(raw.selected_columns.invoice_date <= src.windows.as_of).subquery("inv")
    return raw, invoice_month_select(raw).subquery("inv_month")


def invoice_months_by_customer(src: Sources) -> Select:
    """Per customer from the monthly invoice roll-up: invoices in the current window, the
    last invoice and paid amounts in both windows, and the settled invoices' contribution."""
    _, m = invoice_sources(src)
    return invoice_window_select(m, src.windows)


def open_invoices_by_customer(src: Sources, bucket_days: tuple[int, int, int]) -> Select:
    """Per customer from the open (unsettled) invoices, one by one: what fell due in the
    current window, what of it was paid, days late so far, and the receivables ageing at
    the as-of date (every open invoice, however old). Dates are day numbers (integers):
    each condition compares a column with a constant worked out here."""
    w = src.windows
    if src.raw_invoices:
        cut, _ = invoice_sources(src)
        f = open_invoice_select(cut).subquery("open")
    else:
        f = OPEN_INVOICES  # the same rows, kept by the refresh
    today = day_of(w.as_of)
    now = f.c.invoice_date >= date_value(w.current_start)
    is_due = and_(now, f.c.amount_due > 0, (f.c.due_day.is_(None)) | (f.c.due_day <= today))
    timed = and_(is_due, f.c.due_day.is_not(None))
    b1, b2, b3 = bucket_days

    def overdue(more_than: int | None, at_most: int | None):
        """The open amount of invoices more than / at most so many days past due."""
        cond = []
        if more_than is not None:  # days past due = today - overdue_day
            cond.append(f.c.overdue_day < today - more_than)
        if at_most is not None:
            cond.append(f.c.overdue_day >= today - at_most)
        return fsum(f.c.open_amount, and_(*cond))

    late = and_(now, f.c.amount_due > 0, f.c.due_day < today)
    return (
        select(
            f.c.customer_id,
            fsum(f.c.amount_due, is_due).label("open_due"),
            fsum(f.c.paid_capped, is_due).label("open_collected"),
            func.count().filter(timed).label("open_timed"),
            func.sum(today - f.c.due_day).filter(timed).label("open_days_late"),
            overdue(None, 0).label("current"),
            overdue(0, b1).label("days_1_30"),
            overdue(b1, b2).label("days_31_60"),
            overdue(b2, b3).label("days_61_90"),
            overdue(b3, None).label("days_over_90"),
            func.count().filter(late).label("open_late"),
            fsum(f.c.amount_due * (today - f.c.due_day), late).label("open_late_amount_days"),
        )
        .where(f.c.invoice_date <= date_value(w.as_of))
        .group_by(f.c.customer_id)
    )


def combine_invoice_parts(base: pd.DataFrame) -> pd.DataFrame:
    """Settled (monthly) and open (per invoice) parts added up; NULL only when both are."""

    def add(*cols):
        return base[list(cols)].astype(float).sum(axis=1, min_count=1)

    base["amount_due"] = add("settled_due", "open_due")
    base["amount_collected"] = add("settled_due", "open_collected")
    base["timed_invoices"] = add("settled_timed", "open_timed")
    base["on_time_invoices"] = add("settled_on_time")
    base["days_late_sum"] = add("settled_days_late", "open_days_late")
    base["late_invoices"] = add("settled_late", "open_late")
    base["late_amount_days"] = add("settled_late_amount_days", "open_late_amount_days")
    return base


def on_account_by_customer(src: Sources) -> Select:
    """Payments on account (no invoice named) received in the current window."""
    p = Payment.__table__
    w = src.windows
    return (
        select(p.c.customer_id, func.sum(p.c.amount).label("on_account"))
        .where(p.c.invoice_id.is_(None))
        .where(p.c.paid_on >= date_value(w.current_start))
        .where(p.c.paid_on <= date_value(w.as_of))
        .group_by(p.c.customer_id)
    )


_CUSTOMER_COLS = (
    "customer_id",
    "name",
    "status",
    "parent_customer_id",
    "manager_id",
    "influence",
    "named_strategic",
    "estimated_potential",
    "buying_factor",
)


def customers_frame(conn: Connection) -> pd.DataFrame:
    """Every customer's own attributes that the measures and tier rules use."""
    c = Customer.__table__
    return frame_of(conn, select(*(c.c[k] for k in _CUSTOMER_COLS)).order_by(c.c.customer_id))


def per_line_sales(
    conn: Connection,
    src: Sources,
    *,
    stored_windows: bool = False,
    early: dict[str, EarlyWindow] | None = None,
):
    """Customer x product line sales of both windows (see :func:`sales_by_product_line`).

    With ``stored_windows`` (the recompute, which may write) they come from the window
    table (see :func:`window_frame`; ``early``: its rows read beside the refresh) unless
    the as-of month needs raw lines.
    """
    if stored_windows and not src.raw_as_of_month:
        return window_frame(conn, "sales", src.windows, (early or {}).get("sales"))
    return frame_of(conn, sales_by_product_line(src))


def _stored_rows(name: str) -> Select:
    """Window table ``name``'s rows in key (customer) order, however they were read."""
    table = WINDOW_TABLES[name][0]
    return select(table).order_by(*table.primary_key.columns)


# Above this many rebuilt customers, early rows are dropped and the table read again.
_CATCH_UP_AT_MOST = 10_000


@dataclass(frozen=True)
class EarlyWindow:
    """A window table's rows read on another connection while the roll-up refresh runs,
    and, once it has run, what it did (:meth:`after`).

    The rows hold ``windows`` for roll-ups including exactly ``batches``. The refresh
    then rebuilds some customers' rows in the table; :meth:`caught_up` re-reads just
    those, so the recompute reads ~20,000 rows after the refresh instead of ~400,000
    (0.8 s of a SQLite recompute at 10M lines, taken off its critical path).
    """

    name: str
    windows: Windows
    batches: frozenset[int]
    frame: pd.DataFrame
    refreshed: RefreshResult | None = None

    def after(self, refreshed: RefreshResult | None) -> EarlyWindow:
        return replace(self, refreshed=refreshed)

    def caught_up(self, conn: Connection) -> pd.DataFrame | None:
        """The table's rows as ``conn`` sees them now (it must hold ``windows``), or None
        when these early rows cannot tell: other batches were applied than the ones read
        and the refresh's own, or the refresh rebuilt everyone or very many customers."""
        done = self.refreshed
        applied = self.batches | frozenset(done.batch_ids if done else ())
        if frozenset(applied_batches(conn)) != applied:
            return None
        if done is not None and done.full_rebuild:
            return None
        if done is None or not done.rebuilt:
            return self.frame
        if len(done.rebuilt) > _CATCH_UP_AT_MOST:
            return None
        ids = sorted(done.rebuilt)
        table = WINDOW_TABLES[self.name][0]
        fresh = frame_of(conn, _stored_rows(self.name).where(table.c.customer_id.in_(ids)))
        kept = self.frame[~self.frame["customer_id"].isin(ids)]
        if fresh.empty:
            return kept.reset_index(drop=True)
        return pd.concat([kept, fresh], ignore_index=True)


def read_early_window(conn: Connection, name: str, windows: Windows) -> EarlyWindow | None:
    """Window table ``name``'s rows if it holds ``windows``, with the batches the roll-ups
    included then; None if it holds another window or either changed during the read.

    Takes no lock and writes nothing: for a connection beside the refresh. The rows are
    one statement's snapshot; the same window and batches before and after it mean no
    refresh committed in between (applied batches only grow), so the rows are that
    window's aggregates of those batches, whatever else happened to the table.
    """

    def state():
        held = held_window(conn, name)
        window = None if held is None else (held.as_of_month, held.months)
        return window, frozenset(applied_batches(conn))

    before = state()
    if before[0] != (windows.as_of_month, windows.months):
        return None
    frame = frame_of(conn, _stored_rows(name))
    if state() != before:
        return None
    return EarlyWindow(name, windows, before[1], frame)


def window_frame(
    conn: Connection, name: str, windows: Windows, early: EarlyWindow | None = None
) -> pd.DataFrame:
    """Window table ``name``'s rows for ``windows`` (see :mod:`rollups`): when it holds
    that window, the ``early`` rows caught up (see :class:`EarlyWindow`) or else the
    stored rows; otherwise aggregated from the roll-ups (in parallel on PostgreSQL,
    which an INSERT ... SELECT is not), stored and returned. Writes, so the recompute's
    transaction only."""
    if holds_window(conn, name, windows):
        usable = early is not None and early.name == name and early.windows == windows
        frame = early.caught_up(conn) if usable else None
        return frame if frame is not None else frame_of(conn, _stored_rows(name))
    frame = frame_of(conn, window_rows(name, windows))
    hold_window(conn, name, windows, frame)
    return frame


def customer_base(
    conn: Connection,
    src: Sources,
    bucket_days: tuple[int, int, int] = (30, 60, 90),
    *,
    stored_windows: bool = False,
    customers: pd.DataFrame | None = None,
    per_line: pd.DataFrame | None = None,
    early: dict[str, EarlyWindow] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per customer with every base aggregate (NaN where there is none), and the
    customer x product line sales frame the segments need (the sales are scanned once).

    With ``stored_windows`` (the recompute, which may write) the window aggregates come
    from the window tables wherever the roll-ups serve as they are: the sales (see
    :func:`per_line_sales`), and the monthly invoice part unless payment states must be
    cut at the as-of date. ``customers`` (:func:`customers_frame`) and ``per_line``
    (:func:`per_line_sales`) are passed when the caller has read them already; ``early``
    holds window-table rows read beside the refresh (see :class:`EarlyWindow`).
    """
    early = early or {}
    if customers is None:
        customers = customers_frame(conn)
    if per_line is None:
        per_line = per_line_sales(conn, src, stored_windows=stored_windows, early=early)
    if stored_windows and not src.raw_invoices:
        months = window_frame(conn, "invoices", src.windows, early.get("invoices"))
    else:
        months = frame_of(conn, invoice_months_by_customer(src))
    parts = [months]
    for query in (open_invoices_by_customer(src, bucket_days), on_account_by_customer(src)):
        parts.append(frame_of(conn, query))
    base = customers.merge(sales_by_customer(per_line), on="customer_id", how="left")
    for part in parts:
        base = base.merge(part, on="customer_id", how="left")
    base = combine_invoice_parts(base)
    base["status"] = base["status"].astype(str)
    return base, per_line


def frame_of(conn: Connection, query: Select) -> pd.DataFrame:
    """A query's rows as a DataFrame, fetched straight from the driver's cursor.

    Skipping SQLAlchemy's per-row processing keeps 100,000s of per-customer rows
    cheap; money arrives as floats (the queries cast it), dates as the driver gives
    them (ISO text on SQLite, ``date`` on PostgreSQL), so callers convert explicitly.
    On PostgreSQL the rows come as COPY ... TO STDOUT text parsed by Arrow (see
    :func:`_copy_frame`): building the frame from Python tuples cost more than the
    queries themselves (1 s for the 400,000 customer x product line rows at 10M lines).
    """
    if conn.dialect.name == "postgresql":
        frame = _copy_frame(conn, query)
        if frame is not None:
            return frame
    result = conn.execute(query)
    columns = list(result.keys())
    return pd.DataFrame(result.cursor.fetchall() if result.returns_rows else [], columns=columns)


def _arrow_type(sql_type) -> pa.DataType | None:
    """The Arrow type a column of ``sql_type`` is parsed as; None when not one of ours.

    Numbers as float64 (money included: every caller converts it with ``as_float``,
    and the shortest text PostgreSQL prints parses to the same double as the
    driver's Decimal converted), whole numbers as int64 (float64 with NaN when some
    are NULL, as pandas makes of Python ints and None), dates as ``date`` objects.
    """
    if isinstance(sql_type, TypeDecorator):
        sql_type = sql_type.impl_instance  # the driver's values are the stored type's
    if isinstance(sql_type, Boolean):
        return pa.bool_()
    if isinstance(sql_type, Integer):
        return pa.int64()
    if isinstance(sql_type, Float | Numeric):
        return pa.float64()
    if isinstance(sql_type, Date) and not isinstance(sql_type, DateTime):
        return pa.date32()
    if isinstance(sql_type, String | Enum):
        return pa.string()
    return None


def _copy_frame(conn: Connection, query) -> pd.DataFrame | None:
    """``query``'s rows through COPY (PostgreSQL), or None when a column's type is not
    one :func:`_arrow_type` knows (the caller then fetches rows as usual)."""
    if not isinstance(query, Select):
        return None
    types = [_arrow_type(c.type) for c in query.selected_columns]
    if any(t is None for t in types):
        return None
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    buf = io.BytesIO()
    raw = conn.connection.driver_connection
    # Parameters are bound client-side (COPY takes none); the rows stay in the
    # transaction (and its settings) the caller holds.
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY ({compiled}) TO STDOUT (FORMAT csv, HEADER)", compiled.params) as copy,
    ):
        for block in copy:
            buf.write(block)
    header, _, body = buf.getvalue().partition(b"\n")
    names = next(csv.reader([header.decode()]))
    if len(names) != len(types):
        return None
    if not body:
        return pd.DataFrame([], columns=names)
    table = pacsv.read_csv(
        io.BytesIO(body),
        pacsv.ReadOptions(column_names=[f"c{i}" for i in range(len(names))]),
        pacsv.ParseOptions(newlines_in_values=True),
        pacsv.ConvertOptions(
            column_types={f"c{i}": t for i, t in enumerate(types)},
            # COPY writes NULL as an empty unquoted cell and '' as "".
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )
    frame = table.to_pandas(date_as_object=True)
    frame.columns = names
    for i in range(len(names)):
        if table.column(i).null_count == len(frame):
            # Python's None throughout, as a frame of fetched rows has it.
            frame.isetitem(i, pd.Series([None] * len(frame), dtype=object))
    return frame


def default_as_of(conn: Connection) -> date | None:
    """The latest invoice date: the as-of date when none is given."""
    return conn.scalar(select(func.max(Invoice.invoice_date)))


def window_days(windows: Windows) -> int:
    """Calendar days in the current window (for DSO)."""
    return (windows.as_of - windows.current_start).days + 1
