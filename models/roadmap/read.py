"""Read models of the "Roadmap vs strategy" page: one snapshot's stored matching of the
strategic accounts, as plain frames and dicts.

What the recompute stored with the snapshot (``initiative_coverage``, ``roadmap_match``;
suggestions via text do not count), joined with the initiatives' and roadmap items'
current texts and dates and the snapshot's customer row (name, tier, manager). Value
shares and rankings: :mod:`models.roadmap.value`, on objects rebuilt from the rows.
**Strategic accounts** (:class:`StrategicRule`, a parameter of every read): accounts with
an account plan, or whose tier in the snapshot is Diamond, Gold or Strategic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
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

from .matching import Coverage, Matching, Need, Timing, Via
from .store import pairs_snapshot
from .value import account_coverage, items_by_value_served, timing_misses, unserved_needs

STRATEGIC_TIERS = ("diamond", "gold", "strategic")
NOTHING_SERVES = "Nothing on the roadmap"  # the heatmap's column of the gap initiatives


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


def narrow(
    cov: pd.DataFrame,
    pairs: pd.DataFrame,
    tiers: tuple[str, ...] = (),
    managers: tuple[str, ...] = (),
    product_lines: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The page's filters: tiers and managers narrow the accounts; product lines narrow the
    roadmap items (an initiative's coverage stays the one over the whole roadmap)."""
    if tiers:
        cov = cov[cov["tier"].isin(tiers)]
    if managers:
        cov = cov[cov["manager"].isin(managers)]
    pairs = pairs[pairs["initiative_id"].isin(set(cov["initiative_id"]))]
    if product_lines:
        pairs = pairs[pairs["product_line_id"].isin(product_lines)]
    return cov.reset_index(drop=True), pairs.reset_index(drop=True)


def _rebuilt(cov: pd.DataFrame, pairs: pd.DataFrame):
    """Needs, Matching and values rebuilt from stored rows, as :mod:`.value` takes them."""
    # Plain tuples (name=None): the columns hold objects (lists, dates, Decimals), which
    # pandas-stubs' named rows would type as scalars only.
    needs = [
        Need(initiative_id, customer_id, title, tuple(tags), needed_by)
        for initiative_id, customer_id, title, tags, needed_by in cov[
            ["initiative_id", "customer_id", "initiative", "capabilities", "needed_by"]
        ].itertuples(index=False, name=None)
    ]
    cover = {
        initiative_id: Coverage(Timing(timing), int(months_late), tuple(served_by))
        for initiative_id, timing, months_late, served_by in cov[
            ["initiative_id", "timing", "months_late", "served_by"]
        ].itertuples(index=False, name=None)
    }
    values = dict(zip(cov["initiative_id"], cov["value_at_stake"], strict=True))
    return needs, _matching(pairs, cover), values


def _matching(pairs: pd.DataFrame, cover: dict[str, Coverage]) -> Matching:
    """The stored serving pairs (no suggestions) as a :class:`Matching` holds them."""
    table = pairs[_PAIR_COLUMNS].assign(months_late=pairs["months_late"].astype(int))
    return Matching(table.reset_index(drop=True), cover)


_PAIR_COLUMNS = ["initiative_id", "roadmap_item_id", "tag_share", "text_similarity", "score"]
_PAIR_COLUMNS += ["via", "timing", "months_late"]  # as Pair and Matching's table have them


def _known_or_none(value: Decimal, unknown: int, total: int) -> Decimal | None:
    """A summed value, or None when every part of it is unknown (never a false 0)."""
    return None if total and unknown == total else value


_RANKED = ["roadmap_item_id", "accounts", "initiatives", "value", "value_unknown"]
_UNSERVED = ["capability", "initiatives", "accounts", "value", "value_unknown"]


def _records(rows: list, columns: list[str]) -> pd.DataFrame:
    """Ranked dataclasses as a frame; a summed ``value`` all of whose parts are unknown
    becomes None (never 0)."""
    frame = pd.DataFrame([vars(r) for r in rows], columns=columns, dtype=object)
    if "value_unknown" in columns:
        parts = zip(frame["value"], frame["value_unknown"], frame["initiatives"], strict=True)
        known = [_known_or_none(v, u, n) for v, u, n in parts]
        frame["value"] = pd.Series(known, index=frame.index, dtype=object)
    return frame


def rankings(cov: pd.DataFrame, pairs: pd.DataFrame, *, narrowed_lines: bool = False) -> dict:
    """The headline and the rankings of :mod:`.value` on these (already narrowed) rows.

    ``narrowed_lines``: the pairs were narrowed to some product lines, so the timing misses
    are the late initiatives those lines serve (unserved needs belong to no line).
    """
    needs, matching, values = _rebuilt(cov, pairs)
    # The portfolio's shares: the accounts' initiatives of known value pooled as one account.
    known = [replace(n, customer_id="*") for n in needs if values[n.initiative_id] is not None]
    pooled = account_coverage("*", known, matching.coverage, values)
    headline: dict[str, Any] = {
        "accounts": int(cov["customer_id"].nunique()),
        "initiatives": len(needs),
    }
    headline |= {"value": pooled.value, "value_unknown": len(needs) - len(known)}
    headline |= {t: getattr(pooled, t) for t in ("in_time", "late", "gap")}
    own: dict[str, list[Need]] = {}
    for n in needs:
        own.setdefault(n.customer_id, []).append(n)
    shares = [account_coverage(c, own[c], matching.coverage, values) for c in own]
    accounts = _records(shares, ["customer_id", "value", "in_time", "late", "gap"])
    accounts.insert(1, "initiatives", [len(own[c]) for c in own])
    first = cov.drop_duplicates("customer_id")
    accounts = first[["customer_id", "account", "tier", "manager", "has_plan"]].merge(accounts)
    accounts = accounts.rename(columns={"value": "value_at_stake"}).sort_values(
        "value_at_stake", ascending=False, na_position="last", key=lambda s: s.astype(float)
    )
    facts = ["roadmap_item_id", "item", "product_line", "release_on", "item_status"]
    items = _records(items_by_value_served(matching, needs, values), _RANKED)
    items = items.rename(columns={"value": "value_served"}).merge(
        pairs[facts].drop_duplicates("roadmap_item_id"), how="left"
    )
    items = items.rename(columns={"item_status": "status"})[
        [*facts[:4], "status", "accounts", "initiatives", "value_served", "value_unknown"]
    ].astype(object)
    unserved = _records(unserved_needs(needs, matching.coverage, values), _UNSERVED)
    unserved = unserved.rename(columns={"value": "value_at_stake"})
    served_here = set(pairs["initiative_id"])
    late_needs = [n for n in needs if not narrowed_lines or n.initiative_id in served_here]
    misses = _records(
        timing_misses(late_needs, matching.coverage, values),
        ["initiative_id", "customer_id", "months_late", "value", "weight"],
    ).rename(columns={"value": "value_at_stake"})
    first_release = pairs.sort_values("release_on").drop_duplicates("initiative_id")
    first_release = first_release[["initiative_id", "release_on"]]
    misses = (
        misses.merge(cov[["initiative_id", "initiative", "account", "needed_by"]], how="left")
        .merge(first_release.rename(columns={"release_on": "first_release"}), how="left")
        .astype(object)
    )
    misses = misses[
        ["initiative_id", "initiative", "customer_id", "account", "needed_by", "first_release"]
        + ["months_late", "value_at_stake", "weight"]
    ]
    accounts = accounts.reset_index(drop=True).astype(object)
    return dict(headline=headline, accounts=accounts, items=items, unserved=unserved, misses=misses)


def coverage_grid(cov: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """The heatmap's cells, accounts x product lines: the account's initiatives that items
    of the line serve. A line serves an initiative in time when one of its items does, else
    late (by the fewest months of its items); the worst of the cell's initiatives wins.
    Initiatives nothing serves fill the column ``NOTHING_SERVES`` (gap). Columns:
    customer_id, account, product_line_id, product_line, state, initiatives, value (None
    when all of it is unknown), value_unknown, months_late (the worst), in_time_elsewhere
    (of a late cell's initiatives, those another line serves in time)."""
    columns = ["customer_id", "account", "product_line_id", "product_line", "state"]
    columns += ["initiatives", "value", "value_unknown", "months_late", "in_time_elsewhere"]
    keys = ["initiative_id", "product_line_id", "product_line"]
    lines = pairs[keys].assign(months_late=pairs["months_late"].astype(int))
    best = lines.groupby(keys)["months_late"].min().reset_index() if len(pairs) else None
    gaps = cov.loc[cov["timing"] == "gap", ["initiative_id"]]
    gaps = gaps.assign(product_line_id="", product_line=NOTHING_SERVES, months_late=0)
    parts = [f for f in (best, gaps) if f is not None and len(f)]
    if not parts:
        return pd.DataFrame([], columns=columns, dtype=object)
    facts = cov[["initiative_id", "customer_id", "account", "value_at_stake", "timing"]]
    per = pd.concat(parts, ignore_index=True).merge(facts, on="initiative_id")
    unknown = per["value_at_stake"].isna()
    per = per.assign(  # summed as whole cents (values are to the cent): exact and fast
        unknown=unknown.astype(int),
        cents=[
            0 if u else int(v * 100) for u, v in zip(unknown, per["value_at_stake"], strict=True)
        ],
        elsewhere=(per["timing"] == "in_time").astype(int),
        months_late=per["months_late"].astype(int),
    )
    cells = (
        per.groupby(["customer_id", "product_line_id"], sort=True)
        .agg(
            account=("account", "first"),
            product_line=("product_line", "first"),
            initiatives=("initiative_id", "size"),
            cents=("cents", "sum"),
            value_unknown=("unknown", "sum"),
            months_late=("months_late", "max"),
            in_time_elsewhere=("elsewhere", "sum"),
        )
        .reset_index()
    )
    amounts = [Decimal(int(c)).scaleb(-2) for c in cells["cents"]]
    cells["value"] = pd.Series(amounts, index=cells.index, dtype=object)
    gap = cells["product_line_id"] == ""
    cells["state"] = "in_time"
    cells.loc[cells["months_late"] > 0, "state"] = "late"
    cells.loc[gap, "state"] = "gap"
    cells["in_time_elsewhere"] = cells["in_time_elsewhere"].where(cells["state"] == "late", 0)
    cells = cells.astype(object)
    cells["product_line_id"] = cells["product_line_id"].where(~gap, None)
    cells["value"] = cells["value"].where(cells["value_unknown"] < cells["initiatives"], None)
    for col in ("initiatives", "value_unknown", "months_late", "in_time_elsewhere"):
        cells[col] = cells[col].map(int)
    return cells[columns]


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
