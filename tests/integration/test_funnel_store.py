"""The funnel the recompute stores is the funnel of the opportunities in the database,
computed beside the measures or, segmented by tier, after the tiers."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models.config import load_config
from models.db import make_engine
from models.funnel.rules import funnel_rules
from models.funnel.store import funnel_on, stored_deals, stored_probabilities, stored_run
from models.migrate import upgrade
from models.sampledata import generate_sample
from models.schema import CustomerTier
from models.value.recompute import recompute
from tests import value_builders as vb

END = date(2026, 9, 30)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    generate_sample(out, customers=80, years=2, seed=11, end_date=END)
    return out


def _book(url: str, sample_dir):
    engine = make_engine(url)
    upgrade(engine)
    vb.load_sample(engine, sample_dir)
    return engine


def test_the_stored_funnel_is_the_funnel_of_the_data(sqlite_url, sample_dir):
    engine = _book(sqlite_url, sample_dir)
    config = load_config()
    result = recompute(engine, config)
    rules = funnel_rules(config)
    with engine.connect() as conn:
        again = funnel_on(conn, result.as_of, rules)
        run = stored_run(conn, result.snapshot_id)
        deals = stored_deals(conn, result.snapshot_id)
    assert run is not None and run["period_start"] == date(2026, 7, 1)
    assert run["learned_error"] == pytest.approx(again.summary.learned_error)
    assert len(deals) == len(again.deals) > 0
    assert deals["state"].tolist() == again.deals["state"].tolist()
    engine.dispose()


def test_a_funnel_segmented_by_tier_uses_the_snapshot_tiers(sqlite_url, sample_dir, tmp_path):
    engine = _book(sqlite_url, sample_dir)
    override = tmp_path / "rules.yaml"
    override.write_text("funnel:\n  segment_by: tier\n  min_group_deals: 1\n")
    result = recompute(engine, load_config(override))
    with engine.connect() as conn:
        segments = set(stored_probabilities(conn, result.snapshot_id)["segment"])
        tiers = {
            str(t.value)
            for t in conn.scalars(
                select(CustomerTier.tier).where(CustomerTier.snapshot_id == result.snapshot_id)
            )
        }
        run = stored_run(conn, result.snapshot_id)
    assert run is not None and run["segment_by"] == "tier"
    assert segments and segments <= tiers
    engine.dispose()


@pytest.mark.postgres
def test_bulk_insert_writes_string_columns_of_several_chunks(pg_url):
    """pd.concat of frames gives string columns of several Arrow chunks; with an empty
    one first, pyarrow 26's CSV writer wrote raw offsets: COPY must get the text."""
    import pandas as pd
    from sqlalchemy import delete

    from models.schema import FunnelPeriod
    from models.value.store import bulk_insert

    engine = make_engine(pg_url)
    upgrade(engine)
    parts = [
        pd.DataFrame(
            {"snapshot_id": 1, "period_start": date(2026, m, 1), "state": ["new", "x", "won"],
             "deals": [k, 0, 2 * k], "amount": [1.5, 0, 2.5]}
        )
        for m, k in ((1, 0), (4, 1), (7, 1))
    ]  # fmt: skip
    parts = [p[p["deals"] > 0] for p in parts]  # the first one empty
    frame = pd.concat(parts, ignore_index=True)
    with engine.begin() as conn:
        conn.execute(delete(FunnelPeriod))
        bulk_insert(conn, FunnelPeriod.__table__, frame)
        got = conn.execute(select(FunnelPeriod.state).order_by(FunnelPeriod.period_start)).all()
    assert [s for (s,) in got] == ["new", "won"] * 2
    engine.dispose()


def test_stored_forecasts_are_tracked_as_periods_close(sqlite_url, sample_dir):
    from models.funnel.store import forecast_track, stored_forecast, stored_periods

    engine = _book(sqlite_url, sample_dir)
    config = load_config()
    first = recompute(engine, config, as_of=date(2026, 3, 15))
    later = recompute(engine, config, as_of=END)
    with engine.connect() as conn:
        assert forecast_track(conn, first.snapshot_id).empty  # nothing closed yet
        track = forecast_track(conn, later.snapshot_id)
        made = stored_forecast(conn, first.snapshot_id)
        periods = stored_periods(conn, later.snapshot_id)
    q2 = date(2026, 4, 1)
    row = track[track["period_start"] == q2].iloc[0]
    assert row["forecast_snapshot_id"] == first.snapshot_id
    assert row["learned"] == made.loc[made["period_start"] == q2, "learned"].sum()
    won = periods[(periods["period_start"] == q2) & (periods["state"] == "won")]["amount"]
    assert row["won"] == (won.iloc[0] if len(won) else 0)
    # Q2 and Q3 closed by the later as-of; Q1 began before the first snapshot
    assert set(track["period_start"]) == {q2, date(2026, 7, 1)}
    engine.dispose()
