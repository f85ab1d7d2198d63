"""An invoice's line total, kept on its header (``invoice.line_total``) by the lines' load.

The rule: ``line_total`` is ``round(sum(amount), 2)`` over the invoice's lines as
stored (NULL without lines), the figure the payments check compares payments
against. The check reads it with one index probe per invoice; summing the lines
there cost a probe of the line table plus ~5 heap rows per invoice (~1 s of database
CPU per 200,000 payments).

Two ways to the same figure. :func:`recount` has the database add the stored lines up
(the rule itself): invoices the careful path touched, and any chunk whose amounts are
not all whole cents. :func:`new_invoice_totals` adds a chunk's new invoices up in
whole cents (integers, exact) beside writing them, where every one of their lines is
in the chunk: the fresh load's path, no statement of its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select, update

from models.schema import Invoice, InvoiceLine

_inv, _line = Invoice.__table__, InvoiceLine.__table__
# Amounts this large in float64 (cents near 2**53) no longer tell whole cents apart:
# such a chunk is added up by the database.
_LARGEST = 1e13
# How far from whole cents float64 parsing may leave an amount that was whole cents
# (a sub-cent part this small would round away in NUMERIC(18, 2) as well).
_SLACK = 1e-6


def summed(key):
    """The rule, as SQL: what the lines of invoice ``key`` add up to (NULL: none),
    rounded to cents as SQLite adds them in binary."""
    total = func.round(func.sum(_line.c.amount), 2)
    return select(total).where(_line.c.invoice_id == key).scalar_subquery()


def recount(conn: Connection, invoice_ids) -> None:
    """Set ``line_total`` of the invoices ``invoice_ids`` (a one-column select) from
    their lines as stored now."""
    inv = _inv
    conn.execute(
        update(inv)
        .values(line_total=summed(inv.c.invoice_id))
        .where(inv.c.invoice_id.in_(invoice_ids))
    )


def new_invoice_totals(lines: pd.DataFrame, invoice_ids: pd.Series) -> pd.Series | None:
    """Per invoice of ``invoice_ids`` (in that order), what its lines in ``lines`` add up
    to, as text of whole cents; None when an amount is not whole cents (or too large
    to tell in float64): then :func:`recount` after the lines are written. ``lines``
    are canonical text and hold every line of those invoices."""
    import pyarrow as pa
    import pyarrow.compute as pc

    amounts = pc.cast(pa.array(lines["amount"], type=pa.string(), from_pandas=True), pa.float64())
    scaled = amounts.to_numpy(zero_copy_only=False) * 100
    cents = np.rint(scaled)
    if not (np.abs(scaled - cents) <= _SLACK).all() or not (np.abs(cents) < _LARGEST * 100).all():
        return None
    by_invoice = pd.Series(cents.astype("int64"), index=lines["invoice_id"].to_numpy())
    totals = by_invoice.groupby(level=0, sort=False).sum()
    return _cents_text(totals.reindex(invoice_ids.to_numpy()).to_numpy())


def _cents_text(cents: np.ndarray) -> pd.Series:
    """Whole cents as canonical decimal text (-1234 -> "-12.34")."""
    whole, part = np.divmod(np.abs(cents), 100)
    sign = np.where(cents < 0, "-", "")
    text = (
        pd.Series(sign, dtype=object)
        + pd.Series(whole).astype(str)
        + "."
        + pd.Series(part).astype(str).str.zfill(2)
    )
    return text
