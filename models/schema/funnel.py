"""What each recompute stores of the sales funnel and forecast (models/funnel/), per
snapshot: the run's summary, each deal's state, the stages, the learned probabilities,
the state counts per period, the forecast and the backtest. No FOREIGN KEYs (as for
every per-snapshot result table: migration 0008); ``references`` names the rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import MONEY, Base, references


class _PerSnapshot:
    snapshot_id: Mapped[int] = mapped_column(
        Integer, primary_key=True, info=references("snapshot.snapshot_id"), sort_order=-2
    )


class FunnelRun(_PerSnapshot, Base):
    """The funnel on the snapshot's as-of date: its period, shape and backtest errors."""

    __tablename__ = "funnel_run"

    period: Mapped[str] = mapped_column(String(16))  # month or quarter
    period_start: Mapped[date] = mapped_column(Date)  # of the states: the as-of date's
    forecast_start: Mapped[date] = mapped_column(Date)  # the first period forecast
    segment_by: Mapped[str] = mapped_column(String(16))
    middle_share: Mapped[float | None] = mapped_column(Float)  # None: no open deal
    bulge_stage: Mapped[str | None] = mapped_column(String(32))
    learned_error: Mapped[float | None] = mapped_column(Float)  # None: nothing to test on
    naive_error: Mapped[float | None] = mapped_column(Float)
    backtest_periods: Mapped[int] = mapped_column(Integer)
    no_close_date: Mapped[int] = mapped_column(Integer)
    rules: Mapped[dict] = mapped_column(default=dict)  # the funnel rules it was computed with


class FunnelDeal(_PerSnapshot, Base):
    """A live opportunity (open on the as-of date, or won or lost in its period): its
    stage and its state in the current period. Deals closed before are not repeated in
    every snapshot: the opportunity table holds how they ended."""

    __tablename__ = "funnel_deal"

    opportunity_id: Mapped[str] = mapped_column(
        String(64), primary_key=True, info=references("opportunity.opportunity_id")
    )
    customer_id: Mapped[str] = mapped_column(String(64), info=references("customer.customer_id"))
    owner_manager_id: Mapped[str | None] = mapped_column(String(64))
    product_line_id: Mapped[str | None] = mapped_column(String(64))
    tier: Mapped[str | None] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(32))
    state: Mapped[str | None] = mapped_column(String(16))  # None: closed before the period
    amount: Mapped[Decimal] = mapped_column(MONEY)
    days_in_stage: Mapped[int | None] = mapped_column(Integer)  # open deals only
    expected_close_on: Mapped[date | None] = mapped_column(Date)
    unbacked_moves: Mapped[int] = mapped_column(Integer)
    probability: Mapped[float | None] = mapped_column(Float)  # open deals with a close date
    forecast_period: Mapped[date | None] = mapped_column(Date)  # the period it counts in
    weighted_amount: Mapped[Decimal | None] = mapped_column(MONEY)  # amount x probability
    naive_amount: Mapped[Decimal | None] = mapped_column(MONEY)  # amount x naive probability


class FunnelStage(_PerSnapshot, Base):
    """One funnel stage: open deals, conversion, time in stage, win probability."""

    __tablename__ = "funnel_stage"

    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    open_deals: Mapped[int] = mapped_column(Integer)
    open_amount: Mapped[Decimal] = mapped_column(MONEY)
    reached: Mapped[int] = mapped_column(Integer)
    decided: Mapped[int] = mapped_column(Integer)
    conversion: Mapped[float | None] = mapped_column(Float)
    stays: Mapped[int] = mapped_column(Integer)
    median_days: Mapped[float | None] = mapped_column(Float)
    p25_days: Mapped[float | None] = mapped_column(Float)
    p75_days: Mapped[float | None] = mapped_column(Float)
    # The closed periods learned from: deals counted at this stage, and those won in time.
    history_deals: Mapped[int] = mapped_column(Integer)
    history_won: Mapped[int] = mapped_column(Integer)
    probability: Mapped[float] = mapped_column(Float)
    stalled_deals: Mapped[int] = mapped_column(Integer)  # of which stalled
    stalled_won: Mapped[int] = mapped_column(Integer)
    stalled_probability: Mapped[float] = mapped_column(Float)
    naive_probability: Mapped[float] = mapped_column(Float)


class FunnelProbability(_PerSnapshot, Base):
    """A segment's learned win probability at one stage."""

    __tablename__ = "funnel_probability"

    segment: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    deals: Mapped[int] = mapped_column(Integer)
    won: Mapped[int] = mapped_column(Integer)
    probability: Mapped[float] = mapped_column(Float)


class FunnelPeriod(_PerSnapshot, Base):
    """Deals and amount in one state in one period (the current one runs to as-of)."""

    __tablename__ = "funnel_period"

    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    deals: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(MONEY)


class FunnelForecast(_PerSnapshot, Base):
    """The weighted forecast of one coming period for one owner ("unassigned": none)."""

    __tablename__ = "funnel_forecast"

    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    deals: Mapped[int] = mapped_column(Integer)
    learned: Mapped[Decimal] = mapped_column(MONEY)
    naive: Mapped[Decimal] = mapped_column(MONEY)
    won: Mapped[Decimal] = mapped_column(MONEY)  # won in the period by the as-of date


class FunnelBacktest(_PerSnapshot, Base):
    """A closed period: the forecasts made on its eve and what was won in it."""

    __tablename__ = "funnel_backtest"

    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    deals: Mapped[int] = mapped_column(Integer)
    learned: Mapped[Decimal] = mapped_column(MONEY)
    naive: Mapped[Decimal] = mapped_column(MONEY)
    won: Mapped[Decimal] = mapped_column(MONEY)


FUNNEL_TABLES = (
    FunnelRun,
    FunnelDeal,
    FunnelStage,
    FunnelProbability,
    FunnelPeriod,
    FunnelForecast,
    FunnelBacktest,
)
