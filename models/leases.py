"""Leases kept alive: a thread that renews one while the work it covers runs.

A lease names a process and runs until a time; the process pushes that time on while it
works, so a process that dies, on whatever host, stops renewing and its lease runs out.
Used by the ingest's batch claims (models/ingest/lease.py) and by the SQLite run lock
(models/runlock.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError


class Renewing:
    """Call ``renew`` every third of ``lease`` on a thread of its own while the ``with``
    block runs. A renewal that fails with a database error (the database busy, or
    briefly away) is tried again at the next tick: the lease has two more to go."""

    def __init__(self, renew: Callable[[], object], lease: timedelta, name: str) -> None:
        self._renew, self.lease = renew, lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> Renewing:
        return self.start()

    def start(self) -> Renewing:
        """Begin renewing (the first renewal a third of the lease from now)."""
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        """Renew no more (waits for a renewal under way to end)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        interval = self.lease.total_seconds() / 3
        while not self._stop.wait(interval):
            try:
                self._renew()
            except SQLAlchemyError:
                continue
