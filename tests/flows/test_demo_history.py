"""``accountops demo`` builds history: a snapshot per month end, each refreshed, so the
Overview has migrations to show; the quarantine holds the sample's planted bad rows; a
demo run again recomputes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from flows.cli_demo import DEMO_END, build_history, demo, month_ends
from models.dashboard import data_health, read
from models.db import make_engine
from models.sampledata import generate_sample
from tests import value_builders as vb


def _moved(engine, snapshot_id: int) -> int:
    """Customers the Overview's Sankey shows changing tier (not new, not held)."""
    moves = read.migrations(engine, snapshot_id)
    return int(
        moves[(moves["from_tier"] != moves["to_tier"]) & (moves["from_tier"] != "new")][
            "customers"
        ].sum()
    )


def test_history_is_a_refreshed_snapshot_per_month_end_with_moves_between(
    tmp_path, url, monkeypatch, capsys
):
    generate_sample(tmp_path / "sample", customers=40, years=2, seed=42, end_date=DEMO_END)
    engine = make_engine(url)
    vb.load_sample(engine, tmp_path / "sample")
    monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", url)

    build_history(month_ends(DEMO_END, 2))
    assert "history: 2 month-end snapshot(s), 2026-08-31 to 2026-09-30" in capsys.readouterr().err
    latest = read.latest_snapshot_id(engine)
    assert latest == 2 and read.as_of_of(engine, latest) == DEMO_END
    assert read.as_of_of(engine, 1) == date(2026, 8, 31)
    assert read.headline(engine, latest)["previous_snapshot_id"] == 1
    assert _moved(engine, latest) > 0
    customer = read.customers(engine, latest)["customer_id"].iloc[0]
    assert list(read.customer_history(engine, customer)["snapshot_id"]) == [1, 2]

    build_history(month_ends(DEMO_END, 2))  # run again: nothing to recompute
    assert "snapshots up to 2026-09-30 exist already" in capsys.readouterr().err
    assert read.latest_snapshot_id(engine) == 2
    engine.dispose()


@pytest.mark.slow
def test_the_demo_ingests_quarantines_on_purpose_and_builds_history(data_dir, capsys):
    demo(customers=40, months=2, no_dashboard=True)
    said = capsys.readouterr().err
    assert "history: 2 month-end snapshot(s), 2026-08-31 to 2026-09-30" in said
    assert "4 rows quarantined on purpose: see Data health" in said
    engine = make_engine(f"sqlite:///{data_dir / 'accountops.db'}")
    assert read.latest_snapshot_id(engine) == 2 and _moved(engine, 2) > 0
    held = data_health.quarantine_rows(engine)
    assert held is not None and len(held) == 4
    engine.dispose()
