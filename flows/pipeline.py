"""The ``pipeline`` flow: ingest -> recompute -> refresh, as one parent Prefect flow.

Each step runs only when the step it depends on succeeded. A step that fails
stops the rest, keeps what earlier steps committed (every step commits its own
work in its own transaction), and the parent ends ``Failed`` with the reason:
a refused batch means no new snapshot (RELIABILITY I6 and Q1), a failed
recompute means no refresh, and the dashboard keeps showing the last complete
snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.states import Completed, Failed, State

from flows.ingest import ingest
from flows.locking import holding_the_database
from flows.notify import notify_failure, notify_quarantine
from flows.recompute import recompute_flow
from flows.retries import retry_on_transient
from flows.scaleout import ScaleOutRefused, scale_out
from models.errors import AccountopsError
from models.runlock import RunLockBusy, RunLockLost

STEPS = ("ingest", "recompute", "refresh")


@task(
    name="refresh-dashboard",
    retries=2,
    retry_delay_seconds=2,
    retry_condition_fn=retry_on_transient,
)
def refresh_task(database_url: str, snapshot_id: int, config: dict[str, Any]) -> dict[str, Any]:
    """Write the dashboard's aggregate tables for one snapshot (one transaction)."""
    from models.dashboard.refresh import refresh_dashboard
    from models.db import make_engine

    engine = make_engine(database_url)
    try:
        result = refresh_dashboard(engine, snapshot_id, config)
    finally:
        engine.dispose()
    return {"snapshot_id": snapshot_id, "tables": getattr(result, "tables", None)}


@contextmanager
def as_a_step() -> Iterator[None]:
    """Run the flows called in the block as steps of this run: without heartbeats of their
    own. The parent's heartbeats cover the one process they share (when it is killed they
    stop, and an automation on missing heartbeats marks the parent crashed), and a step
    that is a subflow stays silent, as with notifications (flows/notify.py). Each heartbeat
    thread also costs its flow run up to a second at the end, when Prefect waits for it to
    wake from its one-second sleep."""
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


PREFECT_PREFIX = "Flow run encountered an exception: "


def failure(state: State[Any]) -> tuple[str, str]:
    """(error code, one-line reason) of a failed step: our error's own code and words,
    else PIPELINE_FAILED and the first line of what Prefect reports."""
    error = state.result(raise_on_failure=False)
    if isinstance(error, AccountopsError):
        return error.code, str(error.args[0]).splitlines()[0]
    lines = (state.message or "the step failed").strip().splitlines() or ["the step failed"]
    return "PIPELINE_FAILED", lines[0].removeprefix(PREFECT_PREFIX)


def _step_table(steps: list[dict[str, str]]) -> str:
    lines = ["| step | outcome | seconds | detail |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {s['step']} | {s['outcome']} | {s.get('seconds', '')} | {s['detail']} |" for s in steps
    ]
    return "\n".join(lines)


@flow(
    name="pipeline",
    on_failure=[notify_failure],
    on_crashed=[notify_failure],
    on_completion=[notify_quarantine],
)
def pipeline(
    paths: list[str] | None = None,
    database_url: str | None = None,
    as_of: date | None = None,
    mapping_file: str | None = None,
    config_file: str | None = None,
    inbox: bool = False,
    dask_address: str | None = None,
    dask_workers: int | None = None,
) -> State[Any]:
    """Ingest ``paths`` (if any; with ``inbox``, the landing folder too), recompute a
    snapshot as of ``as_of`` (default: the last invoice), refresh the dashboard tables.

    The rules file is read once, here, and every step runs with the same rules. The run
    holds the database's run lock throughout: a second pipeline, ingest or recompute on
    the same database waits for it (``ACCOUNTOPS_RUN_LOCK_WAIT_SECONDS``).
    ``dask_address`` or ``dask_workers`` (default: the settings) run the ingest's waves
    and the recompute's customer ranges on a Dask cluster (flows/scaleout.py); the
    refresh, one transaction of aggregate statements, runs here either way."""
    from models.config import load_config
    from models.settings import Settings

    logger = get_run_logger()
    database_url = database_url or Settings().database_url
    config = load_config(Path(config_file) if config_file else None)
    scale: dict[str, Any] = {"dask_address": dask_address, "dask_workers": dask_workers}
    try:
        scale_out(database_url, dask_address, dask_workers)  # refused on SQLite: first
        with holding_the_database(database_url), as_a_step():
            return _steps(
                paths, inbox, database_url, as_of, mapping_file, config_file, config, scale
            )
    except ScaleOutRefused as exc:
        logger.error("pipeline not started: %s", exc)
        skipped = [{"step": s, "outcome": "not run", "detail": "refused"} for s in STEPS]
        return Failed(
            message=exc.args[0],
            data={"steps": skipped, "batches": [], "error_code": exc.code},
        )
    except (RunLockBusy, RunLockLost) as exc:
        logger.error("pipeline not started: %s", exc)
        skipped = [{"step": s, "outcome": "not run", "detail": "database busy"} for s in STEPS]
        return Failed(
            message=exc.args[0],
            data={"steps": skipped, "batches": [], "error_code": exc.code},
        )


def _steps(
    paths: list[str] | None,
    inbox: bool,
    database_url: str,
    as_of: date | None,
    mapping_file: str | None,
    config_file: str | None,
    config: dict[str, Any],
    scale: dict[str, Any],
) -> State[Any]:
    """The steps in order, each only if the one before it succeeded; ``scale``: the
    scale-out parameters the ingest and recompute get. Run inside :func:`as_a_step`."""
    logger = get_run_logger()
    steps: list[dict[str, str]] = []
    batches: list[dict[str, Any]] = []

    started = time.perf_counter()

    def done(step: str, outcome: str, detail: str) -> None:
        """One step's row; ``seconds``: its wall time, since the step before it ended."""
        nonlocal started
        now = time.perf_counter()
        seconds = f"{now - started:.1f}"
        steps.append({"step": step, "outcome": outcome, "seconds": seconds, "detail": detail})
        started = now

    def stop(step: str, state: State[Any]) -> State[Any]:
        code, reason = failure(state)
        done(step, "failed", reason)
        for later in STEPS[STEPS.index(step) + 1 :]:
            steps.append({"step": later, "outcome": "not run", "detail": f"{step} failed"})
        create_markdown_artifact(key="pipeline-report", markdown=_step_table(steps))
        logger.error("pipeline stopped at %s: %s", step, reason)
        return Failed(
            message=f"{step} failed: {reason}",
            data={"steps": steps, "batches": batches, "error_code": code},
        )

    if paths or inbox:
        # The ingest flow returns its final State itself; Prefect's overloads cannot see
        # that (they read the flow's return type), so the call's state is named here.
        ingested = cast(
            State[Any],
            ingest(
                paths=paths,
                database_url=database_url,
                mapping_file=mapping_file,
                config_file=config_file,
                inbox=inbox,
                **scale,
                return_state=True,
            ),
        )
        outcome = ingested.result(raise_on_failure=False)
        batches = outcome if isinstance(outcome, list) else []
        if not ingested.is_completed():
            return stop("ingest", ingested)
        done("ingest", "ok", f"{len(batches)} batch(es)")
    else:
        done("ingest", "skipped", "no paths given")

    state = recompute_flow(
        database_url=database_url, as_of=as_of, config=config, **scale, return_state=True
    )
    if not state.is_completed():
        return stop("recompute", state)
    snapshot = cast(dict[str, Any], state.result())  # the final state's data
    done("recompute", "ok", f"snapshot {snapshot['snapshot_id']} as of {snapshot['as_of']}")

    refreshed = refresh_task(database_url, snapshot["snapshot_id"], config, return_state=True)
    if not refreshed.is_completed():
        return stop("refresh", refreshed)
    done("refresh", "ok", "dashboard tables written")
    create_markdown_artifact(key="pipeline-report", markdown=_step_table(steps))
    return Completed(
        message=f"snapshot {snapshot['snapshot_id']} as of {snapshot['as_of']} is live",
        data={"steps": steps, "batches": batches, "snapshot": snapshot},
    )


@flow(name="month-end-snapshot", on_failure=[notify_failure], on_crashed=[notify_failure])
def month_end_snapshot(
    month: str | None = None,
    database_url: str | None = None,
    config_file: str | None = None,
) -> State[Any]:
    """The snapshot as of a month's last day, with the dashboard refreshed on it.

    ``month`` is YYYY-MM; by default the month before the run's scheduled start, so the
    run the scheduler starts on the 1st, and any re-run of it, snapshot the month just
    ended. A snapshot never changes once written: the month's tiers stay as they were at
    its end, whatever later runs compute.
    """
    from prefect.runtime import flow_run

    start = flow_run.scheduled_start_time
    as_of = month_end(month) if month else month_before(start.date() if start else date.today())
    with as_a_step():
        state = cast(
            State[Any],
            pipeline(
                database_url=database_url, as_of=as_of, config_file=config_file, return_state=True
            ),
        )
    data = state.result(raise_on_failure=False)
    if state.is_completed():
        return Completed(message=state.message, data=data)
    return Failed(message=state.message, data=data)


def month_before(day: date) -> date:
    """The last day of the month before ``day``'s (the schedule's date, in UTC: keep the
    month-end schedule in UTC, or a run just after midnight elsewhere picks a day early)."""
    return day.replace(day=1) - timedelta(days=1)


def month_end(month: str) -> date:
    """The last day of ``month`` (YYYY-MM); a clear error for anything else."""
    from models.errors import ConfigError

    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ConfigError(f"month {month!r} is not YYYY-MM") from None
    following = (first + timedelta(days=31)).replace(day=1)
    return following - timedelta(days=1)
