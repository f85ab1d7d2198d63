"""Leases kept alive: a thread that renews one while the work it covers runs.

A lease names a process and runs until a time; the process pushes that time on while it
works, so a process that dies, on whatever host, stops renewing and its lease runs out.
Used by the ingest's batch claims (models/ingest/lease.py) and by the SQLite run lock
(models/runlock.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

log = logging.getLogger(__name__)


class Renewing:
    """Call ``renew`` every third of ``lease`` on a thread of its own while the ``with``
    block runs. A renewal that fails (the database busy or briefly away: on SQLite, a
    write transaction holds renewals back for up to its busy timeout at a time) is tried
    again within ``RETRY_SECONDS``, not a third of the lease later, so the lease is pushed
    on as soon as the database lets it; no failure ends the thread."""

    RETRY_SECONDS = 1.0

    def __init__(self, renew: Callable[[], object], lease: timedelta, name: str) -> None:
        self._renew, self.lease = renew, lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> Renewing:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> Renewing:
        """Begin renewing (the first renewal a third of the lease from now)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Renew no more (waits for a renewal under way to end)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        every = self.lease.total_seconds() / 3
        wait = every
        while not self._stop.wait(wait):
            try:
                self._renew()
            except Exception:  # a renewal must not end the thread
                # Expected while a long write holds SQLite: not worth a warning each time.
                log.debug("renewing %s failed; trying again", self._thread.name, exc_info=True)
                wait = min(self.RETRY_SECONDS, every)
            else:
                wait = every
