"""``refresh_dashboard``: write the dashboard's aggregate tables for one snapshot.

The pipeline's last step. It reads what the value engine stored for the snapshot and
writes the small tables the pages read, all stamped with the snapshot id, in ONE
transaction: a page sees either the previous complete set or the new one, never a mix.
Re-running it for the same snapshot replaces that snapshot's rows (idempotent).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, insert, select

from models.config import load_config, section
from models.errors import AccountopsError
from models.schema import (
    DASHBOARD_TABLES,
    CustomerClv,
    DashboardClv,
    DashboardDsoMonth,
    DashboardHeadline,
    Snapshot,
    SnapshotStatus,
)
from models.value.clv_store import stored_fits
from models.value.dbtuning import tune_for_aggregates
from models.value.parallel import worker
from models.value.recompute import previous_snapshot
from models.value.rollups import rolled_up
from models.value.rules import ValueRules, value_rules

from . import tables
from .dso import dso_rows, dso_trend
from .figures import reporting_currency, snapshot_figures, top_share

log = logging.getLogger(__name__)

DASHBOARD_DEFAULTS = {"trend_months": 24, "clv": True, "scatter_points": 5000}


class SnapshotNotReady(AccountopsError):
    """The snapshot does not exist or its recompute did not complete."""

    code = "SNAPSHOT_NOT_READY"


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh wrote: rows per table, and whether the snapshot has a CLV
    (``computed``; else why not: the recompute fits and stores it with the snapshot)."""

    snapshot_id: int
    previous_snapshot_id: int | None
    tables: dict[str, int] = field(default_factory=dict)
    clv: str = "computed"


def ageing_labels(bucket_days: tuple[int, ...]) -> list[str]:
    """``Current``, ``1-30 days`` ... ``over 90 days`` from the configured bucket bounds."""
    a, b, c = bucket_days
    return ["Current", f"1-{a} days", f"{a + 1}-{b} days", f"{b + 1}-{c} days", f"over {c} days"]


def dashboard_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The ``dashboard:`` rules section over its defaults."""
    return {**DASHBOARD_DEFAULTS, **section(config, "dashboard")}


def _copy_clv(conn: Connection, snapshot_id: int) -> str:
    """Copy the CLV the recompute stored with the snapshot (models/value/clv_store.py) into
    ``dashboard_clv``, set-based; returns "computed" or why there is no CLV."""
    fits = stored_fits(conn, snapshot_id)
    if not fits:
        return "not stored with this snapshot (computed before CLV was): recompute to fit it"
    c = CustomerClv.__table__.c
    conn.execute(
        insert(DashboardClv).from_select(
            ["snapshot_id", "customer_id", "clv_12m", "p_alive"],
            select(c.snapshot_id, c.customer_id, c.clv_12m, c.p_alive).where(
                c.snapshot_id == snapshot_id
            ),
        )
    )
    unfitted = [fit.message for fit in fits.values() if not fit.fitted]
    return unfitted[0] if unfitted else "computed"


def refresh_dashboard(
    engine: Engine, snapshot_id: int, config: dict[str, Any] | None = None
) -> RefreshResult:
    """Replace the dashboard tables of ``snapshot_id`` in one transaction.

    ``config`` is the rules (models/defaults.yaml and overrides); by default the
    committed defaults. Raises :class:`SnapshotNotReady` for a missing or unfinished
    snapshot, leaving every table as it was.
    """
    config = config if config is not None else load_config()
    rules = value_rules(config)
    own = dashboard_settings(config)
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        row = conn.execute(
            select(Snapshot.status, Snapshot.batch_ids).where(Snapshot.snapshot_id == snapshot_id)
        ).first()
        status, batch_ids = row if row is not None else (None, None)
        if status != SnapshotStatus.COMPLETE:
            state = "does not exist" if status is None else f"is {status.value}"
            raise SnapshotNotReady(
                f"snapshot {snapshot_id} {state}: run `accountops recompute` (or the pipeline) "
                "until it completes, then refresh"
            )
        if batch_ids and not rolled_up(conn):
            # The DSO trend reads the roll-ups; a crash emptied them (UNLOGGED, 0028).
            raise SnapshotNotReady(
                f"the roll-ups snapshot {snapshot_id} was computed from are empty (a database "
                "crash empties them): run `accountops recompute` (or the pipeline), then refresh"
            )
        # Memory for the aggregates, as the recompute's.
        tune_for_aggregates(conn)
        for model in DASHBOARD_TABLES:
            conn.execute(delete(model).where(model.snapshot_id == snapshot_id))
        prev_id = previous_snapshot(conn, snapshot_id)
        now = snapshot_figures(conn, snapshot_id, rules)
        before = snapshot_figures(conn, prev_id, rules) if prev_id else {}
        headline = dict(now)
        for key in ("trading_customers", "revenue", "gross_margin_pct", "dso_days"):
            headline[f"{key}_prev"] = before.get(key)
        headline["revenue_at_risk_prev"] = before.get("revenue_at_risk")

        # The reporting currency and the DSO trend read the invoices, the roll-ups and
        # the payments, which nothing here writes: on PostgreSQL on a connection of its
        # own while the statements below run (at 10M lines ~0.9 s of the refresh's ~2).
        trend_at = (now["as_of"], int(own["trend_months"]), rules.window_months)
        if conn.dialect.name == "postgresql":
            with worker("refresh-dso") as pool:
                read = pool.submit(_read_apart, engine, *trend_at)
                _fill_tables(conn, snapshot_id, prev_id, rules)
                currency, points = read.result()
        else:
            _fill_tables(conn, snapshot_id, prev_id, rules)
            currency, points = reporting_currency(conn), dso_trend(conn, *trend_at)
        headline |= {
            "snapshot_id": snapshot_id,
            "previous_snapshot_id": prev_id,
            "currency": currency,
            "top20_revenue_share": top_share(conn, snapshot_id),
        }
        conn.execute(insert(DashboardHeadline), [headline])
        trend = dso_rows(points, snapshot_id)
        if trend:
            conn.execute(insert(DashboardDsoMonth), trend)

        clv_state = "switched off (dashboard.clv)"
        if own["clv"]:
            clv_state = _copy_clv(conn, snapshot_id)
        # Counted, not taken from rowcount: drivers differ on INSERT ... SELECT.
        for model in DASHBOARD_TABLES:
            counts[model.__tablename__] = (
                conn.scalar(
                    select(func.count()).select_from(model).where(model.snapshot_id == snapshot_id)
                )
                or 0
            )
    log.info("dashboard refreshed for snapshot %s: %s", snapshot_id, counts)
    return RefreshResult(snapshot_id, prev_id, counts, clv_state)


def _fill_tables(
    conn: Connection, snapshot_id: int, prev_id: int | None, rules: ValueRules
) -> None:
    """The per-snapshot tables filled by one set-based statement each."""
    customers, total = tables.pareto_totals(conn, snapshot_id)
    statements = {
        "dashboard_tier": tables.tier_insert(snapshot_id, prev_id),
        "dashboard_customer": tables.customer_insert(snapshot_id),
        "dashboard_migration": tables.migration_insert(snapshot_id),
        "dashboard_ageing": tables.ageing_insert(snapshot_id, ageing_labels(rules.bucket_days)),
        "dashboard_manager": tables.manager_insert(snapshot_id),
        "dashboard_segment_effort": tables.segment_effort_insert(snapshot_id),
    }
    if customers:
        statements["dashboard_pareto"] = tables.pareto_insert(snapshot_id, customers, total)
    for stmt in statements.values():
        conn.execute(stmt)


def _read_apart(
    engine: Engine, as_of: date, months: int, window_months: int
) -> tuple[str, pd.DataFrame]:
    """The reporting currency and :func:`dso_trend`, on a connection of their own, in one
    snapshot of the database (the trend's check that nothing lies after the as-of date
    and its reads then see the same rows). (Not tuned for aggregates: with more work
    memory the trend's payments become one process's hash join, no faster.)"""
    repeatable = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with repeatable as conn, conn.begin():
        return reporting_currency(conn), dso_trend(conn, as_of, months, window_months)
