"""The landing folder the scheduled runs read: each delivered file leaves it once its batch
is decided, so an hourly run reads only what is new, and a refused file waits, apart,
to be fixed; a landing folder set by hand that does not exist fails the run."""

from __future__ import annotations

from datetime import date

import pytest

from flows.ingest import ingest
from models.db import make_engine
from models.migrate import upgrade
from models.sampledata import generate_sample


@pytest.fixture
def landing(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    generate_sample(inbox, customers=20, years=1, seed=3, end_date=date(2026, 9, 30))
    (inbox / "wallet_estimates.csv").write_text("not,the,header\n1,2,3\n", encoding="utf-8")
    monkeypatch.setenv("ACCOUNTOPS_INBOX", str(inbox))
    url = f"sqlite:///{tmp_path / 'l.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return inbox, url


@pytest.mark.slow
def test_decided_files_leave_the_landing_folder_and_the_next_run_reads_only_new_ones(landing):
    inbox, url = landing
    delivered = sorted(p.name for p in inbox.glob("*.csv"))
    first = ingest(inbox=True, database_url=url, return_state=True)
    assert first.is_failed() and "wallet_estimates.csv" in first.message
    results = {r["file"]: r for r in first.result(raise_on_failure=False)}
    assert set(results) == set(delivered)
    assert not list(inbox.glob("*.csv"))
    for name, result in results.items():
        where = "refused" if name == "wallet_estimates.csv" else "loaded"
        assert (inbox / where / f"batch-{result['batch_id']}" / name).is_file(), name

    again = ingest(inbox=True, database_url=url, return_state=True)  # the next hour
    assert again.is_completed() and again.result() == []


def test_a_landing_folder_set_by_hand_that_does_not_exist_fails_the_run(tmp_path, monkeypatch):
    missing = tmp_path / "share" / "inbox"
    monkeypatch.setenv("ACCOUNTOPS_INBOX", str(missing))
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(make_engine(url))
    state = ingest(inbox=True, database_url=url, return_state=True)
    assert state.is_failed()
    assert state.message == f"[FILE_NOT_FOUND] {missing}: the path does not exist"
    assert not missing.exists()
