"""Resume: a step that fails stops what depends on it and keeps what was committed; the
next run redoes no finished batch, finishes the rest, and ends where one clean run ends.

The failure is injected into each step in turn (a fault that is not transient, so no
task retries it): loading the payments batch, validating it, the recompute, the refresh.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from flows.pipeline import pipeline
from models.db import make_engine
from models.migrate import upgrade
from models.sampledata import generate_sample
from models.schema import (
    CustomerTier,
    DashboardHeadline,
    IngestBatch,
    Payment,
    Snapshot,
    SnapshotStatus,
)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume-sample")
    generate_sample(folder, customers=30, years=2, seed=11, end_date=date(2026, 9, 30))
    return folder


def _fail_once(monkeypatch, target: str, name: str, when=lambda *a, **k: True) -> list[str]:
    """Make ``target.name`` raise once (when ``when`` holds for its arguments)."""
    import importlib

    module_name, _, owner = target.partition(":")
    holder = importlib.import_module(module_name)
    if owner:
        holder = getattr(holder, owner)
    real = getattr(holder, name)
    raised: list[str] = []

    def failing(*args, **kwargs):
        if not raised and when(*args, **kwargs):
            raised.append(name)
            raise RuntimeError(f"injected fault in {name}")
        return real(*args, **kwargs)

    monkeypatch.setattr(holder, name, failing)
    return raised


def _is_payments(run, *args, **kwargs) -> bool:
    return run.entity == "payments"


def _validating_payments(runner, entity, *args, **kwargs) -> bool:
    return entity == "payments"


FAULTS = {
    "ingest": ("models.ingest.run:LoadRun", "_execute", _is_payments),
    "validation": ("expectations.runner:SuiteRunner", "__call__", _validating_payments),
    "recompute": ("flows.recompute", "recompute", lambda *a, **k: True),
    "refresh": ("models.dashboard.refresh", "refresh_dashboard", lambda *a, **k: True),
}


def _state(engine) -> dict:
    with engine.connect() as conn:
        return {
            "batches": sorted(
                (f, s.value)
                for f, s in conn.execute(select(IngestBatch.file_name, IngestBatch.status))
            ),
            "snapshots": list(conn.execute(select(Snapshot.snapshot_id, Snapshot.status))),
            "refreshed": list(conn.scalars(select(DashboardHeadline.snapshot_id))),
            "payments": conn.scalar(select(func.count()).select_from(Payment)),
        }


@pytest.mark.slow
@pytest.mark.parametrize("step", list(FAULTS))
def test_a_failed_step_keeps_what_committed_and_the_next_run_finishes(
    step, db_url, sample_dir, monkeypatch
):
    engine = make_engine(db_url)
    upgrade(engine)
    files = sorted(p.name for p in sample_dir.glob("*.csv"))
    raised = _fail_once(monkeypatch, *FAULTS[step])

    first = pipeline(paths=[str(sample_dir)], database_url=db_url, return_state=True)
    assert raised, "the fault was never reached"
    assert first.is_failed()
    assert first.message.startswith(f"{'ingest' if step == 'validation' else step} failed")
    steps = first.result(raise_on_failure=False)["steps"]
    after = _state(engine)

    if step in ("ingest", "validation"):
        assert "injected fault" in first.message
        assert [s["outcome"] for s in steps] == ["failed", "not run", "not run"]
        committed = [f for f, s in after["batches"] if s == "committed"]
        # What loaded stays loaded, the batches after the failed one went on, and the
        # failed batch loaded nothing.
        assert set(committed) == set(files) - {"payments.csv"}
        assert after["payments"] == 0
        outcomes = {
            b["file"]: b["outcome"] for b in first.result(raise_on_failure=False)["batches"]
        }
        assert outcomes["payments.csv"] == "FAILED"
        assert after["snapshots"] == [] and after["refreshed"] == []
    elif step == "recompute":
        assert [s["outcome"] for s in steps] == ["ok", "failed", "not run"]
        assert {s for _, s in after["batches"]} == {"committed"}
        assert all(status != SnapshotStatus.COMPLETE for _, status in after["snapshots"])
        assert after["refreshed"] == []
    else:
        assert [s["outcome"] for s in steps] == ["ok", "ok", "failed"]
        assert after["snapshots"] == [(1, SnapshotStatus.COMPLETE)] and after["refreshed"] == []

    second = pipeline(paths=[str(sample_dir)], database_url=db_url, return_state=True)
    assert second.is_completed(), second.message
    outcomes = {b["file"]: b["outcome"] for b in second.result()["batches"]}
    done_before = {f for f, s in after["batches"] if s == "committed"}
    assert {f for f, o in outcomes.items() if o == "DUPLICATE"} == done_before  # not redone
    final = _state(engine)
    assert final["batches"] == [(f, "committed") for f in files]  # every file, once
    latest = max(s for s, _ in final["snapshots"])
    assert final["refreshed"][-1] == latest
    with engine.connect() as conn:
        tiers = conn.scalar(
            select(func.count()).select_from(CustomerTier).where(CustomerTier.snapshot_id == latest)
        )
    assert tiers == 30 and final["payments"] > 0
    engine.dispose()
