"""deploy/prefect.yaml on a real Prefect server, exactly as deploy/README.md says: the server,
the process work pool, `prefect deploy --all`, a worker; the nightly deployment then runs on
sample data in a landing folder and leaves the database as `accountops pipeline` would.

No test harness here: every command is the one a data team types, in its own process,
against a server with its own PREFECT_HOME on a free port.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from models.db import make_engine
from models.migrate import upgrade
from models.sampledata import generate_sample
from models.schema import BatchStatus, CustomerTier, DashboardHeadline, IngestBatch, Snapshot

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
ACCOUNTOPS = str(BIN / "accountops")
SCHEDULES = {
    "nightly": "0 2 * * *",
    "ingest-hourly": "15 * * * *",
    "recompute-daily": "30 5 * * *",
    "month-end": "0 1 1 * *",
}

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], env: dict[str, str], timeout: float = 300, **kw) -> str:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, **kw)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[dict[str, str]]:
    """`prefect server start` on a free port; the work pool and the deployments on it."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ACCOUNTOPS_"))}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",  # schedule runs within seconds
        ACCOUNTOPS_HOME=str(ROOT),
    )
    log = (home / "server.log").open("w")
    proc = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (home / "server.log").read_text()
            try:
                if httpx.get(f"{env['PREFECT_API_URL']}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the Prefect server did not become healthy"
            time.sleep(1)
        _run([PREFECT, "work-pool", "create", "accountops", "--type", "process"], env)
        _run([PREFECT, "work-pool", "set-concurrency-limit", "accountops", "1"], env)
        deployed = _run(
            [PREFECT, "--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml"],
            env,
            cwd=ROOT,
        )
        assert "pipeline/nightly" in deployed, deployed
        yield env
    finally:
        _stop(proc)
        log.close()


def _api(env: dict[str, str], path: str, body: dict | None = None) -> list[dict]:
    """POST to the server's API; a 503 (its own database busy, on a loaded machine) is
    asked again, up to a few times."""
    for attempt in range(5):
        response = httpx.post(f"{env['PREFECT_API_URL']}{path}", json=body or {}, timeout=10)
        if response.status_code != 503 or attempt == 4:
            break
        time.sleep(2)
    response.raise_for_status()
    return response.json() if response.content else []


def test_every_deployment_is_scheduled(server):
    deployments = {d["name"]: d for d in _api(server, "/deployments/filter")}
    assert set(deployments) == {*SCHEDULES, "ingest-on-demand"}
    for name, cron in SCHEDULES.items():
        (schedule,) = deployments[name]["schedules"]
        assert schedule["schedule"]["cron"] == cron and schedule["schedule"]["timezone"] == "UTC"
        assert schedule["active"], name
    assert deployments["nightly"]["parameters"] == {"inbox": True}
    assert deployments["ingest-on-demand"]["schedules"] == []

    # The server's scheduler turns each schedule into upcoming runs.
    deadline = time.monotonic() + 60
    while True:
        scheduled = _api(
            server,
            "/flow_runs/filter",
            {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}, "limit": 200},
        )
        have = {r["deployment_id"] for r in scheduled}
        if {deployments[n]["id"] for n in SCHEDULES} <= have:
            break
        assert time.monotonic() < deadline, f"no scheduled runs for some of {list(SCHEDULES)}"
        time.sleep(2)


def _pause_schedules(env: dict[str, str]) -> list[str]:
    """Pause every scheduled deployment (the server deletes their upcoming runs)."""
    ids = [d["id"] for d in _api(env, "/deployments/filter") if d["schedules"]]
    for deployment_id in ids:
        _api(env, f"/deployments/{deployment_id}/pause_deployment")
    return ids


def _tiers(url: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    select(CustomerTier.customer_id, CustomerTier.tier).order_by(
                        CustomerTier.customer_id
                    )
                )
            ]
    finally:
        engine.dispose()


def test_a_worker_completes_the_nightly_run_as_accountops_pipeline_would(server, db_url, tmp_path):
    sample, inbox = tmp_path / "sample", tmp_path / "inbox"
    generate_sample(sample, customers=30, years=2, seed=11, end_date=date(2026, 9, 30))
    shutil.copytree(sample, inbox)
    files = sorted(p.name for p in inbox.glob("*.csv"))
    engine = make_engine(db_url)
    upgrade(engine)
    worker_env = {
        **server,
        "ACCOUNTOPS_DATABASE_URL": db_url,
        "ACCOUNTOPS_INBOX": str(inbox),
        "PREFECT_WORKER_QUERY_SECONDS": "1",
    }
    log = (tmp_path / "worker.log").open("w")
    paused = _pause_schedules(server)  # only the run below: none of the scheduled ones
    worker = subprocess.Popen(
        [PREFECT, "worker", "start", "--pool", "accountops"],
        env=worker_env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        watched = _run(
            [PREFECT, "deployment", "run", "pipeline/nightly", "--watch", "--watch-timeout", "600"],
            server,
            timeout=660,
        )
    finally:
        _stop(worker)
        log.close()
        for deployment_id in paused:
            _api(server, f"/deployments/{deployment_id}/resume_deployment")
    assert "Completed" in watched, watched + (tmp_path / "worker.log").read_text()

    with engine.connect() as conn:
        statuses = list(conn.scalars(select(IngestBatch.status)))
        snapshots = list(conn.scalars(select(Snapshot.snapshot_id)))
        refreshed = list(conn.scalars(select(DashboardHeadline.snapshot_id)))
        tiered = conn.scalar(select(func.count()).select_from(CustomerTier))
    engine.dispose()
    assert statuses == [BatchStatus.COMMITTED] * len(files)
    assert snapshots == [1] and refreshed == [1] and tiered == 30
    # Each delivered file left the landing folder for loaded/batch-N/.
    assert not list(inbox.glob("*.csv"))
    assert sorted(p.name for p in inbox.glob("loaded/batch-*/*.csv")) == files

    # The same files through the command line, into a database of its own.
    reference = f"sqlite:///{tmp_path / 'cli.db'}"
    cli_env = {**server, "ACCOUNTOPS_DATABASE_URL": reference}
    _run([ACCOUNTOPS, "init"], cli_env, cwd=tmp_path)
    _run([ACCOUNTOPS, "pipeline", str(sample)], cli_env, cwd=tmp_path)
    assert _tiers(db_url) == _tiers(reference)
