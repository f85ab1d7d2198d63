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

import pandas as pd
from sqlalchemy import Column, Numeric, Table, func, select

from models.schema import InvoiceLine, Payment

from .committed import CommittedBook


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

    def overpayment(self, check: pd.DataFrame, load: pd.DataFrame) -> pd.Series:
        """How far each row takes its invoice past its total (NaN without an invoice
        that has lines). ``check`` is the typed chunk, ``load`` its canonical text."""
        inv = check["invoice_id"]
        amount = check["amount"].fillna(0.0)
        self.book.fill(self.invoices, pd.DataFrame({"invoice_id": inv.dropna().unique()}))
        total = self._by_invoice(InvoiceLine.__table__)
        paid = self._by_invoice(Payment.__table__)
        carried = self._by_invoice(self.paid)
        # Already-recorded payments re-sent in this batch must not count twice.
        resent = check["payment_id"].map(self._recorded(check["payment_id"])).fillna(0.0)
        prior = inv.map(paid).fillna(0.0) - resent
        cumulative = amount.groupby(inv, sort=False).cumsum() + inv.map(carried).fillna(0.0)
        over = prior + cumulative - inv.map(total)
        rows = pd.DataFrame({"invoice_id": load["invoice_id"], "amount": load["amount"]})
        self.book.append(self.paid, rows[inv.notna()])
        return over.where(inv.notna() & inv.isin(total.index)).astype("float64")

    def _by_invoice(self, table: Table) -> pd.Series:
        """Sum of ``table.amount`` per invoice of the chunk (those with any row)."""
        probe = self.invoices
        query = (
            select(table.c.invoice_id, func.sum(table.c.amount))
            .join_from(table, probe, probe.c.invoice_id == table.c.invoice_id)
            .group_by(table.c.invoice_id)
        )
        return _floats(self.book.conn.execute(query).all())

    def _recorded(self, payment_ids: pd.Series) -> pd.Series:
        """The recorded amount of the chunk's payments that exist already."""
        probe, pay = self.payments, Payment.__table__
        self.book.fill(probe, pd.DataFrame({"payment_id": payment_ids.dropna().unique()}))
        query = select(pay.c.payment_id, pay.c.amount).join_from(
            pay, probe, probe.c.payment_id == pay.c.payment_id
        )
        return _floats(self.book.conn.execute(query).all())


def _floats(rows) -> pd.Series:
    """(key, Decimal amount) rows as a float Series by key; the check compares floats
    against a tolerance of a cent, as the suite's other numbers are."""
    return pd.Series(
        [float(v) if v is not None else float("nan") for _k, v in rows],
        index=pd.Index([k for k, _v in rows], dtype=object),
        dtype="float64",
    )
