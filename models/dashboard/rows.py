"""Rows of the dashboard's tables as frames, and the manager-book scope of a read: the
helpers the read models (:mod:`.read`, :mod:`.customer`) share."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from sqlalchemy import Engine, select

from models.schema import DashboardCustomer


def book_customers(snapshot_id: int, book: str):
    """The ids of the customers manager ``book`` holds in the snapshot (a subquery)."""
    d = DashboardCustomer.__table__
    return select(d.c.customer_id).where(d.c.snapshot_id == snapshot_id, d.c.manager_id == book)


def in_book(engine: Engine, snapshot_id: int, customer_id: str, book: str | None) -> bool:
    """True when ``customer_id`` is in the book (every customer is when ``book`` is None)."""
    if book is None:
        return True
    d = DashboardCustomer.__table__
    with engine.connect() as conn:
        found = conn.scalar(
            select(d.c.customer_id).where(
                d.c.snapshot_id == snapshot_id,
                d.c.customer_id == customer_id,
                d.c.manager_id == book,
            )
        )
    return found is not None


def read_frame(engine: Engine, query) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def as_numbers(frame: pd.DataFrame, *skip: str) -> pd.DataFrame:
    """Decimal columns as floats for charts and tables (display only; exports use Decimal)."""
    for col in frame.columns:
        if col not in skip and frame[col].map(lambda v: isinstance(v, Decimal)).any():
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame
