"""The value engine's own tables: roll-ups of the facts and per-snapshot results.

Roll-ups are derived data, rebuilt per customer from the fact tables whenever a
batch touching that customer commits (see ``models/value/rollups.py``), so the
recompute reads a few million pre-aggregated rows instead of every invoice line.
They carry no foreign keys: they are dropped and refilled freely.

The per-snapshot result tables carry no FOREIGN KEY constraints either (0008):
the recompute bulk-writes ~300,000 rows per snapshot, and PostgreSQL checked each
one with a trigger (COPY into customer_segment: 2.9 s with the key, 0.75 s without).
The reference stays documented in ``info`` (see :func:`.base.references`); the
rows are written in the transaction that inserts their snapshot, and nothing
deletes snapshots or customers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import MONEY, RATIO, Base, created_at_column, references

# Per-customer roll-ups whose primary key leads with customer_id are stored in key order
# on SQLite (WITHOUT ROWID, 0010): a refresh rewrites a customer's rows in one b-tree
# instead of a table and its key index, and reads come in customer order (ageing over
# the open invoices: 0.86 s through a secondary index, 0.32 s clustered, at 10M lines).
# PostgreSQL has no such option; there the tables are heaps written in customer order.
CLUSTERED_BY_KEY = {"sqlite_with_rowid": False}
# An invoice with something due that its payments overpaid.
OVERPAID = "amount_due > 0 AND paid_amount > amount_due"


class SalesRollup(Base):
    """Invoiced sales per customer, product line and calendar month, in whole cents."""

    __tablename__ = "sales_rollup"
    __table_args__ = CLUSTERED_BY_KEY

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_line_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    # Money in whole cents (0023): the windows add up ~3.6M of these rows at 10M lines,
    # and PostgreSQL adds integers several times faster than it converts NUMERIC.
    revenue: Mapped[int] = mapped_column(BigInteger)
    # Cost and the revenue of the lines whose cost is known: margin is computed
    # over known-cost lines only, and is NULL when no line has a cost.
    cost: Mapped[int | None] = mapped_column(BigInteger)
    revenue_costed: Mapped[int | None] = mapped_column(BigInteger)
    line_count: Mapped[int] = mapped_column(Integer)


class InvoiceRollup(Base):
    """One row per invoice: what was due, what was paid, when it was settled."""

    __tablename__ = "invoice_rollup"
    __table_args__ = (
        Index("ix_invoice_rollup_customer_date", "customer_id", "invoice_date"),
        # The few invoices their payments overpaid (0026): the DSO trend reads their
        # payments' running totals, and found them by a scan of every invoice.
        Index(
            "ix_invoice_rollup_overpaid",
            "invoice_id",
            postgresql_where=text(OVERPAID),
            sqlite_where=text(OVERPAID),
        ),
    )

    invoice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    invoice_date: Mapped[date] = mapped_column(Date, index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    amount_due: Mapped[Decimal] = mapped_column(MONEY)
    paid_amount: Mapped[Decimal] = mapped_column(MONEY)
    paid_by_due: Mapped[Decimal] = mapped_column(MONEY)
    # First day the running total of payments reached the amount due.
    settled_on: Mapped[date | None] = mapped_column(Date)
    # Indexed (0008): an as-of date before the last payment recounts the invoices paid
    # after it, found by this index (SQLite otherwise walks the whole table by customer).
    last_paid_on: Mapped[date | None] = mapped_column(Date, index=True)
    # The same dates as day numbers (days since 1970-01-01): measures compare and
    # subtract integers, which SQLite does far faster than julianday() on ISO text.
    invoice_day: Mapped[int] = mapped_column(Integer)
    due_day: Mapped[int | None] = mapped_column(Integer)
    # Not indexed (0010): open invoices are read from ``open_invoice_rollup``.
    settled_day: Mapped[int | None] = mapped_column(Integer)


class OpenInvoiceRollup(Base):
    """The open (unsettled) invoices of ``invoice_rollup``, with what ageing needs.

    The receivables read every open invoice one by one; they are ~10% of the invoices,
    so this copy spares them a scan of the whole per-invoice roll-up (maintained with
    it). What does not depend on the as-of date is worked out once, here.
    """

    __tablename__ = "open_invoice_rollup"
    # Keyed by customer first (0010): each refresh replaces the rebuilt customers' rows,
    # and ageing groups by customer, reading the rows in key order.
    __table_args__ = (PrimaryKeyConstraint("customer_id", "invoice_id"), CLUSTERED_BY_KEY)

    invoice_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(64))
    invoice_date: Mapped[date] = mapped_column(Date)
    amount_due: Mapped[Decimal] = mapped_column(MONEY)
    # What was paid, at most the amount due (collected against it).
    paid_capped: Mapped[Decimal] = mapped_column(MONEY)
    # Due and not yet paid, when above zero; NULL otherwise (nothing to age).
    open_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    due_day: Mapped[int | None] = mapped_column(Integer)
    # The day it is overdue from: the due date, or the invoice date when none is known.
    overdue_day: Mapped[int] = mapped_column(Integer)


class InvoiceMonthRollup(Base):
    """Invoices per customer and invoice month; amounts of the settled ones.

    A settled invoice's contribution (due, collected, on time, days late) no longer
    depends on the as-of date, so it is summed here once; open invoices are read
    individually from ``invoice_rollup``.
    """

    __tablename__ = "invoice_month_rollup"
    __table_args__ = CLUSTERED_BY_KEY

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    invoice_count: Mapped[int] = mapped_column(Integer)
    last_invoice_date: Mapped[date] = mapped_column(Date)
    paid_amount: Mapped[Decimal] = mapped_column(MONEY)
    settled_count: Mapped[int] = mapped_column(Integer)
    settled_due: Mapped[Decimal] = mapped_column(MONEY)
    settled_timed: Mapped[int] = mapped_column(Integer)
    settled_on_time: Mapped[int] = mapped_column(Integer)
    settled_days_late: Mapped[int] = mapped_column(Integer)
    settled_late: Mapped[int] = mapped_column(Integer)
    settled_late_amount_days: Mapped[Decimal] = mapped_column(Numeric(24, 2))
    # The month's invoices' amounts due, and those of the invoices with something due
    # (0026): the DSO trend's revenue and what opens each month.
    amount_due: Mapped[Decimal] = mapped_column(MONEY)
    amount_due_positive: Mapped[Decimal] = mapped_column(MONEY)


class PaymentMonthRollup(Base):
    """What payments applied per customer and month, for the DSO trend: each payment on
    an invoice with something due that its payments did not overpay, in full, in the
    month it applied in (its payment date, or the invoice's date when paid before).
    Kept by the roll-up refresh like ``invoice_month_rollup``; the overpaid invoices'
    payments, applied only up to what was due, are read apart (models/dashboard/dso.py).
    """

    __tablename__ = "payment_month_rollup"
    __table_args__ = CLUSTERED_BY_KEY

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    applied: Mapped[Decimal] = mapped_column(MONEY)


class SalesWindow(Base):
    """Sales per customer and product line over the current and previous windows.

    A cache of the recompute's heaviest aggregate over ``sales_rollup`` for the
    window that ``rollup_window`` names (see ``models/value/rollups.py``): rebuilt
    when the recompute asks for another window, kept up to date per customer by
    each incremental refresh, emptied by a full one. Sums are the aggregate's own
    floats (the recompute adds them up as floats); money of record stays NUMERIC.
    """

    __tablename__ = "sales_window"
    __table_args__ = CLUSTERED_BY_KEY

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_line_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revenue: Mapped[float] = mapped_column(Float)
    revenue_previous: Mapped[float] = mapped_column(Float)
    cost: Mapped[float | None] = mapped_column(Float)
    revenue_costed: Mapped[float | None] = mapped_column(Float)


class InvoiceWindow(Base):
    """Per customer over both windows, from ``invoice_month_rollup``: invoices, last
    invoice, paid amounts and the settled invoices' contribution. A cache like
    :class:`SalesWindow`, valid for the window ``rollup_window`` names."""

    __tablename__ = "invoice_window"
    __table_args__ = CLUSTERED_BY_KEY

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    invoice_count: Mapped[int] = mapped_column(BigInteger)
    last_invoice_date: Mapped[date | None] = mapped_column(Date)
    paid_any: Mapped[float | None] = mapped_column(Float)
    settled_due: Mapped[float | None] = mapped_column(Float)
    settled_timed: Mapped[int | None] = mapped_column(BigInteger)
    settled_on_time: Mapped[int | None] = mapped_column(BigInteger)
    settled_days_late: Mapped[int | None] = mapped_column(BigInteger)
    settled_late: Mapped[int | None] = mapped_column(BigInteger)
    settled_late_amount_days: Mapped[float | None] = mapped_column(Float)


class RollupWindow(Base):
    """The window a window table (``sales_window``, ``invoice_window``) holds: its
    as-of month and length in months. No row: the table holds nothing valid."""

    __tablename__ = "rollup_window"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    as_of_month: Mapped[date] = mapped_column(Date)
    months: Mapped[int] = mapped_column(Integer)


class RollupBatch(Base):
    """A committed batch whose rows the roll-ups already include.

    UNLOGGED on PostgreSQL, as the roll-ups and window tables are (migration 0028), so a
    crash empties it with them and the next refresh rebuilds them whole: a migration that
    recreates any of these tables keeps it so (``tests/value/test_rollups_unlogged.py``)."""

    __tablename__ = "rollup_batch"

    batch_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    applied_at: Mapped[datetime] = created_at_column()


# The snapshot a result row belongs to (not a FOREIGN KEY: see the module docstring).
_SNAPSHOT = references("snapshot.snapshot_id")


class CustomerSegment(Base):
    """Share of wallet and the attack/defend segment per customer and product line."""

    __tablename__ = "customer_segment"

    snapshot_id: Mapped[int] = mapped_column(primary_key=True, info=_SNAPSHOT)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_line_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    wallet_year: Mapped[int] = mapped_column(Integer)
    potential: Mapped[Decimal] = mapped_column(MONEY)
    potential_previous: Mapped[Decimal | None] = mapped_column(MONEY)
    revenue: Mapped[Decimal] = mapped_column(MONEY)
    revenue_previous: Mapped[Decimal] = mapped_column(MONEY)
    share: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    potential_level: Mapped[str] = mapped_column(String(16))
    share_level: Mapped[str] = mapped_column(String(16))
    segment: Mapped[str] = mapped_column(String(16))
    whitespace: Mapped[bool] = mapped_column(default=False)
    our_growth: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    wallet_growth: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))


class CustomerReceivable(Base):
    """Open receivables of a customer at the snapshot's as-of date, aged."""

    __tablename__ = "customer_receivable"

    snapshot_id: Mapped[int] = mapped_column(primary_key=True, info=_SNAPSHOT)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    outstanding: Mapped[Decimal] = mapped_column(MONEY)
    current: Mapped[Decimal] = mapped_column(MONEY)
    days_1_30: Mapped[Decimal] = mapped_column(MONEY)
    days_31_60: Mapped[Decimal] = mapped_column(MONEY)
    days_61_90: Mapped[Decimal] = mapped_column(MONEY)
    days_over_90: Mapped[Decimal] = mapped_column(MONEY)
    dso_days: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    collection_rate: Mapped[Decimal | None] = mapped_column(RATIO)
    late_invoices: Mapped[int] = mapped_column(Integer)
    late_cost: Mapped[Decimal] = mapped_column(MONEY)
    sales_to_recover_90: Mapped[Decimal | None] = mapped_column(MONEY)


class ManagerMeasure(Base):
    """An account manager's book in one snapshot."""

    __tablename__ = "manager_measure"

    snapshot_id: Mapped[int] = mapped_column(primary_key=True, info=_SNAPSHOT)
    manager_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customers: Mapped[int] = mapped_column(Integer)
    new_customers: Mapped[int] = mapped_column(Integer)
    churned_customers: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[Decimal] = mapped_column(MONEY)
    revenue_share: Mapped[Decimal | None] = mapped_column(RATIO)
    invoices_per_customer: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    upgrades: Mapped[int] = mapped_column(Integer)
    downgrades: Mapped[int] = mapped_column(Integer)
    collection_rate: Mapped[Decimal | None] = mapped_column(RATIO)
    relationship_revenue_at_risk: Mapped[Decimal] = mapped_column(MONEY)


class TierMigration(Base):
    """How a customer's tier moved since the previous snapshot, and the measures why."""

    __tablename__ = "tier_migration"

    snapshot_id: Mapped[int] = mapped_column(primary_key=True, info=_SNAPSHOT)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    previous_snapshot_id: Mapped[int | None] = mapped_column(Integer)
    previous_tier: Mapped[str | None] = mapped_column(String(32))
    tier: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    measures: Mapped[list] = mapped_column(default=list)
    explanation: Mapped[str] = mapped_column(String(1000), default="")
