"""The month-end snapshot: the pipeline without ingest, as of a month's last day."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from flows.ingest import ingest
from flows.pipeline import month_before, month_end, month_end_snapshot
from models.db import make_engine
from models.errors import ConfigError
from models.migrate import upgrade
from models.sampledata import generate_sample
from models.schema import DashboardHeadline, Snapshot


@pytest.mark.parametrize(
    ("month", "last_day"),
    [
        ("2026-02", date(2026, 2, 28)),
        ("2024-02", date(2024, 2, 29)),
        ("2026-12", date(2026, 12, 31)),
    ],
)
def test_month_end_is_the_last_day(month, last_day):
    assert month_end(month) == last_day


@pytest.mark.parametrize(
    ("scheduled", "month_end_day"),
    [
        (date(2026, 12, 1), date(2026, 11, 30)),
        (date(2026, 1, 1), date(2025, 12, 31)),
        (date(2026, 3, 15), date(2026, 2, 28)),
    ],
)
def test_by_default_the_month_before_the_scheduled_day(scheduled, month_end_day):
    assert month_before(scheduled) == month_end_day


@pytest.mark.parametrize("month", ["2026-13", "26-01", "August", "2026-08-01"])
def test_a_month_that_is_not_yyyy_mm_is_refused(month):
    with pytest.raises(ConfigError, match=f"month '{month}' is not YYYY-MM"):
        month_end(month)


@pytest.mark.slow
def test_the_month_end_run_snapshots_the_months_last_day_and_refreshes(tmp_path):
    folder = tmp_path / "sample"
    generate_sample(folder, customers=20, years=2, seed=5, end_date=date(2026, 9, 30))
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)
    upgrade(engine)
    assert ingest(paths=[str(folder)], database_url=url, return_state=True).is_completed()
    state = month_end_snapshot(month="2026-08", database_url=url, return_state=True)
    assert state.is_completed(), state.message
    assert state.message == "snapshot 1 as of 2026-08-31 is live"
    with engine.connect() as conn:
        assert list(conn.execute(select(Snapshot.snapshot_id, Snapshot.as_of))) == [
            (1, date(2026, 8, 31))
        ]
        assert list(conn.scalars(select(DashboardHeadline.snapshot_id))) == [1]
    engine.dispose()
