"""The run lock: one run writes a database at a time; the next waits, then names the holder."""

from __future__ import annotations

import contextvars
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from models.runlock import RunLockBusy, current_holder, run_lock
from models.schema import RunLock


def another_run(fn):
    """Run ``fn`` as another run would: in a context that holds no lock."""
    return contextvars.Context().run(fn)


def _holders(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(RunLock.holder)))


def test_a_second_run_waits_then_names_the_holder_and_since_when(engine):
    with run_lock(engine, "pipeline run 'first'", wait_seconds=0):
        assert _holders(engine) == ["pipeline run 'first'"]
        told = []
        started = time.monotonic()

        def second() -> None:
            with run_lock(engine, "pipeline run 'second'", wait_seconds=1.0, waiting=told.append):
                pytest.fail("the second run got the lock while the first held it")

        with pytest.raises(RunLockBusy) as refused:
            another_run(second)
        assert time.monotonic() - started >= 1.0
        message = str(refused.value)
        assert message.startswith("[RUN_LOCKED] the database ")
        assert "pipeline run 'first'" in message and f"on {socket.gethostname()}" in message
        assert f"pid {os.getpid()}" in message and " UTC" in message and "\n" not in message
        assert [h.holder for h in told] == ["pipeline run 'first'"]
    assert _holders(engine) == []  # released: the row goes with the lock


def test_the_waiting_run_goes_on_when_the_holder_finishes(engine):
    order: list[str] = []
    first_holds = threading.Event()

    def first() -> None:
        with run_lock(engine, "first", wait_seconds=0):
            first_holds.set()
            time.sleep(1.0)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    assert first_holds.wait(5)
    with run_lock(engine, "second", wait_seconds=30):
        order.append("second in")
        assert _holders(engine) == ["second"]
    thread.join()
    assert order == ["first done", "second in"]


def test_the_lock_is_reentrant_within_one_run(engine):
    with run_lock(engine, "pipeline", wait_seconds=0):
        with run_lock(engine, "its recompute", wait_seconds=0):  # would wait if not re-entrant
            assert _holders(engine) == ["pipeline"]
        assert _holders(engine) == ["pipeline"]  # the inner block released nothing
    with run_lock(engine, "next run", wait_seconds=0):
        assert _holders(engine) == ["next run"]


def test_a_failing_run_releases_the_lock(engine):
    with pytest.raises(ZeroDivisionError), run_lock(engine, "doomed", wait_seconds=0):
        1 / 0  # noqa: B018
    with run_lock(engine, "next", wait_seconds=0):
        assert _holders(engine) == ["next"]


def test_a_lock_left_by_a_killed_run_is_taken_over(engine, db_url):
    """SIGKILL runs no clean-up: on PostgreSQL the server frees the advisory lock with the
    connection; on SQLite the row names a process that no longer runs."""
    code = (
        "import sys, os, signal\n"
        "from models.db import make_engine\n"
        "from models.runlock import run_lock\n"
        "engine = make_engine(sys.argv[1])\n"
        "with run_lock(engine, 'killed run', wait_seconds=0):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, db_url], timeout=60)
    assert done.returncode == -9
    assert _holders(engine) == ["killed run"]  # the row stays behind ...
    with run_lock(engine, "next", wait_seconds=5):  # ... and does not hold anyone up
        assert _holders(engine) == ["next"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_a_row_of_a_live_process_elsewhere_holds(engine):
    """A holder on another host cannot be checked: without a lease that ran out (a row
    written before leases), it is taken to be running."""
    _far_away(engine, None)
    refused = pytest.raises(RunLockBusy, match="far away' \\(pid 1 on another-host\\) since 2026")
    with refused, run_lock(engine, "me", wait_seconds=0):
        pytest.fail("took the lock of a run that may still be running")
    with engine.connect() as conn:
        assert current_holder(conn).holder == "pipeline run 'far away'"


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_a_lock_lost_with_its_connection_fails_the_run(engine):
    """If the lock's connection drops, the server frees the lock while the run goes on:
    the run must not end as if it had held the database throughout."""
    from sqlalchemy import text

    from models.runlock import ADVISORY_KEY, RunLockLost

    lost = pytest.raises(RunLockLost, match=r"^\[RUN_LOCK_LOST\] the pipeline lock on .* lost")
    with lost, run_lock(engine, "cut off", wait_seconds=0), engine.begin() as conn:
        (pid,) = conn.execute(
            text(
                # This database's: other test workers hold the same key in theirs.
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' "
                "AND (classid::bigint << 32 | objid::bigint) = :key AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"key": ADVISORY_KEY},
        ).one()
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with run_lock(engine, "next", wait_seconds=0):  # the server had let it go
        assert _holders(engine) == ["next"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_a_waiting_run_waits_through_a_long_write(engine):
    """While the holder writes for longer than SQLite's busy timeout, the waiter keeps
    waiting for the lock instead of failing with "database is locked"."""
    holder_writes = threading.Event()
    done = threading.Event()

    def holder() -> None:
        with run_lock(engine, "writer", wait_seconds=0), engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            holder_writes.set()
            done.wait(5)
            conn.rollback()

    thread = threading.Thread(target=holder)
    thread.start()
    assert holder_writes.wait(5)
    try:
        with pytest.raises(RunLockBusy, match="writer"):
            another_run(lambda: run_lock(engine, "waiter", wait_seconds=1.0).__enter__())
    finally:
        done.set()
        thread.join()


def _far_away(engine, lease_until: datetime | None) -> None:
    """The lock row of a run on another host (whose process cannot be checked)."""
    with engine.begin() as conn:
        conn.execute(
            insert(RunLock).values(
                name="pipeline",
                token="t",
                holder="pipeline run 'far away'",
                host="another-host",
                pid=1,
                since=datetime(2026, 12, 5, 1, 0, tzinfo=UTC),
                lease_until=lease_until,
            )
        )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_a_row_from_another_host_whose_lease_ran_out_is_taken_over(engine):
    """A container replaced with its database file kept left its row behind: once the
    row's lease has run out, the next run takes the lock instead of waiting for good."""
    _far_away(engine, datetime.now(UTC) - timedelta(seconds=1))
    with run_lock(engine, "me", wait_seconds=0):
        assert _holders(engine) == ["me"]
    _far_away(engine, datetime.now(UTC) + timedelta(minutes=5))
    lease_runs = r"far away' \(pid 1 on another-host, its lease until"
    refused = pytest.raises(RunLockBusy, match=lease_runs)
    with refused, run_lock(engine, "me", wait_seconds=0):
        pytest.fail("took the lock of a run whose lease still runs")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_the_holder_renews_its_lease_while_it_runs(engine):
    """Every third of the lease the holder pushes it on, so a run longer than its lease
    keeps the lock; once released, the row is gone."""

    def lease_until() -> datetime:
        with engine.connect() as conn:
            return current_holder(conn).lease_until

    with run_lock(engine, "long run", wait_seconds=0, lease_seconds=3):
        first = lease_until()
        assert timedelta(seconds=2) < first - datetime.now(UTC) <= timedelta(seconds=3)
        time.sleep(1.3)  # one renewal (every second)
        assert lease_until() > first
    assert _holders(engine) == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_a_run_whose_lock_was_taken_over_ends_lock_lost(engine):
    """Its lease ran out while it ran (a write held renewals back) and another run took
    the lock over: it must not end as if it had held the database throughout."""
    from sqlalchemy import delete

    from models.runlock import RunLockLost

    lost = pytest.raises(RunLockLost, match=r"lost during the run \(its lease ran out")
    with lost, run_lock(engine, "overtaken", wait_seconds=0):
        with engine.begin() as conn:  # what a run on another host does once the lease ran out
            conn.execute(delete(RunLock))
        _far_away(engine, datetime.now(UTC) + timedelta(minutes=5))
    assert _holders(engine) == ["pipeline run 'far away'"]  # the other run's row is left alone
