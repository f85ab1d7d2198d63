"""What the Prefect scheduler knows: each deployment's last and next flow run.

Read-only, returning plain dataclasses: the Data health page shows it (the one module of
flows/ a page may import; see the import contracts in pyproject.toml). The API is asked
only when ``PREFECT_API_URL`` is set explicitly (environment or Prefect profile): without
it the client would start a temporary server of its own, which knows no deployment. A
short timeout and no retry: an API that does not answer gives ``problem``, one line the
page shows above what the database recorded. Prefect is imported only when asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TIMEOUT_SECONDS = 3.0
MAX_DEPLOYMENTS = 20


@dataclass(frozen=True)
class FlowRunInfo:
    """One flow run as the scheduler reports it."""

    flow_run_id: str
    name: str
    state: str  # the state's name: Completed, Failed, Running, Scheduled, Late, ...
    state_type: str  # COMPLETED, FAILED, RUNNING, SCHEDULED, ...
    start: datetime | None  # when it started, or (not started yet) when it is expected to
    duration_seconds: float | None  # run time so far for a running one; None if not started
    url: str | None  # the run in the Prefect UI


@dataclass(frozen=True)
class DeploymentRuns:
    """A deployment, its schedules and its last and next runs."""

    deployment: str  # "<flow name>/<deployment name>", as `prefect deployment run` takes it
    schedule: str  # cron or interval of its active schedules ("" when run on demand)
    paused: bool
    last: FlowRunInfo | None
    next: FlowRunInfo | None


@dataclass(frozen=True)
class SchedulerView:
    """The scheduler's answer, or why there is none (``problem``, one line)."""

    api_url: str | None
    deployments: list[DeploymentRuns] = field(default_factory=list)
    problem: str | None = None

    @property
    def available(self) -> bool:
        return self.api_url is not None and self.problem is None


def configured_api_url() -> str | None:
    """PREFECT_API_URL when set explicitly, else None (the temporary server's does not count)."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or None


def scheduler_view(timeout: float = TIMEOUT_SECONDS) -> SchedulerView:
    """Each deployment's last and next run, from the API; ``problem`` when it cannot answer."""
    api_url = configured_api_url()
    if api_url is None:
        return SchedulerView(None, problem="no Prefect API configured (PREFECT_API_URL)")
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    # One try, bounded: a page must not wait through the client's retries and backoff.
    quick = {"timeout": timeout, "transport": httpx.HTTPTransport(retries=0)}
    try:
        with (
            temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}),
            get_client(httpx_settings=quick, sync_client=True) as client,
        ):
            deployments = _deployment_runs(client, prefect_ui_url())
    except Exception as exc:  # unreachable, refused, timed out, an HTTP error: same answer
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return SchedulerView(
            api_url, problem=f"the Prefect API at {api_url} did not answer: {reason}"
        )
    return SchedulerView(api_url, deployments)


def _deployment_runs(client: Any, ui_url: str | None) -> list[DeploymentRuns]:
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterId,
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import DeploymentSort, FlowRunSort

    deployments = client.read_deployments(sort=DeploymentSort.NAME_ASC, limit=MAX_DEPLOYMENTS)
    if not deployments:
        return []
    flow_ids = list({d.flow_id for d in deployments})
    flows = client.read_flows(flow_filter=FlowFilter(id=FlowFilterId(any_=flow_ids)))
    flow_names = {f.id: f.name for f in flows}
    out = []
    for d in deployments:
        of_deployment = FlowRunFilterDeploymentId(any_=[d.id])
        last = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=of_deployment, start_time=FlowRunFilterStartTime(is_null_=False)
            ),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )
        upcoming = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=of_deployment,
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=1,
        )
        out.append(
            DeploymentRuns(
                deployment=f"{flow_names.get(d.flow_id, '?')}/{d.name}",
                schedule=", ".join(_schedule_text(s.schedule) for s in d.schedules if s.active),
                paused=bool(d.paused),
                last=_run_info(last[0], ui_url) if last else None,
                next=_run_info(upcoming[0], ui_url) if upcoming else None,
            )
        )
    return out


def _run_info(run: Any, ui_url: str | None) -> FlowRunInfo:
    state = run.state
    started = run.start_time
    duration = run.estimated_run_time if started is not None else None
    return FlowRunInfo(
        flow_run_id=str(run.id),
        name=run.name,
        state=state.name if state else "Unknown",
        state_type=state.type.value if state else "UNKNOWN",
        start=started if started is not None else run.expected_start_time,
        duration_seconds=duration.total_seconds() if duration is not None else None,
        url=flow_run_url(ui_url, str(run.id)),
    )


def flow_run_url(ui_url: str | None, flow_run_id: str | None) -> str | None:
    """The flow run's page in the Prefect UI (PREFECT_UI_URL), or None."""
    if not ui_url or not flow_run_id:
        return None
    return f"{ui_url.rstrip('/')}/runs/flow-run/{flow_run_id}"


def prefect_ui_url() -> str | None:
    """PREFECT_UI_URL (set, or inferred from an explicit PREFECT_API_URL), else None."""
    from prefect.settings import get_current_settings

    return get_current_settings().ui_url or None


def _schedule_text(schedule: Any) -> str:
    cron = getattr(schedule, "cron", None)
    if cron:
        return f"cron {cron}"
    interval = getattr(schedule, "interval", None)
    if interval is not None:
        return f"every {interval}"
    rrule = getattr(schedule, "rrule", None)
    return f"rrule {rrule}" if rrule else type(schedule).__name__
