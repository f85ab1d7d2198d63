"""Read models for the executive pages: one small query per figure, plain frames and dicts.

Pages call these (through their cache) and never import the schema or SQLAlchemy. Each
function reads one snapshot's dashboard tables; the customer page's reads, which also read
the engine's rows of that one customer, are in :mod:`.customer`.

The functions named in :data:`SCOPED` return rows of single customers or managers and take
``book`` (:func:`models.access.book_of`): None reads every customer, a manager id only the
customers that manager holds in the snapshot (an account manager's own book). The filter is
in the query, so another manager's customers never leave the database for that reader.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, func, select

from models.schema import (
    CustomerSegment,
    DashboardAgeing,
    DashboardClv,
    DashboardCustomer,
    DashboardDsoMonth,
    DashboardHeadline,
    DashboardManager,
    DashboardMigration,
    DashboardPareto,
    DashboardSegmentEffort,
    DashboardTier,
    Snapshot,
    SnapshotStatus,
)
from models.value.numbers import to_cents
from models.value.receivables import months_of_delay_eating_profit, sales_to_make_up
from models.value.rules import ValueRules

# The customer page's reads live in .customer; the pages read every figure by name here.
from .customer import customer_history as customer_history
from .customer import customer_history_of as customer_history_of
from .customer import customer_receivables as customer_receivables
from .customer import customer_wallet as customer_wallet
from .rows import as_numbers, book_customers, read_frame

SEGMENT_ORDER = ("acquire", "retain", "disrupt", "maintain", "abandon")

# The read models that take ``book``: their rows name customers or managers.
SCOPED = frozenset(
    {
        "customers",
        "customer_history_of",
        "customer_wallet",
        "customer_receivables",
        "segment_points",
        "segment_effort",
        "managers",
    }
)


def latest_snapshot_id(engine: Engine) -> int | None:
    """The newest complete snapshot whose dashboard tables are written (None: nothing yet)."""
    h, s = DashboardHeadline.__table__, Snapshot.__table__
    with engine.connect() as conn:
        return conn.scalar(
            select(func.max(h.c.snapshot_id))
            .select_from(h.join(s, s.c.snapshot_id == h.c.snapshot_id))
            .where(s.c.status == SnapshotStatus.COMPLETE)
        )


def latest_complete_snapshot_id(engine: Engine) -> int | None:
    """The newest complete snapshot, refreshed or not (to explain an empty dashboard)."""
    with engine.connect() as conn:
        return conn.scalar(
            select(func.max(Snapshot.snapshot_id)).where(Snapshot.status == SnapshotStatus.COMPLETE)
        )


def headline(engine: Engine, snapshot_id: int) -> dict[str, Any]:
    """The headline row of a snapshot as a dict (Decimal money, None for unknown)."""
    h = DashboardHeadline.__table__
    with engine.connect() as conn:
        row = conn.execute(select(h).where(h.c.snapshot_id == snapshot_id)).mappings().one()
    return dict(row)


def tiers(engine: Engine, snapshot_id: int) -> pd.DataFrame:
    """Customers, previous customers and revenue per tier."""
    t = DashboardTier.__table__
    q = select(t.c.tier, t.c.customers, t.c.customers_prev, t.c.revenue).where(
        t.c.snapshot_id == snapshot_id
    )
    return as_numbers(read_frame(engine, q))


def pareto(engine: Engine, snapshot_id: int) -> pd.DataFrame:
    """The thinned revenue-concentration curve (shares 0-1)."""
    p = DashboardPareto.__table__
    q = (
        select(p.c.rank, p.c.customer_share, p.c.revenue_share)
        .where(p.c.snapshot_id == snapshot_id)
        .order_by(p.c.rank)
    )
    return as_numbers(read_frame(engine, q))


def migrations(engine: Engine, snapshot_id: int) -> pd.DataFrame:
    """Customers per (previous tier, tier), ``new``/``lost`` at the ends."""
    m = DashboardMigration.__table__
    q = select(m.c.from_tier, m.c.to_tier, m.c.customers).where(m.c.snapshot_id == snapshot_id)
    return read_frame(engine, q)


CUSTOMER_TABLE_COLUMNS = [
    "customer_id",
    "name",
    "tier",
    "previous_tier",
    "migration",
    "score",
    "revenue",
    "growth",
    "gross_margin_pct",
    "collection_rate",
    "on_time_share",
    "region",
    "industry",
    "manager",
    "group_name",
    "main_segment",
    "outstanding",
    "overdue",
    "clv_12m",
]


def customers(engine: Engine, snapshot_id: int, *, book: str | None = None) -> pd.DataFrame:
    """The customer table of a snapshot (one row per customer, CLV where it was computed),
    of manager ``book``'s customers only when given."""
    d, v = DashboardCustomer.__table__, DashboardClv.__table__
    cols = [d.c[k] for k in CUSTOMER_TABLE_COLUMNS if k != "clv_12m"]
    q = (
        select(*cols, v.c.clv_12m)
        .select_from(
            d.outerjoin(
                v, and_(v.c.snapshot_id == d.c.snapshot_id, v.c.customer_id == d.c.customer_id)
            )
        )
        .where(d.c.snapshot_id == snapshot_id)
        .order_by(d.c.revenue.desc(), d.c.customer_id)
    )
    if book is not None:
        q = q.where(d.c.manager_id == book)
    return as_numbers(read_frame(engine, q))


def segment_points(
    engine: Engine, snapshot_id: int, limit: int, *, book: str | None = None
) -> pd.DataFrame:
    """Customer x product-line accounts for the scatter: the ``limit`` largest by potential
    (the rules' ``dashboard.scatter_points``), of manager ``book``'s customers when given."""
    s = CustomerSegment.__table__
    q = select(s.c.customer_id, s.c.product_line_id, s.c.potential, s.c.share, s.c.segment).where(
        s.c.snapshot_id == snapshot_id, s.c.potential > 0
    )
    if book is not None:
        q = q.where(s.c.customer_id.in_(book_customers(snapshot_id, book)))
    q = q.order_by(s.c.potential.desc(), s.c.customer_id, s.c.product_line_id).limit(limit)
    frame = as_numbers(read_frame(engine, q))
    frame["share"] = frame["share"].fillna(0.0)
    return frame


def segment_totals(engine: Engine, snapshot_id: int, rules: ValueRules) -> dict[str, Any]:
    """Accounts, potential, revenue and share of wallet per segment (matrix order), and the
    configured share of wallet from which a share counts as high. Company totals (every
    manager's accounts): no row names a customer."""
    effort = segment_effort(engine, snapshot_id)
    order = [s for s in SEGMENT_ORDER if s in set(effort["segment"])]
    totals = effort.groupby("segment")[["accounts", "potential", "revenue"]].sum().reindex(order)
    totals["share"] = (totals["revenue"] / totals["potential"]).where(totals["potential"] > 0)
    high = rules.segments["high_share_at_least"]
    return {"by_segment": totals, "high_share": float(high)}


def segment_effort(engine: Engine, snapshot_id: int, *, book: str | None = None) -> pd.DataFrame:
    """Accounts, potential and revenue per manager and segment (names where known), of
    manager ``book`` only when given."""
    e, m = DashboardSegmentEffort.__table__, DashboardManager.__table__
    q = (
        select(
            e.c.manager_id,
            func.coalesce(m.c.name, e.c.manager_id).label("manager"),
            e.c.segment,
            e.c.accounts,
            e.c.customers,
            e.c.potential,
            e.c.revenue,
        )
        .select_from(
            e.outerjoin(
                m, and_(m.c.snapshot_id == e.c.snapshot_id, m.c.manager_id == e.c.manager_id)
            )
        )
        .where(e.c.snapshot_id == snapshot_id)
        .order_by(e.c.manager_id, e.c.segment)
    )
    if book is not None:
        q = q.where(e.c.manager_id == book)
    return as_numbers(read_frame(engine, q))


def ageing(engine: Engine, snapshot_id: int) -> pd.DataFrame:
    a = DashboardAgeing.__table__
    q = (
        select(a.c.bucket, a.c.amount, a.c.customers)
        .where(a.c.snapshot_id == snapshot_id)
        .order_by(a.c.position)
    )
    return as_numbers(read_frame(engine, q))


def dso_trend(engine: Engine, snapshot_id: int) -> pd.DataFrame:
    t = DashboardDsoMonth.__table__
    q = (
        select(
            t.c.month, t.c.invoiced, t.c.paid, t.c.outstanding, t.c.trailing_revenue, t.c.dso_days
        )
        .where(t.c.snapshot_id == snapshot_id)
        .order_by(t.c.month)
    )
    return as_numbers(read_frame(engine, q))


def managers(engine: Engine, snapshot_id: int, *, book: str | None = None) -> pd.DataFrame:
    """Each manager's book (largest revenue first); only manager ``book``'s row when given."""
    m = DashboardManager.__table__
    cols = [c for c in m.c if c.name != "snapshot_id"]
    q = select(*cols).where(m.c.snapshot_id == snapshot_id).order_by(m.c.revenue.desc())
    if book is not None:
        q = q.where(m.c.manager_id == book)
    return as_numbers(read_frame(engine, q))


def credit_cost(over_90: Decimal | None, rules: ValueRules) -> dict[str, Any]:
    """Bad-debt equivalents at the configured margin and borrowing cost: the sales needed
    to make up the receivables over 90 days if they are lost, and per 1,000 lost."""
    loss = Decimal(over_90 or 0)
    margin = rules.net_profit_margin
    return {
        "net_profit_margin": margin,
        "annual_borrowing_rate": rules.annual_borrowing_rate,
        "loss_over_90": loss,
        "sales_to_make_up": to_cents(sales_to_make_up(loss, margin)),
        "sales_per_1000_lost": to_cents(sales_to_make_up(Decimal(1000), margin)),
        "months_of_delay": months_of_delay_eating_profit(
            margin, rules.annual_borrowing_rate
        ).quantize(Decimal("0.1")),
    }


def credit_cost_of(engine: Engine, snapshot_id: int, rules: ValueRules) -> dict[str, Any]:
    """:func:`credit_cost` of the snapshot's receivables over 90 days."""
    return credit_cost(headline(engine, snapshot_id)["over_90"], rules)


def as_of_of(engine: Engine, snapshot_id: int) -> date | None:
    with engine.connect() as conn:
        return conn.scalar(select(Snapshot.as_of).where(Snapshot.snapshot_id == snapshot_id))
