"""What each customer initiative puts at stake, and the scores built on it.

**Value at stake** of an open initiative: the account's revenue of the last 12 months,
shared over the account's open initiatives in proportion to their priority weights
(``roadmap.priority_weights``: high 3, medium 2, low 1 by default), to the cent. An
account whose revenue is unknown gives its initiatives an unknown value (None), never 0.

Scores, all from the matching's coverage and these values:

- per account: the shares of its initiatives' value covered in time, late and not at all;
- per roadmap item: the strategic accounts and the value of the initiatives it serves;
- unserved needs: the value of the gap initiatives per capability tag;
- timing misses: late initiatives ranked by months late x value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .matching import OPEN_INITIATIVE, Coverage, Matching, Need, Timing
from .rules import RoadmapRules

CENTS = Decimal("0.01")


def initiative_values(
    needs: Iterable[Need], revenue: Mapping[str, Decimal | None], rules: RoadmapRules
) -> dict[str, Decimal | None]:
    """Value at stake per open initiative (``revenue``: 12-month revenue per account)."""
    by_account: dict[str, list[Need]] = defaultdict(list)
    for n in needs:
        if n.status in OPEN_INITIATIVE:
            by_account[n.customer_id].append(n)
    out: dict[str, Decimal | None] = {}
    for customer_id, open_needs in by_account.items():
        total = revenue.get(customer_id)
        weights = [Decimal(str(rules.priority_weights[n.priority])) for n in open_needs]
        whole = sum(weights, Decimal(0))
        for n, w in zip(open_needs, weights, strict=True):
            out[n.initiative_id] = (
                None if total is None else (total * w / whole).quantize(CENTS, ROUND_HALF_UP)
            )
    return out


@dataclass(frozen=True)
class AccountCoverage:
    """Shares (0-1) of an account's initiative value served in time, late, not at all;
    None where the value is unknown or zero."""

    customer_id: str
    value: Decimal | None
    in_time: Decimal | None
    late: Decimal | None
    gap: Decimal | None


def account_coverage(
    customer_id: str,
    needs: Iterable[Need],
    coverage: Mapping[str, Coverage],
    values: Mapping[str, Decimal | None],
) -> AccountCoverage:
    mine = [n.initiative_id for n in needs if n.customer_id == customer_id]
    mine = [i for i in mine if i in coverage]
    known = [v for i in mine if (v := values.get(i)) is not None]
    if not mine or len(known) < len(mine) or sum(known, Decimal(0)) <= 0:
        return AccountCoverage(customer_id, None, None, None, None)
    total = sum(known, Decimal(0))
    parts = {t: Decimal(0) for t in Timing}
    for i, value in zip(mine, known, strict=True):
        parts[coverage[i].timing] += value
    return AccountCoverage(
        customer_id,
        total,
        *(_share(parts[t], total) for t in (Timing.IN_TIME, Timing.LATE, Timing.GAP)),
    )


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole).quantize(Decimal("0.0001"), ROUND_HALF_UP)


@dataclass(frozen=True)
class ItemServed:
    roadmap_item_id: str
    accounts: int
    initiatives: int
    value: Decimal  # of the initiatives whose value is known
    value_unknown: int  # initiatives served whose value is unknown


def items_by_value_served(
    matching: Matching, needs: Iterable[Need], values: Mapping[str, Decimal | None]
) -> list[ItemServed]:
    """Every roadmap item that serves an initiative, by the value it serves (then the
    accounts, then its id)."""
    account = {n.initiative_id: n.customer_id for n in needs}
    served: dict[str, set[str]] = defaultdict(set)
    for p in matching.pairs:
        served[p.roadmap_item_id].add(p.initiative_id)
    rows = [
        ItemServed(
            item,
            len({account[i] for i in served_ids}),
            len(served_ids),
            *_total(served_ids, values),
        )
        for item, served_ids in served.items()
    ]
    return sorted(rows, key=lambda r: (-r.value, -r.accounts, r.roadmap_item_id))


def _total(ids: Collection[str], values: Mapping[str, Decimal | None]) -> tuple[Decimal, int]:
    """(the sum of the known values of ``ids``, how many are unknown)."""
    known = [v for i in ids if (v := values.get(i)) is not None]
    return sum(known, Decimal(0)), len(ids) - len(known)


@dataclass(frozen=True)
class UnservedNeed:
    capability: str
    initiatives: int
    accounts: int
    value: Decimal
    value_unknown: int


def unserved_needs(
    needs: Iterable[Need], coverage: Mapping[str, Coverage], values: Mapping[str, Decimal | None]
) -> list[UnservedNeed]:
    """The capabilities of the initiatives nothing serves, by their value (an initiative
    needing several capabilities counts under each)."""
    per_tag: dict[str, list[Need]] = defaultdict(list)
    for n in needs:
        cover = coverage.get(n.initiative_id)
        if cover is not None and cover.timing == Timing.GAP:
            for tag in sorted(set(n.tags)) or ["(no capability tag)"]:
                per_tag[tag].append(n)
    rows = [
        UnservedNeed(
            tag,
            len(gap),
            len({n.customer_id for n in gap}),
            *_total([n.initiative_id for n in gap], values),
        )
        for tag, gap in per_tag.items()
    ]
    return sorted(rows, key=lambda r: (-r.value, -r.initiatives, r.capability))


@dataclass(frozen=True)
class TimingMiss:
    initiative_id: str
    customer_id: str
    months_late: int
    value: Decimal | None
    weight: Decimal | None  # months late x value


def timing_misses(
    needs: Iterable[Need], coverage: Mapping[str, Coverage], values: Mapping[str, Decimal | None]
) -> list[TimingMiss]:
    """Late initiatives by months late x value (unknown values last, by months late)."""
    rows = []
    for n in needs:
        cover = coverage.get(n.initiative_id)
        if cover is None or cover.timing != Timing.LATE:
            continue
        value = values.get(n.initiative_id)
        weight = None if value is None else value * cover.months_late
        rows.append(TimingMiss(n.initiative_id, n.customer_id, cover.months_late, value, weight))
    return sorted(
        rows,
        key=lambda r: (r.weight is None, -(r.weight or 0), -r.months_late, r.initiative_id),
    )
