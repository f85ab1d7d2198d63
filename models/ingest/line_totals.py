"""An invoice's line total, kept on its header (``invoice.line_total``) by the lines' load.

The rule: ``line_total`` is ``round(sum(amount), 2)`` over the invoice's lines as
stored (NULL without lines), the figure the payments check compares payments
against. The check reads it with one index probe per invoice; summing the lines
there cost a probe of the line table plus ~5 heap rows per invoice (~1 s of database
CPU per 200,000 payments).

Two ways to the same figure. :func:`recount` has the database add the stored lines up
(the rule itself): invoices the careful path touched, and any chunk whose amounts are
not all whole cents. :func:`new_invoices` adds a chunk's new invoices up in
whole cents (integers, exact) beside writing them, where every one of their lines is
in the chunk: the fresh load's path, no statement of its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, func, select, update

from models.schema import Invoice, InvoiceLine

_inv, _line = Invoice.__table__, InvoiceLine.__table__
# Cents from 10**15 on (10**13 in money) are past what float64 tells apart as whole
# cents (and as 2-decimal text): a chunk with such an amount or total is added up by the
# database.
_LARGEST = 1e15
# How far from whole cents float64 parsing may leave an amount that was whole cents
# (a sub-cent part this small would round away in NUMERIC(18, 2) as well).
_SLACK = 1e-6


def invoice_sum(table: Table, key, *, cents: bool = False):
    """Sum of ``table.amount`` over the rows of the invoice ``key`` (NULL when none);
    ``cents``: a sum of stored money, rounded to cents as SQLite adds it in binary."""
    total = func.sum(table.c.amount)
    return (
        select(func.round(total, 2) if cents else total)
        .where(table.c.invoice_id == key)
        .scalar_subquery()
    )


def summed(key):
    """The rule, as SQL: what the lines of invoice ``key`` add up to (NULL: none)."""
    return invoice_sum(_line, key, cents=True)


def recount(conn: Connection, invoice_ids) -> None:
    """Set ``line_total`` of the invoices ``invoice_ids`` (a one-column select) from
    their lines as stored now."""
    conn.execute(
        update(_inv)
        .values(line_total=summed(_inv.c.invoice_id))
        .where(_inv.c.invoice_id.in_(invoice_ids))
    )


def new_invoices(lines: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """One header row per invoice of ``lines`` (its first line's values), in invoice order,
    and whether each got its ``line_total`` (decimal text; ``lines`` are canonical text
    and hold every line of their invoices). Not when an amount is not whole cents, or a
    figure is too large to tell whole cents in float64: then :func:`recount` once the
    lines are written. Arrow and numpy, no Python object per line or invoice: the
    grouping the header rows need anyway serves the sums (~20 ms per 200,000 lines)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    codes, invoices = pd.factorize(lines["invoice_id"])  # every line names its invoice
    first = np.empty(len(invoices), dtype="int64")
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the lowest position wins
    # Invoice order (byte order: the primary key's B-tree gets them at its right edge),
    # sorting the invoices' ids alone, then one take of the rows.
    order = pc.sort_indices(pa.array(invoices, type=pa.string(), from_pandas=True)).to_numpy()
    heads = lines.iloc[first[order]]
    amounts = pc.cast(pa.array(lines["amount"], type=pa.string(), from_pandas=True), pa.float64())
    scaled = amounts.to_numpy(zero_copy_only=False) * 100
    cents = np.rint(scaled)
    whole = bool((np.abs(scaled - cents) <= _SLACK).all() and (np.abs(cents) < _LARGEST).all())
    if whole:
        # Whole numbers below 2**53 add up exactly in float64.
        total = np.bincount(codes, weights=cents, minlength=len(invoices))
        whole = bool((np.abs(total) < _LARGEST).all())
    if whole:
        # Whole cents below 10**15 over 100: 15 significant digits at most, which float64
        # holds exactly enough that the shortest text Arrow writes is the decimal itself.
        text = pc.cast(pa.array(total[order] / 100), pa.string())
        heads = heads.assign(line_total=pd.Series(pd.arrays.ArrowStringArray(text), heads.index))
    return heads, whole
