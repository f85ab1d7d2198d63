"""The executive dashboard's aggregate tables, one set per snapshot (written by the refresh).

Pages read these small, pre-aggregated tables instead of the engine's per-customer results,
so a page renders in well under a second with 50,000 customers. Every row carries the
snapshot it was computed from; the refresh replaces one snapshot's rows in one transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import MONEY, RATIO, Base, created_at_column, references

_SNAPSHOT_FK = "snapshot.snapshot_id"
_SNAPSHOT = references(_SNAPSHOT_FK)  # a reference no constraint enforces


class DashboardHeadline(Base):
    """The headline figures of one snapshot, each with the previous snapshot's value."""

    __tablename__ = "dashboard_headline"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey(_SNAPSHOT_FK), primary_key=True)
    previous_snapshot_id: Mapped[int | None] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    refreshed_at: Mapped[datetime] = created_at_column()
    # The reporting currency: the one most invoices are in.
    currency: Mapped[str] = mapped_column(String(3))
    trading_customers: Mapped[int] = mapped_column(Integer)
    trading_customers_prev: Mapped[int | None] = mapped_column(Integer)
    prospects: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[Decimal] = mapped_column(MONEY)
    revenue_prev: Mapped[Decimal | None] = mapped_column(MONEY)
    gross_margin_pct: Mapped[Decimal | None] = mapped_column(RATIO)
    gross_margin_pct_prev: Mapped[Decimal | None] = mapped_column(RATIO)
    dso_days: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    dso_days_prev: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # Revenue of Problem-tier customers: payment behaviour or margin puts it at risk.
    revenue_at_risk: Mapped[Decimal] = mapped_column(MONEY)
    revenue_at_risk_prev: Mapped[Decimal | None] = mapped_column(MONEY)
    # Revenue that follows the account manager (relationship buyers), summed over managers.
    relationship_revenue_at_risk: Mapped[Decimal] = mapped_column(MONEY)
    outstanding: Mapped[Decimal] = mapped_column(MONEY)
    overdue: Mapped[Decimal] = mapped_column(MONEY)
    over_90: Mapped[Decimal] = mapped_column(MONEY)
    late_cost: Mapped[Decimal] = mapped_column(MONEY)
    sales_to_recover_90: Mapped[Decimal] = mapped_column(MONEY)
    collection_rate: Mapped[Decimal | None] = mapped_column(RATIO)
    top20_revenue_share: Mapped[Decimal | None] = mapped_column(RATIO)
    upgrades: Mapped[int] = mapped_column(Integer)
    downgrades: Mapped[int] = mapped_column(Integer)
    new_customers: Mapped[int] = mapped_column(Integer)
    lost_customers: Mapped[int] = mapped_column(Integer)


class DashboardTier(Base):
    """Customers and revenue per tier (the value pyramid), with last snapshot's count."""

    __tablename__ = "dashboard_tier"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey(_SNAPSHOT_FK), primary_key=True)
    tier: Mapped[str] = mapped_column(String(32), primary_key=True)
    customers: Mapped[int] = mapped_column(Integer)
    customers_prev: Mapped[int | None] = mapped_column(Integer)
    revenue: Mapped[Decimal] = mapped_column(MONEY)


class DashboardCustomer(Base):
    """One flat row per customer per snapshot: what the filterable customer table shows."""

    __tablename__ = "dashboard_customer"
    __table_args__ = (Index("ix_dashboard_customer_customer_id", "customer_id"),)

    # Not a FOREIGN KEY (0027): a trigger checked each of 50,000 rows per refresh.
    snapshot_id: Mapped[int] = mapped_column(primary_key=True, info=_SNAPSHOT)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(32))
    previous_tier: Mapped[str | None] = mapped_column(String(32))
    migration: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(64))
    reasons: Mapped[list] = mapped_column(default=list)
    explanation: Mapped[str | None] = mapped_column(String(1000))
    score: Mapped[Decimal | None] = mapped_column(RATIO)
    revenue: Mapped[Decimal | None] = mapped_column(MONEY)
    revenue_previous: Mapped[Decimal | None] = mapped_column(MONEY)
    growth: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    gross_margin_pct: Mapped[Decimal | None] = mapped_column(RATIO)
    collection_rate: Mapped[Decimal | None] = mapped_column(RATIO)
    on_time_share: Mapped[Decimal | None] = mapped_column(RATIO)
    influence: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(100))
    industry: Mapped[str | None] = mapped_column(String(100))
    manager_id: Mapped[str | None] = mapped_column(String(64))
    manager: Mapped[str | None] = mapped_column(String(200))
    group_id: Mapped[str | None] = mapped_column(String(64))
    group_name: Mapped[str | None] = mapped_column(String(200))
    main_segment: Mapped[str | None] = mapped_column(String(16))
    outstanding: Mapped[Decimal | None] = mapped_column(MONEY)
    overdue: Mapped[Decimal | None] = mapped_column(MONEY)
    late_invoices: Mapped[int | None] = mapped_column(Integer)
    late_cost: Mapped[Decimal | None] = mapped_column(MONEY)


class DashboardClv(Base):
    """Customer lifetime value at the snapshot's as-of date (NULL where no model fits)."""

    __tablename__ = "dashboard_clv"

    snapshot_id: Mapped[int] = mapped_column(primary_key=True, info=_SNAPSHOT)  # as above
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    clv_12m: Mapped[Decimal | None] = mapped_column(MONEY)
    p_alive: Mapped[Decimal | None] = mapped_column(RATIO)


class DashboardPareto(Base):
    """The revenue-concentration curve, thinned to a few hundred points."""

    __tablename__ = "dashboard_pareto"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey(_SNAPSHOT_FK), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    customer_share: Mapped[Decimal] = mapped_column(RATIO)
    revenue_share: Mapped[Decimal] = mapped_column(RATIO)


class DashboardMigration(Base):
    """Customers per (previous tier, tier): the Sankey. ``new`` / ``lost`` mark the ends."""

    __tablename__ = "dashboard_migration"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey(_SNAPSHOT_FK), primary_key=True)
    from_tier: Mapped[str] = mapped_column(String(32), primary_key=True)
    to_tier: Mapped[str] = mapped_column(String(32), primary_key=True)
    customers: Mapped[int] = mapped_column(Integer)


class DashboardAgeing(Base):
    """Open receivables per days-past-due bucket."""

    __tablename__ = "dashboard_ageing"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey(_SNAPSHOT_FK), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bucket: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    customers: Mapped[int] = mapped_column(Integer)


class DashboardDsoMonth(Base):
    """The monthly DSO trend: cumulative invoiced minus paid, over trailing revenue."""

    __tablename__ = "dashboard_dso_month"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey(_SNAPSHOT_FK), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    invoiced: Mapped[Decimal] = mapped_column(MONEY)
    paid: Mapped[Decimal] = mapped_column(MONEY)
    outstanding: Mapped[Decimal] = mapped_column(MONEY)
    trailing_revenue: Mapped[Decimal] = mapped_column(MONEY)
    dso_days: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))


class DashboardManager(Base):
    """An account manager's book with their name, and the revenue at risk if they leave."""

    __tablename__ = "dashboard_manager"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey(_SNAPSHOT_FK), primary_key=True)
    manager_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
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
    problem_customers: Mapped[int] = mapped_column(Integer)


class DashboardSegmentEffort(Base):
    """Accounts (customer x product line) per manager and attack/defend segment."""

    __tablename__ = "dashboard_segment_effort"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey(_SNAPSHOT_FK), primary_key=True)
    manager_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    segment: Mapped[str] = mapped_column(String(16), primary_key=True)
    accounts: Mapped[int] = mapped_column(Integer)
    customers: Mapped[int] = mapped_column(Integer)
    potential: Mapped[Decimal] = mapped_column(MONEY)
    revenue: Mapped[Decimal] = mapped_column(MONEY)


DASHBOARD_TABLES = (
    DashboardHeadline,
    DashboardTier,
    DashboardCustomer,
    DashboardClv,
    DashboardPareto,
    DashboardMigration,
    DashboardAgeing,
    DashboardDsoMonth,
    DashboardManager,
    DashboardSegmentEffort,
)
