"""The sample's roadmap and initiatives: descriptions, the six kinds of initiative, and
the answer key of which roadmap items each was meant to be served by."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from models.canonical import ENTITIES
from models.roadmap.matching import Need, Offer, match
from models.roadmap.rules import RoadmapRules
from models.sampledata import generate_sample
from models.sampledata.names import LOOSE_TAGS
from models.sampledata.roadmap import (
    INTENDED_COLUMNS,
    INTENDED_DIR,
    INTENDED_FILE,
    KINDS,
    SERVED_KINDS,
)

END = date(2026, 9, 30)
ARGS = {"customers": 400, "years": 2, "seed": 42, "end_date": END}
ROOT = Path(__file__).resolve().parents[2]
LOOSE = {tag for tag, _ in LOOSE_TAGS}


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def key_file(folder: Path) -> Path:
    return folder / INTENDED_DIR / INTENDED_FILE


def tags(cell: str) -> set[str]:
    return set(cell.split(";"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("roadmap-sample")
    generate_sample(folder, **ARGS)
    return folder


@pytest.fixture(scope="module")
def frames(sample) -> dict[str, pd.DataFrame]:
    return {
        "items": read(sample / "roadmap_items.csv").set_index("roadmap_item_id"),
        "initiatives": read(sample / "initiatives.csv").set_index("initiative_id"),
        "key": read(key_file(sample)),
    }


@pytest.fixture(scope="module")
def pairs(frames) -> pd.DataFrame:
    """The key's rows with an item, beside the item's and initiative's columns."""
    key = frames["key"].dropna(subset=["roadmap_item_id"])
    with_items = key.merge(frames["items"], left_on="roadmap_item_id", right_index=True)
    return with_items.merge(
        frames["initiatives"], left_on="initiative_id", right_index=True, suffixes=("_item", "_ini")
    )


def test_the_answer_key_lies_in_a_folder_of_its_own(sample):
    raw = key_file(sample).read_bytes()
    lines = raw.decode("utf-8").split("\n")
    assert lines[0] == ",".join(INTENDED_COLUMNS) and lines[-1] == ""
    assert b'"' not in raw and b"\r" not in raw
    assert not (sample / INTENDED_FILE).exists()  # never beside the canonical files


def test_every_kind_occurs_and_every_initiative_has_a_row(frames):
    key = frames["key"]
    assert set(key.kind) == set(KINDS)
    assert set(key.initiative_id) == set(frames["initiatives"].index)
    assert (key.groupby("initiative_id").kind.nunique() == 1).all()  # one kind each
    assert not key.duplicated(["initiative_id", "roadmap_item_id"]).any()
    # Initiatives of each kind among the open ones too (what matching reads).
    open_ids = frames["initiatives"].index[frames["initiatives"].status.isin(["planned", "active"])]
    assert set(key.kind[key.initiative_id.isin(open_ids)]) == set(KINDS)


def test_the_key_refers_to_rows_of_the_csv_files(frames):
    key = frames["key"]
    assert set(key.initiative_id) <= set(frames["initiatives"].index)
    items = key.roadmap_item_id.dropna()
    assert set(items) <= set(frames["items"].index)
    assert key.roadmap_item_id.isna().equals(key.kind == "nothing_serves")


def test_each_kind_is_what_it_says(frames, pairs):
    items, initiatives = frames["items"], frames["initiatives"]
    shared = [
        tags(a) & tags(b)
        for a, b in zip(pairs.capability_tags_item, pairs.capability_tags_ini, strict=True)
    ]
    pairs = pairs.assign(shared=shared, live=pairs.status_item != "cancelled")
    late = pairs.planned_release_on > pairs.needed_by
    for kind, rows in pairs.groupby("kind"):
        if kind in ("tags_agree", "late"):
            assert rows.live.all() and rows.shared.map(bool).all(), kind
            assert not rows.shared.map(lambda s: s <= LOOSE).any(), kind
        elif kind == "descriptions_agree":
            assert rows.live.all() and not rows.shared.map(bool).any()
        elif kind == "false_friend":
            assert rows.live.all() and rows.shared.map(lambda s: bool(s) and s <= LOOSE).all()
        else:
            assert kind == "cancelled_only"
            assert (~rows.live).all() and rows.shared.map(bool).all()
    # Late: every item serving it ships after the needed-by date; tags agree: one in time.
    assert late[pairs.kind == "late"].all()
    in_time = (~late).groupby(pairs.initiative_id).any()
    agree = pairs.initiative_id[pairs.kind == "tags_agree"].unique()
    assert in_time[agree].all()
    # The gaps: no live item carries a tag of an initiative nothing is meant to serve.
    live_tags = set().union(*items.capability_tags[items.status != "cancelled"].map(tags))
    gap_ids = frames["key"].initiative_id[
        frames["key"].kind.isin(["nothing_serves", "cancelled_only"])
    ]
    assert not any(tags(initiatives.capability_tags[i]) & live_tags for i in gap_ids)


def test_the_key_lists_every_live_item_sharing_a_capability(frames):
    """Complete: a live item sharing a capability tag (not a loose one) with an
    initiative whose tags agree is in the key for it."""
    key, items, initiatives = frames["key"], frames["items"], frames["initiatives"]
    live = items[items.status != "cancelled"].capability_tags.map(lambda c: tags(c) - LOOSE)
    listed = set(zip(key.initiative_id, key.roadmap_item_id, strict=True))
    for ini in key.initiative_id[key.kind.isin(["tags_agree", "late"])].unique():
        need = tags(initiatives.capability_tags[ini])
        for item, offered in live.items():
            assert bool(need & offered) == ((ini, item) in listed), (ini, item)


def test_descriptions_are_short_sentences(frames):
    for frame in (frames["items"], frames["initiatives"]):
        text = frame.description
        assert text.notna().all()
        assert text.str.match(r"^[A-Z0-9].*\.$").all()
        assert text.str.split().map(len).between(8, 45).all()
    assert frames["items"].description.nunique() > 0.8 * len(frames["items"])


def test_matching_the_sample_meets_the_kinds(frames):
    """What roadmap matching makes of each kind, on the default rules."""
    items, initiatives, key = frames["items"], frames["initiatives"], frames["key"]
    offers = [
        Offer(i, r.product_line_id, r.title, tuple(tags(r.capability_tags)),
              date.fromisoformat(r.planned_release_on), r.status, r.description)
        for i, r in items.iterrows()
    ]  # fmt: skip
    needs = [
        Need(i, r.customer_id, r.title, tuple(tags(r.capability_tags)),
             date.fromisoformat(r.needed_by), r.priority, r.status, r.description)
        for i, r in initiatives.iterrows()
    ]  # fmt: skip
    result = match(needs, offers, RoadmapRules())
    kind = dict(zip(key.initiative_id, key.kind, strict=True))
    served = {(p.initiative_id, p.roadmap_item_id) for p in result.pairs}
    suggested = {(p.initiative_id, p.roadmap_item_id) for p in result.suggestions}
    meant = {(i, r): k for i, r, k in key.itertuples(index=False) if k in SERVED_KINDS}
    for ini, cover in result.coverage.items():
        if kind[ini] in ("cancelled_only", "nothing_serves"):
            assert cover.timing == "gap", ini
        if kind[ini] == "late" and cover.served_by:
            assert cover.timing == "late", ini
    # Pairs whose descriptions agree are never served by tags; many are suggested.
    text_pairs = {
        p for p, k in meant.items() if k == "descriptions_agree" and p[0] in result.coverage
    }
    assert text_pairs and not text_pairs & served
    assert len(text_pairs & suggested) >= 0.4 * len(text_pairs)
    # False friends do fool a tag match (that is what they are for).
    friends = key[key.kind == "false_friend"]
    assert any(
        (i, r) in served
        for i, r in zip(friends.initiative_id, friends.roadmap_item_id, strict=True)
    )


def digests(folder: Path) -> dict[str, str]:
    files = [folder / e.file_name for e in ENTITIES.values()] + [key_file(folder)]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_same_seed_gives_byte_identical_files_another_seed_another_key(sample, tmp_path):
    generate_sample(tmp_path / "again", **ARGS)
    assert digests(tmp_path / "again") == digests(sample)
    generate_sample(tmp_path / "other", **(ARGS | {"seed": 43}))
    assert digests(tmp_path / "other")[INTENDED_FILE] != digests(sample)[INTENDED_FILE]


def test_regenerating_replaces_the_key(tmp_path):
    generate_sample(tmp_path, **(ARGS | {"customers": 60}))
    stale = tmp_path / INTENDED_DIR / "old.csv"
    stale.write_text("x\n")
    generate_sample(tmp_path, **(ARGS | {"customers": 60}))
    assert sorted(p.name for p in (tmp_path / INTENDED_DIR).iterdir()) == [INTENDED_FILE]


def test_ingest_of_a_sample_folder_reads_only_the_canonical_files(sample):
    from flows.ingest import expand_paths

    names = sorted(p.name for p in expand_paths([str(sample)]))
    assert names == sorted(e.file_name for e in ENTITIES.values())


@pytest.mark.slow
def test_accountops_ingest_of_a_sample_folder_succeeds(tmp_path):
    generate_sample(tmp_path / "sample", **(ARGS | {"customers": 30}))
    env = {k: v for k, v in os.environ.items() if k != "ACCOUNTOPS_DATABASE_URL"}
    env["ACCOUNTOPS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'accountops.db'}"
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flows.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert cli("init").returncode == 0
    result = cli("ingest", str(tmp_path / "sample"))
    assert result.returncode == 0, result.stderr
    assert "10 batch(es) ingested" in result.stdout + result.stderr
    assert INTENDED_FILE not in result.stdout + result.stderr
