"""The headline figures of one snapshot, from the engine's stored per-customer results.

Each figure is one aggregate query over the snapshot's rows (no loop per customer) and is
defined exactly as the engine's exports define it, so the dashboard and ``accountops
export`` never disagree: revenue is the sum of the tiers export's revenue, DSO is the
receivables export's TOTAL row, and so on.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, select

from models.schema import (
    CustomerMeasure,
    CustomerTier,
    Invoice,
    ManagerMeasure,
    Snapshot,
    Tier,
    TierMigration,
)
from models.value.readmodels import receivables_total_of
from models.value.rules import ValueRules
from models.value.tiers import PROSPECT_TIERS, TRADING_TIERS

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")


def _money(value: Any) -> Decimal:
    """A summed amount back to cents (SQLite sums NUMERIC as floats)."""
    return Decimal(str(value or 0)).quantize(CENT)


def _ratio(num: Any, den: Any) -> Decimal | None:
    """num / den to six places, or None (unknown) when the denominator is not positive."""
    if num is None or den is None or Decimal(str(den)) <= 0:
        return None
    return (Decimal(str(num)) / Decimal(str(den))).quantize(MICRO)


def reporting_currency(conn: Connection) -> str:
    """The currency most invoices are in (the sample and most books have one)."""
    row = conn.execute(
        select(Invoice.currency, func.count().label("n"))
        .group_by(Invoice.currency)
        .order_by(func.count().desc(), Invoice.currency)
        .limit(1)
    ).first()
    return row[0] if row else "EUR"


def snapshot_figures(conn: Connection, snapshot_id: int, rules: ValueRules) -> dict[str, Any]:
    """Revenue, margin, DSO, receivables, risk and tier moves of one stored snapshot."""
    t, m, mm = CustomerTier.__table__, CustomerMeasure.__table__, ManagerMeasure.__table__
    as_of = conn.scalar(select(Snapshot.as_of).where(Snapshot.snapshot_id == snapshot_id))
    joined = t.outerjoin(
        m, and_(m.c.snapshot_id == t.c.snapshot_id, m.c.customer_id == t.c.customer_id)
    )
    trading = t.c.tier.in_(sorted(TRADING_TIERS))
    row = conn.execute(
        select(
            func.count().filter(trading).label("trading"),
            func.count().filter(t.c.tier.in_(PROSPECT_TIERS)).label("prospects"),
            func.sum(m.c.revenue).label("revenue"),
            func.sum(m.c.revenue).filter(t.c.tier == Tier.PROBLEM.value).label("at_risk"),
            func.sum(m.c.gross_profit).filter(trading).label("profit"),
            func.sum(m.c.revenue_costed).filter(trading).label("costed"),
        )
        .select_from(joined)
        .where(t.c.snapshot_id == snapshot_id)
    ).one()
    # The receivables export's TOTAL row: the same function computes both.
    rec = receivables_total_of(conn, snapshot_id, rules)
    relationship = conn.scalar(
        select(func.sum(mm.c.relationship_revenue_at_risk)).where(mm.c.snapshot_id == snapshot_id)
    )
    kinds: dict[str, int] = dict(
        conn.execute(
            select(TierMigration.kind, func.count())
            .where(TierMigration.snapshot_id == snapshot_id)
            .group_by(TierMigration.kind)
        )
        .tuples()
        .all()
    )
    return {
        "as_of": as_of,
        "trading_customers": int(row.trading or 0),
        "prospects": int(row.prospects or 0),
        "revenue": _money(row.revenue),
        "gross_margin_pct": _ratio(row.profit, row.costed),
        "dso_days": rec["dso_days"],
        "revenue_at_risk": _money(row.at_risk),
        "relationship_revenue_at_risk": _money(relationship),
        "outstanding": rec["outstanding"],
        "overdue": rec["outstanding"] - rec["current"],
        "over_90": rec["days_over_90"],
        "late_cost": rec["late_cost"],
        "sales_to_recover_90": rec["sales_to_recover_90"],
        "collection_rate": rec["collection_rate"],
        "upgrades": int(kinds.get("upgrade", 0)),
        "downgrades": int(kinds.get("downgrade", 0)),
        "new_customers": int(kinds.get("new", 0)),
        "lost_customers": int(kinds.get("lost", 0)),
    }


def top_share(conn: Connection, snapshot_id: int, share: float = 0.2) -> Decimal | None:
    """The share of revenue held by the top ``share`` of customers with revenue."""
    m = CustomerMeasure.__table__
    positive = and_(m.c.snapshot_id == snapshot_id, m.c.revenue > 0)
    n, total = conn.execute(select(func.count(), func.sum(m.c.revenue)).where(positive)).one()
    if not n:
        return None
    k = max(1, math.floor(n * share))
    top = select(m.c.revenue).where(positive).order_by(m.c.revenue.desc()).limit(k).subquery()
    return _ratio(conn.scalar(select(func.sum(top.c.revenue))), total)
