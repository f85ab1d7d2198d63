"""One pipeline at a time per database: the run lock.

Ingest, recompute and the dashboard refresh write shared tables (the ledger, the
roll-ups and their ``rollup_batch`` keys, snapshots, the dashboard's tables). Two
runs interleaving on one database would split the batches between them and each
publish a snapshot, one possibly computed before the other's batches landed. So every
run that writes them holds this lock for its whole length; a second run waits for it
up to a configurable time, then stops with :class:`RunLockBusy`, naming the run that
holds it and since when.

- **PostgreSQL**: a session advisory lock on a connection kept open for the run. The
  server releases it when that connection ends, so a killed run frees it at once.
- **SQLite**: a row in ``run_lock``, written under ``BEGIN IMMEDIATE``. A row left by
  a process that no longer runs on this host is taken over; so is a row from another
  host (a container replaced, its database file kept) once its lease has run out: the
  run holding the lock renews it every third of ``lease_seconds``
  (``ACCOUNTOPS_RUN_LOCK_LEASE_SECONDS``).

In both, the ``run_lock`` row names the holder. The lock is re-entrant within one
run: the pipeline holds it, and the ingest and recompute it calls find it held by
their own context and go on (a :class:`~contextvars.ContextVar`, which Prefect carries
into the subflows and tasks it runs).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from .db import display_url
from .errors import AccountopsError
from .leases import Renewing
from .schema import RunLock

PIPELINE_LOCK = "pipeline"
# The session advisory lock of the pipeline ("AccRun"); the ingest's load lock is another.
ADVISORY_KEY = 0x41636352756E
POLL_SECONDS = 0.5
LEASE_SECONDS = 600.0  # the default of ACCOUNTOPS_RUN_LOCK_LEASE_SECONDS (models/settings.py)
RELEASE_TRIES = 10  # each waits up to SQLite's busy_timeout (models.db)

_held: ContextVar[frozenset[str]] = ContextVar("accountops_run_locks", default=frozenset())


class RunLockBusy(AccountopsError):
    """Another run held the lock for longer than this run would wait."""

    code = "RUN_LOCKED"


class RunLockLost(AccountopsError):
    """The lock went during the run: on PostgreSQL its connection dropped, so the server
    let it go; on SQLite its lease ran out (a write held renewals back for longer than
    the lease) and another run took it over."""

    code = "RUN_LOCK_LOST"


@dataclass(frozen=True)
class Holder:
    """The run that holds a lock, as its ``run_lock`` row names it."""

    holder: str
    host: str
    pid: int
    since: datetime
    lease_until: datetime | None = None

    def live(self, now: datetime) -> bool:
        """Whether that run may still hold the lock (SQLite): on this host, while its
        process runs; on another, which cannot be checked, while its lease runs (a row
        without one: taken to be running)."""
        if self.host == socket.gethostname():
            return process_alive(self.host, self.pid)
        return self.lease_until is None or self.lease_until > now

    def describe(self) -> str:
        lease = ""
        if self.lease_until is not None and self.host != socket.gethostname():
            lease = f", its lease until {self.lease_until.astimezone(UTC):%H:%M:%S} UTC"
        return (
            f"{self.holder} (pid {self.pid} on {self.host}{lease}) since "
            f"{self.since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
        )


def process_alive(host: str | None, pid: int | None) -> bool:
    """Whether a process still runs; one on another host is taken to be alive."""
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid or 0), 0)
    except PermissionError:
        return True  # it runs, under another user
    except (OSError, ValueError):
        return False
    return True


def current_holder(conn: Connection, name: str = PIPELINE_LOCK) -> Holder | None:
    """Who holds ``name`` now, as recorded (None: nobody recorded)."""
    t = RunLock.__table__
    row = conn.execute(
        select(t.c.holder, t.c.host, t.c.pid, t.c.since, t.c.lease_until).where(t.c.name == name)
    ).first()
    return Holder(row.holder, row.host, row.pid, row.since, row.lease_until) if row else None


@contextmanager
def run_lock(
    engine: Engine,
    holder: str,
    *,
    wait_seconds: float,
    name: str = PIPELINE_LOCK,
    waiting: Callable[[Holder | None], None] | None = None,
    lease_seconds: float = LEASE_SECONDS,
) -> Iterator[None]:
    """Hold the run lock ``name`` on ``engine``'s database for the ``with`` block.

    Waits up to ``wait_seconds`` for another run to finish (calling ``waiting`` once
    with that run, if given), then raises :class:`RunLockBusy` naming it. Re-entrant:
    inside a block that holds the lock already, it does nothing. ``lease_seconds``: on
    SQLite, how long the lock holds for a run on another host unless renewed (see the
    module).
    """
    key = f"{display_url(str(engine.url))}#{name}"
    if key in _held.get():
        yield
        return
    me = _Claim(name, str(uuid.uuid4()), holder[:300], socket.gethostname(), os.getpid())
    lock = (
        _PostgresLock(engine, me)
        if engine.dialect.name == "postgresql"
        else _SqliteLock(engine, me, timedelta(seconds=lease_seconds))
    )
    try:
        _wait_for(lock, engine, name, wait_seconds, waiting)
    except BaseException:
        lock.close()  # an error or a stop while waiting: no connection left behind
        raise
    token = _held.set(_held.get() | {key})
    try:
        yield
    except BaseException:
        _held.reset(token)
        lock.release()
        raise
    _held.reset(token)
    if not lock.release():
        raise RunLockLost(
            f"the {name} lock on {display_url(str(engine.url))} was lost during the run "
            f"({lock.LOST_BECAUSE}): another run may have written at the same time; check "
            "`accountops batches` and run again"
        )


def _wait_for(
    lock: _PostgresLock | _SqliteLock,
    engine: Engine,
    name: str,
    wait_seconds: float,
    waiting: Callable[[Holder | None], None] | None,
) -> None:
    deadline = time.monotonic() + max(wait_seconds, 0.0)
    told = False
    while not lock.try_acquire():
        if not told and waiting is not None:
            waiting(lock.holder())
            told = True
        if time.monotonic() >= deadline:
            other = lock.holder()
            who = other.describe() if other else "another run"
            raise RunLockBusy(
                f"the database {display_url(str(engine.url))} is busy: {who} holds the "
                f"{name} lock; waited {wait_seconds:g} s (ACCOUNTOPS_RUN_LOCK_WAIT_SECONDS)"
            )
        time.sleep(POLL_SECONDS)


@dataclass(frozen=True)
class _Claim:
    name: str
    token: str
    holder: str
    host: str
    pid: int

    def row(self, lease: timedelta | None = None) -> dict[str, object]:
        """The ``run_lock`` row, with a lease from now if ``lease`` is given."""
        now = datetime.now(UTC)
        return {
            "name": self.name,
            "token": self.token,
            "holder": self.holder,
            "host": self.host,
            "pid": self.pid,
            "since": now,
            "lease_until": None if lease is None else now + lease,
        }


class _PostgresLock:
    """A session advisory lock on a connection of its own, kept for the run."""

    LOST_BECAUSE = "its connection dropped"

    def __init__(self, engine: Engine, claim: _Claim) -> None:
        self.engine, self.claim = engine, claim
        self.conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def try_acquire(self) -> bool:
        if not self.conn.scalar(select(func.pg_try_advisory_lock(ADVISORY_KEY))):
            return False
        t = RunLock.__table__
        self.conn.execute(delete(t).where(t.c.name == self.claim.name))
        self.conn.execute(insert(t).values(**self.claim.row()))
        self.conn.commit()  # each statement committed already (autocommit)
        return True

    def holder(self) -> Holder | None:
        found = current_holder(self.conn, self.claim.name)
        self.conn.commit()
        return found

    def release(self) -> bool:
        """Let the lock go; False if it was gone already (its connection had dropped, and
        the server released the lock with it)."""
        t = RunLock.__table__
        mine = (t.c.name == self.claim.name) & (t.c.token == self.claim.token)
        try:
            self.conn.execute(delete(t).where(mine))
            held = bool(self.conn.scalar(select(func.pg_advisory_unlock(ADVISORY_KEY))))
            self.conn.commit()
            return held
        except DBAPIError:
            return False
        finally:
            self.close()

    def close(self) -> None:
        self.conn.close()


class _SqliteLock:
    """The ``run_lock`` row is the lock; a dead holder's row is taken over, and so is a
    row from another host whose lease ran out. Ours is renewed while we hold it."""

    LOST_BECAUSE = "its lease ran out and another run took it over"

    def __init__(self, engine: Engine, claim: _Claim, lease: timedelta) -> None:
        self.engine, self.claim, self.lease = engine, claim, lease
        self._renewing: Renewing | None = None
        self._lost = False  # a renewal found our row gone: another run took the lock

    def try_acquire(self) -> bool:
        if self._held_by_another():  # a plain read: WAL lets it pass a writer
            return False
        t = RunLock.__table__
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                if self._held_by_another(conn):
                    conn.rollback()
                    return False
                conn.execute(delete(t).where(t.c.name == self.claim.name))
                conn.execute(insert(t).values(**self.claim.row(self.lease)))
                conn.commit()
        except OperationalError as exc:
            if "locked" in str(exc.orig):  # a long write transaction: still busy, wait on
                return False
            raise
        try:
            renewing = Renewing(self._renew, self.lease, f"run-lock-{self.claim.name}")
            self._renewing = renewing.start()
        except BaseException:
            self.release()
            raise
        return True

    def _renew(self) -> None:
        """Push our lease on; if our row is gone (another run took the lock over, our
        lease having run out), remember it: :meth:`release` then says the lock was lost."""
        t = RunLock.__table__
        mine = (t.c.name == self.claim.name) & (t.c.token == self.claim.token)
        with self.engine.begin() as conn:
            pushed = conn.execute(
                update(t).where(mine).values(lease_until=datetime.now(UTC) + self.lease)
            )
        if pushed.rowcount == 0:
            self._lost = True

    def _held_by_another(self, conn: Connection | None = None) -> bool:
        if conn is None:
            with self.engine.connect() as own:
                return self._held_by_another(own)
        other = current_holder(conn, self.claim.name)
        return other is not None and other.live(datetime.now(UTC))

    def holder(self) -> Holder | None:
        with self.engine.connect() as conn:
            return current_holder(conn, self.claim.name)

    def release(self) -> bool:
        """Delete our row, waiting out other writers (busy_timeout, then tries again);
        False if it was gone already (another run took the lock over after our lease ran
        out: the run may have overlapped with it)."""
        self.close()
        t = RunLock.__table__
        mine = (t.c.name == self.claim.name) & (t.c.token == self.claim.token)
        for attempt in range(RELEASE_TRIES):
            try:
                with self.engine.begin() as conn:
                    deleted = conn.execute(delete(t).where(mine)).rowcount
                return deleted > 0 and not self._lost
            except OperationalError as exc:
                if "locked" not in str(exc.orig) or attempt == RELEASE_TRIES - 1:
                    raise
        raise AssertionError("unreachable: the last try returns or raises")

    def close(self) -> None:
        if self._renewing is not None:
            self._renewing.stop()
            self._renewing = None
