"""Roadmap matching: how right it is on the sample's answer key, how fast and lean at
scale, and what storing it adds to a recompute.

    python benchmarks/roadmap.py [--customers 50000] [--lines 10000000]
        [--initiatives 5000] [--items 2000] [--db postgresql|sqlite] [--url URL]
        [--keep DIR] [--sample-customers 2000] [--seed 1]

1. Quality: writes a sample with the generator (``--sample-customers``, seed 42) and
   builds ``Need``/``Offer`` objects straight from its CSV files (no database). Runs
   ``models.roadmap.matching.match`` twice: ``tags_only`` (``tag_weight`` 1.0,
   suggestions ignored) and ``tags_and_text`` (the default rules, every suggestion
   counted as if a planner had confirmed it). Each is scored against the sample's answer
   key (``intended/roadmap_intended_pairs.csv``): precision and recall of the counted
   pairs of the open initiatives, where the intended pairs are those of the kinds
   tags_agree, descriptions_agree and late (false friends and pairs with cancelled
   items are intended non-pairs; a pair the key does not list is not intended). Also
   per kind: recall, and how many false-friend pairs were counted.
2. Speed and memory: ``--initiatives`` open initiatives against ``--items`` roadmap
   items, drawn here: 1-3 capability tags each from a vocabulary of 300 (a few far more
   common than most), titles of 3-6 and descriptions of 10-25 words in the words of the
   first tag's theme, general words and English function words. ``match_seconds`` is
   the median of three runs; ``match_rss_growth_mb`` the growth of the process's peak
   resident memory over the first run, ``match_peak_alloc_mb`` the peak of memory
   allocated within one run (tracemalloc, an untimed run of its own).
3. Storing it: builds benchmarks/recompute.py's synthetic book through that script (or
   reuses the one kept in ``--keep DIR``, the same folder and state as ``recompute.py
   --keep DIR`` and ``plans.py --keep DIR``), copies it into a fresh database, stores
   the drawn items and initiatives there (on random customers of the book), and times
   the recompute (``recompute_seconds``; it stores the roadmap matching in its
   transaction: ``roadmap_in_recompute_seconds``; the rest of it:
   ``recompute_without_roadmap_seconds``), then
   ``models.roadmap.store.store_roadmap`` alone on the same snapshot, in transactions
   rolled back (the median of three: ``seconds``; matched afresh, as after an ingest of
   initiatives or roadmap items), then a second recompute with nothing matched changed,
   as after an invoice batch, where the pairs stand and only the values are redone
   (``unchanged_roadmap_share`` = its store_roadmap / its recompute). ``roadmap_share`` =
   seconds / recompute_seconds (the aim: under 0.10). ``--lines`` and ``--customers``
   make the book smaller for a quick run.

Progress goes to stderr; the last line on stdout is the JSON figures (``rows`` = the
initiatives stored, ``seconds`` = store_roadmap alone, baseline = the recompute). Every
database it creates is dropped afterwards, and so is the book's PostgreSQL template
when it was built for this run only; a book kept with ``--keep`` stays: drop its
PostgreSQL template by hand when done (``DROP DATABASE <template>``, the name is in
DIR/state.json).
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
import tempfile
import tracemalloc
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import recompute as book
from common import peak_rss_mb, progress, report, stopwatch
from plans import drop_template, kept_book
from sqlalchemy import delete, insert, select

import models.value.recompute as recompute_module
from models.config import load_config
from models.db import make_engine
from models.roadmap.matching import OPEN_INITIATIVE, Need, Offer, match
from models.roadmap.rules import RoadmapRules, roadmap_rules
from models.roadmap.store import store_roadmap
from models.sampledata import generate_sample
from models.sampledata.roadmap import INTENDED_DIR, INTENDED_FILE, SERVED_KINDS
from models.schema import (
    Customer,
    Initiative,
    InitiativeCoverage,
    RoadmapItem,
    RoadmapMatch,
    RoadmapMatching,
)
from models.value.dbtuning import tune_for_aggregates

SAMPLE_SEED = 42
MATCH_RUNS = 3
STANDALONE_RUNS = 3


# --- 1. quality on the sample's answer key ----------------------------------------------------


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _tags(cell: str) -> tuple[str, ...]:
    return tuple(t for t in cell.split(";") if t)


def sample_needs_offers(folder: Path) -> tuple[list[Need], list[Offer]]:
    """The sample's initiatives and roadmap items, as matching reads them."""
    items = _read(folder / "roadmap_items.csv")
    initiatives = _read(folder / "initiatives.csv")
    offers = [
        Offer(
            r.roadmap_item_id,
            r.product_line_id,
            r.title,
            _tags(r.capability_tags),
            date.fromisoformat(r.planned_release_on),
            r.status,
            r.description,
        )
        for r in items.itertuples(index=False)
    ]
    needs = [
        Need(
            r.initiative_id,
            r.customer_id,
            r.title,
            _tags(r.capability_tags),
            date.fromisoformat(r.needed_by),
            r.priority,
            r.status,
            r.description,
        )
        for r in initiatives.itertuples(index=False)
    ]
    return needs, offers


@dataclass(frozen=True)
class Key:
    """The answer key of the open initiatives."""

    kind: dict[tuple[str, str], str]  # (initiative, item) -> kind, rows with an item
    initiative_kind: dict[str, str]

    @property
    def intended(self) -> set[tuple[str, str]]:
        return {pair for pair, kind in self.kind.items() if kind in SERVED_KINDS}


def read_key(folder: Path, needs: list[Need]) -> Key:
    open_ids = {n.initiative_id for n in needs if n.status in OPEN_INITIATIVE}
    key = _read(folder / INTENDED_DIR / INTENDED_FILE)
    key = key[key.initiative_id.isin(open_ids)]
    pairs = {
        (i, r): k
        for i, r, k in key.itertuples(index=False)
        if r  # nothing_serves: no item
    }
    return Key(pairs, dict(zip(key.initiative_id, key.kind, strict=True)))


def score(counted: set[tuple[str, str]], key: Key, gaps: Iterable[str]) -> dict:
    """Precision and recall of the counted pairs against the key, and by kind."""
    intended = key.intended
    hits = len(counted & intended)
    by_kind = Counter(key.kind[p] for p in intended)
    found = Counter(key.kind[p] for p in counted & intended)
    counted_kinds = Counter(key.kind.get(p, "unlisted") for p in counted - intended)
    meant_gaps = {
        i
        for i, k in key.initiative_kind.items()
        if k not in SERVED_KINDS  # false friends, cancelled only, nothing serves
    }
    return {
        "precision": round(hits / len(counted), 4) if counted else None,
        "recall": round(hits / len(intended), 4) if intended else None,
        "counted": len(counted),
        "intended": len(intended),
        "true_pairs": hits,
        "recall_by_kind": {k: round(found[k] / n, 4) for k, n in sorted(by_kind.items())},
        "wrong_pairs_by_kind": dict(sorted(counted_kinds.items())),
        "gaps_found": f"{len(meant_gaps & set(gaps))}/{len(meant_gaps)}",
    }


def quality(tmp: Path, customers: int) -> dict:
    """Both matchings of the sample, scored against its answer key."""
    folder = tmp / "sample"
    with stopwatch() as elapsed:
        generate_sample(folder, customers=customers, seed=SAMPLE_SEED)
    progress(f"sample of {customers:,} customers written in {elapsed():.1f} s")
    needs, offers = sample_needs_offers(folder)
    key = read_key(folder, needs)
    out = {
        "customers": customers,
        "initiatives_open": sum(n.status in OPEN_INITIATIVE for n in needs),
        "items": len(offers),
        "items_cancelled": sum(o.status == "cancelled" for o in offers),
        "initiatives_by_kind": dict(sorted(Counter(key.initiative_kind.values()).items())),
    }
    for name, rules, suggestions_count in (
        ("tags_only", RoadmapRules(tag_weight=1.0), False),
        ("tags_and_text", RoadmapRules(), True),
    ):
        result = match(needs, offers, rules)
        counted = {(p.initiative_id, p.roadmap_item_id) for p in result.pairs}
        if suggestions_count:
            counted |= {(p.initiative_id, p.roadmap_item_id) for p in result.suggestions}
            served = {p.initiative_id for p in result.suggestions}
        else:
            served = set()
        served |= {p.initiative_id for p in result.pairs}
        gaps = set(result.coverage) - served
        out[name] = score(counted, key, gaps)
        figures = out[name]
        progress(
            f"{name}: precision {figures['precision']}, recall {figures['recall']} "
            f"({figures['true_pairs']} of {figures['counted']} counted pairs intended, "
            f"{figures['intended']} intended); wrong pairs {figures['wrong_pairs_by_kind']}"
        )
    return out


# --- 2. speed and memory at scale ---------------------------------------------------------------

_AREAS = (
    "asset", "energy", "quality", "safety", "service", "supply", "network", "data", "fleet",
    "plant", "grid", "water", "carbon", "robot", "motion", "sensor", "drive", "vision",
    "spare", "order", "billing", "cloud", "edge", "mobile", "cyber", "process", "batch",
    "thermal", "power", "logistics",
)  # fmt: skip
_ASPECTS = (
    "monitoring", "analytics", "automation", "integration", "reporting", "planning",
    "optimisation", "compliance", "security", "portal",
)  # fmt: skip
_FUNCTION_WORDS = (
    "the", "and", "for", "with", "to", "of", "our", "we", "all", "at", "by", "in", "on",
    "from", "into", "across", "more", "new", "every", "each", "this", "next", "before",
)  # fmt: skip
_SYLLABLES = (
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fi", "go", "hu", "ja",
    "ke", "li", "ma", "no", "pa", "re", "so", "ta", "ve", "zu", "bra", "cle", "dro", "fla",
    "gri", "pro", "ste", "tra",
)  # fmt: skip
TAG_VOCABULARY = tuple(f"{a}-{b}" for a in _AREAS for b in _ASPECTS)  # 300 tags
TAGS_PER_THEME = 5  # tags k*5..k*5+4 share a theme's words


def _words(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` different pronounceable words of two or three syllables."""
    s = np.array(_SYLLABLES)
    two = np.char.add(s[:, None], s[None, :]).ravel()
    three = np.char.add(two[:, None], s[None, :]).ravel()
    pool = np.concatenate([two, three])
    return pool[rng.choice(len(pool), n, replace=False)]


def _zipf(rng: np.random.Generator, n: int, size, a: float = 1.0) -> np.ndarray:
    """Indexes 0..n-1, the first far more likely than the last (weights 1 / (rank + 3)^a)."""
    p = 1 / (np.arange(n) + 3.0) ** a
    return rng.choice(n, size=size, p=p / p.sum())


class Texts:
    """Titles and descriptions in the words of a theme, general words and function words."""

    def __init__(self, rng: np.random.Generator):
        themes = len(TAG_VOCABULARY) // TAGS_PER_THEME
        words = _words(rng, themes * 30 + 800)
        self.theme = words[: themes * 30].reshape(themes, 30)
        self.general = words[themes * 30 :]
        self.rng = rng

    def text(self, theme: int, low: int, high: int) -> str:
        rng = self.rng
        n = int(rng.integers(low, high + 1))
        source = rng.choice(3, n, p=(0.45, 0.3, 0.25))
        out = np.where(
            source == 0,
            self.theme[theme][_zipf(rng, 30, n, 0.8)],
            np.where(
                source == 1,
                self.general[_zipf(rng, len(self.general), n, 1.1)],
                np.array(_FUNCTION_WORDS)[rng.integers(0, len(_FUNCTION_WORDS), n)],
            ),
        )
        text = " ".join(out)
        return text[0].upper() + text[1:]


def _draw_tags(rng: np.random.Generator, n: int) -> list[tuple[str, ...]]:
    counts = rng.choice((1, 2, 3), n, p=(0.4, 0.4, 0.2))
    drawn = _zipf(rng, len(TAG_VOCABULARY), (n, 3), 0.7)
    return [
        tuple(sorted({TAG_VOCABULARY[t] for t in row[:c]}))
        for row, c in zip(drawn, counts, strict=True)
    ]


def synthetic(
    rng: np.random.Generator, initiatives: int, items: int, customers: list[str], end: date
) -> tuple[list[Need], list[Offer]]:
    """Open initiatives and roadmap items drawn as the docstring says."""
    texts = Texts(rng)
    lines = book.PRODUCT_LINES
    offers = []
    for k, tags in enumerate(_draw_tags(rng, items)):
        theme = TAG_VOCABULARY.index(tags[0]) // TAGS_PER_THEME
        release = end + timedelta(days=int(rng.integers(-540, 730)))
        status = "released" if release <= end else "planned"
        if rng.random() < 0.08:
            status = "cancelled"
        offers.append(
            Offer(
                f"RMB-{k:05d}",
                lines[k % len(lines)],
                texts.text(theme, 3, 6),
                tags,
                release,
                status,
                texts.text(theme, 10, 25),
            )
        )
    needs = []
    owners = rng.choice(customers, initiatives)
    for k, tags in enumerate(_draw_tags(rng, initiatives)):
        theme = TAG_VOCABULARY.index(tags[0]) // TAGS_PER_THEME
        needs.append(
            Need(
                f"INIB-{k:06d}",
                str(owners[k]),
                texts.text(theme, 3, 6),
                tags,
                end + timedelta(days=int(rng.integers(-180, 900))),
                str(rng.choice(("high", "medium", "low"), p=(0.3, 0.45, 0.25))),
                "planned" if rng.random() < 0.6 else "active",
                texts.text(theme, 10, 25),
            )
        )
    return needs, offers


def speed(needs: list[Need], offers: list[Offer]) -> dict:
    """Median seconds of ``match`` (default rules), its peak resident and allocated memory."""
    rules = RoadmapRules()
    times = []
    rss_before = peak_rss_mb()
    for run in range(MATCH_RUNS):
        with stopwatch() as elapsed:
            result = match(needs, offers, rules)
        times.append(elapsed())
        if run == 0:
            rss_growth = peak_rss_mb() - rss_before
        progress(f"match run {run + 1}: {times[-1]:.2f} s")
    del result
    tracemalloc.start()
    result = match(needs, offers, rules)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gaps = sum(c.timing == "gap" for c in result.coverage.values())
    return {
        "match_seconds": float(np.median(times)),
        "match_runs": [round(t, 3) for t in times],
        "match_rss_growth_mb": round(rss_growth, 1),
        "match_peak_alloc_mb": round(peak / 2**20, 1),
        "pairs": len(result.pairs),
        "suggestions": len(result.suggestions),
        "gaps": gaps,
    }


# --- 3. storing it beside a recompute -----------------------------------------------------------


def store_drawn(engine, needs: list[Need], offers: list[Offer]) -> None:
    """The drawn items and initiatives as rows of the book (no ingest batch)."""
    items = [
        {
            "roadmap_item_id": o.roadmap_item_id,
            "product_line_id": o.product_line_id,
            "title": o.title,
            "capability_tags": list(o.tags),
            "planned_release_on": o.release_on,
            "status": o.status,
            "description": o.description,
        }
        for o in offers
    ]
    initiatives = [
        {
            "initiative_id": n.initiative_id,
            "customer_id": n.customer_id,
            "title": n.title,
            "capability_tags": list(n.tags),
            "needed_by": n.needed_by,
            "priority": n.priority,
            "status": n.status,
            "description": n.description,
        }
        for n in needs
    ]
    with engine.begin() as conn:
        conn.execute(insert(RoadmapItem.__table__), items)
        conn.execute(insert(Initiative.__table__), initiatives)


@contextlib.contextmanager
def timed_store_roadmap():
    """Time ``store_roadmap`` where the recompute calls it; yields a list of seconds."""
    seconds: list[float] = []
    original = recompute_module.store_roadmap

    def timed(*args, **kwargs):
        with stopwatch() as elapsed:
            result = original(*args, **kwargs)
        seconds.append(elapsed())
        return result

    recompute_module.store_roadmap = timed
    try:
        yield seconds
    finally:
        recompute_module.store_roadmap = original


def store_alone(engine, snapshot_id: int, rules: RoadmapRules) -> dict:
    """``store_roadmap`` on its own, as the recompute runs it (aggregate settings on), for
    the recompute's snapshot (its revenue values the initiatives) in transactions rolled
    back after its stored rows are set aside: the median of a few runs."""
    totals, matched, rows = [], 0, 0
    with engine.connect() as conn:
        for _ in range(STANDALONE_RUNS):
            with conn.begin() as tx:
                tune_for_aggregates(conn)
                for table in (RoadmapMatch, InitiativeCoverage, RoadmapMatching):
                    conn.execute(delete(table).where(table.snapshot_id == snapshot_id))
                with stopwatch() as elapsed:
                    matched = store_roadmap(conn, snapshot_id, rules)
                totals.append(elapsed())
                rows = len(
                    conn.execute(
                        select(RoadmapMatch.initiative_id).where(
                            RoadmapMatch.snapshot_id == snapshot_id
                        )
                    ).all()
                )
                tx.rollback()
    return {
        "seconds": float(np.median(totals)),
        "runs": [round(t, 3) for t in totals],
        "matched": matched,
        "match_rows": rows,
    }


def storing(args, tmp: Path, cleanup: contextlib.ExitStack, rng) -> dict:
    keep = args.keep
    if keep is None:
        keep = tmp / "book"
        keep.mkdir()
    state = kept_book(args, keep)
    if args.keep is None:
        cleanup.callback(drop_template, args, state)
    url, drop = book._fresh_copy(args, state, tmp)
    cleanup.callback(drop)
    engine = make_engine(url)
    cleanup.callback(engine.dispose)
    with engine.connect() as conn:
        customers = list(conn.scalars(select(Customer.customer_id).order_by(Customer.customer_id)))
    needs, offers = synthetic(rng, args.initiatives, args.items, customers, book.END)
    with stopwatch() as setup:
        store_drawn(engine, needs, offers)
    progress(f"{len(offers):,} items and {len(needs):,} initiatives stored in {setup():.1f} s")
    config = load_config()
    with timed_store_roadmap() as inside, stopwatch() as rc_time:
        result = recompute_module.recompute(engine, config)
    seconds = rc_time()
    progress(
        f"recompute with the roadmap: {seconds:.2f} s (store_roadmap inside: {inside[0]:.2f} s)"
    )
    alone = store_alone(engine, result.snapshot_id, roadmap_rules(config))
    progress(f"store_roadmap alone: {alone['runs']} s, {alone['match_rows']:,} rows stored")
    # The usual recompute: an invoice batch, nothing matched changed; the pairs stand.
    with timed_store_roadmap() as again_inside, stopwatch() as again_time:
        recompute_module.recompute(engine, config)
    again = again_time()
    progress(
        f"recompute again, roadmap unchanged: {again:.2f} s (store_roadmap inside: "
        f"{again_inside[0]:.3f} s)"
    )
    engine.dispose()
    return {
        "unchanged_recompute_seconds": again,
        "unchanged_in_recompute": again_inside[0],
        "state": state,
        "recompute_seconds": seconds,
        "in_recompute": inside[0],
        "alone": alone,
        "customers_tiered": result.customers_tiered,
        "as_of": result.as_of,
    }


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000, help="of the recompute's book")
    parser.add_argument("--lines", type=int, default=10_000_000, help="of the recompute's book")
    parser.add_argument("--initiatives", type=int, default=5_000)
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--url", default=None, help="PostgreSQL admin URL")
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the book in")
    parser.add_argument("--sample-customers", type=int, default=2_000, help="for the quality")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    with contextlib.ExitStack() as cleanup:
        tmp = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-roadmap-")))
        # Speed first, while the process is small: its peak memory growth is the matching's.
        customers = [f"C-{i:07d}" for i in range(args.customers)]
        needs, offers = synthetic(rng, args.initiatives, args.items, customers, book.END)
        progress(f"drawn {len(needs):,} initiatives and {len(offers):,} roadmap items")
        fast = speed(needs, offers)
        del needs, offers
        good = quality(tmp, args.sample_customers)
        stored = storing(args, tmp, cleanup, rng)
    alone = stored["alone"]
    state = stored["state"]
    figures = report(
        "roadmap",
        args.initiatives,
        alone["seconds"],
        baseline="recompute",
        baseline_seconds=stored["recompute_seconds"],
        db=args.db,
        customers=state["customers"],
        lines=state["rows"],
        customers_tiered=stored["customers_tiered"],
        as_of=stored["as_of"].isoformat(),
        initiatives=args.initiatives,
        items=args.items,
        recompute_seconds=round(stored["recompute_seconds"], 3),
        roadmap_in_recompute_seconds=round(stored["in_recompute"], 3),
        recompute_without_roadmap_seconds=round(
            stored["recompute_seconds"] - stored["in_recompute"], 3
        ),
        store_roadmap_seconds=round(alone["seconds"], 3),
        store_roadmap_runs=alone["runs"],
        roadmap_share=round(alone["seconds"] / stored["recompute_seconds"], 4),
        roadmap_in_recompute_share=round(stored["in_recompute"] / stored["recompute_seconds"], 4),
        unchanged_recompute_seconds=round(stored["unchanged_recompute_seconds"], 3),
        unchanged_roadmap_in_recompute_seconds=round(stored["unchanged_in_recompute"], 4),
        unchanged_roadmap_share=round(
            stored["unchanged_in_recompute"] / stored["unchanged_recompute_seconds"], 4
        ),
        stored_match_rows=alone["match_rows"],
        match_seconds=round(fast["match_seconds"], 3),
        match_runs=fast["match_runs"],
        match_rss_growth_mb=fast["match_rss_growth_mb"],
        match_peak_alloc_mb=fast["match_peak_alloc_mb"],
        match_pairs=fast["pairs"],
        match_suggestions=fast["suggestions"],
        match_gaps=fast["gaps"],
        quality=good,
        kept=str(args.keep) if args.keep else None,
    )
    return figures


if __name__ == "__main__":
    # The book's bulk loader binds numpy scalars on SQLite (as recompute.py's entry point).
    for numpy_scalar, python_type in ((np.int64, int), (np.float64, float), (np.bool_, bool)):
        sqlite3.register_adapter(numpy_scalar, python_type)
    main()
