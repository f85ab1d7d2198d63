"""``accountops recompute`` publishes what it computes: the dashboard shows the new snapshot
when the command ends (it runs the pipeline without an ingest, as recompute-daily does)."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from flows.cli import app
from models.db import make_engine
from models.migrate import upgrade
from models.schema import DashboardHeadline, Snapshot
from tests.unit.test_value_measures import AS_OF, build_book


def test_recompute_command_publishes_its_snapshot_to_the_dashboard(db_url, monkeypatch):
    engine = make_engine(db_url)
    upgrade(engine)
    build_book(engine)
    monkeypatch.setenv("ACCOUNTOPS_DATABASE_URL", db_url)
    try:
        result = CliRunner().invoke(app, ["recompute", "--as-of", AS_OF.isoformat()])
        assert result.exit_code == 0, result.output
        with engine.connect() as conn:
            snapshots = list(conn.scalars(select(Snapshot.snapshot_id)))
            published = list(conn.scalars(select(DashboardHeadline.snapshot_id)))
        assert snapshots == published == [1]
        assert "refresh    ok" in result.output
        assert "tiers in snapshot 1: diamond 1, general 1, key_opportunity 1, problem 1" in (
            result.output
        )
    finally:
        engine.dispose()
