"""The set-based queries that turn roll-ups into per-customer base aggregates.

Each function returns a SQLAlchemy selectable or a small DataFrame with one row
per customer (or per customer and product line): the heavy aggregation runs in
the database, and only bounded, per-customer results come back to Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Connection,
    FromClause,
    Select,
    Subquery,
    and_,
    func,
    select,
    union_all,
)

from models.schema import Customer, Invoice, Payment

from . import invoice_state as state
from .cutoff import cut_invoice_sources
from .early_windows import EarlyWindow, window_frame
from .frames import frame_of
from .invoice_state import invoice_month_select, invoice_select, open_invoice_select
from .measures import CUSTOMER_COLUMNS
from .numbers import as_float
from .partitions import EVERY_CUSTOMER, CustomerRange
from .rollups import INVOICE_MONTHS, INVOICES, OPEN_INVOICES, SALES, sales_select
from .sqlfuncs import date_value, day_of
from .window_tables import fsum, invoice_window_select, rolled_sales, sales_window_select
from .windows import Windows
from .windows_apart import WindowsApart


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


def sales_source(src: Sources) -> Subquery:
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
    rows = invoice_select(pays=state.payments_running(src.windows.as_of))
    raw = rows.where(rows.selected_columns.invoice_date <= src.windows.as_of).subquery("inv")
    return raw, invoice_month_select(raw).subquery("inv_month")


def invoice_months_by_customer(src: Sources) -> Select:
    """Per customer from the monthly invoice roll-up: invoices in the current window, the
    last invoice and paid amounts in both windows, and the settled invoices' contribution."""
    _, m = invoice_sources(src)
    return invoice_window_select(m, src.windows)


def _count_or_null(where):
    """The rows ``where`` holds, NULL (not 0) when none does."""
    return func.nullif(func.count().filter(where), 0, type_=BigInteger)


def open_invoices_by_customer(src: Sources, bucket_days: tuple[int, int, int]) -> Select:
    """Per customer from the open (unsettled) invoices, one by one: what fell due in the
    current window, what of it was paid, days late so far, and the receivables ageing at
    the as-of date (every open invoice, however old). Dates are day numbers (integers):
    each condition compares a column with a constant worked out here."""
    w = src.windows
    f: FromClause = OPEN_INVOICES  # the open invoices, kept by the refresh
    if src.raw_invoices:
        cut, _ = invoice_sources(src)
        f = open_invoice_select(cut).subquery("open")
    today = day_of(w.as_of)
    now = f.c.invoice_date >= date_value(w.current_start)
    is_due = and_(now, state.fell_due(f, today))
    timed = and_(is_due, f.c.due_day.is_not(None))
    b1, b2, b3 = bucket_days

    def overdue(more_than: int | None, at_most: int | None):
        """The open amount of invoices more than / at most so many days overdue."""
        return fsum(f.c.open_amount, state.days_overdue_between(f, today, more_than, at_most))

    late = and_(now, state.open_late(f, today))
    return (
        select(
            f.c.customer_id,
            fsum(f.c.amount_due, is_due).label("open_due"),
            fsum(f.c.paid_capped, is_due).label("open_collected"),
            # Counts are NULL, not 0, with no such invoice: the customer's figures of the
            # window stay unknown when it has only older invoices open. Typed, so the rows
            # come through COPY (models/value/frames.py), not fetched one by one (0.25 s).
            _count_or_null(timed).label("open_timed"),
            func.sum(state.open_days_late(f, today)).filter(timed).label("open_days_late"),
            overdue(None, 0).label("current"),
            overdue(0, b1).label("days_1_30"),
            overdue(b1, b2).label("days_31_60"),
            overdue(b2, b3).label("days_61_90"),
            overdue(b3, None).label("days_over_90"),
            _count_or_null(late).label("open_late"),
            fsum(f.c.amount_due * state.open_days_late(f, today), late).label(
                "open_late_amount_days"
            ),
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


def customers_frame(conn: Connection, part: CustomerRange = EVERY_CUSTOMER) -> pd.DataFrame:
    """Every customer's own attributes that the measures and tier rules use (of the
    customers of ``part``), in customer order."""
    c = Customer.__table__
    query = select(*(c.c[k] for k in CUSTOMER_COLUMNS)).order_by(c.c.customer_id)
    return frame_of(
        conn, query if part.every_customer else query.where(part.keeps(c.c.customer_id))
    )


@dataclass(frozen=True, eq=False)
class Shortcuts:
    """The recompute's shortcuts to the base aggregates: performance, no rule.

    ``stored_windows``: read the window aggregates from the window tables, rebuilding and
    storing them when they hold another window (see :func:`window_frame`), so for the
    recompute's transaction only; ``early``: window-table rows read beside the refresh
    (see :class:`EarlyWindow`), by table name; ``customers`` (:func:`customers_frame`)
    and ``per_line`` (:func:`per_line_sales`): frames the caller has read already.
    """

    stored_windows: bool = False
    early: Mapping[str, EarlyWindow] = field(default_factory=dict)
    apart: WindowsApart | None = None
    customers: pd.DataFrame | None = None
    per_line: pd.DataFrame | None = None


NO_SHORTCUTS = Shortcuts()


def per_line_sales(
    conn: Connection,
    src: Sources,
    cuts: Shortcuts = NO_SHORTCUTS,
    part: CustomerRange = EVERY_CUSTOMER,
):
    """Customer x product line sales of both windows (see :func:`sales_by_product_line`),
    from the window table with ``cuts.stored_windows`` unless the as-of month needs raw
    lines; of the customers of ``part`` (read from the roll-ups: a window table holds
    every customer)."""
    if cuts.stored_windows and "sales" in stored_window_names(src):
        _every_customer(part)
        return window_frame(conn, "sales", src.windows, cuts.early.get("sales"), cuts.apart)
    return frame_of(conn, part.only(sales_by_product_line(src)))


def stored_window_names(src: Sources) -> tuple[str, ...]:
    """The window tables the recompute reads (with ``stored_windows``) at ``src``: the
    sales unless the as-of month needs raw lines, the invoices unless payment states
    must be cut at the as-of date; where the roll-ups as they are cannot serve, the
    stored windows cannot either."""
    names = () if src.raw_as_of_month else ("sales",)
    return names if src.raw_invoices else (*names, "invoices")


def _every_customer(part: CustomerRange) -> None:
    """The window tables are read and written whole, in the recompute's transaction only:
    a part of the customers reads the roll-ups instead (no ``stored_windows``)."""
    if not part.every_customer:
        raise ValueError("stored window tables are read for every customer, not for a part")


def customer_base(
    conn: Connection,
    src: Sources,
    bucket_days: tuple[int, int, int] = (30, 60, 90),
    cuts: Shortcuts = NO_SHORTCUTS,
    part: CustomerRange = EVERY_CUSTOMER,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per customer with every base aggregate (NaN where there is none), and the
    customer x product line sales frame the segments need (the sales are scanned once).

    With ``cuts.stored_windows`` the window aggregates come from the window tables
    wherever the roll-ups serve as they are: the sales (see :func:`per_line_sales`), and
    the monthly invoice part unless payment states must be cut at the as-of date.
    With ``part``, only the customers of that range (:mod:`partitions`): every query is
    cut to them, and nothing is written, so parts may be read on several connections.
    """
    customers = cuts.customers
    if customers is None:
        customers = customers_frame(conn, part)
    per_line = cuts.per_line
    if per_line is None:
        per_line = per_line_sales(conn, src, cuts, part)
    if cuts.stored_windows and "invoices" in stored_window_names(src):
        _every_customer(part)
        early = cuts.early.get("invoices")
        months = window_frame(conn, "invoices", src.windows, early, cuts.apart)
    else:
        months = frame_of(conn, part.only(invoice_months_by_customer(src)))
    aggregates = [months]
    for query in (open_invoices_by_customer(src, bucket_days), on_account_by_customer(src)):
        aggregates.append(frame_of(conn, part.only(query)))
    base = customers.merge(sales_by_customer(per_line), on="customer_id", how="left")
    for frame in aggregates:
        base = base.merge(frame, on="customer_id", how="left")
    base = combine_invoice_parts(base)
    base["status"] = base["status"].astype(str)
    return base, per_line


def default_as_of(conn: Connection) -> date | None:
    """The latest invoice date: the as-of date when none is given."""
    return conn.scalar(select(func.max(Invoice.invoice_date)))
