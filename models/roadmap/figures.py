"""The "Roadmap vs strategy" page's figures from one snapshot's stored rows, with no
database: the filters (:func:`narrow`), the headline and rankings (:func:`rankings`, on
the :mod:`.value` rules rebuilt from the rows) and the heatmap (:func:`coverage_grid`).
The rows come from :mod:`.read`."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pandas as pd

from .matching import Coverage, Matching, Need, Timing
from .value import account_coverage, items_by_value_served, timing_misses, unserved_needs

NOTHING_SERVES = "Nothing on the roadmap"  # the heatmap's column of the gap initiatives


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
