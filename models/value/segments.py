"""Share of wallet per product line, the attack/defend segment and whitespace (DOMAIN.md 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Float, cast, select

from models.schema import WalletEstimate

from .frames import frame_of
from .numbers import as_float, labels
from .rules import POTENTIAL_LEVELS, SHARE_LEVELS, ValueRules

SEGMENT_COLUMNS = [
    "customer_id",
    "product_line_id",
    "wallet_year",
    "potential",
    "potential_previous",
    "revenue",
    "revenue_previous",
    "share",
    "potential_level",
    "share_level",
    "segment",
    "whitespace",
    "our_growth",
    "wallet_growth",
]


def classify_segments(wallet: pd.DataFrame, sales: pd.DataFrame, rules: ValueRules) -> pd.DataFrame:
    """Segments from wallet rows (customer, product line, year, potential) and our sales.

    The wallet year is the latest estimate year on or before the as-of year; the
    potential level is the estimate's percentile rank within its product line.
    """
    cfg = rules.segments
    if wallet.empty:
        return pd.DataFrame(columns=SEGMENT_COLUMNS)
    w = wallet.assign(potential=as_float(wallet["potential"]))
    w = w.sort_values(["customer_id", "product_line_id", "year"], kind="stable")
    latest = w.groupby(["customer_id", "product_line_id"], sort=False).tail(1)
    before = w.rename(columns={"potential": "potential_previous"})
    before = before.assign(year=before["year"] + 1)
    seg = latest.merge(before, on=["customer_id", "product_line_id", "year"], how="left")
    seg = seg.rename(columns={"year": "wallet_year"})
    seg = seg.merge(sales, on=["customer_id", "product_line_id"], how="left")
    for c in ("revenue", "revenue_previous"):
        seg[c] = as_float(seg[c]).fillna(0.0)
    pot = seg["potential"]
    rank = pot.groupby(seg["product_line_id"]).rank(method="average", pct=True)
    level = np.select(  # positions in POTENTIAL_LEVELS
        [rank >= cfg["potential_high_rank_at_least"], rank < cfg["potential_low_rank_below"]],
        [0, 2],
        1,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        seg["share"] = (seg["revenue"] / pot).where(pot > 0)
        seg["our_growth"] = (seg["revenue"] / seg["revenue_previous"] - 1).where(
            seg["revenue_previous"] > 0
        )
        prev_pot = seg["potential_previous"].astype(float)
        seg["wallet_growth"] = (pot / prev_pot - 1).where(prev_pot > 0)
    share = np.where(seg["share"] >= cfg["high_share_at_least"], 0, 1)  # in SHARE_LEVELS
    # The levels and segments as codes into their few names, made strings once each.
    matrix = cfg["matrix"]
    names = [matrix[p][s] for p in POTENTIAL_LEVELS for s in SHARE_LEVELS]
    seg["potential_level"] = labels(level, POTENTIAL_LEVELS, seg.index)
    seg["share_level"] = labels(share, SHARE_LEVELS, seg.index)
    seg["segment"] = labels(level * len(SHARE_LEVELS) + share, names, seg.index)
    seg["whitespace"] = (pot > 0) & (seg["revenue"] <= 0)
    return (
        seg[SEGMENT_COLUMNS].sort_values(["customer_id", "product_line_id"]).reset_index(drop=True)
    )


def wallet_frame(conn: Connection, year: int) -> pd.DataFrame:
    """The wallet estimates of ``year`` and before (customer, product line, year, potential)."""
    we = WalletEstimate.__table__
    return frame_of(
        conn,
        select(
            we.c.customer_id,
            we.c.product_line_id,
            we.c.year,
            cast(we.c.potential_amount, Float).label("potential"),
        ).where(we.c.year <= year),
    )
