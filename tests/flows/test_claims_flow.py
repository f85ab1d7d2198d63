"""The probe's stale-claim case through the ingest flow (issue 23 item 4): a batch that
another process holds stops the run before the batches that need it, in one line naming
that process, instead of failing them with misleading row rules; a claim whose lease ran
out is taken over and the whole run loads."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from flows.ingest import ingest
from models.db import make_engine
from models.schema import BatchStatus, IngestBatch
from tests.ingest_builders import AS_OF, BASE_ENTITIES
from tests.integration.ingest_support import plant_claim


def _plant_claim(url: str, path: Path, lease: timedelta) -> None:
    engine = make_engine(url)
    plant_claim(engine, path, host="worker-7", pid=4242, lease=lease)
    engine.dispose()


def _statuses(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = dict(conn.execute(select(IngestBatch.entity, IngestBatch.status)).all())
    engine.dispose()
    return found


def test_a_held_batch_stops_the_run_before_the_batches_that_need_it(base, url, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("ingest:\n  claim_wait_seconds: 1\n", encoding="utf-8")
    _plant_claim(url, base / "invoice_lines.csv", timedelta(minutes=5))
    paths = [str(base / f"{n}.csv") for n in (*BASE_ENTITIES, "invoice_lines", "payments")]
    state = ingest(
        paths=paths, database_url=url, as_of=AS_OF, config_file=str(rules), return_state=True
    )
    assert state.is_failed()
    results = state.result(raise_on_failure=False)
    assert [r["file"] for r in results][-1] == "invoice_lines.csv"  # payments not tried
    held = results[-1]
    assert held["outcome"] == "IN_PROGRESS"
    assert "pid 4242 on worker-7" in held["message"]
    assert "[BATCH_IN_PROGRESS]" in state.message and "rows broke rules" not in state.message
    assert "payments" not in _statuses(url)  # no misleading refusal of the payments


def test_a_claim_whose_lease_ran_out_is_taken_over_and_the_run_loads(base, url):
    _plant_claim(url, base / "invoice_lines.csv", timedelta(seconds=-1))
    paths = [str(base / f"{n}.csv") for n in (*BASE_ENTITIES, "invoice_lines", "payments")]
    state = ingest(paths=paths, database_url=url, as_of=AS_OF, return_state=True)
    assert state.is_completed(), state.message
    assert {r["outcome"] for r in state.result()} == {"LOADED"}
    assert set(_statuses(url).values()) == {BatchStatus.COMMITTED}
