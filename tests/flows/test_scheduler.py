"""The scheduler adapter (flows/scheduler.py) against the session's Prefect test server:
each deployment's last and next run with state, start, duration and the UI link; and the
one-line answer when no API is configured or it does not answer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.schedules import CronSchedule
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Completed, Running, Scheduled

from flows.scheduler import scheduler_view


@flow(name="scheduler-probe")
def probe() -> int:
    return 1


def test_last_and_next_runs_of_a_deployment_come_back_with_state_and_duration():
    name = f"nightly-{uuid.uuid4().hex[:8]}"
    # Feb 29 only: the server schedules no run of its own before the one made here.
    cron = DeploymentScheduleCreate(schedule=CronSchedule(cron="0 2 29 2 *"), active=True)
    soon = datetime.now(UTC) + timedelta(minutes=10)
    with get_client(sync_client=True) as client:
        deployment_id = client.create_deployment(
            flow_id=client.create_flow(probe), name=name, schedules=[cron]
        )
        done = client.create_flow_run_from_deployment(deployment_id)
        client.set_flow_run_state(done.id, Running(), force=True)
        client.set_flow_run_state(done.id, Completed(), force=True)
        upcoming = client.create_flow_run_from_deployment(
            deployment_id, state=Scheduled(scheduled_time=soon)
        )

    view = scheduler_view()

    assert view.available and view.problem is None
    (ours,) = [d for d in view.deployments if d.deployment == f"scheduler-probe/{name}"]
    assert ours.schedule == "cron 0 2 29 2 *" and not ours.paused
    last, following = ours.last, ours.next
    assert last is not None and following is not None
    assert (last.flow_run_id, last.state, last.state_type) == (
        str(done.id),
        "Completed",
        "COMPLETED",
    )
    assert last.start is not None and last.start <= datetime.now(UTC)
    assert last.duration_seconds is not None and last.duration_seconds >= 0
    ui = str(PREFECT_API_URL.value()).removesuffix("/api")
    assert last.url == f"{ui}/runs/flow-run/{done.id}"
    assert (following.flow_run_id, following.state) == (str(upcoming.id), "Scheduled")
    assert following.start is not None and abs((following.start - soon).total_seconds()) < 1
    assert following.duration_seconds is None


def test_without_an_api_url_the_scheduler_is_not_asked():
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        view = scheduler_view()
    assert not view.available and view.api_url is None and view.deployments == []
    assert view.problem == "no Prefect API configured (PREFECT_API_URL)"


def test_an_api_that_does_not_answer_gives_one_line():
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        view = scheduler_view(timeout=1.0)
    assert not view.available and view.deployments == []
    assert view.problem is not None and "\n" not in view.problem
    assert view.problem.startswith("the Prefect API at http://127.0.0.1:9/api did not answer")
