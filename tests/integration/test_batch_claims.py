"""Batch claims that cannot strand a rerun (issue 23 item 4), on SQLite and PostgreSQL.

A claim carries a lease its process renews while it works. A claim whose lease ran out
is taken over at once, whatever host wrote it; one a living process holds is waited
for, and an ingest that waited in vain says which process holds it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from models.ingest import ingest_config, sweep_stale_batches
from models.ingest.claim import claim_batch
from models.ingest.lease import LeaseKeeper
from models.schema import BatchStatus, IngestBatch, InvoiceLine
from tests.ingest_builders import BASE_ENTITIES, fixture_batch

from .ingest_support import load, plant_claim, rows_of_batch


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return fixture_batch(tmp_path_factory.mktemp("claims"))


def _load_base(engine, base: Path) -> None:
    for entity in BASE_ENTITIES:
        assert load(engine, base / f"{entity}.csv").outcome == "LOADED"


def _lines(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(InvoiceLine))


def test_claim_of_a_dead_process_on_another_host_is_taken_over_at_once(base, engine):
    """The probe's case: a claim from another host no longer blocks a rerun for an hour;
    its lease ran out, so the rerun loads the batch without waiting."""
    _load_base(engine, base)
    path = base / "invoice_lines.csv"
    batch_id = plant_claim(engine, path, host="worker-7", pid=4242, lease=timedelta(seconds=-1))
    told: list[str] = []
    result = load(engine, path, waiting=told.append)
    assert result.outcome == "LOADED", result.message
    assert result.batch_id == batch_id
    assert told == []  # nothing to wait for
    assert rows_of_batch(engine, batch_id) > 0
    with engine.connect() as conn:
        row = conn.execute(select(IngestBatch).where(IngestBatch.batch_id == batch_id)).one()
    assert row.status == BatchStatus.COMMITTED
    assert row.claimed_host != "worker-7" and row.lease_until is None


def test_a_living_holder_is_waited_for_then_named(base, engine):
    """A claim whose lease runs: the ingest waits (told once, naming the holder), and
    when the wait runs out it loads nothing and says who holds the batch."""
    _load_base(engine, base)
    path = base / "invoice_lines.csv"
    batch_id = plant_claim(engine, path, host="worker-7", pid=4242, lease=timedelta(minutes=5))
    config = replace(ingest_config(), claim_wait_seconds=1.5)
    told: list[str] = []
    result = load(engine, path, config=config, waiting=told.append)
    assert result.outcome == "IN_PROGRESS"
    assert result.error_code == "BATCH_IN_PROGRESS"
    assert result.batch_id == batch_id
    for message in (result.message, *told):
        assert "pid 4242 on worker-7" in message
    assert len(told) == 1 and "waiting up to 1.5 s" in told[0]
    assert "waited 1.5 s" in result.message and "lease until" in result.message
    assert _lines(engine) == 0


def test_a_holder_whose_lease_runs_out_during_the_wait_is_taken_over(base, engine):
    _load_base(engine, base)
    path = base / "invoice_lines.csv"
    batch_id = plant_claim(engine, path, host="worker-7", pid=4242, lease=timedelta(seconds=2))
    told: list[str] = []
    result = load(engine, path, waiting=told.append)  # waits up to 600 s: ends at ~2 s
    assert result.outcome == "LOADED", result.message
    assert result.batch_id == batch_id
    assert len(told) == 1 and "worker-7" in told[0]


def test_a_claim_of_a_dead_pid_on_this_host_is_taken_over_before_its_lease_ends(base, engine):
    import socket
    import subprocess
    import sys

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    _load_base(engine, base)
    path = base / "invoice_lines.csv"
    plant_claim(
        engine,
        path,
        host=socket.gethostname(),
        pid=int(gone.stdout),
        lease=timedelta(minutes=5),
    )
    config = replace(ingest_config(), claim_wait_seconds=0)
    assert load(engine, path, config=config).outcome == "LOADED"


def test_the_owner_renews_its_lease_while_it_works(base, engine):
    path = base / "invoice_lines.csv"
    config = replace(ingest_config(), claim_lease_seconds=3)
    claim = claim_batch(
        engine,
        source="file:invoice_lines",
        entity="invoice_lines",
        file_name=path.name,
        sha256="a" * 64,
        flow_run_id=None,
        config=config,
    )
    assert claim.verdict is None and claim.token

    def lease_until():
        with engine.connect() as conn:
            return conn.scalar(
                select(IngestBatch.lease_until).where(IngestBatch.batch_id == claim.batch_id)
            )

    first = lease_until()
    with LeaseKeeper(engine, claim.batch_id, claim.token, config.claim_lease_seconds):
        deadline = time.monotonic() + 20
        while lease_until() <= first and time.monotonic() < deadline:
            time.sleep(0.2)
        renewed = lease_until()
    assert renewed > first
    # Another process's claim is never renewed by a keeper holding an old token.
    stale = LeaseKeeper(engine, claim.batch_id, "not-the-owner", 3)
    assert stale.renew() is False
    assert lease_until() == renewed


def test_a_load_whose_claim_was_taken_over_commits_nothing(base, engine):
    """A load that stalled past its lease, whose batch another process took over, finds
    that out at its COMMIT and rolls back: the batch is loaded once, by the new holder."""
    from models.canonical import ENTITIES
    from models.ingest.claim import Claim
    from models.ingest.file_checks import inspect_file
    from models.ingest.reader import read_chunks
    from models.ingest.run import LoadRun
    from models.ingest.service import _Input
    from tests.ingest_builders import AS_OF

    from .ingest_support import runner

    _load_base(engine, base)
    path = base / "invoice_lines.csv"
    config = ingest_config()
    spec = ENTITIES["invoice_lines"]
    facts = inspect_file(
        path,
        config=config,
        expected=spec.column_names,
        required=[c.name for c in spec.columns if c.required],
        encoding="utf-8",
        delimiter=",",
    )
    claim: Claim = claim_batch(
        engine,
        source="file:invoice_lines",
        entity="invoice_lines",
        file_name=path.name,
        sha256=facts.sha256,
        flow_run_id=None,
        config=config,
    )
    with engine.begin() as conn:  # meanwhile the lease ran out and worker-7 took it over
        conn.execute(
            update(IngestBatch)
            .where(IngestBatch.batch_id == claim.batch_id)
            .values(claim_token="worker-7s", claimed_host="worker-7", claimed_pid=77)
        )
    batch = _Input(
        path.name,
        "invoice_lines",
        "file:invoice_lines",
        facts.sha256,
        facts.data_lines,
        lambda: read_chunks(facts, config, encoding="utf-8", delimiter=","),
    )
    run = LoadRun(engine, batch, claim.batch_id, runner(config), config, AS_OF, None, claim.token)
    result = run.execute()
    assert result.outcome == "FAILED" and result.error_code == "CLAIM_LOST"
    assert "pid 77 on worker-7" in result.message
    assert _lines(engine) == 0
    with engine.connect() as conn:
        row = conn.execute(select(IngestBatch).where(IngestBatch.batch_id == claim.batch_id)).one()
    assert row.status == BatchStatus.STARTED and row.claim_token == "worker-7s"


def test_sweep_marks_only_claims_whose_lease_ran_out(base, engine):
    path = base / "invoice_lines.csv"
    live = plant_claim(engine, path, host="worker-7", pid=1, lease=timedelta(minutes=5))
    with engine.begin() as conn:
        conn.execute(
            insert(IngestBatch).values(
                source="file:payments",
                entity="payments",
                file_name="payments.csv",
                content_sha256="b" * 64,
                status=BatchStatus.STARTED,
                started_at=datetime.now(UTC),
                claimed_host="worker-8",
                claimed_pid=2,
                lease_until=datetime.now(UTC) - timedelta(seconds=1),
                validation={},
            )
        )
    assert sweep_stale_batches(engine) == 1
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(IngestBatch.entity, IngestBatch.status)).all())
    assert statuses == {"invoice_lines": BatchStatus.STARTED, "payments": BatchStatus.ABANDONED}
    assert live
