"""Run notifications through a saved Prefect block to a local HTTP receiver.

The receiver (http.server on 127.0.0.1, a free port) records every body POSTed to it;
the block is saved in the session's test Prefect server and named in
ACCOUNTOPS_NOTIFY_BLOCK, as an organisation would.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from prefect import get_client
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.blocks.webhook import Webhook
from prefect.client.schemas.objects import FlowRun
from prefect.states import Completed, Failed

from flows.ingest import ingest
from flows.notify import build_notice, notify_failure, send
from flows.pipeline import pipeline
from tests.ingest_builders import AS_OF, BASE_ENTITIES, read_rows, write_rows


@dataclass
class Receiver:
    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    received = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_address[1]}/alerts"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _configure(monkeypatch, url: str) -> str:
    """Save a custom-webhook block posting ``{"subject", "body"}`` to ``url`` and name it
    in the setting, as docs/OPERATIONS.md tells an organisation to."""
    name = f"accountops-alerts-{uuid.uuid4().hex[:8]}"
    CustomWebhookNotificationBlock(
        name="accountops",
        url=url,
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
    ).save(name)
    monkeypatch.setenv("ACCOUNTOPS_NOTIFY_BLOCK", f"custom-webhook/{name}")
    return name


@pytest.fixture
def alerts(receiver, monkeypatch) -> Receiver:
    _configure(monkeypatch, receiver.url)
    return receiver


def _base_files(base) -> list[str]:
    return [str(base / f"{n}.csv") for n in BASE_ENTITIES]


def _invoices_with_bad_currency(base, folder, every: int | None, rows_wanted: int = 0):
    """invoice_lines.csv with an unknown currency on every ``every``-th row (above the 1%
    threshold: the batch is rejected), or on ``rows_wanted`` single-line invoices (below
    it: those rows are quarantined, the rest load)."""
    header, rows = read_rows(base / "invoice_lines.csv")
    col = header.index("currency")
    if every:
        targets = range(0, len(rows), every)
    else:
        lines: dict[str, int] = {}
        for r in rows:
            lines[r[0]] = lines.get(r[0], 0) + 1
        targets = [i for i, r in enumerate(rows) if lines[r[0]] == 1][:rows_wanted]
    for i in targets:
        rows[i][col] = "XXX"
    folder.mkdir(exist_ok=True)
    return str(write_rows(folder / "invoice_lines.csv", header, rows))


def _run(state) -> FlowRun:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(state.state_details.flow_run_id)


def test_a_pipeline_that_fails_at_ingest_sends_one_message(base, url, tmp_path, alerts):
    bad = _invoices_with_bad_currency(base, tmp_path / "bad", every=10)
    state = pipeline(paths=[*_base_files(base), bad], database_url=url, return_state=True)
    assert state.is_failed()
    run = _run(state)
    (message,) = alerts.bodies  # the ingest run inside the pipeline stays silent
    body = message["body"]
    assert message["subject"] == f"accountops: pipeline run {run.name} failed at ingest"
    assert f"Run: pipeline / {run.name} ({run.id}), Failed" in body
    assert f"/runs/flow-run/{run.id}" in body  # the UI link: the test server's address
    assert "Step: ingest\n" in body
    assert "Reason: 1 of 4 batch(es) refused: [ROWS_ABOVE_THRESHOLD] invoice_lines.csv" in body
    rejected = state.result(raise_on_failure=False)["batches"][-1]
    assert rejected["outcome"] == "REJECTED"
    assert f"Batches: 3 committed, 1 refused of 4; rows: {_loaded(state)} loaded" in body
    assert (
        f"- invoice_lines.csv: REJECTED [ROWS_ABOVE_THRESHOLD], 0 loaded, "
        f"{rejected['rows_quarantined']} quarantined, {rejected['rows_rejected']} rejected"
    ) in body
    assert "recompute: not run (ingest failed)" in body


def _loaded(state) -> int:
    outcome = state.result(raise_on_failure=False)
    batches = outcome["batches"] if isinstance(outcome, dict) else outcome
    return sum(b["rows_loaded"] for b in batches)


def test_an_ingest_that_quarantines_a_few_rows_completes_and_sends_one_message(
    base, url, tmp_path, alerts
):
    invoices = _invoices_with_bad_currency(base, tmp_path / "few", every=None, rows_wanted=2)
    state = ingest(
        paths=[*_base_files(base), invoices], database_url=url, as_of=AS_OF, return_state=True
    )
    assert state.is_completed(), state.message  # under the threshold: the batch loads
    batch = state.result()[-1]
    assert (batch["outcome"], batch["rows_quarantined"]) == ("LOADED", 2)
    run = _run(state)
    (message,) = alerts.bodies
    body = message["body"]
    assert message["subject"] == f"accountops: ingest run {run.name} quarantined rows at ingest"
    assert f"Run: ingest / {run.name} ({run.id}), Completed" in body
    assert "Reason: 2 row(s) quarantined in 1 batch(es); the other rows loaded" in body
    counts = f"Batches: 4 committed, 0 refused of 4; rows: {_loaded(state)} loaded, 2 quarantined"
    assert counts in body
    assert f"- invoice_lines.csv: LOADED, {batch['rows_loaded']} loaded, 2 quarantined" in body


def test_a_recompute_failure_in_the_pipeline_sends_one_message(base, url, tmp_path, alerts):
    rules = tmp_path / "rules.yaml"
    rules.write_text("value:\n  window_months: 0\n")  # a rules error only recompute meets
    state = pipeline(
        paths=_base_files(base), database_url=url, config_file=str(rules), return_state=True
    )
    assert state.is_failed()
    run = _run(state)
    (message,) = alerts.bodies  # neither the ingest nor the recompute run sends its own
    body = message["body"]
    assert message["subject"] == f"accountops: pipeline run {run.name} failed at recompute"
    assert f"({run.id})" in body
    assert "Step: recompute\n" in body
    assert "rules value.window_months must be at least 1" in body
    assert f"Batches: 3 committed, 0 refused of 3; rows: {_loaded(state)} loaded" in body
    assert "ingest: ok (3 batch(es))" in body


def test_a_clean_run_sends_nothing(base, url, alerts):
    state = ingest(paths=_base_files(base), database_url=url, as_of=AS_OF, return_state=True)
    assert state.is_completed()
    assert alerts.bodies == []


def test_an_unreachable_receiver_leaves_the_outcome_as_it_was(
    base, url, tmp_path, monkeypatch, caplog
):
    with socket.socket() as s:  # a port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _configure(monkeypatch, f"http://127.0.0.1:{port}/alerts")
    bad = _invoices_with_bad_currency(base, tmp_path / "bad", every=10)
    state = ingest(
        paths=[*_base_files(base), bad], database_url=url, as_of=AS_OF, return_state=True
    )
    assert state.is_failed()
    assert state.message.startswith("1 of 4 batch(es) refused: [ROWS_ABOVE_THRESHOLD]")
    assert [b["outcome"] for b in state.result(raise_on_failure=False)] == ["LOADED"] * 3 + [
        "REJECTED"
    ]
    assert "notification not sent: ConnectError" in caplog.text  # a warning in the run's log


# --- without a flow run --------------------------------------------------------------------


def _pipeline_failure() -> Failed:
    batches = [
        {"file": "customers.csv", "outcome": "LOADED", "rows_loaded": 20, "rows_quarantined": 0},
        {
            "file": "invoice_lines.csv",
            "outcome": "QUARANTINED",
            "rows_loaded": 0,
            "rows_quarantined": 1,
            "rows_rejected": 900,
            "error_code": "KEY_DUPLICATE",
        },
    ]
    steps = [
        {"step": "ingest", "outcome": "failed", "detail": "1 of 2 batch(es) refused"},
        {"step": "recompute", "outcome": "not run", "detail": "ingest failed"},
    ]
    return Failed(
        message="ingest failed: 1 of 2 batch(es) refused",
        data={"steps": steps, "batches": batches},
    )


def test_the_message_names_the_run_step_reason_and_counts():
    run = FlowRun(flow_id=uuid.uuid4(), name="brave-otter")
    notice = build_notice("pipeline", run, _pipeline_failure())
    assert (notice.step, notice.reason) == ("ingest", "1 of 2 batch(es) refused")
    assert notice.counts() == {
        "batches": 2,
        "batches_committed": 1,
        "batches_refused": 1,
        "rows_loaded": 20,
        "rows_quarantined": 1,
    }
    assert "- invoice_lines.csv: QUARANTINED [KEY_DUPLICATE], 0 loaded, 1 quarantined" in (
        notice.text()
    )
    # A run that raised is its own step, with the exception as the reason.
    raised = Failed(message="Flow run encountered an exception: ValueError: boom")
    notice = build_notice("recompute", run, raised)
    assert (notice.step, notice.batches) == ("recompute", [])
    assert notice.reason.endswith("ValueError: boom")
    assert build_notice("ingest", run, Completed(data=[])).counts()["rows_quarantined"] == 0


def test_a_webhook_block_gets_the_message_as_one_json_document(receiver):
    name = f"accountops-json-{uuid.uuid4().hex[:8]}"
    Webhook(url=receiver.url).save(name)
    run = FlowRun(flow_id=uuid.uuid4(), name="brave-otter")
    send(f"webhook/{name}", build_notice("pipeline", run, _pipeline_failure()))
    (payload,) = receiver.bodies
    assert payload["flow_run_id"] == str(run.id)
    assert (payload["flow_run_name"], payload["step"]) == ("brave-otter", "ingest")
    assert payload["counts"]["batches_refused"] == 1
    assert payload["batches"][1]["rows_rejected"] == 900


def test_no_block_configured_sends_nothing_and_a_subflow_leaves_it_to_its_parent(
    receiver, monkeypatch
):
    from prefect import flow as make_flow

    @make_flow(name="pipeline")
    def stand_in() -> None: ...

    run = FlowRun(flow_id=uuid.uuid4(), name="brave-otter")
    monkeypatch.delenv("ACCOUNTOPS_NOTIFY_BLOCK", raising=False)
    notify_failure(stand_in, run, _pipeline_failure())  # nothing configured: no error
    _configure(monkeypatch, receiver.url)
    child = FlowRun(flow_id=uuid.uuid4(), name="calm-heron", parent_task_run_id=uuid.uuid4())
    notify_failure(stand_in, child, _pipeline_failure())
    assert receiver.bodies == []
    notify_failure(stand_in, run, _pipeline_failure())
    assert len(receiver.bodies) == 1
