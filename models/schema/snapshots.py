"""Computed snapshots: per-customer measures and tiers at an as-of date."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Integer, Numeric, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import MONEY, RATIO, Base, UTCDateTime, created_at_column, enum_column, references


class Tier(enum.StrEnum):
    """The value pyramid, top to bottom, then the two prospect classes."""

    DIAMOND = "diamond"
    GOLD = "gold"
    STRATEGIC = "strategic"
    POTENTIAL = "potential"
    GENERAL = "general"
    PROBLEM = "problem"
    KEY_OPPORTUNITY = "key_opportunity"
    GENERAL_OPPORTUNITY = "general_opportunity"


class SnapshotStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"


class Snapshot(Base):
    """One recompute: as-of date, the rules it used and the batches it read."""

    __tablename__ = "snapshot"

    snapshot_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    config_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[SnapshotStatus] = mapped_column(enum_column(SnapshotStatus, "snapshot_status"))
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    # Provenance: the committed batches whose data this snapshot read.
    batch_ids: Mapped[list] = mapped_column(default=list)


# Result rows carry no FOREIGN KEY constraints (0008): PostgreSQL checks one per row
# with a trigger, seconds of every recompute's bulk write. The references stay in
# ``info``; rows are written in the transaction that inserts their snapshot, and
# nothing deletes snapshots or customers.
_SNAPSHOT = references("snapshot.snapshot_id")


class CustomerMeasure(Base):
    """Measures of one customer in one snapshot; NULL means unknown, not zero."""

    __tablename__ = "customer_measure"

    snapshot_id: Mapped[int] = mapped_column(primary_key=True, info=_SNAPSHOT)
    customer_id: Mapped[str] = mapped_column(
        String(64), primary_key=True, info=references("customer.customer_id")
    )
    revenue: Mapped[Decimal | None] = mapped_column(MONEY)
    revenue_previous: Mapped[Decimal | None] = mapped_column(MONEY)
    gross_margin_pct: Mapped[Decimal | None] = mapped_column(RATIO)
    collection_rate: Mapped[Decimal | None] = mapped_column(RATIO)
    on_time_share: Mapped[Decimal | None] = mapped_column(RATIO)
    mean_days_late: Mapped[Decimal | None] = mapped_column(Numeric(9, 2))
    growth: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    invoice_count: Mapped[int | None] = mapped_column(Integer)
    recency_days: Mapped[int | None] = mapped_column(Integer)
    product_line_count: Mapped[int | None] = mapped_column(SmallInteger)
    influence: Mapped[int | None] = mapped_column(SmallInteger)
    # The amounts behind the ratios (0004), so groups and managers can weight them.
    amount_due: Mapped[Decimal | None] = mapped_column(MONEY)
    amount_collected: Mapped[Decimal | None] = mapped_column(MONEY)
    revenue_costed: Mapped[Decimal | None] = mapped_column(MONEY)
    gross_profit: Mapped[Decimal | None] = mapped_column(MONEY)


class CustomerTier(Base):
    """A customer's tier in one snapshot, with its score, reasons and policy."""

    __tablename__ = "customer_tier"

    snapshot_id: Mapped[int] = mapped_column(primary_key=True, info=_SNAPSHOT)
    customer_id: Mapped[str] = mapped_column(
        String(64), primary_key=True, info=references("customer.customer_id")
    )
    tier: Mapped[Tier] = mapped_column(enum_column(Tier, "tier"), index=True)
    score: Mapped[Decimal | None] = mapped_column(RATIO)
    rule: Mapped[str] = mapped_column(String(64))
    reasons: Mapped[list] = mapped_column(default=list)
    # Share of trading customers with a strictly higher score (0004).
    top_share: Mapped[Decimal | None] = mapped_column(RATIO)
