"""The funnel on the database: what the recompute stores per snapshot, and the read
models the page and the exports use.

The recompute calls :func:`store_funnel` in the transaction that writes its snapshot
(after the tiers, which a funnel segmented by tier reads), so every snapshot carries the
funnel and the forecast it made, and a forecast's accuracy can be followed as periods
close.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from models.schema import (
    CustomerTier,
    FunnelBacktest,
    FunnelDeal,
    FunnelForecast,
    FunnelPeriod,
    FunnelProbability,
    FunnelRun,
    FunnelStage,
    Opportunity,
    OpportunityStage,
)
from models.value.store import bulk_insert, prepare

from .compute import FunnelResult, compute_funnel
from .history import DEAL_COLUMNS, MOVE_COLUMNS
from .rules import FunnelRules


def _text(value: Any) -> Any:
    return getattr(value, "value", value)


def read_history(conn: Connection, snapshot_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The opportunities (with their customer's tier on the snapshot) and stage changes."""
    deals = pd.DataFrame(
        conn.execute(
            select(
                Opportunity.opportunity_id,
                Opportunity.customer_id,
                Opportunity.product_line_id,
                Opportunity.owner_manager_id,
                Opportunity.amount,
                Opportunity.created_on,
                Opportunity.expected_close_on,
                CustomerTier.tier,
                Opportunity.stage,
            ).outerjoin(
                CustomerTier,
                (CustomerTier.customer_id == Opportunity.customer_id)
                & (CustomerTier.snapshot_id == snapshot_id),
            )
        ).all(),
        columns=[*DEAL_COLUMNS, "stage"],
    )
    for column in ("tier", "stage"):
        deals[column] = deals[column].map(_text)
    moves = pd.DataFrame(
        conn.execute(
            select(
                OpportunityStage.opportunity_id,
                OpportunityStage.seq,
                OpportunityStage.stage,
                OpportunityStage.entered_on,
                OpportunityStage.customer_action,
            )
        ).all(),
        columns=list(MOVE_COLUMNS),
    )
    moves["stage"] = moves["stage"].map(_text)
    return deals, moves


def store_funnel(conn: Connection, snapshot_id: int, as_of: date, rules: FunnelRules) -> int:
    """Compute the funnel at ``as_of`` and store it with snapshot ``snapshot_id``; returns
    the opportunities stored."""
    result = compute_funnel(*read_history(conn, snapshot_id), rules, as_of)
    write_funnel(conn, snapshot_id, result)
    return len(result.deals)


def write_funnel(conn: Connection, snapshot_id: int, result: FunnelResult) -> None:
    s = result.summary
    conn.execute(
        FunnelRun.__table__.insert(),
        {
            "snapshot_id": snapshot_id,
            "period": s.period,
            "period_start": s.period_start,
            "segment_by": s.segment_by,
            "middle_share": s.middle_share,
            "bulge_stage": s.bulge_stage,
            "learned_error": s.learned_error,
            "naive_error": s.naive_error,
            "backtest_periods": s.backtest_periods,
            "no_close_date": s.no_close_date,
        },
    )
    sid = {"snapshot_id": snapshot_id}
    deals = result.deals.rename(columns={"owner": "owner_manager_id"})
    stages = result.stages.assign(position=range(len(result.stages)))
    writes: list[tuple[Any, pd.DataFrame, dict[str, tuple[str, ...]]]] = [
        (
            FunnelDeal,
            deals,
            {
                "money": ("amount", "weighted_amount"),
                "ints": ("days_in_stage", "unbacked_moves"),
                "ratios": ("probability",),
            },
        ),
        (
            FunnelStage,
            stages,
            {
                "money": ("open_amount",),
                "ratios": (
                    "conversion",
                    "probability",
                    "stalled_probability",
                    "naive_probability",
                ),
            },
        ),
        (FunnelProbability, result.probabilities, {"ratios": ("probability",)}),
        (FunnelPeriod, result.periods, {"money": ("amount",)}),
        (FunnelForecast, result.forecast, {"money": ("learned", "naive", "won")}),
        (FunnelBacktest, result.backtest, {"money": ("learned", "naive", "won")}),
    ]
    for model, frame, rounding in writes:
        table = model.__table__
        columns = [c.name for c in table.columns if c.name != "snapshot_id"]
        bulk_insert(conn, table, prepare(frame, columns, extra=sid, **rounding))


def _frame(conn: Connection, model, snapshot_id: int, order: tuple[str, ...]) -> pd.DataFrame:
    table = model.__table__
    columns = [c for c in table.columns if c.name != "snapshot_id"]
    rows = conn.execute(
        select(*columns)
        .where(table.c.snapshot_id == snapshot_id)
        .order_by(*(table.c[o] for o in order))
    ).all()
    return pd.DataFrame(rows, columns=[c.name for c in columns])


def stored_run(conn: Connection, snapshot_id: int) -> dict[str, Any] | None:
    """The funnel's summary on the snapshot; None for a snapshot stored without one."""
    row = (
        conn.execute(select(FunnelRun.__table__).where(FunnelRun.snapshot_id == snapshot_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def stored_deals(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    return _frame(conn, FunnelDeal, snapshot_id, ("opportunity_id",))


def stored_stages(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    return _frame(conn, FunnelStage, snapshot_id, ("position",))


def stored_probabilities(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    return _frame(conn, FunnelProbability, snapshot_id, ("segment", "stage"))


def stored_periods(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    return _frame(conn, FunnelPeriod, snapshot_id, ("period_start", "state"))


def stored_forecast(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    return _frame(conn, FunnelForecast, snapshot_id, ("period_start", "owner"))


def stored_backtest(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    return _frame(conn, FunnelBacktest, snapshot_id, ("period_start",))
