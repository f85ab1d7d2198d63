"""Payments against their invoices: the ``overpayment`` column the payments suite
checks (PAYMENT_EXCEEDS_DUE above ``ingest.overpayment_tolerance``).

For each payment row: what its invoice would have been paid once this row is
added (paid before this batch, plus this batch's payments on it up to this row)
less the invoice's total. Set-based and bounded by the chunk: the invoices'
totals and payments are read for the chunk's invoices only, through a TEMP
table of them on the committed book; what earlier chunks paid is kept in a TEMP
table too, not in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Column, Float, Numeric, Table, cast, func, literal, select

from models.schema import Invoice, InvoiceLine, Payment

from .committed import CommittedBook


@dataclass
class Checked:
    """A chunk's overpayment per row, and which of its invoices exist."""

    overpayment: pd.Series
    invoices: set


class PaymentsCheck:
    """The overpayment of each payment row, one chunk at a time, in file order."""

    def __init__(self, book: CommittedBook) -> None:
        pay = Payment.__table__
        self.book = book
        # The chunk's distinct invoices and payments, refilled per chunk.
        self.invoices = book.temp(
            "invoices", [Column("invoice_id", pay.c.invoice_id.type, primary_key=True)]
        )
        self.payments = book.temp(
            "payments", [Column("payment_id", pay.c.payment_id.type, primary_key=True)]
        )
        # What the earlier chunks of this batch paid, row by row (added up when read);
        # NUMERIC without a scale: the file's amounts as written.
        self.paid = book.temp(
            "paid",
            [Column("invoice_id", pay.c.invoice_id.type), Column("amount", Numeric())],
            index="invoice_id",
        )

    def check(self, check: pd.DataFrame, load: pd.DataFrame) -> Checked:
        """How far each row takes its invoice past its total (NaN without an invoice
        that has lines). ``check`` is the typed chunk, ``load`` its canonical text."""
        inv = check["invoice_id"]
        amount = check["amount"].fillna(0.0)
        invoices = self._invoices(inv)
        total, paid, carried = (invoices[c].dropna() for c in ("total", "paid", "carried"))
        # Already-recorded payments re-sent in this batch must not count twice.
        resent = check["payment_id"].map(self._recorded(check["payment_id"])).fillna(0.0)
        prior = inv.map(paid).fillna(0.0) - resent
        cumulative = amount.groupby(inv, sort=False).cumsum() + inv.map(carried).fillna(0.0)
        over = prior + cumulative - inv.map(total)
        rows = pd.DataFrame({"invoice_id": load["invoice_id"], "amount": load["amount"]})
        self.book.append(self.paid, rows[inv.notna()])
        has_lines = inv.map(total).notna()  # a dict lookup; isin on Arrow text is slow
        return Checked(
            over.where(has_lines).astype("float64"),
            set(invoices.index[invoices["found"]]),
        )

    def _invoices(self, invoice_ids: pd.Series) -> pd.DataFrame:
        """Per distinct invoice of the chunk: found (it exists), total (of its lines),
        paid (before this batch), carried (by earlier chunks); NaN where none."""
        probe = self.invoices
        self.book.fill(probe, pd.DataFrame({"invoice_id": invoice_ids.dropna().unique()}))
        key = probe.c.invoice_id
        inv = Invoice.__table__
        # Scalar subqueries, not joins: each is an index lookup per invoice of the chunk
        # (PostgreSQL would hash-join a whole table otherwise: 10M lines per chunk).
        found = select(literal(1)).where(inv.c.invoice_id == key).scalar_subquery()
        query = select(
            key,
            found.label("found"),
            _summed(InvoiceLine.__table__, key, cents=True).label("total"),
            _summed(Payment.__table__, key, cents=True).label("paid"),
            _summed(self.paid, key).label("carried"),
        )
        names = ["invoice_id", "found", "total", "paid", "carried"]
        frame = _frame(self.book.conn.execute(query), names)
        frame["found"] = frame["found"].notna()
        return frame

    def _recorded(self, payment_ids: pd.Series) -> pd.Series:
        """The recorded amount of the chunk's payments that exist already."""
        probe, pay = self.payments, Payment.__table__
        self.book.fill(probe, pd.DataFrame({"payment_id": payment_ids.dropna().unique()}))
        amount = _as_float(
            select(pay.c.amount).where(pay.c.payment_id == probe.c.payment_id).scalar_subquery()
        )
        query = select(probe.c.payment_id, amount.label("amount")).where(amount.is_not(None))
        return _frame(self.book.conn.execute(query), ["payment_id", "amount"])["amount"]


def _summed(table: Table, key, *, cents: bool = False):
    """Sum of ``table.amount`` over the rows of the invoice ``key`` (NULL when none);
    ``cents``: a sum of stored money, rounded to cents as SQLite adds it in binary."""
    total = func.sum(table.c.amount)
    summed = func.round(total, 2) if cents else total
    return _as_float(select(summed).where(table.c.invoice_id == key).scalar_subquery())


def _as_float(amount):
    """An exact amount read as a float, as the suite compares its numbers against a
    tolerance of a cent (no Decimal per row on the way)."""
    return cast(amount, Float)


def _frame(result, names: list[str]) -> pd.DataFrame:
    """Rows of (key, numbers...) as a float frame indexed by the key (NULL -> NaN)."""
    columns = list(zip(*result.all(), strict=True)) or [()] * len(names)
    numbers = {n: np.array(c, dtype="float64") for n, c in zip(names[1:], columns[1:], strict=True)}
    return pd.DataFrame(numbers, index=pd.Index(columns[0], dtype=object, name=names[0]))
