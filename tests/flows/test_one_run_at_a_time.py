"""One run writes a database at a time: runs started together, as a scheduler or two people
would start them (separate `accountops` processes on one Prefect server), all succeed, and
the result is what one run after the other gives."""

from __future__ import annotations

import contextvars
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.db import make_engine
from models.migrate import upgrade
from models.runlock import run_lock
from models.sampledata import generate_sample
from models.schema import (
    BatchStatus,
    CustomerTier,
    DashboardHeadline,
    IngestBatch,
    InvoiceLine,
    Payment,
    RollupBatch,
    Snapshot,
)

ACCOUNTOPS = [sys.executable, "-m", "flows.cli"]


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lock-sample")
    generate_sample(folder, customers=30, years=2, seed=11, end_date=date(2026, 9, 30))
    return folder


def _env(url: str, **extra: str) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCOUNTOPS_")}
    env.update(ACCOUNTOPS_DATABASE_URL=url, PREFECT_API_URL=str(PREFECT_API_URL.value()))
    env.update(extra)
    return env


def _together(url: str, *commands: list[str], **env: str) -> list[subprocess.CompletedProcess]:
    """Start every command at once, then wait for all of them."""
    procs = [
        subprocess.Popen(
            [*ACCOUNTOPS, *cmd],
            env=_env(url, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for cmd in commands
    ]
    done = []
    for proc, cmd in zip(procs, commands, strict=True):
        out, err = proc.communicate(timeout=600)
        done.append(subprocess.CompletedProcess([*ACCOUNTOPS, *cmd], proc.returncode, out, err))
    return done


def _tiers(engine, snapshot_id: int) -> list[tuple]:
    t = CustomerTier.__table__
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(t.c.customer_id, t.c.tier)
                .where(t.c.snapshot_id == snapshot_id)
                .order_by(t.c.customer_id)
            )
        ]


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


@pytest.mark.slow
def test_runs_started_together_wait_for_each_other(db_url, sample_dir):
    engine = make_engine(db_url)
    upgrade(engine)
    try:
        # Two nightly pipelines over the same folder.
        both = _together(db_url, ["pipeline", str(sample_dir)], ["pipeline", str(sample_dir)])
        for run in both:
            assert run.returncode == 0, run.stderr
        with engine.connect() as conn:
            statuses = sorted(conn.scalars(select(IngestBatch.status)))
            snapshots = list(conn.scalars(select(Snapshot.snapshot_id).order_by("snapshot_id")))
        files = len(list(sample_dir.glob("*.csv")))
        assert statuses.count(BatchStatus.COMMITTED) == files  # each file loaded once
        assert not {BatchStatus.REJECTED, BatchStatus.ABANDONED} & set(statuses)
        assert snapshots == [1, 2]
        lines, payments = _count(engine, InvoiceLine), _count(engine, Payment)
        assert _tiers(engine, 2) == _tiers(engine, 1)  # the first saw every batch too
        assert len(_tiers(engine, 1)) == 30

        # Two recomputes, then two pipelines with nothing to ingest: each recompute + refresh.
        for run in _together(db_url, ["recompute"], ["recompute"]):
            assert run.returncode == 0, run.stderr
        for run in _together(db_url, ["pipeline"], ["pipeline"]):
            assert run.returncode == 0, run.stderr
        with engine.connect() as conn:
            snapshots = list(conn.scalars(select(Snapshot.snapshot_id).order_by("snapshot_id")))
            refreshed = sorted(conn.scalars(select(DashboardHeadline.snapshot_id)))
            rollup_batches = conn.scalar(select(func.count()).select_from(RollupBatch))
        assert snapshots == [1, 2, 3, 4, 5, 6]
        assert refreshed == [1, 2, 3, 4, 5, 6]  # every run published its own snapshot
        assert all(_tiers(engine, s) == _tiers(engine, 1) for s in snapshots)
        assert (_count(engine, InvoiceLine), _count(engine, Payment)) == (lines, payments)
        assert rollup_batches == statuses.count(BatchStatus.COMMITTED)  # rolled up once each
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_run_that_waited_too_long_stops_in_one_line_naming_the_holder(db_url, sample_dir):
    engine = make_engine(db_url)
    upgrade(engine)
    try:
        held = run_lock(engine, "pipeline run 'night-owl' (1234)", wait_seconds=0)
        elsewhere = contextvars.Context()  # held by "another run", not this context
        elsewhere.run(held.__enter__)
        try:
            for cmd in (["pipeline", str(sample_dir)], ["recompute"], ["ingest", str(sample_dir)]):
                (run,) = _together(db_url, cmd, ACCOUNTOPS_RUN_LOCK_WAIT_SECONDS="1")
                assert run.returncode != 0, cmd
                assert "Traceback" not in run.stderr
                errors = [ln for ln in run.stderr.splitlines() if ln.startswith("accountops:")]
                assert len(errors) == 1, run.stderr
                assert errors[0].startswith("accountops: [RUN_LOCKED] the database "), errors
                assert "pipeline run 'night-owl' (1234)" in errors[0]
                assert " since " in errors[0] and "waited 1 s" in errors[0]
        finally:
            elsewhere.run(held.__exit__, None, None, None)
        with engine.connect() as conn:  # nothing was written while it waited
            assert conn.scalar(select(func.count()).select_from(IngestBatch)) == 0
            assert conn.scalar(select(func.count()).select_from(Snapshot)) == 0
    finally:
        engine.dispose()
