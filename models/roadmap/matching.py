"""Which roadmap items serve which customer initiatives, and whether in time.

A pair (initiative, roadmap item) is scored on two grounds: the share of the
initiative's capability tags the item has, and the similarity of their texts (title
and description; TF-IDF with cosine similarity, fitted on the texts at hand, offline).
``score = tag_weight x tag share + (1 - tag_weight) x text similarity``.

- A pair that shares a tag and scores at least ``match_at_least`` **serves** the
  initiative (``via = tags``).
- A pair that does not serve by tags but whose texts agree at least
  ``suggest_text_at_least`` is a **suggestion**: it counts only once a planner confirms
  it (``via = confirmed``). A confirmed pair counts whatever its score; a rejected pair
  never counts and is never suggested again.
- Cancelled items serve nothing; an item's date is its planned release, or for a
  released item the day it shipped (the same column). Only open initiatives (planned or
  active) are matched.

A serving pair is **in time** when the item releases on or before the needed-by date,
else **late** by the months it takes from the needed-by date to reach the release
(whole months, a part month counting as one). An initiative is in time when any item
serves it in time, late (by the fewest months) when only late items serve it, and a
**gap** when nothing serves it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

from models.schema import MatchDecision, MatchTiming, MatchVia
from models.value.sqlfuncs import add_months

from .rules import RoadmapRules

OPEN_INITIATIVE = frozenset({"planned", "active"})
CANCELLED = "cancelled"


# Stored as they are named in the schema (roadmap_match, initiative_coverage).
# One name a line: a type checker takes only plain assignments as type aliases.
Via = MatchVia
Timing = MatchTiming
Decision = MatchDecision


@dataclass(frozen=True)
class Need:
    """A customer initiative as matching reads it."""

    initiative_id: str
    customer_id: str
    title: str
    tags: tuple[str, ...]
    needed_by: date
    priority: str = "medium"
    status: str = "planned"
    description: str = ""


@dataclass(frozen=True)
class Offer:
    """A roadmap item as matching reads it."""

    roadmap_item_id: str
    product_line_id: str
    title: str
    tags: tuple[str, ...]
    release_on: date
    status: str = "planned"
    description: str = ""


@dataclass(frozen=True)
class Pair:
    """An initiative and a roadmap item that serves it (or, ``via = text``, may)."""

    initiative_id: str
    roadmap_item_id: str
    tag_share: float
    text_similarity: float
    score: float
    via: Via
    timing: Timing  # in_time or late
    months_late: int


@dataclass(frozen=True)
class Coverage:
    """How an initiative is served: its timing, months late (0 unless late), by what."""

    timing: Timing
    months_late: int
    served_by: tuple[str, ...]


@dataclass(frozen=True)
class Matching:
    """The pairs found, one row each in ``table`` (initiative_id, roadmap_item_id,
    tag_share, text_similarity, score, via, timing, months_late; by initiative, then
    item), and every open initiative's coverage."""

    table: pd.DataFrame
    coverage: dict[str, Coverage]

    @cached_property
    def pairs(self) -> list[Pair]:
        """Serving pairs (via tags or confirmed)."""
        return self._rows(self.table["via"] != Via.TEXT.value)

    @cached_property
    def suggestions(self) -> list[Pair]:
        """Text-only pairs awaiting a planner's decision."""
        return self._rows(self.table["via"] == Via.TEXT.value)

    def _rows(self, mask) -> list[Pair]:
        return [
            Pair(i, r, t, x, s, Via(v), Timing(tm), int(m))
            for i, r, t, x, s, v, tm, m in self.table[mask].itertuples(index=False)
        ]


_COLUMNS = [
    "initiative_id",
    "roadmap_item_id",
    "tag_share",
    "text_similarity",
    "score",
    "via",
    "timing",
    "months_late",
]
_TOLERANCE = 1e-6
# Word n-grams of the text similarity: single words (pairs of words cost twice the time
# for no gain on the sample's answer key: benchmarks/roadmap.py).
NGRAMS = (1, 1)  # scores are float32: 0.7 x 0.5 must reach a 0.35 threshold


def months_late(needed_by: date, release_on: date) -> int:
    """Whole months from ``needed_by`` until ``release_on`` is reached (a part month
    counts as one); 0 when the release is on or before the needed-by date."""
    if release_on <= needed_by:
        return 0
    months = (release_on.year - needed_by.year) * 12 + release_on.month - needed_by.month
    if add_months(needed_by, months) < release_on:
        months += 1
    return max(months, 1)


def months_late_arrays(needed: np.ndarray, release: np.ndarray) -> np.ndarray:
    """:func:`months_late` over arrays of ``datetime64[D]``."""
    first = release.astype("datetime64[M]")
    months = (first - needed.astype("datetime64[M]")).astype(np.int64)
    # needed_by moved on by ``months`` lands in the release's month, on the same day of
    # the month or the month's last day.
    start = first.astype("datetime64[D]")
    days_in = ((first + 1).astype("datetime64[D]") - start).astype(np.int64)
    day = (needed - needed.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    landed = start + np.minimum(day, days_in - 1)
    months = months + (landed < release)
    return np.where(release > needed, np.maximum(months, 1), 0)


def match(
    needs: Iterable[Need],
    offers: Iterable[Offer],
    rules: RoadmapRules,
    decisions: Mapping[tuple[str, str], Decision] | None = None,
) -> Matching:
    """Match every open initiative against every roadmap item that is not cancelled."""
    needs = [n for n in needs if n.status in OPEN_INITIATIVE]
    offers = [o for o in offers if o.status != CANCELLED]
    if not needs:
        return Matching(pd.DataFrame(columns=_COLUMNS), {})
    shares, texts = _scores(needs, offers)
    score = rules.tag_weight * shares + (1 - rules.tag_weight) * texts
    confirmed, rejected = _decided(needs, offers, decisions or {})
    by_tags = (shares > 0) & (score >= rules.match_at_least - _TOLERANCE)
    by_text = texts >= rules.suggest_text_at_least - _TOLERANCE
    serving = (by_tags | confirmed) & ~rejected
    suggested = by_text & ~serving & ~rejected
    rows, cols = np.nonzero(serving | suggested)  # row-major: by initiative, then item
    needed = np.array([n.needed_by for n in needs], dtype="datetime64[D]")[rows]
    release = np.array([o.release_on for o in offers], dtype="datetime64[D]")[cols]
    late = months_late_arrays(needed, release)
    via = np.where(
        confirmed[rows, cols],
        Via.CONFIRMED.value,
        np.where(serving[rows, cols], Via.TAGS.value, Via.TEXT.value),
    )
    table = pd.DataFrame(
        {
            "initiative_id": np.array([n.initiative_id for n in needs], dtype=object)[rows],
            "roadmap_item_id": np.array([o.roadmap_item_id for o in offers], dtype=object)[cols],
            "tag_share": shares[rows, cols].astype(np.float64).round(4),
            "text_similarity": texts[rows, cols].astype(np.float64).round(4),
            "score": score[rows, cols].astype(np.float64).round(4),
            "via": via.astype(object),
            "timing": np.where(late > 0, Timing.LATE.value, Timing.IN_TIME.value).astype(object),
            "months_late": late,
        }
    )
    return Matching(table, _coverage(needs, table))


def _decided(needs, offers, decisions) -> tuple[np.ndarray, np.ndarray]:
    """Boolean initiatives x items masks of the confirmed and the rejected pairs."""
    shape = (len(needs), len(offers))
    confirmed, rejected = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    index_n = {n.initiative_id: i for i, n in enumerate(needs)}
    index_o = {o.roadmap_item_id: j for j, o in enumerate(offers)}
    for (ini, item), decision in decisions.items():
        if ini in index_n and item in index_o:
            mask = confirmed if decision == Decision.CONFIRM else rejected
            mask[index_n[ini], index_o[item]] = True
    return confirmed, rejected


def _scores(needs: list[Need], offers: list[Offer]) -> tuple[np.ndarray, np.ndarray]:
    """(tag shares, text similarities), dense float32 arrays of initiatives x items."""
    none = np.zeros((len(needs), len(offers)), dtype=np.float32)
    if not offers:
        return none, none
    both: list[Need | Offer] = [*needs, *offers]
    vocab = {t: k for k, t in enumerate(sorted({t for x in both for t in x.tags}))}
    need_tags, offer_tags = _tag_matrix(needs, vocab), _tag_matrix(offers, vocab)
    counts = np.asarray(need_tags.sum(axis=1)).ravel()
    shared = (need_tags @ offer_tags.T).tocsr().astype(np.float32)
    shares = (sparse.diags(1 / np.maximum(counts, 1)).astype(np.float32) @ shared).toarray()
    docs = [_text(x) for x in both]
    if not any(d.strip() for d in docs):
        return shares, none
    # Imported here: scikit-learn takes ~0.7 s to import, which pages that only read
    # stored matches never need.
    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(
        stop_words="english", ngram_range=NGRAMS, sublinear_tf=True, dtype=np.float32
    )
    try:
        matrix = tfidf.fit_transform(docs)
    except ValueError:  # only stop words: no text to compare
        return shares, none
    texts = (matrix[: len(needs)] @ matrix[len(needs) :].T).toarray()
    return shares, texts


def _tag_matrix(rows: list[Need] | list[Offer], vocab: dict[str, int]) -> sparse.csr_matrix:
    cols = [[vocab[t] for t in set(r.tags)] for r in rows]
    indptr = np.cumsum([0, *(len(c) for c in cols)])
    indices = np.fromiter((k for c in cols for k in c), dtype=np.int64, count=int(indptr[-1]))
    data = np.ones(len(indices), dtype=np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), len(vocab)))


def _text(x: Need | Offer) -> str:
    # Tags stay out: the text is the second, independent ground.
    return f"{x.title} {x.description}"


def _coverage(needs: list[Need], table: pd.DataFrame) -> dict[str, Coverage]:
    serving = table[table["via"] != Via.TEXT.value]
    # The table runs by initiative, then item: each initiative's rows are one slice.
    ini = serving["initiative_id"].to_numpy()
    found = {}
    if len(ini):
        starts = np.flatnonzero(np.r_[True, ini[1:] != ini[:-1]])
        fewest = np.minimum.reduceat(serving["months_late"].to_numpy(), starts)
        items = np.split(serving["roadmap_item_id"].to_numpy(), starts[1:])
        found = {
            ini[s]: (int(m), tuple(sorted(i)))
            for s, m, i in zip(starts, fewest, items, strict=True)
        }
    out = {}
    for need in needs:
        m, served_by = found.get(need.initiative_id, (None, ()))
        if m is None:
            out[need.initiative_id] = Coverage(Timing.GAP, 0, ())
        else:
            out[need.initiative_id] = Coverage(Timing.LATE if m else Timing.IN_TIME, m, served_by)
    return out
