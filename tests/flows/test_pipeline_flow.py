"""The pipeline flow end to end: ingest -> recompute -> refresh, and what a failed step stops."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from sqlalchemy import func, select

from flows.pipeline import pipeline
from models.db import make_engine
from models.migrate import upgrade
from models.sampledata import generate_sample
from models.schema import IngestBatch, Snapshot
from tests.dashboards.test_pages import open_page, signed_in


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pipeline-sample")
    generate_sample(folder, customers=30, years=2, seed=11, end_date=date(2026, 9, 30))
    return folder


def _snapshots(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Snapshot))


@pytest.mark.slow
def test_pipeline_run_then_app_shows_the_new_snapshot_without_restart(
    tmp_path, sample_dir, monkeypatch
):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = make_engine(url)
    upgrade(engine)
    first = pipeline(paths=[str(sample_dir)], database_url=url, return_state=True)
    assert first.is_completed(), first.message
    assert "snapshot 1" in first.message
    refreshed = first.result()["steps"][-1]
    assert float(refreshed.pop("seconds")) >= 0  # each step reports its wall time
    assert refreshed == {"step": "refresh", "outcome": "ok", "detail": "dashboard tables written"}

    monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", url)
    at = open_page(signed_in(engine).run(), "overview")
    assert "Snapshot **1**" in " ".join(c.value for c in at.caption)

    second = pipeline(database_url=url, return_state=True)  # nothing new to ingest
    assert second.is_completed(), second.message
    at.run()  # same session, same process and caches: no restart
    assert not at.exception
    assert "Snapshot **2**" in " ".join(c.value for c in at.caption)


@pytest.mark.slow
def test_a_refused_batch_stops_the_pipeline_before_recompute(tmp_path, sample_dir):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = make_engine(url)
    upgrade(engine)
    bad = tmp_path / "bad"
    shutil.copytree(sample_dir, bad)
    lines = (bad / "invoice_lines.csv").read_text().splitlines()
    # More than the 1% row threshold broken: the whole batch is rejected (I6).
    broken = [lines[0]] + [
        line.replace(",EUR", ",XXX") if i % 10 == 0 else line for i, line in enumerate(lines[1:])
    ]
    (bad / "invoice_lines.csv").write_text("\n".join(broken) + "\n")
    state = pipeline(paths=[str(bad)], database_url=url, return_state=True)
    assert state.is_failed()
    assert state.message.startswith("ingest failed")
    steps = state.result(raise_on_failure=False)["steps"]
    assert [(s["step"], s["outcome"]) for s in steps] == [
        ("ingest", "failed"),
        ("recompute", "not run"),
        ("refresh", "not run"),
    ]
    assert _snapshots(engine) == 0
    with engine.connect() as conn:  # what earlier batches committed stays
        statuses = dict(conn.execute(select(IngestBatch.entity, IngestBatch.status)).all())
    assert statuses["customers"] == "committed"
    assert statuses["invoice_lines"] == "rejected"


def test_a_path_that_does_not_exist_stops_the_pipeline_naming_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = make_engine(url)
    upgrade(engine)
    missing = tmp_path / "inbox"
    state = pipeline(paths=[str(missing)], database_url=url, return_state=True)
    assert state.is_failed()
    assert state.message == f"ingest failed: [FILE_NOT_FOUND] {missing}: the path does not exist"
    steps = state.result(raise_on_failure=False)["steps"]
    assert [(s["step"], s["outcome"]) for s in steps] == [
        ("ingest", "failed"),
        ("recompute", "not run"),
        ("refresh", "not run"),
    ]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(IngestBatch)) == 0
    assert _snapshots(engine) == 0


def test_a_step_runs_without_heartbeats_of_its_own_and_its_parent_with_them():
    from prefect import flow
    from prefect.settings import get_current_settings

    from flows.pipeline import as_a_step

    def heartbeats() -> int | None:
        return get_current_settings().flows.heartbeat_frequency

    @flow
    def step() -> int | None:
        return heartbeats()

    @flow
    def parent() -> tuple[int | None, int | None, int | None]:
        before = heartbeats()
        with as_a_step():
            during = step()
        return before, during, heartbeats()

    before, during, after = parent()
    assert before is not None and after == before
    assert during is None
