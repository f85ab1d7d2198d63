"""Data health shows the scheduler's last and next runs (or, without a Prefect API, what
the database recorded, saying so in one line), and each validated batch links to its
Great Expectations Data Docs, which the Data Docs page shows inline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import streamlit as st

from flows import scheduler
from flows.data_docs import publish_data_docs
from flows.scheduler import DeploymentRuns, FlowRunInfo, SchedulerView
from models.access import Identity
from models.ingest import ingest_config, ingest_file
from models.schema import Role
from tests.dashboards.conftest import app_test
from tests.ingest_builders import AS_OF, BASE_ENTITIES, fixture_batch, read_rows, write_rows

UI = "http://prefect.test"
RUN_ID = "0b7e1c1e-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return fixture_batch(tmp_path_factory.mktemp("fixture"))


@pytest.fixture
def health_db(app_db, signed_in_app, base, tmp_path, monkeypatch):
    """The base entities and an invoice file with one bad currency, loaded by one flow run
    through the service, each batch's Data Docs written into the app's data folder."""
    import logging

    from expectations.runner import SuiteRunner

    data_dir = tmp_path / "var"
    monkeypatch.setenv("ACCOUNTOPS_DATA_DIR", str(data_dir))
    header, rows = read_rows(base / "invoice_lines.csv")
    rows[2][header.index("currency")] = "XXX"
    bad = write_rows(tmp_path / "invoice_lines.csv", header, rows)
    config = ingest_config()
    runner = SuiteRunner(config, AS_OF)
    ids = {}
    for path in [*(base / f"{e}.csv" for e in BASE_ENTITIES), bad]:
        result = ingest_file(
            app_db, path, validator=runner, config=config, as_of=AS_OF, flow_run_id=RUN_ID
        )
        publish_data_docs(runner, result, config, logging.getLogger("test"), data_dir=data_dir)
        ids[result.entity] = result.batch_id
    signed_in_app("viewer")  # adds the user the tests sign in as
    st.cache_data.clear()  # the page asks the scheduler at most every 30 s
    return ids


def _open(page="app_pages/data_health.py", **query):
    """The app signed in as the viewer (added by ``health_db``'s ``signed_in_app``)."""
    at = app_test()
    at.session_state["identity"] = Identity("test-viewer", Role.VIEWER, None, "Test viewer")
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _frame(at, column):
    (found,) = [d.value for d in at.dataframe if column in d.value.columns]
    return found


def test_the_scheduler_table_shows_last_and_next_runs_with_links(health_db, monkeypatch):
    started = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
    last = FlowRunInfo(
        RUN_ID, "calm-fox", "Completed", "COMPLETED", started, 83.0, f"{UI}/runs/flow-run/{RUN_ID}"
    )
    upcoming = FlowRunInfo(
        "next-1",
        "eager-owl",
        "Scheduled",
        "SCHEDULED",
        datetime(2026, 10, 2, 2, 0, tzinfo=UTC),
        None,
        f"{UI}/runs/flow-run/next-1",
    )
    view = SchedulerView(
        "http://prefect.test/api",
        [DeploymentRuns("pipeline/nightly", "cron 0 2 * * *", False, last, upcoming)],
    )
    monkeypatch.setattr(scheduler, "scheduler_view", lambda timeout=3.0: view)

    at = _open()

    runs = _frame(at, "deployment")
    assert list(runs["run"]) == ["last", "next"]
    assert list(runs["state"]) == ["Completed", "Scheduled"]
    assert list(runs["duration"]) == ["1 min 23 s", ""]
    assert list(runs["link"]) == [last.url, upcoming.url]
    assert any("From the Prefect API at http://prefect.test/api" in c.value for c in at.caption)


def test_without_a_prefect_api_the_page_says_so_and_shows_recorded_runs(health_db, monkeypatch):
    view = SchedulerView(None, problem="no Prefect API configured (PREFECT_API_URL)")
    monkeypatch.setattr(scheduler, "scheduler_view", lambda timeout=3.0: view)
    monkeypatch.setattr(scheduler, "prefect_ui_url", lambda: UI)

    at = _open()

    notes = [c.value for c in at.caption if c.value.startswith("Scheduler not asked")]
    assert notes == [
        "Scheduler not asked (no Prefect API configured (PREFECT_API_URL)): the last runs "
        "as the database recorded them; the next ones only the scheduler knows."
    ]
    runs = _frame(at, "work")
    (ingest_run,) = runs[runs["work"].str.startswith("ingest")].to_dict("records")
    assert ingest_run["flow_run_id"] == RUN_ID
    assert ingest_run["work"] == f"ingest of {len(health_db)} batch(es)"
    assert ingest_run["outcome"] == "all loaded"
    assert ingest_run["link"] == f"{UI}/runs/flow-run/{RUN_ID}"


def test_a_batch_links_to_its_data_docs_shown_inline(health_db, monkeypatch):
    view = SchedulerView(None, problem="no Prefect API configured (PREFECT_API_URL)")
    monkeypatch.setattr(scheduler, "scheduler_view", lambda timeout=3.0: view)
    monkeypatch.setattr(scheduler, "prefect_ui_url", lambda: None)
    batch = health_db["invoice_lines"]

    batches = _frame(_open(), "data_docs")
    links = dict(zip(batches["batch_id"], batches["data_docs"], strict=True))
    assert links == {b: f"data_docs?batch={b}" for b in health_db.values()}

    at = _open("app_pages/data_docs.py", batch=str(batch))
    assert at.selectbox[0].value == batch
    (frame,) = at.get("iframe")
    html = frame.proto.srcdoc
    assert "CURRENCY_NOT_ALLOWED" in html and "expect_column_values_to_be_in_set" in html
    assert "<script" not in html  # the frame runs with the app's origin
    assert [b.label for b in at.get("download_button")] == ["Download the page (HTML)"]

    older = health_db["customers"]  # not the newest: the link's batch, not the default
    at = _open("app_pages/data_docs.py", batch=str(older))
    assert at.selectbox[0].value == older
    assert f"customers.csv (batch {older})" in at.get("iframe")[0].proto.srcdoc
