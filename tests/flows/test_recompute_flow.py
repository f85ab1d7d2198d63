"""The recompute flow as a real Prefect run: roll-ups, then one stored snapshot."""

from __future__ import annotations

from sqlalchemy import select

from flows.recompute import recompute_flow
from models.db import make_engine
from models.migrate import upgrade
from models.schema import Snapshot, SnapshotStatus
from tests.unit.test_value_measures import AS_OF, build_book


def test_recompute_flow_stores_a_snapshot_with_its_run_id(sqlite_url):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    build_book(engine)
    state = recompute_flow(database_url=sqlite_url, as_of=AS_OF, return_state=True)
    assert state.is_completed()
    out = state.result()
    assert out["as_of"] == AS_OF.isoformat()
    assert out["rollups"]["full_rebuild"] is True
    assert out["tier_counts"] == {"diamond": 1, "general": 1, "key_opportunity": 1, "problem": 1}
    with engine.connect() as conn:
        snap = conn.execute(select(Snapshot)).one()
    assert snap.status == SnapshotStatus.COMPLETE
    assert snap.flow_run_id == str(state.state_details.flow_run_id)
    assert len(snap.batch_ids) == 1  # provenance: the one committed batch
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    this_run = ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(  # this run's: the server serves the whole session
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["funnel-forecast"]), flow_run_id=this_run
            ),
        )
    assert "backtest error learned n/a, naive n/a" in (artifact.description or "")


def test_recompute_flow_fails_on_a_database_without_schema(sqlite_url):
    state = recompute_flow(database_url=sqlite_url, return_state=True)
    assert state.is_failed()
