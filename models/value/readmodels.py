"""Read models over stored snapshots: what exports and the dashboard show.

Every function reads stored tables of one snapshot (the latest complete one by
default) with a few set-based queries; nothing is recomputed on read except the
customer-group roll-up, which is a sum over one snapshot's stored measures.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, select

from models.errors import AccountopsError
from models.schema import (
    Customer,
    CustomerMeasure,
    CustomerReceivable,
    CustomerSegment,
    CustomerTier,
    Invoice,
    ManagerMeasure,
    Payment,
    Snapshot,
    SnapshotStatus,
    TierMigration,
)

from . import invoice_state as state
from .managers import group_table
from .measures import AMOUNTS, MEASURES
from .numbers import to_cents
from .receivables import (
    AGEING_COLUMNS,
    late_invoice_cost,
    late_invoices_of,
    receivables_total,
)
from .rules import ValueRules
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


def receivables_total_of(conn: Connection, snapshot_id: int, rules: ValueRules) -> dict:
    """The snapshot's receivables of every customer together
    (:func:`receivables.receivables_total` of its stored rows)."""
    r, m = CustomerReceivable.__table__, CustomerMeasure.__table__
    summed = ["outstanding", *AGEING_COLUMNS, "late_cost", "late_invoices"]
    sums = conn.execute(
        select(*(func.sum(r.c[c]).label(c) for c in summed)).where(r.c.snapshot_id == snapshot_id)
    ).one()
    window = conn.execute(
        select(
            func.sum(m.c.revenue).label("revenue"),
            func.sum(m.c.amount_due).label("due"),
            func.sum(m.c.amount_collected).label("collected"),
        ).where(m.c.snapshot_id == snapshot_id)
    ).one()
    as_of = conn.scalar(select(Snapshot.as_of).where(Snapshot.snapshot_id == snapshot_id))
    if as_of is None:
        raise NoSnapshot(f"snapshot {snapshot_id} does not exist")
    return receivables_total(
        dict(sums._mapping),
        revenue=to_cents(window.revenue or 0),
        due=to_cents(window.due or 0),
        collected=to_cents(window.collected or 0),
        days=Windows(as_of, rules.window_months).days,
        rules=rules,
    )


def receivables_frame(conn: Connection, snapshot_id: int, rules: ValueRules) -> pd.DataFrame:
    """Receivables per customer, then one TOTAL row (:func:`receivables_total_of`)."""
    r = CustomerReceivable.__table__
    frame = _frame(
        conn,
        select(*(r.c[k] for k in RECEIVABLE_COLUMNS))
        .where(r.c.snapshot_id == snapshot_id)
        .order_by(r.c.customer_id),
    )
    total = {"customer_id": "TOTAL", **receivables_total_of(conn, snapshot_id, rules)}
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
    conn: Connection, snapshot_id: int, rules: ValueRules, customer_id: str | None = None
) -> pd.DataFrame:
    """Each late invoice of the snapshot's current window with what its delay costs
    (:func:`receivables.late_invoice_cost`), as the snapshot saw them: the invoices, lines
    and payments of the ingest batches it included, cut at its as-of date. (A row amended
    after the snapshot replaced the one it saw, and is left out.)"""
    snap = conn.execute(
        select(Snapshot.as_of, Snapshot.batch_ids).where(Snapshot.snapshot_id == snapshot_id)
    ).one()
    batches = [int(b) for b in snap.batch_ids or []]
    due, pays = state.amounts_due(batches), state.payments_running(snap.as_of, batches)
    if customer_id is not None:
        inv = Invoice.__table__
        due = due.where(inv.c.customer_id == customer_id)
        own = select(inv.c.invoice_id).where(inv.c.customer_id == customer_id)
        pays = pays.where(Payment.__table__.c.invoice_id.in_(own))
    f = state.invoice_select(due, pays).subquery("inv")
    windows = Windows(snap.as_of, rules.window_months)
    frame = _frame(conn, late_invoices_of(f, windows, customer_id))
    costs = [
        late_invoice_cost(to_cents(amount), rules.annual_borrowing_rate, days)
        for amount, days in zip(frame["amount_due"], frame["days_late"], strict=True)
    ]
    return frame.assign(late_cost=pd.Series(costs, index=frame.index, dtype=object))


def open_engine_snapshot(engine: Engine, snapshot_id: int | None = None) -> int:
    """The snapshot id a page or export should read."""
    with engine.connect() as conn:
        return resolve_snapshot(conn, snapshot_id)
