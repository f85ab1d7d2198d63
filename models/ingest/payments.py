"""Payments against their invoices: the ``overpayment`` column the payments suite
checks (PAYMENT_EXCEEDS_DUE above ``ingest.overpayment_tolerance``).

For each payment row, in file order: what its invoice would have been paid once
the row is applied, less the invoice's total. Applying a row first takes a
payment it sends again off the invoice it was recorded on (so a payment counts
once, and a payment moved to another invoice frees the first), then adds the
row's amount to its invoice. Every row counts as the file states it, the ones
that break other rules too.

Set-based and bounded by the chunk: totals, payments and recorded amounts are
read for the chunk's invoices and payments only, through TEMP tables of them on
the committed book; what earlier chunks did to each invoice is kept in a TEMP
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
        # What the earlier chunks did to each invoice, one row per change (added up
        # when read); NUMERIC without a scale: the file's amounts as written.
        self.applied = book.temp(
            "applied",
            [Column("invoice_id", pay.c.invoice_id.type), Column("amount", Numeric())],
            index="invoice_id",
        )

    def check(self, check: pd.DataFrame, load: pd.DataFrame) -> Checked:
        """How far each row takes its invoice past its total (NaN without an invoice
        that has lines). ``check`` is the typed chunk, ``load`` its canonical text."""
        inv = check["invoice_id"]
        invoices = self._invoices(inv)
        total, paid, carried = (invoices[c].dropna() for c in ("total", "paid", "carried"))
        changes = self._changes(check, load)
        # The running sum of each invoice's changes, read at each row's own amount.
        running = changes.groupby("invoice_id", sort=False)["value"].cumsum()
        at_row = pd.Series(running[changes["own"]].to_numpy(), index=check.index)
        over = inv.map(paid).fillna(0.0) + inv.map(carried).fillna(0.0) + at_row
        over = over - inv.map(total)
        applied = changes["invoice_id"].notna()
        self.book.append(self.applied, changes.loc[applied, ["invoice_id", "amount"]])
        has_lines = inv.map(total).notna()  # a dict lookup; isin on Arrow text is slow
        return Checked(
            over.where(has_lines).astype("float64"),
            set(invoices.index[invoices["found"]]),
        )

    def _changes(self, check: pd.DataFrame, load: pd.DataFrame) -> pd.DataFrame:
        """The chunk's changes to invoices, in file order: for each row, a payment it
        sends again taken off the invoice it was recorded on, then its own amount on
        its invoice. Columns: invoice_id, value (float), amount (text), own (the row's
        own amount)."""
        n = len(check)
        own = pd.DataFrame(
            {
                "invoice_id": check["invoice_id"].to_numpy(dtype=object),
                "value": check["amount"].fillna(0.0).to_numpy(),
                "amount": load["amount"].to_numpy(dtype=object),
                "own": True,
                "order": np.arange(n) * 2 + 1,
            }
        )
        recorded = self._recorded(check["payment_id"]).reindex(check["payment_id"].to_numpy())
        again = recorded["invoice_id"].notna().to_numpy()
        if not again.any():
            return own
        taken = -recorded["amount"].to_numpy(dtype=object)[again]
        off = pd.DataFrame(
            {
                "invoice_id": recorded["invoice_id"].to_numpy(dtype=object)[again],
                "value": taken.astype("float64"),
                "amount": [str(a) for a in taken],
                "own": False,
                "order": np.flatnonzero(again) * 2,
            }
        )
        return pd.concat([off, own], ignore_index=True).sort_values("order", ignore_index=True)

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
            _summed(self.applied, key).label("carried"),
        )
        names = ["invoice_id", "found", "total", "paid", "carried"]
        frame = _frame(self.book.conn.execute(query), names)
        frame["found"] = frame["found"].notna()
        return frame

    def _recorded(self, payment_ids: pd.Series) -> pd.DataFrame:
        """The chunk's payments recorded already, by payment_id: the invoice they are
        recorded on (None: on account) and their amount (Decimal)."""
        probe, pay = self.payments, Payment.__table__
        self.book.fill(probe, pd.DataFrame({"payment_id": payment_ids.dropna().unique()}))

        def recorded(column):
            return select(column).where(pay.c.payment_id == probe.c.payment_id).scalar_subquery()

        amount = recorded(pay.c.amount)
        query = select(
            probe.c.payment_id, recorded(pay.c.invoice_id).label("invoice_id"), amount
        ).where(amount.is_not(None))
        rows = self.book.conn.execute(query).all()
        return pd.DataFrame(
            {"invoice_id": [r[1] for r in rows], "amount": [r[2] for r in rows]},
            index=pd.Index([r[0] for r in rows], dtype=object),
            dtype=object,
        )


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
