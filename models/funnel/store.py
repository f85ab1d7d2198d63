"""The funnel on the database: what the recompute stores per snapshot, and the read
models the page and the exports use.

The recompute calls :func:`store_funnel` in the transaction that writes its snapshot
(after the tiers, which a funnel segmented by tier reads), so every snapshot carries the
funnel and the forecast it made, and a forecast's accuracy can be followed as periods
close.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Float, String, cast, func, null, select

from models.errors import AccountopsError
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
    Snapshot,
    SnapshotStatus,
)
from models.value.frames import frame_of
from models.value.numbers import stored_money
from models.value.store import bulk_insert, prepare

from .compute import FunnelResult, compute_funnel
from .history import DEAL_COLUMNS, MOVE_COLUMNS
from .rules import FunnelRules
from .states import period_end


def read_history(conn: Connection, tiers_of: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The opportunities and their stage changes, fetched the fast way (money as float,
    dates as the driver gives them); with each customer's tier on snapshot ``tiers_of``
    (None: no tier, for a funnel not segmented by tier)."""
    # typed, so the fast reader (COPY through Arrow) takes the query
    tier = CustomerTier.tier if tiers_of is not None else cast(null(), String).label("tier")
    deals = select(
        Opportunity.opportunity_id,
        Opportunity.customer_id,
        Opportunity.product_line_id,
        Opportunity.owner_manager_id.label("owner"),
        cast(Opportunity.amount, Float).label("amount"),
        Opportunity.created_on,
        Opportunity.expected_close_on,
        tier,
        Opportunity.stage,
    )
    if tiers_of is not None:
        deals = deals.outerjoin(
            CustomerTier,
            (CustomerTier.customer_id == Opportunity.customer_id)
            & (CustomerTier.snapshot_id == tiers_of),
        )
    moves = select(
        OpportunityStage.opportunity_id,
        OpportunityStage.seq,
        OpportunityStage.stage,
        OpportunityStage.entered_on,
        # Only whether an action was recorded matters: a flag is cheaper to fetch than text.
        (func.coalesce(func.trim(OpportunityStage.customer_action), "") != "").label(
            "customer_action"
        ),
    )
    return (
        frame_of(conn, deals)[[*DEAL_COLUMNS, "stage"]],
        frame_of(conn, moves)[list(MOVE_COLUMNS)],
    )


def funnel_on(
    conn: Connection, as_of: date, rules: FunnelRules, snapshot_id: int | None = None
) -> FunnelResult:
    """The funnel at ``as_of`` from the opportunities in the database; a funnel segmented
    by tier needs the snapshot whose tiers it uses."""
    if rules.segment_by == "tier" and snapshot_id is None:
        raise ValueError("a funnel segmented by tier needs the snapshot of the tiers")
    tiers_of = snapshot_id if rules.segment_by == "tier" else None
    return compute_funnel(*read_history(conn, tiers_of), rules, as_of)


def store_funnel(
    conn: Connection,
    snapshot_id: int,
    as_of: date,
    rules: FunnelRules,
    computed: FunnelResult | None = None,
    tiers: pd.DataFrame | None = None,
) -> int:
    """Store the funnel at ``as_of`` with snapshot ``snapshot_id`` (``computed`` beside
    the recompute, or computed now); returns the opportunities stored. ``tiers``: the
    snapshot's tiers (customer_id, tier) if the caller holds them (the recompute, which
    stored them: reading 50,000 back took 0.15 s), else read."""
    result = computed or funnel_on(conn, as_of, rules, snapshot_id)
    write_funnel(
        conn,
        snapshot_id,
        result,
        tier_of(tiers) if tiers is not None else _tiers(conn, snapshot_id),
    )
    return len(result.deals)


def tier_of(tiers: pd.DataFrame) -> dict[str, str]:
    """Each customer's tier, by id, from rows of (customer_id, tier)."""
    return dict(zip(tiers["customer_id"].tolist(), tiers["tier"].astype(str).tolist(), strict=True))


def _tiers(conn: Connection, snapshot_id: int) -> dict[str, str]:
    """Each customer's tier on the snapshot (stored beside each deal, whatever the
    funnel is segmented by)."""
    rows = frame_of(
        conn,
        select(CustomerTier.customer_id, CustomerTier.tier).where(
            CustomerTier.snapshot_id == snapshot_id
        ),
    )
    return tier_of(rows)


def write_funnel(
    conn: Connection, snapshot_id: int, result: FunnelResult, tiers: dict[str, str]
) -> None:
    """Store ``result`` with snapshot ``snapshot_id``, each deal with its customer's tier
    in ``tiers``."""
    s = result.summary
    conn.execute(
        FunnelRun.__table__.insert(),
        {
            "snapshot_id": snapshot_id,
            "period": s.period,
            "period_start": s.period_start,
            "forecast_start": s.forecast_start,
            "segment_by": s.segment_by,
            "middle_share": s.middle_share,
            "bulge_stage": s.bulge_stage,
            "learned_error": s.learned_error,
            "naive_error": s.naive_error,
            "backtest_periods": s.backtest_periods,
            "no_close_date": s.no_close_date,
            "rules": dataclasses.asdict(result.rules),
        },
    )
    sid = {"snapshot_id": snapshot_id}
    deals = result.deals.rename(columns={"owner": "owner_manager_id"})
    deals["tier"] = deals["customer_id"].map(tiers)
    stages = result.stages.assign(position=range(len(result.stages)))
    writes: list[tuple[Any, pd.DataFrame, dict[str, tuple[str, ...]]]] = [
        (
            FunnelDeal,
            deals,
            {
                "money": ("amount", "weighted_amount", "naive_amount"),
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


class NoFunnelStored(AccountopsError):
    """The snapshot was stored before the funnel was computed."""

    code = "NO_FUNNEL"


def require_run(conn: Connection, snapshot_id: int) -> dict[str, Any]:
    run = stored_run(conn, snapshot_id)
    if run is None:
        raise NoFunnelStored(
            f"snapshot {snapshot_id} has no funnel (stored before the funnel was computed): "
            "run `accountops recompute` for a new snapshot"
        )
    return run


EXPORT_DEAL_COLUMNS = (
    "opportunity_id",
    "customer_id",
    "owner",
    "stage",
    "state",
    "amount",
    "days_in_stage",
    "expected_close_on",
    "probability",
    "forecast_period",
    "weighted_amount",
    "naive_amount",
    "unbacked_moves",
    "product_line_id",
    "tier",
)


def funnel_export(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    """One row per opportunity known on the snapshot's as-of date: the live ones as the
    snapshot stored them (stage, state in its period, probability...), then those closed
    before its period, as the opportunity table says they ended (no state)."""
    run = require_run(conn, snapshot_id)
    live = stored_deals(conn, snapshot_id).rename(columns={"owner_manager_id": "owner"})
    o = Opportunity
    ended = frame_of(
        conn,
        select(
            o.opportunity_id,
            o.customer_id,
            o.owner_manager_id.label("owner"),
            o.status.label("stage"),
            cast(o.amount, Float).label("amount"),
            o.expected_close_on,
            o.product_line_id,
        ).where(o.status != "open", o.closed_on < run["period_start"]),
    )
    ended = ended[~ended["opportunity_id"].isin(live["opportunity_id"])]
    tiers = _tiers(conn, snapshot_id)
    ended = ended.assign(
        tier=ended["customer_id"].map(tiers),
        unbacked_moves=None,
        amount=ended["amount"].map(stored_money),  # Decimal, as the live rows' amounts
    )
    ended["expected_close_on"] = pd.to_datetime(ended["expected_close_on"]).dt.date
    rows = pd.concat([live, ended.reindex(columns=live.columns)], ignore_index=True)
    for column in ("days_in_stage", "unbacked_moves"):  # whole numbers, empty where unknown
        rows[column] = pd.Series(
            [None if pd.isna(v) else int(v) for v in rows[column]], index=rows.index, dtype=object
        )
    return rows.sort_values("opportunity_id", kind="stable")[list(EXPORT_DEAL_COLUMNS)]


def forecast_document(conn: Connection, snapshot_id: int) -> dict[str, Any]:
    """The forecast by period and owner, and the backtest with its errors."""
    run = require_run(conn, snapshot_id)
    return {
        "snapshot_id": snapshot_id,
        "period": run["period"],
        "segment_by": run["segment_by"],
        "forecast": stored_forecast(conn, snapshot_id),
        "backtest": {
            "learned_error": run["learned_error"],
            "naive_error": run["naive_error"],
            "periods_with_wins": run["backtest_periods"],
            "periods": stored_backtest(conn, snapshot_id),
        },
    }


def forecast_track(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    """How the forecasts stored by earlier snapshots fared, for the periods closed by this
    snapshot's as-of date: per period, the forecast of the last snapshot taken before the
    period began (all owners) beside the amount won in it (this snapshot's period counts).
    Empty until a period has closed since a snapshot forecast it."""
    as_of = conn.execute(
        select(Snapshot.as_of).where(Snapshot.snapshot_id == snapshot_id)
    ).scalar_one()
    forecasts = pd.DataFrame(
        conn.execute(
            select(
                FunnelForecast.period_start,
                Snapshot.snapshot_id,
                Snapshot.as_of,
                func.sum(FunnelForecast.deals),
                func.sum(FunnelForecast.learned),
                func.sum(FunnelForecast.naive),
            )
            .join(Snapshot, Snapshot.snapshot_id == FunnelForecast.snapshot_id)
            .where(
                Snapshot.status == SnapshotStatus.COMPLETE,
                Snapshot.as_of < FunnelForecast.period_start,
            )
            .group_by(FunnelForecast.period_start, Snapshot.snapshot_id, Snapshot.as_of)
        ).all(),
        columns=[
            "period_start",
            "forecast_snapshot_id",
            "forecast_as_of",
            "deals",
            "learned",
            "naive",
        ],
    )
    columns = [*forecasts.columns, "won"]
    if forecasts.empty:
        return pd.DataFrame(columns=columns)
    latest = forecasts.sort_values("forecast_as_of").groupby("period_start").tail(1)
    periods = stored_periods(conn, snapshot_id)
    won = dict(periods.loc[periods["state"] == "won", ["period_start", "amount"]].to_numpy())
    run = require_run(conn, snapshot_id)
    closed = latest[
        latest["period_start"].map(lambda p: period_end(p, run["period"]) <= as_of)
    ].copy()
    closed["won"] = [won.get(p, Decimal("0.00")) for p in closed["period_start"]]
    return closed.sort_values("period_start")[columns].reset_index(drop=True)


def forecast_by_period(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    """The stored forecast summed over owners: per coming period, deals, learned, naive and
    won so far."""
    frame = stored_forecast(conn, snapshot_id)
    columns = ["deals", "learned", "naive", "won"]
    return frame.groupby("period_start", as_index=False)[columns].sum()
