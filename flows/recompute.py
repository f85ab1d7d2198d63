"""The ``recompute`` flow: refresh the roll-ups, then compute and store one snapshot.

One coarse task, one call into models/value: the service refreshes the roll-ups and
reads the inputs the refresh does not change on a second connection meanwhile, so
both belong in the same call. It retries only on transient database errors
(connection lost, lock timeout); a rules error or a data error fails the run at once.
The refresh and the snapshot are one transaction each, so a retry redoes only what
did not commit (a refresh that did commit finds no new batch). Writes use no result
cache: exactly-once comes from the database (``rollup_batch`` keys), not from
Prefect state.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from flows.locking import holding_the_database
from flows.notify import notify_failure
from flows.retries import retry_on_transient
from flows.scaleout import ScaleOut, ScaleOutRefused, scale_out
from models.config import load_config
from models.db import make_engine
from models.errors import AccountopsError, ConfigError
from models.funnel.store import forecast_by_period, stored_run
from models.runlock import RunLockBusy, RunLockLost
from models.value.aggregates import PartitionedAggregates, customer_part_aggregates
from models.value.partitions import CustomerRange
from models.value.recompute import RecomputeResult, recompute
from models.value.windows import Windows


@task(
    name="recompute-snapshot",
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_on_transient,
)
def recompute_task(
    database_url: str,
    config: dict[str, Any],
    as_of: date | None,
    run_id: str | None,
    scale: ScaleOut | None = None,
) -> RecomputeResult | AccountopsError:
    """The snapshot; a rules or data error is returned, not raised: it is the run's
    outcome, said in one line, not a fault to retry or to print a traceback for.
    With ``scale``, the customers' base aggregates are read in ranges on its cluster."""
    engine = make_engine(database_url)
    by_parts = _customer_parts_on(scale, database_url) if scale is not None else None
    try:
        return recompute(engine, config, as_of=as_of, flow_run_id=run_id, by_parts=by_parts)
    except AccountopsError as exc:
        return exc
    finally:
        engine.dispose()


@task(
    name="recompute-customer-part",
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_on_transient,
    cache_policy=NO_CACHE,
)
def customer_part_task(
    database_url: str, windows: Windows, bucket_days: tuple[int, int, int], part: CustomerRange
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One range of customers' base aggregates, on a connection of its own (reads only)."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            return customer_part_aggregates(conn, windows, bucket_days, part)
    finally:
        engine.dispose()


@flow(name="recompute-customer-parts")
def customer_parts_flow(
    database_url: str,
    windows: Windows,
    bucket_days: tuple[int, int, int],
    parts: list[CustomerRange],
) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Every range's base aggregates, one task per range on this flow's task runner (a
    Dask cluster), in the ranges' order."""
    futures = customer_part_task.map(
        unmapped(database_url), unmapped(windows), unmapped(bucket_days), parts
    )
    return [future.result() for future in futures]


def _customer_parts_on(scale: ScaleOut, database_url: str) -> PartitionedAggregates:
    """The base aggregates read in ``scale.parts`` ranges on ``scale``'s cluster."""
    on_cluster = customer_parts_flow.with_options(task_runner=scale.task_runner())

    def read(windows, bucket_days, ranges):
        return on_cluster(database_url, windows, bucket_days, ranges)

    return PartitionedAggregates(scale.parts, read)


@flow(name="recompute", on_failure=[notify_failure], on_crashed=[notify_failure])
def recompute_flow(
    database_url: str | None = None,
    as_of: date | None = None,
    config_file: str | None = None,
    config: dict[str, Any] | None = None,
    dask_address: str | None = None,
    dask_workers: int | None = None,
) -> State[Any]:
    """Roll-ups, then measures, tiers, migrations, segments, receivables and managers;
    the final state's data is the snapshot's summary.

    ``database_url`` defaults to the settings (ACCOUNTOPS_DATABASE_URL), as in a deployment.
    The rules are ``config`` when a parent run read them already, else ``config_file``'s.
    The run holds the database's run lock (a pipeline that calls it holds it already).
    ``dask_address`` or ``dask_workers`` (default: the settings) read the customers'
    base aggregates in ranges on a Dask cluster (flows/scaleout.py).
    """
    if database_url is None:
        from models.settings import Settings

        database_url = Settings().database_url
    logger = get_run_logger()
    run_id = str(flow_run.id) if flow_run.id else None
    try:
        scale = scale_out(database_url, dask_address, dask_workers)
        if config is None:
            config = load_config(Path(config_file) if config_file else None)
        if scale is not None:
            logger.info("customer base aggregates on %s", scale.describe())
        with holding_the_database(database_url):
            result = recompute_task(database_url, config, as_of, run_id, scale)
    except (ConfigError, RunLockBusy, RunLockLost, ScaleOutRefused) as exc:
        result = exc
    if isinstance(result, AccountopsError):  # the run's outcome: one line, no traceback
        logger.error("recompute failed: %s", result)
        return Failed(message=str(result), data=result)
    refreshed = result.refresh.summary() if result.refresh else {}
    logger.info("roll-ups: %s", refreshed)
    create_table_artifact(
        key="tier-summary",
        table=[{"tier": k, "customers": v} for k, v in result.tier_counts.items()],
        description=f"snapshot {result.snapshot_id} as of {result.as_of}",
    )
    logger.info("snapshot %s as of %s: %s", result.snapshot_id, result.as_of, result.tier_counts)
    _funnel_artifact(database_url, result.snapshot_id)
    summary = {
        "snapshot_id": result.snapshot_id,
        "as_of": result.as_of.isoformat(),
        "customers_tiered": result.customers_tiered,
        "tier_counts": result.tier_counts,
        "migrations": result.migrations,
        "rollups": refreshed,
    }
    return Completed(message=f"snapshot {result.snapshot_id} as of {result.as_of}", data=summary)


def _funnel_artifact(database_url: str, snapshot_id: int) -> None:
    """The forecast the snapshot stored, per period, with the backtest's errors."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            run = stored_run(conn, snapshot_id)
            table = forecast_by_period(conn, snapshot_id)
    finally:
        engine.dispose()
    if run is None:
        return
    errors = {k: run[k] for k in ("learned_error", "naive_error")}
    shown = {k: "n/a" if v is None else f"{v:.1%}" for k, v in errors.items()}
    create_table_artifact(
        key="funnel-forecast",
        table=[
            {str(k): str(v) if k == "period_start" else float(v) for k, v in row.items()}
            for row in table.to_dict("records")
        ],
        description=(
            f"weighted forecast per {run['period']}, snapshot {snapshot_id}; backtest error "
            f"learned {shown['learned_error']}, naive {shown['naive_error']}"
        ),
    )
    get_run_logger().info("funnel backtest error: %s", shown)
