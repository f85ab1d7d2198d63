"""The run lock around a flow: one run writes a database at a time.

The pipeline, ingest and recompute flows each hold :func:`models.runlock.run_lock` for
their whole run, named after the flow run (flow, run name, id) so a run that waits, or
gives up waiting, says which run it waited for. Inside the pipeline the ingest and
recompute subflows find the lock held by their parent and go on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect import get_run_logger
from prefect.runtime import flow_run

from models.db import make_engine
from models.runlock import Holder, run_lock
from models.settings import Settings


def run_label() -> str:
    """This flow run as people see it in the Prefect UI: flow, run name and id."""
    if flow_run.id:
        return f"{flow_run.flow_name} run '{flow_run.name}' ({flow_run.id})"
    return "a run outside Prefect"


@contextmanager
def holding_the_database(database_url: str, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold the database's run lock for the block (waits per the settings, then fails)."""
    logger = get_run_logger()
    settings = Settings()
    wait = settings.run_lock_wait_seconds if wait_seconds is None else wait_seconds

    def waiting(other: Holder | None) -> None:
        who = other.describe() if other else "another run"
        logger.info("waiting up to %g s for %s to finish", wait, who)

    engine = make_engine(database_url)
    try:
        lease = settings.run_lock_lease_seconds
        with run_lock(engine, run_label(), wait_seconds=wait, waiting=waiting, lease_seconds=lease):
            yield
    finally:
        engine.dispose()
