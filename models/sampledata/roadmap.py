"""The supplier's roadmap and the customers' strategic initiatives (DOMAIN.md section 8).

The roadmap is small and fixed in size whatever the number of customers. Each roadmap
item delivers one capability (sometimes a second one too) and says so in its tags, its
title and its description. Initiatives are drawn against it on purpose, in six kinds,
and which roadmap items each one was meant to be served by is written beside the sample
(``intended/roadmap_intended_pairs.csv``: initiative_id, roadmap_item_id, kind), the
answer key roadmap matching is measured against (benchmarks/roadmap.py):

- ``tags_agree``: needs a capability (sometimes two) by its tag; served by every item
  that is not cancelled and delivers it, at least one of them in time.
- ``descriptions_agree``: needs a capability under the customer's own tag, which no
  item carries, but describes it in the items' words; served by the same items.
- ``false_friend``: needs a capability nothing on the roadmap delivers, and carries a
  loose tag (``inspection``, ``energy``...) that items about something else carry too;
  the pairs with those items are intended NOT to count (the initiative is a gap).
- ``late``: like ``tags_agree``, but every item delivering it releases after the
  needed-by date.
- ``cancelled_only``: needs a capability whose every item is cancelled; the pairs with
  them are intended not to count (a gap).
- ``nothing_serves``: needs a capability no item has (a gap); one row, no item.

Rows of the first, second and fourth kind are intended pairs; the others intended
non-pairs. Every initiative has at least one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from . import columns as col
from .customers import ACTIVE, CustomerBook
from .invoices import Counters
from .names import (
    CAPABILITIES,
    CAPABILITY_WORDS,
    CUSTOMER_TEAMS,
    GAP_TAGS,
    INITIATIVE_SENTENCES,
    LOOSE_TAGS,
    PRODUCT_LINES,
    ROADMAP_SENTENCES,
)
from .window import Window, group_index, pick, uniform_days

TAGS = tuple(c[0] for c in CAPABILITIES)
ROADMAP_TAGS = len(TAGS) - GAP_TAGS  # capabilities 0..ROADMAP_TAGS-1 appear on the roadmap
CUSTOMER_TAGS = tuple(w[0] for w in CAPABILITY_WORDS)
PHRASES = tuple(w[1] for w in CAPABILITY_WORDS)
# Capability -> its loose tag (at most one each).
LOOSE = {TAGS.index(c): tag for tag, pair in LOOSE_TAGS for c in pair}
ROADMAP_STATUS = ("planned", "in_progress", "released", "cancelled")
PRIORITIES = ("high", "medium", "low")
INITIATIVE_STATUS = ("planned", "active", "done", "dropped")
NEVER = np.iinfo(np.int64).max

INTENDED_DIR = "intended"  # the answer key's folder inside the sample folder
INTENDED_FILE = "roadmap_intended_pairs.csv"
INTENDED_COLUMNS = ("initiative_id", "roadmap_item_id", "kind")
KINDS = (
    "tags_agree",
    "descriptions_agree",
    "false_friend",
    "late",
    "cancelled_only",
    "nothing_serves",
)
TAGS_AGREE, TEXT_AGREES, FALSE_FRIEND, LATE, CANCELLED_ONLY, NOTHING = range(len(KINDS))
SERVED_KINDS = frozenset({"tags_agree", "descriptions_agree", "late"})  # intended pairs
KIND_WEIGHTS = (0.38, 0.16, 0.10, 0.16, 0.08, 0.12)
_OPTIONS = pacsv.WriteOptions(
    include_header=True, eol="\n", quoting_style="none", quoting_header="none"
)


@dataclass(frozen=True)
class Roadmap:
    """The roadmap items and, per capability, which of them deliver it."""

    first_release: np.ndarray  # per capability: first live release (epoch day), else NEVER
    live: tuple[tuple[int, ...], ...]  # per capability: live items delivering it
    cancelled: tuple[tuple[int, ...], ...]  # per capability: cancelled items delivering it
    loose: dict[str, tuple[int, ...]]  # per loose tag: live items carrying it
    ids: tuple[str, ...]
    table: dict[str, pa.Array]


def draw_roadmap(rng: np.random.Generator, text_rng: np.random.Generator, window: Window):
    """30-60 roadmap items spread from the window's start to two years past its end.

    The first ROADMAP_TAGS items lead with each roadmap capability once, so every one
    exists; the others lead with a random one. One or two capabilities without a loose
    tag are dropped: all their items are cancelled. A few other items are cancelled too,
    never the first of a capability, and a quarter also deliver a second capability.
    """
    n = int(rng.integers(30, 61))
    horizon = window.end + 730
    release = uniform_days(rng, np.full(n, window.start), np.full(n, horizon))
    plain = [c for c in range(ROADMAP_TAGS) if c not in LOOSE]
    dropped = set(rng.choice(plain, int(rng.integers(1, 3)), replace=False).tolist())
    lead = np.where(np.arange(n) < ROADMAP_TAGS, np.arange(n) % ROADMAP_TAGS, 0)
    lead = np.where(np.arange(n) < ROADMAP_TAGS, lead, rng.integers(0, ROADMAP_TAGS, n))
    second = rng.integers(0, ROADMAP_TAGS, n)
    bundle = (rng.random(n) < 0.25) & (second != lead)
    bundle &= ~np.isin(second, list(dropped))
    loose_on = (rng.random(n) < 0.6) | (np.arange(n) < ROADMAP_TAGS)
    cancelled = (rng.random(n) < 0.06) & (np.arange(n) >= ROADMAP_TAGS)
    cancelled |= np.isin(lead, list(dropped))
    status = np.where(release <= window.end, 2, np.where(release <= window.end + 180, 1, 0))
    status = np.where(cancelled, 3, status)

    first = np.full(len(TAGS), NEVER, dtype=np.int64)
    live: list[list[int]] = [[] for _ in TAGS]
    gone: list[list[int]] = [[] for _ in TAGS]
    loose: dict[str, list[int]] = {tag: [] for tag, _ in LOOSE_TAGS}
    tags, titles = [], []
    for i in range(n):
        delivers = [int(lead[i]), *([int(second[i])] if bundle[i] else [])]
        own = {TAGS[c] for c in delivers}
        if lead[i] in LOOSE and loose_on[i]:
            own.add(LOOSE[lead[i]])
            if not cancelled[i]:
                loose[LOOSE[lead[i]]].append(i)
        tags.append(";".join(sorted(own)))
        titles.append(f"{CAPABILITIES[lead[i]][1]} for {PRODUCT_LINES[i % len(PRODUCT_LINES)][1]}")
        for c in delivers:
            (gone if cancelled[i] else live)[c].append(i)
            if not cancelled[i]:
                first[c] = min(first[c], int(release[i]))
    lines = [PRODUCT_LINES[i % len(PRODUCT_LINES)][1] for i in range(n)]
    descriptions = _describe(
        text_rng, ROADMAP_SENTENCES, lead, np.where(bundle, second, -1), lines=lines
    )
    ids = col.ids("RM-", np.arange(1, n + 1), 3)
    table = {
        "roadmap_item_id": ids,
        "product_line_id": col.labels(
            tuple(p[0] for p in PRODUCT_LINES), np.arange(n) % len(PRODUCT_LINES)
        ),
        "title": pa.array(titles),
        "capability_tags": pa.array(tags),
        "planned_release_on": col.dates(release),
        "status": col.labels(ROADMAP_STATUS, status),
        "description": pa.array(descriptions, pa.string()),
    }
    return Roadmap(
        first_release=first,
        live=tuple(tuple(x) for x in live),
        cancelled=tuple(tuple(x) for x in gone),
        loose={tag: tuple(items) for tag, items in loose.items()},
        ids=tuple(ids.to_pylist()),
        table=table,
    )


def _describe(
    rng: np.random.Generator,
    sentences: tuple[str, ...],
    topic: np.ndarray,
    second: np.ndarray,
    *,
    lines: list[str] | None = None,
    more: np.ndarray | None = None,
) -> list[str]:
    """One description per row: a sentence with different phrases of its capability
    (as many as it has room for), a second one with two more where ``more`` is true, and
    one with two phrases of the second capability where there is one (``second`` >= 0)."""
    k = len(topic)
    m = len(PHRASES[0])
    which = rng.integers(0, len(sentences), k)
    order = np.argsort(rng.random((k, m)), axis=1)[:, :4]  # four different phrases
    extra = rng.integers(0, m, k)
    extra2 = (extra + rng.integers(1, m, k)) % m  # a phrase other than extra
    team = rng.integers(0, len(CUSTOMER_TEAMS), k)
    also = "Also covers {c} and {d}." if lines is not None else "It also needs {c} and {d}."
    out = []
    for i in range(k):
        words = PHRASES[topic[i]]
        a, b, c, d = (words[j] for j in order[i])
        line = lines[i] if lines is not None else ""
        text = sentences[which[i]].format(a=a, b=b, c=c, line=line, team=CUSTOMER_TEAMS[team[i]])
        if more is not None and more[i]:
            text += f" We also need {c} and {d}."
        if second[i] >= 0:
            words = PHRASES[second[i]]
            text += " " + also.format(c=words[extra[i]], d=words[extra2[i]])
        out.append(text[0].upper() + text[1:])
    return out


@dataclass(frozen=True)
class Initiatives:
    """One chunk's initiatives and the rows of the answer key for them."""

    table: dict[str, pa.Array]
    intended: dict[str, pa.Array]


def draw_initiatives(
    rng: np.random.Generator,
    text_rng: np.random.Generator,
    book: CustomerBook,
    sl: slice,
    window: Window,
    roadmap: Roadmap,
    counters: Counters,
) -> Initiatives:
    """Initiatives for about 20% of the active customers in ``sl``, 1-3 each, drawn in
    the kinds of the module docstring."""
    status = book.status[sl]
    n = len(status)
    count = np.where((status == ACTIVE) & (rng.random(n) < 0.2), rng.integers(1, 4, n), 0)
    cust, _ = group_index(count)
    k = len(cust)
    first = roadmap.first_release
    covered = np.flatnonzero(first < NEVER)
    # A capability can be needed "late" only if it first ships a while after the start.
    late_ok = covered[first[covered] >= window.start + 120]
    dropped = np.array([c for c in range(ROADMAP_TAGS) if not roadmap.live[c]], dtype=np.int64)
    dropped = dropped[[bool(roadmap.cancelled[c]) for c in dropped]]
    # False friends: a capability nothing delivers whose loose tag live items carry.
    friends = np.array(
        [
            c
            for c in range(len(TAGS))
            if first[c] == NEVER and c in LOOSE and roadmap.loose.get(LOOSE[c])
        ],
        dtype=np.int64,
    )
    kind = pick(rng, KIND_WEIGHTS, k)
    kind = np.where((kind == LATE) & (len(late_ok) == 0), TAGS_AGREE, kind)
    kind = np.where((kind == CANCELLED_ONLY) & (len(dropped) == 0), NOTHING, kind)
    kind = np.where((kind == FALSE_FRIEND) & (len(friends) == 0), NOTHING, kind)

    topic = np.zeros(k, dtype=np.int64)
    needed = np.zeros(k, dtype=np.int64)
    served = (kind == TAGS_AGREE) | (kind == TEXT_AGREES)
    topic[served] = covered[rng.integers(0, len(covered), served.sum())]
    # Needed from its first release on, and mostly from half a year before the end on,
    # so the open initiatives (those matched) hold every kind in about its share.
    since = np.maximum(first[topic[served]], window.end - 180)
    needed[served] = since + rng.integers(0, 541, served.sum())
    late = kind == LATE
    if len(late_ok):
        topic[late] = late_ok[rng.integers(0, len(late_ok), late.sum())]
        back = np.minimum(365, first[topic[late]] - window.start - 60)
        needed[late] = first[topic[late]] - uniform_days(rng, np.full(late.sum(), 30), back)
    for code, pool in ((FALSE_FRIEND, friends), (CANCELLED_ONLY, dropped)):
        if len(pool):
            topic[kind == code] = pool[rng.integers(0, len(pool), (kind == code).sum())]
    nothing = kind == NOTHING
    topic[nothing] = ROADMAP_TAGS + rng.integers(0, GAP_TAGS, nothing.sum())
    gap = ~served & ~late
    needed[gap] = uniform_days(
        rng, np.full(gap.sum(), window.end - 180), np.full(gap.sum(), window.end + 730)
    )

    # A second capability for some initiatives whose tags agree, kept only where it
    # ships by the needed-by date too; the customer's own tag beside the canonical one
    # for some; a false friend carries its loose tag, alone or beside its own tags.
    second = rng.integers(0, ROADMAP_TAGS, k)
    has_second = (kind == TAGS_AGREE) & (rng.random(k) < 0.35) & (second != topic)
    has_second &= first[second] <= needed
    second = np.where(has_second, second, -1)
    own_word = rng.random(k) < 0.25
    friend_tags = pick(rng, (0.2, 0.5, 0.3), k)  # loose tag alone, + own tag, + customer's
    cells = []
    for i in range(k):
        t = int(topic[i])
        if kind[i] == TEXT_AGREES:
            cell = {CUSTOMER_TAGS[t]}
        elif kind[i] == FALSE_FRIEND:
            cell = {LOOSE[t], TAGS[t], CUSTOMER_TAGS[t]}
            cell = {LOOSE[t]} if friend_tags[i] == 0 else cell
            cell -= {CUSTOMER_TAGS[t]} if friend_tags[i] == 1 else set()
        else:
            cell = {TAGS[t], *([TAGS[second[i]]] if second[i] >= 0 else [])}
            cell |= {CUSTOMER_TAGS[t]} if own_word[i] else set()
        cells.append(";".join(sorted(cell)))

    past = needed <= window.end
    state = np.where(
        past, pick(rng, (0.0, 0.25, 0.6, 0.15), k), pick(rng, (0.55, 0.40, 0.0, 0.05), k)
    )
    numbers = counters.initiative + np.arange(1, k + 1)
    counters.initiative += k
    ids = col.ids("INI-", numbers, 5)
    table = {
        "initiative_id": ids,
        "customer_id": book.ids.take(pa.array(cust + sl.start, pa.int64())),
        "title": pa.array(
            [
                _roll_out(CAPABILITIES[t][1]) if code == TEXT_AGREES else CAPABILITIES[t][2]
                for t, code in zip(topic, kind, strict=True)
            ],
            pa.string(),
        ),
        "capability_tags": pa.array(cells, pa.string()),
        "needed_by": col.dates(needed),
        "priority": col.labels(PRIORITIES, pick(rng, (0.3, 0.45, 0.25), k)),
        "status": col.labels(INITIATIVE_STATUS, state),
        "description": pa.array(
            _describe(text_rng, INITIATIVE_SENTENCES, topic, second, more=kind == TEXT_AGREES),
            pa.string(),
        ),
    }
    return Initiatives(table, _intended(ids.to_pylist(), kind, topic, second, roadmap))


def _roll_out(name: str) -> str:
    """An initiative's title in the roadmap's own name of a capability."""
    return "Roll out " + (name if name[1:2].isupper() else name[0].lower() + name[1:])


def _intended(
    ids: list[str], kind: np.ndarray, topic: np.ndarray, second: np.ndarray, roadmap: Roadmap
) -> dict[str, pa.Array]:
    """The answer key's rows for these initiatives, in their order, items ascending."""
    ini, item, what = [], [], []
    items: set[int | None]  # positions in roadmap.ids; None: no roadmap item at all
    for i, initiative_id in enumerate(ids):
        t, code = int(topic[i]), int(kind[i])
        if code in (TAGS_AGREE, TEXT_AGREES, LATE):
            items = set(roadmap.live[t])
            if second[i] >= 0:
                items |= set(roadmap.live[second[i]])
        elif code == FALSE_FRIEND:
            items = set(roadmap.loose[LOOSE[t]])
        elif code == CANCELLED_ONLY:
            items = set(roadmap.cancelled[t])
        else:
            items = {None}
        for j in sorted(items, key=lambda x: -1 if x is None else x):
            ini.append(initiative_id)
            item.append(None if j is None else roadmap.ids[j])
            what.append(KINDS[code])
    return {
        "initiative_id": pa.array(ini, pa.string()),
        "roadmap_item_id": pa.array(item, pa.string()),
        "kind": pa.array(what, pa.string()),
    }


class IntendedPairs:
    """The answer key's file, open for appending chunk after chunk (as CsvFiles)."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        schema = pa.schema([(name, pa.string()) for name in INTENDED_COLUMNS])
        self._sink = pa.OSFile(str(folder / INTENDED_FILE), "wb")
        try:
            self._writer = pacsv.CSVWriter(self._sink, schema, write_options=_OPTIONS)
        except BaseException:
            self._sink.close()
            raise

    def write(self, rows: dict[str, pa.Array]) -> None:
        table = pa.table({name: rows[name] for name in INTENDED_COLUMNS})
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()
        if not self._sink.closed:
            self._sink.close()

    def __enter__(self) -> IntendedPairs:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
