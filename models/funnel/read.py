"""Read models of the "Funnel and forecast" page: one snapshot's stored funnel
(:mod:`.store`) as the page shows it, for one selection of deals.

A selection narrows the deals by owner, product line and tier, and to the accounts the
signed-in person works on (:func:`accounts_in_scope`: the row-level rule of
:func:`models.access.can_act_on_customer`). What the stored deal rows hold is narrowed
with it: the open deals per stage, the states of the current period, the deals to chase
and the forecast of the coming periods, re-summed from what the recompute stored with
each deal (the period it counts in, its learned and its naive weighted amount). What
needs the deals' histories stays the whole funnel's, as stored: conversion, time in
stage, the learned probabilities, the bulge and the backtest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from models.access import Identity, can_act_on_customer
from models.errors import AccountopsError
from models.plans.assignments import assigned_accounts
from models.schema import AccountManager, Customer, DashboardCustomer, ProductLine, Role, Snapshot
from models.value.tiers import TIER_ORDER

from .forecast import UNASSIGNED, percentage_error
from .history import STAGE_NAMES
from .rules import FunnelRules, funnel_rules
from .states import STATES, shift_period
from .store import (
    forecast_track,
    stored_backtest,
    stored_deals,
    stored_forecast,
    stored_run,
    stored_stages,
)

# Roles that work on their own accounts (the planner workspace's "my accounts"): the page
# shows them their accounts' deals first; every role may read the whole funnel.
WORKS_ON_OWN = (Role.ACCOUNT_MANAGER, Role.PLANNER)
CHASE_STATES = ("stalled", "regressed")
MONEY = ("learned", "naive", "won")


def accounts_in_scope(engine: Engine, identity: Identity) -> tuple[str, ...] | None:
    """The accounts whose deals ``identity`` works on, by id: those an account manager
    manages, those assigned to a planner (:func:`models.access.can_act_on_customer`);
    None for the roles that work on every account."""
    if identity.role not in WORKS_ON_OWN:
        return None
    assigned = set(assigned_accounts(engine, identity.username))
    with engine.connect() as conn:
        rows = conn.execute(select(Customer.customer_id, Customer.manager_id)).all()
    return tuple(
        sorted(
            cid
            for cid, manager_id in rows
            if can_act_on_customer(identity, manager_id, assigned=cid in assigned)
        )
    )


def _names(engine: Engine, snapshot_id: int) -> dict[str, dict[str, str]]:
    """Display names of owners (account managers) and product lines; the snapshot's
    customers' names."""
    dc, am, pl = DashboardCustomer, AccountManager, ProductLine
    with engine.connect() as conn:
        owners = dict(conn.execute(select(am.manager_id, am.name)).tuples().all())
        lines = dict(conn.execute(select(pl.product_line_id, pl.name)).tuples().all())
        customers = conn.execute(
            select(dc.customer_id, dc.name).where(dc.snapshot_id == snapshot_id)
        ).all()
    return {
        "owner": owners | {UNASSIGNED: "Unassigned"},
        "product_line": lines,
        "customer": {c.customer_id: c.name for c in customers},
    }


def _named(ids: pd.Series, names: dict[str, str]) -> pd.Series:
    return ids.map(lambda i: names.get(i, i) if isinstance(i, str) else None)


def _deals(engine: Engine, snapshot_id: int) -> pd.DataFrame:
    """The snapshot's deal rows (each with its customer's tier on the snapshot) with
    amounts as floats (cents-exact) and names."""
    with engine.connect() as conn:
        deals = stored_deals(conn, snapshot_id)
    names = _names(engine, snapshot_id)
    deals["owner"] = deals["owner_manager_id"].fillna(UNASSIGNED)
    for col in ("amount", "weighted_amount", "naive_amount"):
        deals[col] = pd.to_numeric(deals[col], errors="coerce").astype(float)
    deals["customer"] = _named(deals["customer_id"], names["customer"])
    deals["owner_name"] = _named(deals["owner"], names["owner"])
    deals["product_line"] = _named(deals["product_line_id"], names["product_line"])
    return deals


def _options(deals: pd.DataFrame) -> dict[str, dict[str, str]]:
    """The filters' choices among ``deals``: id -> name, by name (tiers: in pyramid order)."""

    def pairs(ids: str, names: str) -> dict[str, str]:
        known = deals[[ids, names]].dropna().drop_duplicates(ids)
        return dict(sorted(zip(known[ids], known[names], strict=True), key=lambda p: p[1]))

    tiers = sorted(deals["tier"].dropna().unique(), key=lambda t: (TIER_ORDER.get(t, 99), t))
    return {
        "owners": pairs("owner", "owner_name"),
        "product_lines": pairs("product_line_id", "product_line"),
        "tiers": {t: t for t in tiers},
    }


def select_deals(
    deals: pd.DataFrame,
    owners: Sequence[str] = (),
    product_lines: Sequence[str] = (),
    tiers: Sequence[str] = (),
    accounts: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The deals of the accounts in scope (None: every account) narrowed by the filters
    (an empty filter keeps every deal; ``owners`` holds ``UNASSIGNED`` for no owner)."""
    keep = pd.Series(True, index=deals.index)
    if accounts is not None:
        keep &= deals["customer_id"].isin(list(accounts))
    for column, chosen in (
        ("owner", owners),
        ("product_line_id", product_lines),
        ("tier", tiers),
    ):
        if chosen:
            keep &= deals[column].isin(list(chosen))
    return deals[keep].reset_index(drop=True)


def open_deals(deals: pd.DataFrame) -> pd.DataFrame:
    """The deals at a funnel stage (neither won nor lost) on the as-of date."""
    return deals[deals["stage"].isin(STAGE_NAMES)]


def funnel_by_stage(deals: pd.DataFrame) -> pd.DataFrame:
    """stage, open_deals, open_amount: every funnel stage in order, empty ones as 0."""
    open_ = open_deals(deals)
    out = (
        open_.groupby("stage")
        .agg(open_deals=("amount", "size"), open_amount=("amount", "sum"))
        .reindex(list(STAGE_NAMES), fill_value=0)
        .rename_axis("stage")
        .reset_index()
    )
    out["open_deals"] = out["open_deals"].astype(int)
    out["open_amount"] = out["open_amount"].astype(float).round(2)
    return out


def period_states(deals: pd.DataFrame) -> pd.DataFrame:
    """state, deals, amount in the current period (the deals' stored ``state``), in the
    states' order; states no deal is in are left out."""
    stated = deals[deals["state"].notna()]
    out = stated.groupby("state").agg(deals=("amount", "size"), amount=("amount", "sum"))
    out = out.reindex([s for s in STATES if s in out.index]).reset_index()
    out["amount"] = out["amount"].astype(float).round(2)
    return out


def deals_to_chase(deals: pd.DataFrame) -> pd.DataFrame:
    """The stalled and regressed deals of the current period, largest amount first."""
    chase = deals[deals["state"].isin(CHASE_STATES)]
    columns = ["opportunity_id", "customer_id", "customer", "owner", "owner_name"]
    columns += ["product_line", "tier", "stage", "state", "amount", "days_in_stage"]
    columns += ["expected_close_on", "probability", "weighted_amount"]
    chase = chase.sort_values(["amount", "opportunity_id"], ascending=[False, True])
    return chase[columns].reset_index(drop=True)


def rules_used(run: dict[str, Any]) -> FunnelRules:
    """The funnel rules a stored run was computed with."""
    return funnel_rules({"funnel": run["rules"]})


def horizon(run: dict[str, Any], stored: pd.DataFrame) -> list[date]:
    """The periods forecast: from the first (the one holding the day after the as-of
    date) to the last the stored forecast reaches (none when it forecast nothing)."""
    if stored.empty:
        return []
    last, kind = max(stored["period_start"]), run["period"]
    periods = [run["forecast_start"]]
    while periods[-1] < last:
        periods.append(shift_period(periods[-1], kind, 1))
    return periods


def under_way(run: dict[str, Any]) -> date | None:
    """The first period forecast when it is already under way (it holds the as-of date),
    the only one with an amount won so far; None on a period's last day, when the
    forecast starts with the next period."""
    return run["forecast_start"] if run["forecast_start"] == run["period_start"] else None


def forecast_rows(deals: pd.DataFrame, run: dict[str, Any], periods: list[date]) -> pd.DataFrame:
    """Per forecast period and owner: the open deals the recompute counted in it (its
    ``forecast_period``: models/funnel/forecast.py), their learned and naive weighted
    amounts, and (in the period :func:`under_way`) the amount won so far."""
    columns = ["period_start", "owner", "deals", *MONEY]
    current = under_way(run)
    dated = deals[deals["forecast_period"].notna()]
    ahead = pd.DataFrame(
        {
            "period_start": dated["forecast_period"],
            "owner": dated["owner"],
            "learned": dated["weighted_amount"],
            "naive": dated["naive_amount"],
        }
    )
    ahead = ahead[ahead["period_start"].isin(periods)]
    won = deals[(deals["state"] == "won") & (current is not None)]
    won = pd.DataFrame({"period_start": current, "owner": won["owner"], "won": won["amount"]})
    out = ahead.groupby(["period_start", "owner"]).agg(
        deals=("learned", "size"), learned=("learned", "sum"), naive=("naive", "sum")
    )
    out = out.join(won.groupby(["period_start", "owner"]).agg(won=("won", "sum")), how="outer")
    if out.empty:
        return pd.DataFrame(columns=columns)
    out = out.reset_index()
    out["deals"] = out["deals"].fillna(0).astype(int)
    out[list(MONEY)] = out[list(MONEY)].astype(float).fillna(0.0).round(2)
    return out.sort_values(["period_start", "owner"], kind="stable")[columns].reset_index(drop=True)


def forecast_totals(rows: pd.DataFrame, periods: list[date], current: date | None) -> pd.DataFrame:
    """period_start, deals, learned, naive, won: :func:`forecast_rows` summed over owners,
    every forecast period present (0 where nothing falls in it); ``won`` only for the
    period under way (``current``), NaN for those that have not begun."""
    totals = rows.groupby("period_start")[["deals", *MONEY]].sum()
    totals = totals.reindex(periods, fill_value=0).rename_axis("period_start").reset_index()
    totals["deals"] = totals["deals"].astype(int)
    totals[list(MONEY)] = totals[list(MONEY)].astype(float).round(2)
    totals["won"] = totals["won"].where(totals["period_start"] == current)
    return totals


def backtest_errors(backtest: pd.DataFrame) -> pd.DataFrame:
    """The stored backtest, amounts as floats, with each period's error of the learned and
    the naive forecast (:func:`.forecast.percentage_error` of that period alone; None
    where nothing was won)."""
    out = backtest.copy()
    for col in MONEY:
        out[col] = pd.to_numeric(out[col]).astype(float)
    for col in ("learned", "naive"):
        out[f"{col}_error"] = pd.Series(
            [percentage_error(out.iloc[[i]], col) for i in range(len(out))],
            index=out.index,
            dtype=object,
        )
    return out


def funnel_view(
    engine: Engine,
    snapshot_id: int,
    owners: Sequence[str] = (),
    product_lines: Sequence[str] = (),
    tiers: Sequence[str] = (),
    accounts: Sequence[str] | None = None,
) -> dict[str, Any] | None:
    """Everything the page draws for one snapshot and one selection; None when the
    snapshot was stored without a funnel.

    Of the selection: ``options`` (the filters' choices among the accounts in scope),
    ``deals`` (the count), ``funnel``, ``states``, ``chase``, ``forecast`` (per period and
    owner), ``forecast_totals`` (per period), ``no_close_date`` (open deals left out of
    the forecast). Of the whole funnel: ``run`` (the stored summary with the snapshot's
    ``as_of`` and the forecast ``periods``), ``stages``, ``backtest`` and ``track`` (the
    forecasts earlier snapshots stored, against what was won once their periods closed).
    """
    with engine.connect() as conn:
        run = stored_run(conn, snapshot_id)
        if run is None:
            return None
        as_of = conn.scalar(select(Snapshot.as_of).where(Snapshot.snapshot_id == snapshot_id))
        if as_of is None:  # a funnel run without its snapshot row: the database is damaged
            raise AccountopsError(f"snapshot {snapshot_id} does not exist", code="NO_SNAPSHOT")
        stages = stored_stages(conn, snapshot_id)
        stored = stored_forecast(conn, snapshot_id)
        backtest = stored_backtest(conn, snapshot_id)
        track = forecast_track(conn, snapshot_id)
    stages["open_amount"] = pd.to_numeric(stages["open_amount"]).astype(float)
    deals = _deals(engine, snapshot_id)
    scoped = select_deals(deals, accounts=accounts)
    chosen = select_deals(scoped, owners, product_lines, tiers)
    periods = horizon(run, stored)
    rows = forecast_rows(chosen, run, periods)
    names = dict(zip(deals["owner"], deals["owner_name"], strict=False))
    rows.insert(2, "owner_name", rows["owner"].map(names))
    undated = open_deals(chosen)["expected_close_on"].isna()
    return {
        "run": run | {"as_of": as_of, "periods": periods},
        "options": _options(scoped),
        "deals": len(chosen),
        "funnel": funnel_by_stage(chosen),
        "states": period_states(chosen),
        "chase": deals_to_chase(chosen),
        "forecast": rows,
        "forecast_totals": forecast_totals(rows, periods, under_way(run)),
        "no_close_date": int(undated.sum()),
        "stages": stages,
        "backtest": backtest_errors(backtest),
        "track": backtest_errors(track),
    }
