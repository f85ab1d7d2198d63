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

import numpy as np
from scipy import sparse

from models.schema import MatchDecision, MatchTiming, MatchVia
from models.value.sqlfuncs import add_months

from .rules import RoadmapRules

OPEN_INITIATIVE = frozenset({"planned", "active"})
CANCELLED = "cancelled"


# Stored as they are named in the schema (roadmap_match, initiative_coverage).
Via, Timing, Decision = MatchVia, MatchTiming, MatchDecision


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
    pairs: list[Pair]  # serving pairs (via tags or confirmed), by initiative then item
    suggestions: list[Pair]  # text-only pairs awaiting a planner's decision
    coverage: dict[str, Coverage]  # every open initiative


def months_late(needed_by: date, release_on: date) -> int:
    """Whole months from ``needed_by`` until ``release_on`` is reached (a part month
    counts as one); 0 when the release is on or before the needed-by date."""
    if release_on <= needed_by:
        return 0
    months = (release_on.year - needed_by.year) * 12 + release_on.month - needed_by.month
    if add_months(needed_by, months) < release_on:
        months += 1
    return max(months, 1)


def match(
    needs: Iterable[Need],
    offers: Iterable[Offer],
    rules: RoadmapRules,
    decisions: Mapping[tuple[str, str], Decision] | None = None,
) -> Matching:
    """Match every open initiative against every roadmap item that is not cancelled."""
    decisions = decisions or {}
    needs = [n for n in needs if n.status in OPEN_INITIATIVE]
    offers = [o for o in offers if o.status != CANCELLED]
    if not needs:
        return Matching([], [], {})
    shares, texts = _scores(needs, offers)
    candidates = set(zip(*shares.nonzero(), strict=True))
    candidates |= set(zip(*(texts >= rules.suggest_text_at_least).nonzero(), strict=True))
    index_n = {n.initiative_id: i for i, n in enumerate(needs)}
    index_o = {o.roadmap_item_id: j for j, o in enumerate(offers)}
    for (ini, item), decision in decisions.items():
        if decision == Decision.CONFIRM and ini in index_n and item in index_o:
            candidates.add((index_n[ini], index_o[item]))
    pairs, suggestions = [], []
    for i, j in sorted(candidates):
        need, offer = needs[i], offers[j]
        decision = decisions.get((need.initiative_id, offer.roadmap_item_id))
        if decision == Decision.REJECT:
            continue
        tag, text = float(shares[i, j]), float(texts[i, j])
        score = rules.tag_weight * tag + (1 - rules.tag_weight) * text
        if decision == Decision.CONFIRM:
            via = Via.CONFIRMED
        elif tag > 0 and score >= rules.match_at_least:
            via = Via.TAGS
        elif text >= rules.suggest_text_at_least:
            via = Via.TEXT
        else:
            continue
        late = months_late(need.needed_by, offer.release_on)
        pair = Pair(
            need.initiative_id,
            offer.roadmap_item_id,
            round(tag, 4),
            round(text, 4),
            round(score, 4),
            via,
            Timing.LATE if late else Timing.IN_TIME,
            late,
        )
        (suggestions if via == Via.TEXT else pairs).append(pair)
    return Matching(pairs, suggestions, _coverage(needs, pairs))


def _scores(needs: list[Need], offers: list[Offer]) -> tuple[sparse.csr_matrix, np.ndarray]:
    """(tag shares, text similarities), each initiatives x items."""
    if not offers:
        empty = sparse.csr_matrix((len(needs), 0))
        return empty, np.zeros((len(needs), 0), dtype=np.float32)
    vocab = {t: k for k, t in enumerate(sorted({t for x in [*needs, *offers] for t in x.tags}))}
    need_tags, offer_tags = _tag_matrix(needs, vocab), _tag_matrix(offers, vocab)
    counts = np.asarray(need_tags.sum(axis=1)).ravel()
    shared = (need_tags @ offer_tags.T).tocsr().astype(np.float32)
    shares = sparse.diags(1 / np.maximum(counts, 1)).astype(np.float32) @ shared
    docs = [_text(x) for x in [*needs, *offers]]
    if not any(d.strip() for d in docs):
        return shares.tocsr(), np.zeros((len(needs), len(offers)), dtype=np.float32)
    # Imported here: scikit-learn takes ~0.7 s to import, which pages that only read
    # stored matches never need.
    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(
        stop_words="english", ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32
    )
    try:
        matrix = tfidf.fit_transform(docs)
    except ValueError:  # only stop words: no text to compare
        return shares.tocsr(), np.zeros((len(needs), len(offers)), dtype=np.float32)
    texts = (matrix[: len(needs)] @ matrix[len(needs) :].T).toarray()
    return shares.tocsr(), texts


def _tag_matrix(rows: list[Need] | list[Offer], vocab: dict[str, int]) -> sparse.csr_matrix:
    cols = [[vocab[t] for t in set(r.tags)] for r in rows]
    indptr = np.cumsum([0, *(len(c) for c in cols)])
    indices = np.fromiter((k for c in cols for k in c), dtype=np.int64, count=int(indptr[-1]))
    data = np.ones(len(indices), dtype=np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), len(vocab)))


def _text(x: Need | Offer) -> str:
    # Tags stay out: the text is the second, independent ground.
    return f"{x.title} {x.description}"


def _coverage(needs: list[Need], pairs: list[Pair]) -> dict[str, Coverage]:
    by_need: dict[str, list[Pair]] = {}
    for p in pairs:
        by_need.setdefault(p.initiative_id, []).append(p)
    out = {}
    for need in needs:
        serving = by_need.get(need.initiative_id, [])
        if not serving:
            out[need.initiative_id] = Coverage(Timing.GAP, 0, ())
            continue
        best = min(p.months_late for p in serving)
        timing = Timing.IN_TIME if best == 0 else Timing.LATE
        out[need.initiative_id] = Coverage(
            timing, best, tuple(sorted(p.roadmap_item_id for p in serving))
        )
    return out
