"""Invoices (header and lines) and the payments against them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import MONEY, QUANTITY, Base, references

# The fact tables (invoices, their lines, payments) carry no FOREIGN KEY
# constraints: PostgreSQL checks one per row with a trigger, which cost an ingest
# of 1M lines ~20 s of ~37, and ~45% of writing a payments file. Their
# references (``info["references"]``) are enforced by ingest instead, set-based:
# the suites quarantine rows whose keys do not resolve, the ingest lock keeps the
# referenced rows stable, and models/ingest/load.py re-checks each staged chunk
# with one anti-join before writing it. Nothing deletes customers, product lines,
# invoices or batches.


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        Index("ix_invoice_customer_date", "customer_id", "invoice_date"),
        # Batch ids only grow as rows are appended: a BRIN index (a few pages, almost
        # free to maintain) finds a batch's rows on PostgreSQL; SQLite gets a B-tree.
        Index("ix_invoice_batch_id", "batch_id", postgresql_using="brin"),
    )

    invoice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), info=references("customer.customer_id"))
    invoice_date: Mapped[date] = mapped_column(Date, index=True)
    # Unknown due date (foreign exports) stays NULL: timeliness is then unknown.
    due_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    batch_id: Mapped[int | None] = mapped_column(Integer, info=references("ingest_batch.batch_id"))
    # What the invoice's lines add up to, rounded to cents (NULL: no lines), kept by the
    # lines' load (models/ingest/line_totals.py) so that the payments check reads one row
    # per invoice instead of its ~5 lines (migration 0022). Only that check reads it.
    line_total: Mapped[Decimal | None] = mapped_column(MONEY)


class InvoiceLine(Base):
    """One invoice line; credit notes are lines with negative quantity and amount."""

    __tablename__ = "invoice_line"
    __table_args__ = (Index("ix_invoice_line_batch_id", "batch_id", postgresql_using="brin"),)

    invoice_id: Mapped[str] = mapped_column(
        String(64), primary_key=True, info=references("invoice.invoice_id")
    )
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_line_id: Mapped[str] = mapped_column(
        String(64), info=references("product_line.product_line_id")
    )
    product_code: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    # Unknown cost is NULL, never zero: margin is then unknown.
    cost: Mapped[Decimal | None] = mapped_column(MONEY)
    batch_id: Mapped[int | None] = mapped_column(Integer, info=references("ingest_batch.batch_id"))


class Payment(Base):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        # As invoice's: batch ids only grow as rows are appended (BRIN on PostgreSQL).
        # No index on (customer_id, paid_on): no read asks for one customer's payments,
        # and keeping it cost ~45% of writing a payment (migration 0021).
        Index("ix_payment_batch_id", "batch_id", postgresql_using="brin"),
    )

    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # A payment on account (no invoice named) is allowed and counts for the customer.
    invoice_id: Mapped[str | None] = mapped_column(
        String(64), index=True, info=references("invoice.invoice_id")
    )
    customer_id: Mapped[str] = mapped_column(String(64), info=references("customer.customer_id"))
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    batch_id: Mapped[int | None] = mapped_column(Integer, info=references("ingest_batch.batch_id"))
