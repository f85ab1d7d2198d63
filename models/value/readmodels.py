"""Read models over stored snapshots: what exports and the dashboard show.

Every function reads stored tables of one snapshot (the latest complete one by
default) with a few set-based queries; nothing is recomputed on read except the
customer-group roll-up, which is a sum over one snapshot's stored measures.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection, Engine, and_, select

from models.errors import AccountopsError
from models.schema import (
    Customer,
    CustomerMeasure,
    CustomerReceivable,
    CustomerSegment,
    CustomerTier,
    ManagerMeasure,
    Snapshot,
    SnapshotStatus,
    TierMigration,
)

from .facts import window_days
from .managers import group_table
from .measures import AMOUNTS, MEASURES
from .segments import SEGMENT_COLUMNS
from .windows import Windows


class NoSnapshot(AccountopsError):
    """No complete snapshot to read: run the recompute first."""

    code = "NO_SNAPSHOT"


def latest_snapshot(conn: Connection) -> tuple[int, date] | None:
    """(snapshot_id, as_of) of the latest complete snapshot, or None."""
    row = conn.execute(
        select(Snapshot.snapshot_id, Snapshot.as_of)
        .where(Snapshot.status == SnapshotStatus.COMPLETE)
        .order_by(Snapshot.snapshot_id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def resolve_snapshot(conn: Connection, snapshot_id: int | None) -> int:
    """The given snapshot, or the latest complete one; NoSnapshot when there is none."""
    if snapshot_id is not None:
        found = conn.scalar(
            select(Snapshot.snapshot_id).where(
                Snapshot.snapshot_id == snapshot_id, Snapshot.status == SnapshotStatus.COMPLETE
            )
        )
        if found is None:
            raise NoSnapshot(f"snapshot {snapshot_id} does not exist or is not complete")
        return snapshot_id
    latest = latest_snapshot(conn)
    if latest is None:
        raise NoSnapshot("no snapshot yet: run `accountops recompute` first")
    return latest[0]


def _frame(conn: Connection, query) -> pd.DataFrame:
    result = conn.execute(query)
    # object dtype keeps the values as the database gave them: Decimal, int, None.
    return pd.DataFrame(result.all(), columns=list(result.keys()), dtype=object)


def tiers_frame(conn: Connection, snapshot_id: int, policies: dict[str, str]) -> pd.DataFrame:
    """One row per tiered customer: tier, previous tier, score, reasons, policy, measures."""
    t, m, mg = CustomerTier.__table__, CustomerMeasure.__table__, TierMigration.__table__
    c = Customer.__table__
    q = (
        select(
            t.c.customer_id,
            t.c.tier,
            mg.c.previous_tier,
            mg.c.kind.label("migration"),
            t.c.score,
            t.c.reasons,
            t.c.rule,
            t.c.top_share,
            *(m.c[k] for k in MEASURES),
            c.c.parent_customer_id.label("group_id"),
            c.c.manager_id,
        )
        .select_from(
            t.join(m, and_(m.c.snapshot_id == t.c.snapshot_id, m.c.customer_id == t.c.customer_id))
            .outerjoin(
                mg, and_(mg.c.snapshot_id == t.c.snapshot_id, mg.c.customer_id == t.c.customer_id)
            )
            .join(c, c.c.customer_id == t.c.customer_id)
        )
        .where(t.c.snapshot_id == snapshot_id)
        .order_by(t.c.customer_id)
    )
    frame = _frame(conn, q)
    frame["tier"] = frame["tier"].astype(str)
    # No migration row means the tier held: the previous tier is the same one.
    same = frame["migration"].isna()
    frame.loc[same, "previous_tier"] = frame.loc[same, "tier"]
    frame["reasons"] = frame["reasons"].map(lambda r: "; ".join(r or []))
    frame["policy"] = frame["tier"].map(policies).fillna("")
    frame["group_id"] = frame["group_id"].where(frame["group_id"].notna(), None)
    cols = ["customer_id", "tier", "previous_tier", "score", "reasons", "rule", "policy"]
    cols += ["top_share", *MEASURES, "group_id", "manager_id"]
    return frame[cols]


def migrations_frame(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    """Upgrades, downgrades, new and lost customers since the previous snapshot."""
    mg = TierMigration.__table__
    frame = _frame(
        conn,
        select(
            mg.c.customer_id,
            mg.c.previous_snapshot_id,
            mg.c.previous_tier,
            mg.c.tier,
            mg.c.kind,
            mg.c.measures,
            mg.c.explanation,
        )
        .where(mg.c.snapshot_id == snapshot_id)
        .order_by(mg.c.customer_id),
    )
    frame["measures"] = frame["measures"].map(lambda items: "; ".join(i["measure"] for i in items))
    return frame.rename(columns={"measures": "moved_measures"})


def segments_frame(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    """Share of wallet and segment per customer and product line."""
    s = CustomerSegment.__table__
    return _frame(
        conn,
        select(*(s.c[k] for k in SEGMENT_COLUMNS))
        .where(s.c.snapshot_id == snapshot_id)
        .order_by(s.c.customer_id, s.c.product_line_id),
    )


RECEIVABLE_COLUMNS = [
    "customer_id",
    "outstanding",
    "current",
    "days_1_30",
    "days_31_60",
    "days_61_90",
    "days_over_90",
    "dso_days",
    "collection_rate",
    "late_invoices",
    "late_cost",
    "sales_to_recover_90",
]


def receivables_frame(conn: Connection, snapshot_id: int, window_months: int) -> pd.DataFrame:
    """Receivables per customer, then one TOTAL row (collection rate weighted by amounts due)."""
    r, m = CustomerReceivable.__table__, CustomerMeasure.__table__
    frame = _frame(
        conn,
        select(*(r.c[k] for k in RECEIVABLE_COLUMNS))
        .where(r.c.snapshot_id == snapshot_id)
        .order_by(r.c.customer_id),
    )
    amounts = _frame(
        conn,
        select(m.c.revenue, m.c.amount_due, m.c.amount_collected).where(
            m.c.snapshot_id == snapshot_id
        ),
    )
    total: dict = {"customer_id": "TOTAL"}
    for col in RECEIVABLE_COLUMNS[1:7] + ["late_cost", "sales_to_recover_90"]:
        total[col] = sum((v for v in frame[col] if v is not None), Decimal(0))
    total["late_invoices"] = int(frame["late_invoices"].sum()) if len(frame) else 0
    due = sum((v for v in amounts["amount_due"] if v is not None), Decimal(0))
    got = sum((v for v in amounts["amount_collected"] if v is not None), Decimal(0))
    revenue = sum((v for v in amounts["revenue"] if v is not None), Decimal(0))
    total["collection_rate"] = (got / due).quantize(Decimal("0.000001")) if due else None
    as_of = conn.scalar(select(Snapshot.as_of).where(Snapshot.snapshot_id == snapshot_id))
    days = window_days(Windows(as_of, window_months))
    dso = total["outstanding"] / revenue * days if revenue > 0 else None
    total["dso_days"] = None if dso is None else dso.quantize(Decimal("0.01"))
    return pd.concat([frame, pd.DataFrame([total])], ignore_index=True)[RECEIVABLE_COLUMNS]


def managers_frame(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    """Account-manager measures of the snapshot."""
    mm = ManagerMeasure.__table__
    cols = [c for c in mm.c if c.name != "snapshot_id"]
    return _frame(
        conn, select(*cols).where(mm.c.snapshot_id == snapshot_id).order_by(mm.c.manager_id)
    )


def groups_frame(conn: Connection, snapshot_id: int) -> pd.DataFrame:
    """Customer groups: measures summed from subsidiaries to the parent, best member tier."""
    t, m, c = CustomerTier.__table__, CustomerMeasure.__table__, Customer.__table__
    frame = _frame(
        conn,
        select(
            m.c.customer_id,
            c.c.parent_customer_id,
            *(m.c[k] for k in ("revenue", "revenue_previous", *AMOUNTS)),
        )
        .select_from(m.join(c, c.c.customer_id == m.c.customer_id))
        .where(m.c.snapshot_id == snapshot_id)
        .order_by(m.c.customer_id),
    )
    tiers = _frame(conn, select(t.c.customer_id, t.c.tier).where(t.c.snapshot_id == snapshot_id))
    tiers["tier"] = tiers["tier"].astype(str)
    return group_table(frame, tiers)


def late_invoices(
    conn: Connection,
    snapshot_id: int,
    window_months: int,
    rate: Decimal,
    customer_id: str | None = None,
) -> pd.DataFrame:
    """Each late invoice of the snapshot's current window with what its delay costs:
    amount x annual borrowing rate x days late / 365 (DOMAIN.md section 5), in cents.

    Read from the roll-ups as they are now (a later amendment shows here)."""
    from .facts import choose_sources
    from .receivables import late_invoices_select

    as_of = conn.scalar(select(Snapshot.as_of).where(Snapshot.snapshot_id == snapshot_id))
    src = choose_sources(conn, Windows(as_of, window_months))
    frame = _frame(conn, late_invoices_select(src, customer_id))
    # The formula of receivables.late_invoice_cost, column-wise, rounded to cents.
    amount = frame["amount_due"].astype(float)
    days = frame["days_late"].astype(float).clip(lower=0)
    return frame.assign(late_cost=(amount * float(rate) * days / 365).round(2))


def open_engine_snapshot(engine: Engine, snapshot_id: int | None = None) -> int:
    """The snapshot id a page or export should read."""
    with engine.connect() as conn:
        return resolve_snapshot(conn, snapshot_id)
