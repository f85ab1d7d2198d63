"""Payments against their invoices: the ``overpayment`` column the payments suite
checks (PAYMENT_EXCEEDS_DUE above ``ingest.overpayment_tolerance``).

For each payment row, in file order: what its invoice would have been paid once
the row is applied, less the invoice's total. Applying a row first takes a
payment it sends again off the invoice it was recorded on (so a payment counts
once, and a payment moved to another invoice frees the first), then adds the
row's amount to its invoice. Every row counts as the file states it, the ones
that break other rules too.

Set-based and bounded by the chunk: the chunk's distinct invoices and payments
go into TEMP tables, numbered, and one statement each reads, per number, what
the committed book holds for them (an index lookup per key, never a scan of the
book); what earlier chunks did to each invoice is kept in a TEMP table too, not
in Python (a chunk's changes are written there only when a later chunk reads
them). Everything after that is arrays indexed by those numbers: no Python
object per row, no lookup by text.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    Integer,
    Numeric,
    cast,
    func,
    literal,
    select,
)

from models.schema import Invoice, Payment

from .committed import CommittedBook
from .line_totals import invoice_sum

_POS = "pos"
# The suite's key set the check fills for each chunk: the chunk's invoices that exist.
FOUND_INVOICES = "known.invoice"


@dataclass
class Checked:
    """A chunk's overpayment per row, which of its invoices exist (Arrow text: the
    suite's runner tests the chunk's ids against it as it is, no Python set between),
    and which of its rows send a payment the committed book holds already (by
    position: the load's own question for the first chunk, answered)."""

    overpayment: pd.Series
    invoices: Any
    recorded: np.ndarray


@dataclass
class _Changes:
    """A chunk's changes to invoices in file order: ``key`` numbers the invoice
    (-1: none), ``value`` is the amount as a float; ``own`` marks each row's own
    amount (the rest take a payment sent again off its recorded invoice)."""

    key: np.ndarray
    value: np.ndarray
    own: np.ndarray

    def running(self) -> np.ndarray:
        """Each row's own change added to the chunk's changes to its invoice before it."""
        summed = pd.Series(self.value).groupby(self.key, sort=False).cumsum()
        return summed.to_numpy()[self.own]


class PaymentsCheck:
    """The overpayment of each payment row, one chunk at a time, in file order."""

    def __init__(self, book: CommittedBook) -> None:
        pay = Payment.__table__
        self.book = book
        # The chunk's distinct invoices and payments, numbered, refilled per chunk; only
        # ever scanned (each row looks itself up in the book): no key, no statistics.
        self.invoices = book.temp(
            "invoices", [Column("invoice_id", pay.c.invoice_id.type), Column(_POS, Integer)]
        )
        # The payments are looked up beside the invoices, on a connection of their own
        # (the same book; on SQLite the same connection, one after the other).
        self.side = book.beside()
        self.payments = self.side.temp(
            "payments", [Column("payment_id", pay.c.payment_id.type), Column(_POS, Integer)]
        )
        # What the earlier chunks did to each invoice, one row per change (added up
        # when read); NUMERIC without a scale: the file's amounts as written.
        self.applied = book.temp(
            "applied",
            [Column("invoice_id", pay.c.invoice_id.type), Column("amount", Numeric())],
            index="invoice_id",
        )
        self.carried = False  # whether ``applied`` holds anything
        # Changes not in ``applied`` yet: the last chunk's (``pending``), and those of the
        # chunk before it to invoices the last chunk did not name (``deferred``): a file
        # of one chunk writes none; a file of two, only the first's to the second's invoices.
        self.pending: pd.DataFrame | None = None
        self.deferred: pd.DataFrame | None = None

    def check(self, check: pd.DataFrame, load: pd.DataFrame) -> Checked:
        """How far each row takes its invoice past its total (NaN without an invoice
        that has lines). ``check`` is the typed chunk, ``load`` its canonical text."""
        codes, invoices = pd.factorize(check["invoice_id"])
        self._carry(invoices)
        if self.side is self.book:
            due, found = self._invoices(invoices)
            recorded = self._recorded(check["payment_id"])
        else:
            with ThreadPoolExecutor(max_workers=1) as beside:
                looking = beside.submit(self._recorded, check["payment_id"])
                due, found = self._invoices(invoices)
                recorded = looking.result()
        changes = self._changes(check, load, codes, invoices, recorded)
        # What was paid before the row (recorded, earlier chunks) less the total,
        # then the running sum of the chunk's changes to the invoice, read at the row.
        before = np.full(len(codes), np.nan)
        has_invoice = codes >= 0
        before[has_invoice] = due[codes[has_invoice]]
        over = before + changes.running()
        sent_again = np.zeros(len(codes), dtype=bool)
        sent_again[recorded[0]] = True
        return Checked(pd.Series(over, index=check.index), _texts(invoices[found]), sent_again)

    def _changes(
        self,
        check: pd.DataFrame,
        load: pd.DataFrame,
        codes: np.ndarray,
        invoices: pd.Index,
        recorded: tuple[np.ndarray, np.ndarray, list],
    ) -> _Changes:
        """The chunk's changes in file order (each payment sent again first taken off
        its recorded invoice), also kept for the next chunks (``pending``)."""
        n = len(check)
        value = check["amount"].fillna(0.0).to_numpy(dtype="float64")
        own = pd.DataFrame({"invoice_id": check["invoice_id"], "amount": load["amount"]})
        applied = [own[codes >= 0]]
        # A payment recorded on account (no invoice) takes nothing off an invoice.
        rows, off_ids, off_amounts = recorded
        on_invoice = np.array([i is not None for i in off_ids], dtype=bool)
        rows, off_ids = rows[on_invoice], off_ids[on_invoice]
        off_amounts = [a for a, keep in zip(off_amounts, on_invoice, strict=True) if keep]
        if not len(rows):
            self._apply(applied)
            return _Changes(codes, value, np.ones(n, dtype=bool))
        # A recorded invoice outside the chunk gets a number of its own past the
        # chunk's; it changes no row of this chunk but is carried to the next.
        off_key = invoices.get_indexer(pd.Index(off_ids))
        outside = off_key < 0
        off_key[outside] = len(invoices) + pd.factorize(off_ids[outside])[0]
        taken = [-a for a in off_amounts]
        applied.insert(0, pd.DataFrame({"invoice_id": off_ids, "amount": [str(a) for a in taken]}))
        self._apply(applied)
        # File order: row i's taking-off (2i) before its own amount (2i + 1).
        order = np.concatenate([rows * 2, np.arange(n) * 2 + 1])
        sort = np.argsort(order, kind="stable")
        key = np.concatenate([off_key, codes])[sort]
        amounts = np.concatenate([np.array(taken, dtype="float64"), value])[sort]
        own_amount = np.concatenate([np.zeros(len(rows), bool), np.ones(n, bool)])[sort]
        return _Changes(key, amounts, own_amount)

    def _apply(self, frames: list[pd.DataFrame]) -> None:
        """Keep the chunk's changes to invoices for the chunks after it."""
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        self.pending = frame if len(frame) else None

    def _carry(self, invoices: pd.Index) -> None:
        """Write where this chunk's lookup finds them the earlier chunks' changes it may
        read: the previous chunk's to this chunk's ``invoices``, and every change deferred
        from the chunk before (this chunk may name its invoices; a later one may)."""
        frames = [self.deferred] if self.deferred is not None else []
        self.deferred = None
        if self.pending is not None:
            pending, self.pending = self.pending, None
            needed = _among(pending["invoice_id"], invoices)
            frames.append(pending[needed])
            if not needed.all():
                self.deferred = pending[~needed]
        frames = [f for f in frames if len(f)]
        if frames:
            frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
            self.book.append(self.applied, frame)
            self.carried = True

    def _invoices(self, invoices: pd.Index) -> tuple[np.ndarray, np.ndarray]:
        """Per distinct invoice of the chunk (by its number): what was paid before
        this chunk (recorded before the batch, and by earlier chunks) less its total,
        NaN when it has no lines; and whether it exists."""
        probe = self.invoices
        self.book.fill(probe, pd.DataFrame({"invoice_id": invoices}), numbered=_POS, analysed=False)
        key = probe.c.invoice_id
        # Scalar subqueries, not joins: each is an index lookup per invoice of the chunk
        # (PostgreSQL would hash-join a whole table otherwise: 10M lines per chunk).
        # The invoice's line total as its header keeps it: one probe, not its lines'.
        inv = Invoice.__table__
        total = select(inv.c.line_total).where(inv.c.invoice_id == key).scalar_subquery()
        paid: ColumnElement = func.coalesce(invoice_sum(Payment.__table__, key, cents=True), 0)
        if self.carried:
            paid = paid + func.coalesce(invoice_sum(self.applied, key), 0)
        # Exact sums, read as a float: the suite compares them against a tolerance
        # of a cent (no Decimal per row on the way).
        # One number per probe row, in the order of the numbers: row i is invoice i.
        query = select(cast(paid - total, Float)).select_from(probe).order_by(probe.c[_POS])
        due = self.book.floats(query)  # NULL: NaN
        # An invoice with lines exists (its lines are written with it): only the
        # ones without are looked up.
        found = ~np.isnan(due)
        if not found.all():
            found |= invoices.isin(self._existing(invoices[~found]))
        return due, found

    def _existing(self, invoices: pd.Index) -> set:
        """Which of ``invoices`` exist."""
        probe, inv = self.invoices, Invoice.__table__
        self.book.fill(probe, pd.DataFrame({"invoice_id": invoices}), numbered=_POS, analysed=False)
        hit = select(literal(1)).where(inv.c.invoice_id == probe.c.invoice_id).scalar_subquery()
        query = select(probe.c.invoice_id).where(hit.is_not(None))
        return set(self.book.conn.execute(query).scalars())

    def _recorded(self, payment_ids: pd.Series) -> tuple[np.ndarray, np.ndarray, list]:
        """The rows of the chunk whose payment is recorded already: their positions, the
        invoice it is recorded on (None: on account) and the recorded amount (Decimal).
        Runs on ``self.side`` (maybe in another thread): nothing else of ``self``."""
        probe, pay = self.payments, Payment.__table__
        codes, payments = pd.factorize(payment_ids)
        self.side.fill(probe, pd.DataFrame({"payment_id": payments}), numbered=_POS, analysed=False)

        def recorded(column):
            return select(column).where(pay.c.payment_id == probe.c.payment_id).scalar_subquery()

        # Scalar subqueries: an index lookup per payment of the chunk, never a join
        # that could read the whole table.
        query = select(probe.c[_POS], recorded(pay.c.invoice_id), recorded(pay.c.amount)).where(
            recorded(literal(1)).is_not(None)
        )
        pos, invoice_ids, amounts = _columns(self.side.conn.execute(query).all(), 3)
        if not pos:
            return np.zeros(0, dtype="int64"), np.array([], dtype=object), []
        at = np.full(len(payments), -1, dtype="int64")
        at[np.array(pos, dtype="int64")] = np.arange(len(pos))
        which = at[np.where(codes >= 0, codes, 0)]
        rows = np.flatnonzero((codes >= 0) & (which >= 0))
        picked = which[rows]
        off_ids = np.array(invoice_ids, dtype=object)[picked]
        return rows, off_ids, [amounts[i] for i in picked]


def _columns(rows: Sequence, width: int) -> list[tuple]:
    """Fetched rows as ``width`` column tuples (numpy reads a tuple of numbers in C,
    a list of result rows one Python call per value)."""
    return list(zip(*rows, strict=True)) if rows else [()] * width


def _among(values: pd.Series, keys: pd.Index) -> np.ndarray:
    """Which of ``values`` (text) are among ``keys``, tested by Arrow (pandas' ``isin``
    on Arrow text makes a Python object of each key)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.is_in(pa.array(values, type=pa.string(), from_pandas=True), value_set=_texts(keys))
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _texts(values: pd.Index):
    """Text values as an Arrow string array (no Python object per value)."""
    import pyarrow as pa

    return pa.array(values.array, type=pa.string())
