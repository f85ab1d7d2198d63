"""The customers' purchase days, as the CLV summary reads them: per customer the first
and last purchase day, how many, their revenue and the first day's (see
models/value/clv.py for the summary built from them).

A purchase day is a day with an invoice line of positive amount. The per-invoice
roll-up holds each invoice's net amount, so the credit lines (negative amounts, ~1% of
lines, read through a partial index of their own) are added back per invoice: net -
credits = the invoice's positive lines. Money
is whole cents, so sums are exact in any order and on both databases: every path below
gives the same bits as ``rfm_summary`` of the invoice lines (the plain path, in
pandas), which contract tests hold.

Two paths to the summary at an as-of date, one interface:

* :func:`summary_at` (the plain set-based path): one statement over the roll-up and the
  credit lines, cut at the as-of date. At 10M lines it reads 3.3M invoices and 10M lines
  (seconds: more than the rest of a recompute).
* :func:`kept_summary`: from ``customer_purchases``, one row per customer over every
  date, which :func:`keep_purchases` brings up to date in each recompute by rebuilding
  only the customers whose sales the roll-up refresh rebuilt (the roll-ups change no
  one else's invoices or lines), or everyone when the table does not follow the
  refreshes one by one (a refresh run elsewhere, a full rebuild;
  ``clv_purchases_state`` says which batches the table reflects). Most of a night's
  customers only bought again, later than their last purchase day: their rows get the
  new days added (:func:`appendable`) instead of their history summed again. A customer
  with a purchase after the as-of date is summarised afresh from the roll-up, cut at
  the as-of date.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
    update,
)

from models.schema import (
    ClvPurchasesState,
    CustomerPurchases,
    IngestChange,
    Invoice,
    InvoiceLine,
    InvoiceRollup,
)

from .clv import SUMMARY_COLUMNS, mean_spend
from .frames import frame_of
from .rollups import RollupRefresh, applied_batches
from .sqlfuncs import whole_cents

_line, _invoice, _facts = InvoiceLine.__table__, InvoiceRollup.__table__, Invoice.__table__
_kept, _state = CustomerPurchases.__table__, ClvPurchasesState.__table__
_STATE = "customer_purchases"
_EPOCH = date(1970, 1, 1)  # invoice_rollup.invoice_day counts days from here
# day * _DAY_KEY + cents orders purchase days by day and keeps their cents (below 2**40,
# 11 billion a day) in the low bits; day numbers (~20,000) leave 2**63 far away.
_DAY_KEY = 2**40
PURCHASE_COLUMNS = ["customer_id", "first_day", "last_day", "purchase_days", "cents"]
PURCHASE_COLUMNS += ["first_day_cents"]
# Above this many customers to rebuild or summarise afresh, the whole table is cheaper
# (and an IN list stays far below SQLite's 32,766 bound parameters).
_AT_MOST = 20_000
# Up to this many customers (~200,000 invoices at 10M lines), their invoices look their
# credit lines up one by one rather than all credit lines being summed (PostgreSQL).
_LOOK_UP_AT_MOST = 3_000


def day_number(day: date) -> int:
    """A date as invoice_rollup.invoice_day counts it (days since 1970-01-01)."""
    return (day - _EPOCH).days


def purchases_select(
    dialect: str,
    until_day: int | None = None,
    customers: Collection[str] | None = None,
    invoice_ids: Select | None = None,
) -> Select:
    """One row per customer with a purchase day (:data:`PURCHASE_COLUMNS`), over the days
    up to ``until_day`` (every day when None), of ``customers`` (everyone when None), of
    the invoices whose ids ``invoice_ids`` selects (all when None).

    Purchase days are grouped by (customer, invoice date), the order of the roll-up's
    index, which SQLite then reads without sorting; the cut uses the day number, so
    SQLite does not fetch every row through the date index instead (11 s instead of
    0.7 s at 10M lines). The first day's revenue is the low bits of the smallest
    ``day * 2**40 + cents``: no window function, no second sort.
    """
    inv = _invoice.c
    # A literal 0, as the partial index's condition reads: SQLite does not use the index
    # for a bound parameter.
    credit_lines = _line.c.amount < literal_column("0")
    credited = func.sum(_line.c.amount).label("credited")
    few = customers is not None and len(customers) <= _LOOK_UP_AT_MOST
    if dialect == "postgresql" and (few or invoice_ids is not None):
        # A few customers (a night's), or a batch's invoices: each invoice looks its credit
        # lines up in the partial index, where summing every credit line by invoice read
        # ~100,000 lines from ~66,000 pages at 10M lines (2,500 customers: 0.5 s instead
        # of 0.7 s).
        each = select(credited).where(_line.c.invoice_id == inv.invoice_id, credit_lines)
        own = each.lateral("credits")
        invoices, credit = _invoice.outerjoin(own, true()), own.c.credited
    else:
        credits = (
            select(_line.c.invoice_id, credited)
            .where(credit_lines)
            .group_by(_line.c.invoice_id)
            .subquery("credits")
        )
        invoices = _invoice.outerjoin(credits, credits.c.invoice_id == inv.invoice_id)
        credit = credits.c.credited
    chosen: list[ColumnElement[bool]] = []
    if customers is not None:
        chosen.append(inv.customer_id.in_(sorted(customers)))
    if invoice_ids is not None:
        chosen.append(inv.invoice_id.in_(invoice_ids))
    cents = whole_cents(inv.amount_due - func.coalesce(credit, 0))
    if until_day is not None:
        chosen.append(inv.invoice_day <= until_day)
    customer = _by_customer(inv.customer_id, dialect)
    days = (
        select(
            customer.label("customer_id"),
            func.min(inv.invoice_day).label("day"),
            func.sum(cents).label("cents"),
        )
        .select_from(invoices)
        .where(cents > 0, *chosen)
        .group_by(customer, inv.invoice_date)
        .subquery("days")
    )
    d = days.c
    day_key = literal(_DAY_KEY, BigInteger)
    first_key = func.min(cast(d.day, BigInteger) * day_key + d.cents)
    return select(
        d.customer_id,
        func.min(d.day).label("first_day"),
        func.max(d.day).label("last_day"),
        func.count().label("purchase_days"),
        cast(func.sum(d.cents), BigInteger).label("cents"),
        cast(first_key % day_key, BigInteger).label("first_day_cents"),
    ).group_by(d.customer_id)  # byte-wise on PostgreSQL, as ``days`` made it


def _by_customer(customer_id, dialect: str):
    """The customer id as a grouping key: byte-wise on PostgreSQL, whose sort by the
    database's collation took three times as long (3.1M purchase days at 10M lines)."""
    return customer_id.collate("C") if dialect == "postgresql" else customer_id


def summary_of(purchases: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The CLV summary at ``as_of`` (:data:`models.value.clv.SUMMARY_COLUMNS`) of purchase
    rows (:data:`PURCHASE_COLUMNS`, every day on or before ``as_of``), sorted by
    customer_id as ``rfm_summary`` sorts it."""
    frequency = purchases["purchase_days"].to_numpy(dtype=np.int64) - 1
    first = purchases["first_day"].to_numpy(dtype=np.int64)
    repeat = purchases["cents"].to_numpy(dtype=float) - purchases["first_day_cents"].to_numpy(
        dtype=float
    )
    summary = pd.DataFrame(
        {
            "customer_id": purchases["customer_id"].to_numpy(dtype=object),
            "frequency": frequency,
            "recency": purchases["last_day"].to_numpy(dtype=np.int64) - first,
            "T": day_number(as_of) - first,
            "monetary_value": mean_spend(repeat, frequency),
        }
    )
    return summary.sort_values("customer_id", ignore_index=True)[SUMMARY_COLUMNS]


def _frame(conn: Connection, query: Select) -> pd.DataFrame:
    """Purchase rows fetched the fast way (frames.frame_of: COPY on PostgreSQL); building
    the frame from SQLAlchemy rows took 0.8 s for 50,000 customers."""
    frame = frame_of(conn, query)
    frame.columns = PURCHASE_COLUMNS
    return frame


def summary_at(conn: Connection, as_of: date) -> pd.DataFrame:
    """The CLV summary at ``as_of`` straight from the roll-up (the plain path)."""
    query = purchases_select(conn.dialect.name, until_day=day_number(as_of))
    return summary_of(_frame(conn, query), as_of)


def keep_purchases(conn: Connection, refreshed: RollupRefresh | None) -> str:
    """Bring ``customer_purchases`` up to date with the roll-up, in the caller's
    transaction; ``refreshed`` is what the roll-up refresh just did (None: none ran).

    Returns what it did: "current" (nothing to do), "incremental" (the customers the
    refresh rebuilt) or "rebuilt" (everyone). On PostgreSQL the state row is locked, so
    two recomputes keep the table one after the other.
    """
    applied = set(applied_batches(conn))
    state = select(_state.c.batch_ids).where(_state.c.name == _STATE)
    if conn.dialect.name == "postgresql":
        state = state.with_for_update()
    kept = conn.scalar(state)
    kept = None if kept is None else set(kept)
    new = set(refreshed.batch_ids) if refreshed is not None else set()
    if kept == applied:
        return "current"
    follows = (
        kept is not None
        and refreshed is not None
        and not refreshed.full_rebuild
        and kept | new == applied
        and not kept & new
        and len(refreshed.sales_rebuilt) <= _AT_MOST
    )
    dialect = conn.dialect.name
    if follows:
        assert refreshed is not None  # for the type checker: ``follows`` says so
        # Purchase days come from invoices and lines: a payment changes none.
        added = appendable(conn, refreshed)
        _append_days(conn, added, refreshed.batch_ids)
        customers = refreshed.sales_rebuilt - added
        if customers:
            conn.execute(delete(_kept).where(_kept.c.customer_id.in_(sorted(customers))))
            rows = purchases_select(dialect, customers=customers)
            conn.execute(insert(_kept).from_select(PURCHASE_COLUMNS, rows))
    else:
        conn.execute(delete(_kept))
        conn.execute(insert(_kept).from_select(PURCHASE_COLUMNS, purchases_select(dialect)))
    conn.execute(delete(_state).where(_state.c.name == _STATE))
    conn.execute(insert(_state), [{"name": _STATE, "batch_ids": sorted(applied)}])
    return "incremental" if follows else "rebuilt"


def appendable(conn: Connection, refreshed: RollupRefresh) -> frozenset[str]:
    """Of the customers whose sales ``refreshed`` rebuilt, those whose kept row stays right
    with only the batches' purchase days added: each has a kept row, and every invoice of
    the batches is theirs anew (no line of the batches on an older invoice) and falls after
    the row's last day. Their older days are then untouched, and the new days are new:
    first day and its cents stay, count, cents and last day add up. None when the batches
    amended rows (an amendment may move or change any day). Call after the refresh
    committed, on the table the last refresh left (:func:`keep_purchases` checks)."""
    batches = refreshed.batch_ids
    customers = sorted(refreshed.sales_rebuilt)
    changes = IngestChange.__table__
    amended = select(func.count()).select_from(changes).where(changes.c.batch_id.in_(batches))
    if not customers or conn.scalar(amended):
        return frozenset()
    new = _batch_invoices(batches)
    inv = _invoice.c
    # A batch's invoice dated on or before the customer's last kept day (IN a subquery,
    # which PostgreSQL hashes: it estimates new batches at one row, see worklist.mark_dirty).
    backdated = (
        select(inv.customer_id)
        .join_from(_invoice, _kept, _kept.c.customer_id == inv.customer_id)
        .where(inv.invoice_id.in_(new), inv.invoice_day <= _kept.c.last_day)
    )
    # A batch's line added to an invoice of an earlier batch.
    older = (
        select(_facts.c.customer_id)
        .join_from(_line, _facts, _facts.c.invoice_id == _line.c.invoice_id)
        .where(_line.c.batch_id.in_(batches), _line.c.invoice_id.not_in(new))
    )
    kept = select(_kept.c.customer_id).where(_kept.c.customer_id.in_(customers))
    blocked = set(conn.scalars(backdated.union(older)))
    return frozenset(c for c in conn.scalars(kept) if c not in blocked)


def _batch_invoices(batches: Collection[int]) -> Select:
    """The ids of the invoices ``batches`` wrote."""
    return select(_facts.c.invoice_id).where(_facts.c.batch_id.in_(sorted(batches)))


def _append_days(conn: Connection, customers: frozenset[str], batches: Collection[int]) -> None:
    """Add to ``customers``' kept rows (each :func:`appendable`) the purchase days of the
    invoices ``batches`` wrote, in one UPDATE ... FROM (their new invoices may all be
    credit notes: no purchase day, nothing added)."""
    if not customers:
        return
    # Every customer of the batches' invoices, whose ids lead the way (33,000 invoices of a
    # night at 10M lines, where their customers have 200,000); the UPDATE keeps ours.
    query = purchases_select(conn.dialect.name, invoice_ids=_batch_invoices(batches))
    added = query.subquery("added").c
    k = _kept.c
    conn.execute(
        update(_kept)
        .where(k.customer_id == added.customer_id, k.customer_id.in_(sorted(customers)))
        .values(
            purchase_days=k.purchase_days + added.purchase_days,
            cents=k.cents + added.cents,
            last_day=added.last_day,
        )
    )


def kept_summary(conn: Connection, as_of: date) -> pd.DataFrame:
    """The CLV summary at ``as_of`` from ``customer_purchases`` (kept up to date by
    :func:`keep_purchases` first); the customers with a purchase day after ``as_of`` are
    summarised afresh from the roll-up, cut at ``as_of`` (all of them, through
    :func:`summary_at`, when there are many: a snapshot far in the past)."""
    until = day_number(as_of)
    kept = _frame(conn, select(*(_kept.c[c] for c in PURCHASE_COLUMNS)))
    later = kept["last_day"].to_numpy(dtype=np.int64) > until
    if later.sum() > _AT_MOST:
        return summary_at(conn, as_of)
    rows = kept[~later]
    if later.any():
        customers = set(kept.loc[later, "customer_id"])
        query = purchases_select(conn.dialect.name, until_day=until, customers=customers)
        rows = pd.concat([rows, _frame(conn, query)], ignore_index=True)
    return summary_of(rows, as_of)
