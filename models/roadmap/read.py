"""Read models of the "Roadmap vs strategy" page: one snapshot's stored matching of the
strategic accounts, as plain frames and dicts.

What the recompute stored with the snapshot (``initiative_coverage``, ``roadmap_match``;
suggestions via text do not count), joined with the initiatives' and roadmap items'
current texts and dates and the snapshot's customer row (name, tier, manager). Value
shares, rankings and the heatmap: :mod:`models.roadmap.figures`, from these rows.
**Strategic accounts** (:class:`StrategicRule`, a parameter of every read): accounts with
an account plan, or whose tier in the snapshot is Diamond, Gold or Strategic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, Row, func, select

from models.schema import (
    AccountPlan,
    Customer,
    DashboardCustomer,
    Initiative,
    InitiativeCoverage,
    ProductLine,
    RoadmapItem,
    RoadmapMatch,
)
from models.value.numbers import stored_money

from .figures import NOTHING_SERVES, coverage_grid, narrow, rankings
from .matching import Via
from .store import pairs_snapshot

__all__ = ["NOTHING_SERVES", "STRATEGIC", "StrategicRule", "roadmap_view"]

STRATEGIC_TIERS = ("diamond", "gold", "strategic")


@dataclass(frozen=True)
class StrategicRule:
    """Which accounts count as strategic: those with an account plan (when ``with_plan``),
    or whose tier in the snapshot is one of ``tiers``."""

    tiers: tuple[str, ...] = STRATEGIC_TIERS
    with_plan: bool = True

    def describe(self) -> str:
        named = " or ".join(
            ", ".join(t.replace("_", " ").capitalize() for t in self.tiers).rsplit(", ", 1)
        )
        parts = ["accounts with an account plan"] if self.with_plan else []
        parts += [f"accounts of tier {named} in this snapshot"] if self.tiers else []
        return ", or ".join(parts) or "no accounts"


STRATEGIC = StrategicRule()


def _text(value) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


def _rows(engine: Engine, query) -> Sequence[Row[Any]]:
    with engine.connect() as conn:
        return conn.execute(query).all()


def stored_initiatives(engine: Engine, snapshot_id: int) -> int:
    """How many initiatives the snapshot's matching covers (0: no roadmap rows)."""
    ic = InitiativeCoverage
    return _rows(engine, select(func.count()).where(ic.snapshot_id == snapshot_id))[0][0]


def strategic_accounts(
    engine: Engine,
    snapshot_id: int,
    rule: StrategicRule = STRATEGIC,
    *,
    book: str | None = None,
) -> pd.DataFrame:
    """customer_id, account, tier, manager, has_plan: every account the rule names (with an
    open initiative or not), by name. Accounts absent from the snapshot have None.

    ``book`` (:func:`models.access.book_of`): only the accounts that manager holds, in the
    snapshot or, for a planned account absent from it, in the customer master."""
    plans = select(AccountPlan.customer_id)
    if book is not None:
        plans = plans.join(Customer, Customer.customer_id == AccountPlan.customer_id).where(
            Customer.manager_id == book
        )
    planned = {r[0] for r in _rows(engine, plans)}
    c = DashboardCustomer
    named: ColumnElement[bool] = c.tier.in_(rule.tiers)
    if rule.with_plan:
        named = named | c.customer_id.in_(select(AccountPlan.customer_id))
    query = select(c.customer_id, c.name, c.tier, c.manager).where(
        c.snapshot_id == snapshot_id, named
    )
    if book is not None:
        query = query.where(c.manager_id == book)
    rows = _rows(engine, query)
    absent = (planned if rule.with_plan else set()) - {r.customer_id for r in rows}
    frame = pd.DataFrame(
        [(*r, r.customer_id in planned) for r in rows]
        + [(cid, None, None, None, True) for cid in absent],
        columns=["customer_id", "account", "tier", "manager", "has_plan"],
    )
    return frame.sort_values(["account", "customer_id"], na_position="last", ignore_index=True)


def _frame(engine: Engine, query) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()), dtype=object)


def _plain(frame: pd.DataFrame, *enums: str) -> pd.DataFrame:
    for col in enums:
        frame[col] = frame[col].map(_text)
    return frame


def coverage(engine: Engine, snapshot_id: int, rule: StrategicRule = STRATEGIC) -> pd.DataFrame:
    """One row per open initiative of a strategic account, as the snapshot stored it:
    customer_id, account, tier, manager, has_plan, initiative_id, initiative, priority,
    needed_by, capabilities (tags), timing, months_late, value_at_stake (a Decimal; None
    when the account's revenue is unknown), served_by (item ids); by account and date."""
    return _coverage(engine, snapshot_id, strategic_accounts(engine, snapshot_id, rule))


def _coverage(engine: Engine, snapshot_id: int, accounts: pd.DataFrame) -> pd.DataFrame:
    ic, ini = InitiativeCoverage, Initiative
    frame = _frame(
        engine,
        select(
            ic.customer_id,
            ic.initiative_id,
            ini.title.label("initiative"),
            ini.priority,
            ini.needed_by,
            ini.capability_tags.label("capabilities"),
            ic.timing,
            ic.months_late,
            ic.value_at_stake,
            ic.served_by,
        )
        .join(ini, ini.initiative_id == ic.initiative_id)
        .where(ic.snapshot_id == snapshot_id),
    )
    frame = accounts.merge(frame, on="customer_id")
    frame = _plain(frame, "priority", "timing").astype(object)
    frame["capabilities"] = frame["capabilities"].map(lambda t: list(t or []))
    frame["months_late"] = frame["months_late"].map(int)
    frame["value_at_stake"] = frame["value_at_stake"].map(stored_money)
    order = ["customer_id", "needed_by", "initiative_id"]
    return frame.sort_values(order, ignore_index=True)


def serving(engine: Engine, snapshot_id: int, rule: StrategicRule = STRATEGIC) -> pd.DataFrame:
    """One row per stored pair that serves (via tags or confirmed) an initiative of a
    strategic account, by initiative then item: initiative_id, customer_id,
    roadmap_item_id, item, product_line_id, product_line (its name), release_on,
    item_status, via, timing, months_late, tag_share, text_similarity, score."""
    return _serving(engine, snapshot_id, strategic_accounts(engine, snapshot_id, rule))


def _serving(engine: Engine, snapshot_id: int, accounts: pd.DataFrame) -> pd.DataFrame:
    wanted = set(accounts["customer_id"])
    m, item, pl, ic = RoadmapMatch, RoadmapItem, ProductLine, InitiativeCoverage
    with engine.connect() as conn:
        pairs_in = pairs_snapshot(conn, snapshot_id)
    frame = _frame(
        engine,
        select(
            m.initiative_id,
            ic.customer_id,
            m.roadmap_item_id,
            item.title.label("item"),
            item.product_line_id,
            pl.name.label("product_line"),
            item.planned_release_on.label("release_on"),
            item.status.label("item_status"),
            m.via,
            m.timing,
            m.months_late,
            m.tag_share,
            m.text_similarity,
            m.score,
        )
        .join(item, item.roadmap_item_id == m.roadmap_item_id)
        .outerjoin(pl, pl.product_line_id == item.product_line_id)
        .join(ic, (ic.snapshot_id == snapshot_id) & (ic.initiative_id == m.initiative_id))
        .where(m.snapshot_id == pairs_in, m.via != Via.TEXT)
        .order_by(m.initiative_id, m.roadmap_item_id),
    )
    frame = _plain(frame[frame["customer_id"].isin(wanted)].copy(), "item_status", "via", "timing")
    frame["product_line"] = frame["product_line"].fillna(frame["product_line_id"])
    frame["months_late"] = frame["months_late"].map(int)
    return frame.reset_index(drop=True)


def roadmap_view(
    engine: Engine,
    snapshot_id: int,
    rule: StrategicRule = STRATEGIC,
    tiers: tuple[str, ...] = (),
    managers: tuple[str, ...] = (),
    product_lines: tuple[str, ...] = (),
    *,
    book: str | None = None,
) -> dict[str, Any]:
    """Everything the page draws for one snapshot and one choice of filters: the narrowed
    ``coverage`` and ``serving`` rows, the heatmap ``grid``, the ``rankings``, the
    ``accounts`` the rule names and the ``rule`` in words; of manager ``book``'s accounts
    only when given (:func:`strategic_accounts`)."""
    accounts = strategic_accounts(engine, snapshot_id, rule, book=book)
    cov, pairs = narrow(
        _coverage(engine, snapshot_id, accounts),
        _serving(engine, snapshot_id, accounts),
        tiers,
        managers,
        product_lines,
    )
    return {
        "coverage": cov,
        "serving": pairs,
        "grid": coverage_grid(cov, pairs),
        "rankings": rankings(cov, pairs, narrowed_lines=bool(product_lines)),
        "accounts": accounts,
        "rule": rule.describe(),
    }
