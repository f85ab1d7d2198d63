"""I2 (two concurrent ingests) and I3 (SIGKILL mid-batch) on both backends."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
from pathlib import Path

import pytest
from sqlalchemy import select

from models.config import load_config
from models.db import make_engine
from models.ingest import ingest_config
from models.schema import BatchStatus, IngestBatch
from tests.ingest_builders import BASE_ENTITIES, fixture_batch

from .ingest_support import checksum, counts, integrity_ok, load, rows_of_batch

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return fixture_batch(tmp_path_factory.mktemp("fixture"))


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _reference(base, tmp_path_factory):
    """Counts and checksum of one clean run (fresh SQLite)."""
    from models.migrate import upgrade

    eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('ref') / 'ref.db'}")
    upgrade(eng)
    for entity in BASE_ENTITIES:
        load(eng, base / f"{entity}.csv")
    load(eng, base / "invoice_lines.csv")
    ref = counts(eng), checksum(eng)
    eng.dispose()
    return ref


@pytest.fixture(scope="module")
def reference(base, tmp_path_factory):
    return _reference(base, tmp_path_factory)


# 3 named points plus 10 seeded random kill offsets (rows staged, chunks of 200).
KILL_POINTS = ["kill:before_first_write", "kill:after_half", "kill:before_commit"] + [
    f"kill:after_rows={n}" for n in sorted(random.Random(3).sample(range(1, 1335), 10))
]


def _forked_ingest(url: str, path: str, fault: str) -> None:
    # A forked child inherits the warm GX import, so each kill costs ~1 s, not ~6 s.
    os.environ["ACCOUNTOPS_INGEST_FAULT"] = fault
    raw = load_config()
    raw["ingest"] = {**raw["ingest"], "chunk_rows": 200}
    load(make_engine(url), Path(path), ingest_config(raw))
    os._exit(0)


@pytest.mark.parametrize("fault", KILL_POINTS)
def test_i3_sigkill_mid_batch_leaves_no_partial_batch(fault, base, engine, reference):
    for entity in BASE_ENTITIES:
        load(engine, base / f"{entity}.csv")
    # The claim row ("started") is committed before the load: everything else is unchanged.
    facts = lambda: {k: v for k, v in counts(engine).items() if k != "ingest_batch"}  # noqa: E731
    before = facts(), checksum(engine)
    from .ingest_support import runner

    runner(ingest_config())  # warm: GX imported before the fork
    child = multiprocessing.get_context("fork").Process(
        target=_forked_ingest, args=(_url(engine), str(base / "invoice_lines.csv"), fault)
    )
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    assert (facts(), checksum(engine)) == before
    with engine.connect() as conn:
        rows = conn.execute(
            select(IngestBatch.batch_id, IngestBatch.status).where(
                IngestBatch.entity == "invoice_lines"
            )
        ).all()
    assert all(r.status != BatchStatus.COMMITTED for r in rows)
    for r in rows:
        assert rows_of_batch(engine, r.batch_id) == 0
    integrity_ok(engine)
    # The re-run (the dead claim is taken over) gives exactly a clean run's result.
    rerun = load(engine, base / "invoice_lines.csv")
    assert rerun.outcome == "LOADED", rerun.message
    ref_counts, ref_sum = reference
    got = counts(engine)
    assert {k: got[k] for k in ("invoice", "invoice_line")} == {
        k: ref_counts[k] for k in ("invoice", "invoice_line")
    }
    assert checksum(engine) == ref_sum


def _race(url, path, barrier, out):
    from models.db import make_engine as mk
    from tests.integration.ingest_support import load as ld

    eng = mk(url)
    barrier.wait()
    out.put(ld(eng, Path(path)).outcome)


def test_i2_two_concurrent_ingests_load_once(base, engine, reference):
    for entity in BASE_ENTITIES:
        load(engine, base / f"{entity}.csv")
    from .ingest_support import runner

    runner(ingest_config())  # warm before the fork
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(
            target=_race, args=(_url(engine), str(base / "invoice_lines.csv"), barrier, out)
        )
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
    outcomes = sorted(out.get(timeout=5) for _ in procs)
    assert outcomes[0] in {"DUPLICATE", "IN_PROGRESS"} and outcomes[1] == "LOADED", outcomes
    ref_counts, ref_sum = reference
    got = counts(engine)
    assert got["invoice_line"] == ref_counts["invoice_line"]
    assert checksum(engine) == ref_sum
    with engine.connect() as conn:
        committed = conn.execute(
            select(IngestBatch.batch_id).where(
                IngestBatch.entity == "invoice_lines", IngestBatch.status == BatchStatus.COMMITTED
            )
        ).all()
    assert len(committed) == 1
