"""Scale-out: the ingest's waves of batches and the recompute's ranges of customers as
Prefect tasks on a Dask cluster (prefect-dask's DaskTaskRunner), PostgreSQL shared.

Off by default: each flow then runs as it always has, in one process. On, with a
cluster's address (``--dask-address`` / ``ACCOUNTOPS_DASK_ADDRESS``) or a local cluster
of N workers (``--dask-workers`` / ``ACCOUNTOPS_DASK_WORKERS``):

- the ingest loads the entities of one wave side by side, each entity's files in order
  (:func:`models.ingest.paths.load_waves`): one ``ingest-batch`` task per file;
- the recompute reads the customers' base aggregates in ranges, one
  ``recompute-customer-part`` task per range
  (:class:`models.value.aggregates.PartitionedAggregates`), and does the rest (tiers
  rank every customer against every other, the CLV model is fitted on all) as before.

The flow that coordinates holds the database's run lock; the tasks on the workers never
take it (they are tasks, not flows), so a worker never waits for its own run.
A file database cannot be shared by workers on several machines: on SQLite the option
is refused, in one line, before anything runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from models.db import display_url
from models.errors import AccountopsError

# Customer ranges per worker of a local cluster: a range that finishes early leaves its
# worker another to take. A cluster given by address is cut into DEFAULT_PARTS.
PARTS_PER_WORKER = 2
DEFAULT_PARTS = 8


class ScaleOutRefused(AccountopsError):
    """Scale-out was asked for where it cannot work."""

    code = "SCALE_OUT_REFUSED"


@dataclass(frozen=True)
class ScaleOut:
    """Where the tasks run: the cluster at ``address``, else a local cluster of
    ``workers`` workers (threads of this process: the work is the database's); and in
    how many ranges the recompute reads the customers."""

    address: str | None
    workers: int | None
    parts: int

    def task_runner(self) -> Any:
        """A DaskTaskRunner on this cluster (a local one lives as long as the flow run)."""
        from prefect_dask import DaskTaskRunner

        # distributed logs every worker's start and stop at INFO; the run's log is ours.
        logging.getLogger("distributed").setLevel(logging.WARNING)
        if self.address:
            return DaskTaskRunner(address=self.address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": self.workers,
                "threads_per_worker": 1,
                # Threads: process workers without PREFECT_API_URL would each start a
                # temporary Prefect server of their own (four times slower).
                "processes": False,
                "dashboard_address": None,
            }
        )

    def describe(self) -> str:
        where = self.address or f"a local cluster of {self.workers} worker(s)"
        return f"Dask on {where}, customers in {self.parts} range(s)"


def scale_out(
    database_url: str, address: str | None = None, workers: int | None = None
) -> ScaleOut | None:
    """The scale-out a run asked for (its parameters, else the settings), or None: one
    process, as always. Refused on SQLite, and for fewer than one worker."""
    if address is None and workers is None:
        from models.settings import Settings

        settings = Settings()
        address, workers = settings.dask_address, settings.dask_workers
    if not address and workers is None:
        return None
    if database_url.startswith("sqlite"):
        raise ScaleOutRefused(
            f"scale-out needs a database every worker can reach: {display_url(database_url)} "
            "is a file on this machine; use PostgreSQL, or run without --dask-address "
            "and --dask-workers"
        )
    if not address and (workers is None or workers < 1):
        raise ScaleOutRefused(f"scale-out needs at least one Dask worker, not {workers}")
    parts = DEFAULT_PARTS if address else PARTS_PER_WORKER * (workers or 1)
    return ScaleOut(address or None, None if address else workers, parts)
