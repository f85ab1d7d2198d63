"""A snapshot's per-customer results as stored: written by the recompute in its
transaction, and the previous snapshot's tiers read back for the next one's migrations.

Writes go through the bulk writer (models/value/store.py): COPY on PostgreSQL,
executemany on SQLite, numbers rounded as the columns hold them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Float, Table, cast, func, select

from models.schema import (
    CustomerMeasure,
    CustomerReceivable,
    CustomerSegment,
    CustomerTier,
    ManagerMeasure,
    Snapshot,
    SnapshotStatus,
    TierMigration,
)

from .frames import frame_of
from .managers import MANAGER_COLUMNS, manager_table
from .measures import AMOUNTS, MEASURES
from .migrations import MIGRATION_COLUMNS
from .numbers import as_float
from .parallel import beside_writes
from .rules import ValueRules
from .segments import SEGMENT_COLUMNS
from .store import Encoded, bulk_insert, encode, prepare

# The tables a recompute appends a snapshot's rows to (their statistics go stale).
RESULT_TABLES = (
    "customer_tier",
    "customer_measure",
    "tier_migration",
    "customer_receivable",
    "customer_segment",
    "manager_measure",
    "customer_clv",
)

_RATIO_MEASURES = ("gross_margin_pct", "collection_rate", "on_time_share", "growth")
_INT_MEASURES = ("invoice_count", "recency_days", "product_line_count", "influence")
_MONEY_MEASURES = ("revenue", "revenue_previous", *AMOUNTS)


def previous_snapshot(conn: Connection, before_id: int | None = None) -> int | None:
    """The latest complete snapshot (before ``before_id`` if given)."""
    q = select(func.max(Snapshot.snapshot_id)).where(Snapshot.status == SnapshotStatus.COMPLETE)
    if before_id is not None:
        q = q.where(Snapshot.snapshot_id < before_id)
    return conn.scalar(q)


def load_tiered(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    """A stored snapshot's tiers and measures, in the shape migrations compare.

    Two single-table reads merged here: no join plan to go wrong on tables whose
    statistics predate the last bulk write.
    """
    t, m = CustomerTier.__table__, CustomerMeasure.__table__
    # Numbers as floats from the driver (NUMERIC would arrive as one Decimal per cell).
    tiers = frame_of(
        conn,
        select(
            t.c.customer_id,
            t.c.tier,
            t.c.rule,
            cast(t.c.score, Float).label("score"),
            cast(t.c.top_share, Float).label("top_share"),
        ).where(t.c.snapshot_id == snapshot_id),
    )
    measures = frame_of(
        conn,
        select(m.c.customer_id, *(cast(m.c[c], Float).label(c) for c in MEASURES)).where(
            m.c.snapshot_id == snapshot_id
        ),
    )
    frame = tiers.merge(measures, on="customer_id", how="left").sort_values("customer_id")
    if frame.empty:
        return pd.DataFrame(columns=["customer_id", "tier", "rule", "top_share", *MEASURES])
    frame["tier"] = frame["tier"].astype(str)
    for c in ("score", "top_share", *MEASURES):
        frame[c] = as_float(frame[c])
    # Only the rule records a management nomination, so that is what "before" can know.
    frame["named_strategic"] = (frame["rule"] == "named_strategic").astype(float)
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class TableRows:
    """A result table's rows for one snapshot, encoded for a bulk write
    (:func:`models.value.store.encode`, on any thread); :meth:`write` them on the
    recompute's connection."""

    table: Table
    rows: Encoded

    def write(self, conn: Connection) -> None:
        bulk_insert(conn, self.table, self.rows)


def tier_rows(
    snapshot_id: int, tiered: pd.DataFrame, reasons: pd.Series, dialect: str
) -> TableRows:
    """Each customer's tier with its reasons (a list of sentences per customer)."""
    tiered = tiered.assign(reasons=reasons)
    cols = ["customer_id", "tier", "score", "rule", "reasons", "top_share"]
    frame = prepare(
        tiered,
        cols,
        ratios=("score", "top_share"),
        json_cols=("reasons",),
        extra={"snapshot_id": snapshot_id},
    )
    return TableRows(CustomerTier.__table__, encode(frame, dialect))


def measure_rows(snapshot_id: int, tiered: pd.DataFrame, dialect: str) -> TableRows:
    """Each customer's measures (and the amounts behind them), from ``tiered``."""
    frame = prepare(
        tiered,
        ["customer_id", *MEASURES, *AMOUNTS],
        money=_MONEY_MEASURES,
        ratios=_RATIO_MEASURES,
        hundredths=("mean_days_late",),
        ints=_INT_MEASURES,
        extra={"snapshot_id": snapshot_id},
    )
    return TableRows(CustomerMeasure.__table__, encode(frame, dialect))


def receivable_rows(snapshot_id: int, receivables: pd.DataFrame, dialect: str) -> TableRows:
    """Each customer's receivables: ageing, DSO, collection, late cost and bad-debt cover."""
    rec_cols = ["customer_id", "outstanding", "current", "days_1_30", "days_31_60"]
    rec_cols += ["days_61_90", "days_over_90", "dso_days", "collection_rate", "late_invoices"]
    rec_cols += ["late_cost", "sales_to_recover_90"]
    frame = prepare(
        receivables,
        rec_cols,
        money=("outstanding", "current", "days_1_30", "days_31_60", "days_61_90"),
        hundredths=("days_over_90", "late_cost", "sales_to_recover_90", "dso_days"),
        ratios=("collection_rate",),
        ints=("late_invoices",),
        extra={"snapshot_id": snapshot_id},
    )
    return TableRows(CustomerReceivable.__table__, encode(frame, dialect))


def segment_rows(snapshot_id: int, segments: pd.DataFrame, dialect: str) -> TableRows:
    """Each customer's segments, one row per product line with a wallet estimate."""
    frame = prepare(
        segments,
        SEGMENT_COLUMNS,
        money=("potential", "potential_previous", "revenue", "revenue_previous"),
        ratios=("share", "our_growth", "wallet_growth"),
        ints=("wallet_year",),
        extra={"snapshot_id": snapshot_id},
    )
    return TableRows(CustomerSegment.__table__, encode(frame, dialect))


def write_moves(
    conn: Connection,
    snapshot_id: int,
    previous_id: int | None,
    migrations: pd.DataFrame,
    managers: pd.DataFrame,
) -> None:
    """The tier migrations (customers whose tier moved) and the account managers' measures."""
    sid = {"snapshot_id": snapshot_id}
    moved = migrations[migrations["kind"] != "same"]
    bulk_insert(
        conn,
        TierMigration.__table__,
        prepare(
            moved,
            MIGRATION_COLUMNS,
            json_cols=("measures",),
            extra=sid | {"previous_snapshot_id": previous_id},
        ),
    )
    bulk_insert(
        conn,
        ManagerMeasure.__table__,
        prepare(
            managers,
            MANAGER_COLUMNS,
            money=("revenue", "relationship_revenue_at_risk"),
            ratios=("revenue_share", "collection_rate"),
            hundredths=("invoices_per_customer",),
            ints=("customers", "new_customers", "churned_customers", "upgrades", "downgrades"),
            extra=sid,
        ),
    )


def store_customer_results(
    conn: Connection,
    snapshot_id: int,
    previous_id: int | None,
    res: dict[str, Any],
    rules: ValueRules,
) -> None:
    """Write each customer's results, tier with its reasons (``res["reasons"]``) and
    migration (``res["migrations"]``: every customer, ``same`` included, of which the moves
    are stored), and the managers' measures.

    On a worker, in this order, the rows are encoded for their tables while this thread
    writes what is ready (the database works then, and pandas holds the GIL only one
    thread at a time anyway; see :func:`models.value.parallel.beside_writes`). Only this
    thread uses the connection.
    """
    tiered, dialect = res["tiered"], conn.dialect.name
    with beside_writes(conn, "recompute-pandas") as pool:
        measures = pool.submit(measure_rows, snapshot_id, tiered, dialect)
        receivables = pool.submit(receivable_rows, snapshot_id, res["receivables"], dialect)
        tiers = pool.submit(tier_rows, snapshot_id, tiered, res["reasons"], dialect)
        managers = pool.submit(manager_table, res["measures"], res["migrations"], rules)
        for rows in (measures, receivables, tiers):
            rows.result().write(conn)
        write_moves(conn, snapshot_id, previous_id, res["migrations"], managers.result())
