"""Q1 and I4 through real Prefect flow runs, and I1 through the flow."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from flows.ingest import ingest, ingest_batch, retry_on_transient
from models.db import make_engine
from models.schema import BatchStatus, IngestBatch, InvoiceLine, Snapshot
from tests.ingest_builders import AS_OF, BASE_ENTITIES, read_rows, write_rows


def _files(base, *names):
    return [str(base / f"{n}.csv") for n in names]


def test_q1_gx_failure_fails_the_flow_and_quarantines_the_batch(base, url, tmp_path):
    header, rows = read_rows(base / "invoice_lines.csv")
    rows[1] = list(rows[0])  # duplicate natural key: the suite's batch-level rule fails
    bad = write_rows(tmp_path / "invoice_lines.csv", header, rows)
    state = ingest(
        paths=[*_files(base, *BASE_ENTITIES), str(bad)],
        database_url=url,
        as_of=AS_OF,
        return_state=True,
    )
    assert state.is_failed()
    engine = make_engine(url)
    with engine.connect() as conn:
        status = conn.scalar(
            select(IngestBatch.status).where(IngestBatch.entity == "invoice_lines")
        )
        assert status == BatchStatus.QUARANTINED
        assert conn.scalar(select(func.count()).select_from(Snapshot)) == 0
        assert conn.scalar(select(func.count()).select_from(InvoiceLine)) == 0


def test_q1_passing_fixture_completes_and_i1_rerun_is_duplicate(base, url):
    paths = _files(base, *BASE_ENTITIES, "invoice_lines", "payments")
    first = ingest(paths=paths, database_url=url, as_of=AS_OF, return_state=True)
    assert first.is_completed()
    results = first.result()
    assert [r["outcome"] for r in results] == ["LOADED"] * len(paths)
    second = ingest(paths=paths, database_url=url, as_of=AS_OF, return_state=True)
    assert second.is_completed()
    assert {r["outcome"] for r in second.result()} == {"DUPLICATE"}


def test_i4_transient_error_is_retried_validation_is_not(base, url, tmp_path, monkeypatch):
    monkeypatch.setenv("ACCOUNTOPS_INGEST_FAULT", f"operational_error_once:{tmp_path / 'm'}")
    state = ingest(
        paths=_files(base, *BASE_ENTITIES[:1]), database_url=url, as_of=AS_OF, return_state=True
    )
    assert state.is_completed()
    assert (tmp_path / "m").exists()  # attempt 1 raised OperationalError; the retry loaded
    assert state.result()[0]["outcome"] == "LOADED"

    # A validation outcome is a result, not an exception: it never retries.
    monkeypatch.delenv("ACCOUNTOPS_INGEST_FAULT")
    header, rows = read_rows(base / "customers.csv")
    rows[0][header.index("status")] = "bogus"
    rows[1][header.index("status")] = "bogus"
    bad = write_rows(tmp_path / "customers.csv", header, rows)
    task_state = ingest_batch(str(bad), url, AS_OF, return_state=True)
    assert task_state.result()["outcome"] == "REJECTED"


def test_i4_retry_condition_only_for_operational_errors():
    from prefect.states import Failed
    from sqlalchemy.exc import OperationalError

    def failed(exc):
        return Failed(data=exc)

    assert retry_on_transient(None, None, failed(OperationalError("x", {}, Exception()))) is True
    assert retry_on_transient(None, None, failed(ValueError("validation"))) is False
    assert Path(__file__).exists()


def test_progress_reaches_a_listener_through_log_records_not_a_module_hook(base, url):
    import flows.ingest as ingest_module
    from flows.ingest_cli import listen_to_progress

    assert not hasattr(ingest_module, "progress_hook")
    names = BASE_ENTITIES[:2]
    seen: list[tuple[str, int, int]] = []
    with listen_to_progress(lambda *figures: seen.append(figures)):
        state = ingest(paths=_files(base, *names), database_url=url, as_of=AS_OF, return_state=True)
    assert state.is_completed()
    sizes = {f"{n}.csv": len(read_rows(base / f"{n}.csv")[1]) for n in names}
    assert seen == [(name, rows, rows) for name, rows in sizes.items()]  # one chunk each

    # Once the listener is gone, a run reports to nobody (and still loads).
    seen.clear()
    paths = _files(base, BASE_ENTITIES[2])
    assert ingest(paths=paths, database_url=url, as_of=AS_OF, return_state=True).is_completed()
    assert seen == []


def test_a_path_that_does_not_exist_fails_the_run_in_one_line_and_records_no_batch(
    base, url, tmp_path
):
    """A deployment's ``paths`` parameter: the typo is named, nothing else is loaded."""
    missing = tmp_path / "no" / "inbox"
    state = ingest(
        paths=[*_files(base, BASE_ENTITIES[0]), str(missing)],
        database_url=url,
        as_of=AS_OF,
        return_state=True,
    )
    assert state.is_failed()
    assert state.message == f"[FILE_NOT_FOUND] {missing}: the path does not exist"
    with make_engine(url).connect() as conn:
        assert conn.scalar(select(func.count()).select_from(IngestBatch)) == 0
