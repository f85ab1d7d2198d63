"""Read models of the customer page: one customer's history over the snapshots, its share
of wallet and its receivables, each scoped to a manager's ``book`` as :mod:`.read`
describes (no rows when the customer is not in it)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select

from models.schema import (
    CustomerReceivable,
    CustomerSegment,
    DashboardCustomer,
    DashboardHeadline,
    ProductLine,
    Snapshot,
    SnapshotStatus,
)
from models.value.readmodels import late_invoices
from models.value.rules import ValueRules

from .rows import as_numbers, book_customers, in_book, read_frame


def customer_history(engine: Engine, customer_id: str) -> pd.DataFrame:
    """A customer's tier, measures and reasons in every refreshed snapshot, oldest first;
    ``previous_snapshot_id`` is None for a snapshot that had none to compare with."""
    d, s, h = DashboardCustomer.__table__, Snapshot.__table__, DashboardHeadline.__table__
    q = (
        select(
            d.c.snapshot_id,
            h.c.previous_snapshot_id,
            s.c.as_of,
            d.c.tier,
            d.c.previous_tier,
            d.c.migration,
            d.c.rule,
            d.c.reasons,
            d.c.explanation,
            d.c.score,
            d.c.revenue,
            d.c.growth,
            d.c.gross_margin_pct,
            d.c.collection_rate,
            d.c.on_time_share,
            d.c.outstanding,
        )
        .select_from(
            d.join(s, s.c.snapshot_id == d.c.snapshot_id).outerjoin(
                h, h.c.snapshot_id == d.c.snapshot_id
            )
        )
        .where(d.c.customer_id == customer_id, s.c.status == SnapshotStatus.COMPLETE)
        .order_by(d.c.snapshot_id)
    )
    return as_numbers(read_frame(engine, q))


def customer_history_of(
    engine: Engine, snapshot_id: int, customer_id: str, *, book: str | None = None
) -> pd.DataFrame:
    """:func:`customer_history` up to ``snapshot_id`` (so caches keyed on it stay right);
    no rows when the customer is not in ``book`` in that snapshot."""
    history = customer_history(engine, customer_id)
    if not in_book(engine, snapshot_id, customer_id, book):
        return history.iloc[0:0]
    return history[history["snapshot_id"] <= snapshot_id].reset_index(drop=True)


def customer_wallet(
    engine: Engine, snapshot_id: int, customer_id: str, *, book: str | None = None
) -> pd.DataFrame:
    """Share of wallet, segment and whitespace per product line for one customer (no rows
    when the customer is not in ``book``)."""
    s, pl = CustomerSegment.__table__, ProductLine.__table__
    q = (
        select(
            s.c.product_line_id,
            func.coalesce(pl.c.name, s.c.product_line_id).label("product_line"),
            s.c.potential,
            s.c.revenue,
            s.c.share,
            s.c.segment,
            s.c.whitespace,
        )
        .select_from(s.outerjoin(pl, pl.c.product_line_id == s.c.product_line_id))
        .where(s.c.snapshot_id == snapshot_id, s.c.customer_id == customer_id)
        .order_by(s.c.potential.desc())
    )
    if book is not None:
        q = q.where(s.c.customer_id.in_(book_customers(snapshot_id, book)))
    return as_numbers(read_frame(engine, q))


def customer_receivables(
    engine: Engine,
    snapshot_id: int,
    customer_id: str,
    rules: ValueRules,
    *,
    book: str | None = None,
) -> dict[str, Any]:
    """One customer's receivables row of the snapshot and its late invoices of the window
    as the snapshot saw them (:func:`models.value.readmodels.late_invoices`); no ageing and
    no invoices when the customer is not in ``book``."""
    r = CustomerReceivable.__table__
    if not in_book(engine, snapshot_id, customer_id, book):
        customer_id = ""  # matches no customer: the same empty shapes as a customer without rows
    with engine.connect() as conn:
        row = (
            conn.execute(
                select(r).where(r.c.snapshot_id == snapshot_id, r.c.customer_id == customer_id)
            )
            .mappings()
            .first()
        )
        late = late_invoices(conn, snapshot_id, rules, customer_id)
    late = late.drop(columns=["customer_id"]).rename(columns={"late_cost": "cost_of_delay"})
    for col in ("amount_due", "cost_of_delay"):
        late[col] = late[col].astype(float)
    return {"ageing": dict(row) if row else None, "late": late}
