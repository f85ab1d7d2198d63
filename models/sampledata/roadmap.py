"""The supplier's roadmap and the customers' strategic initiatives (DOMAIN.md section 8).

The roadmap is small and fixed in size whatever the number of customers.
Initiatives are drawn against it on purpose: some need a capability a roadmap
item delivers before they need it (covered in time), some need it earlier than
it ships (covered late), and some need a capability no roadmap item has (a gap).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import columns as col
from .customers import ACTIVE, CustomerBook
from .invoices import Counters
from .names import CAPABILITIES, GAP_TAGS, PRODUCT_LINES
from .window import Window, group_index, pick, uniform_days

TAGS = tuple(c[0] for c in CAPABILITIES)
ROADMAP_TAGS = len(TAGS) - GAP_TAGS  # tags 0..ROADMAP_TAGS-1 appear on the roadmap
ROADMAP_STATUS = ("planned", "in_progress", "released", "cancelled")
PRIORITIES = ("high", "medium", "low")
INITIATIVE_STATUS = ("planned", "active", "done", "dropped")
IN_TIME, LATE, GAP = 0, 1, 2


@dataclass(frozen=True)
class Roadmap:
    """When each capability tag first ships (epoch day; absent tags never do)."""

    first_release: np.ndarray  # per tag; huge for tags not on the roadmap
    table: dict[str, pa.Array]


def draw_roadmap(rng: np.random.Generator, window: Window) -> Roadmap:
    """30-60 roadmap items spread from the window's start to two years past its end."""
    n = int(rng.integers(30, 61))
    horizon = window.end + 730
    release = uniform_days(rng, np.full(n, window.start), np.full(n, horizon))
    # The first ROADMAP_TAGS items lead with each roadmap tag once, so every
    # roadmap tag exists; the others lead with a random one.
    lead = np.where(np.arange(n) < ROADMAP_TAGS, np.arange(n) % ROADMAP_TAGS, 0)
    lead = np.where(np.arange(n) < ROADMAP_TAGS, lead, rng.integers(0, ROADMAP_TAGS, n))
    extra = rng.integers(0, ROADMAP_TAGS, (n, 2))
    n_tags = rng.integers(1, 4, n)
    cancelled = rng.random(n) < 0.08
    status = np.where(release <= window.end, 2, np.where(release <= window.end + 180, 1, 0))
    status = np.where(cancelled, 3, status)
    first = np.full(len(TAGS), np.iinfo(np.int64).max, dtype=np.int64)
    tags, titles = [], []
    for i in range(n):
        own = sorted({int(lead[i]), *(int(t) for t in extra[i, : n_tags[i] - 1])})
        tags.append(";".join(TAGS[t] for t in own))
        titles.append(f"{CAPABILITIES[lead[i]][1]} for {PRODUCT_LINES[i % len(PRODUCT_LINES)][1]}")
        if not cancelled[i]:
            for t in own:
                first[t] = min(first[t], int(release[i]))
    table = {
        "roadmap_item_id": col.ids("RM-", np.arange(1, n + 1), 3),
        "product_line_id": col.labels(
            tuple(p[0] for p in PRODUCT_LINES), np.arange(n) % len(PRODUCT_LINES)
        ),
        "title": pa.array(titles),
        "capability_tags": pa.array(tags),
        "planned_release_on": col.dates(release),
        "status": col.labels(ROADMAP_STATUS, status),
    }
    return Roadmap(first_release=first, table=table)


def draw_initiatives(
    rng: np.random.Generator,
    book: CustomerBook,
    sl: slice,
    window: Window,
    roadmap: Roadmap,
    counters: Counters,
) -> dict[str, pa.Array]:
    """Initiatives for about 20% of the active customers in ``sl``, 1-3 each."""
    status = book.status[sl]
    n = len(status)
    count = np.where((status == ACTIVE) & (rng.random(n) < 0.2), rng.integers(1, 4, n), 0)
    cust, _ = group_index(count)
    k = len(cust)
    first = roadmap.first_release
    covered = np.flatnonzero(first < np.iinfo(np.int64).max)
    # A tag can be "covered late" only if it first ships a while after the window starts.
    late_ok = covered[first[covered] >= window.start + 120]
    intent = pick(rng, (0.5, 0.25, 0.25), k)
    if len(late_ok) == 0:
        intent = np.where(intent == LATE, GAP, intent)
    if len(covered) == 0:
        intent = np.full(k, GAP)
    tag = np.zeros(k, dtype=np.int64)
    needed = np.zeros(k, dtype=np.int64)

    on_time = intent == IN_TIME
    if len(covered):
        tag[on_time] = covered[rng.integers(0, len(covered), on_time.sum())]
        needed[on_time] = first[tag[on_time]] + rng.integers(0, 541, on_time.sum())
    late = intent == LATE
    if len(late_ok):
        tag[late] = late_ok[rng.integers(0, len(late_ok), late.sum())]
        back = np.minimum(365, first[tag[late]] - window.start - 60)
        needed[late] = first[tag[late]] - uniform_days(rng, np.full(late.sum(), 30), back)
    gap = intent == GAP
    tag[gap] = ROADMAP_TAGS + rng.integers(0, GAP_TAGS, gap.sum())
    needed[gap] = uniform_days(
        rng, np.full(gap.sum(), window.end - 180), np.full(gap.sum(), window.end + 730)
    )

    # A second tag, kept only where it does not change the intended coverage:
    # in time needs it shipped by then; a gap can add any covered tag.
    second = rng.integers(0, ROADMAP_TAGS, k)
    has_second = (rng.random(k) < 0.35) & (second != tag)
    has_second &= (on_time & (first[second] <= needed)) | gap
    cells = [
        ";".join(sorted((TAGS[a], TAGS[b]) if two else (TAGS[a],)))
        for a, b, two in zip(tag, second, has_second, strict=True)
    ]
    past = needed <= window.end
    state = np.where(
        past, pick(rng, (0.0, 0.25, 0.6, 0.15), k), pick(rng, (0.55, 0.40, 0.0, 0.05), k)
    )
    numbers = counters.initiative + np.arange(1, k + 1)
    counters.initiative += k
    return {
        "initiative_id": col.ids("INI-", numbers, 5),
        "customer_id": book.ids.take(pa.array(cust + sl.start, pa.int64())),
        "title": col.labels(tuple(c[2] for c in CAPABILITIES), tag),
        "capability_tags": pa.array(cells, pa.string()),
        "needed_by": col.dates(needed),
        "priority": col.labels(PRIORITIES, pick(rng, (0.3, 0.45, 0.25), k)),
        "status": col.labels(INITIATIVE_STATUS, state),
    }
