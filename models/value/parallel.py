"""How the recompute overlaps its steps: a worker thread, or a second connection.

Performance plumbing, kept out of the domain steps (models/value/recompute.py says
*what* runs beside what; this module says *how*). Three executors, all with the
``concurrent.futures`` interface (``submit`` returns a Future; ``with`` waits for the
work on exit), and two settings for a block:

* :func:`worker`: one worker thread, for pandas or database work beside this thread's.
* :func:`beside_writes`: where pandas work runs while this thread writes results: a
  worker thread on PostgreSQL, at once in this thread on SQLite (see the function).
* :func:`beside_transaction`: where work with a transaction of its own runs while this
  thread's goes on: a worker thread on PostgreSQL, at once on SQLite.
* :func:`one_blas_thread`: numpy's BLAS on this thread only, for small numerics (the
  CLV fit) that BLAS's own threads slow down.
* :func:`collector_spared`: Python's cyclic garbage collector kept off the objects
  that were alive before a run, and run less often while it lasts.

Only the thread that opened a connection uses it: work handed to a worker either
takes no connection or opens its own.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine
from threadpoolctl import threadpool_limits


class AtOnce(Executor):
    """An executor that runs each task when it is submitted, in the calling thread;
    an error is kept in the Future, as a pool would keep it."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        done: Future = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except Exception as exc:  # handed to whoever asks for the result, as a pool would
            done.set_exception(exc)
        return done


def worker(name: str) -> Executor:
    """One worker thread named ``name`` (its tasks run in order, one at a time)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)


def beside_writes(conn: Connection, name: str) -> Executor:
    """Where pandas work runs while ``conn`` writes results: a worker thread on
    PostgreSQL, whose COPY waits for the server without holding the GIL; at once on
    SQLite, whose executemany takes the GIL back for every row it binds and so queued
    behind the worker (50,000 rows took 1.6 s instead of 0.13 s)."""
    if conn.dialect.name == "postgresql":
        return worker(name)
    return AtOnce()


def beside_transaction(engine: Engine, name: str) -> Executor:
    """Where work that opens a transaction of its own runs while this thread's transaction
    goes on: a worker thread on PostgreSQL, where two transactions write different tables
    at once; at once on SQLite (submit before opening this thread's transaction), where a
    second writer would wait for the first to commit, and a connection to an in-memory
    database is the only one there is."""
    if engine.dialect.name == "postgresql":
        return worker(name)
    return AtOnce()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's BLAS (OpenBLAS) on one thread while the block runs.

    The CLV fit's steps work on four parameters: OpenBLAS starting and waking its
    threads for each of them cost two thirds of the fit on two busy cores (0.85 s
    instead of 0.3 s at 50,000 customers). Nothing else changes: the same operations,
    the same results.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# Container objects allocated (net) between young-generation collections while
# :func:`collector_spared` lasts; Python's default is 700.
_YOUNG_COLLECTION_EVERY = 50_000

# Blocks of collector_spared running now, in any thread (the first sets up, the last
# undoes), and the thresholds the first found; under _spared_lock.
_spared_lock = threading.Lock()
_spared: dict[str, Any] = {"depth": 0, "thresholds": None, "ours": False}


@contextmanager
def collector_spared() -> Iterator[None]:
    """Python's cyclic garbage collector kept off the objects alive when the block starts
    (``gc.freeze``) and run less often while it lasts; both undone when the last such
    block running in the process ends.

    A recompute builds millions of short-lived Python objects (reasons, migrations,
    frames of strings) in a process that already holds ~200,000 (pandas, SQLAlchemy,
    Prefect's): each full collection scanned them all again, 0.3-0.5 s of a 4.5 s
    recompute at 10M lines, on its critical path. The block's own cycles are still
    found as it runs; cycles among the objects frozen wait for a full collection after
    it. A process that froze objects itself (a server forking workers) is left as it is.
    """
    with _spared_lock:
        if _spared["depth"] == 0:
            _spared["ours"] = gc.get_freeze_count() == 0
            if _spared["ours"]:
                _spared["thresholds"] = gc.get_threshold()
                gc.freeze()
                gc.set_threshold(_YOUNG_COLLECTION_EVERY, *_spared["thresholds"][1:])
        _spared["depth"] += 1
    try:
        yield
    finally:
        with _spared_lock:
            _spared["depth"] -= 1
            if _spared["depth"] == 0 and _spared["ours"]:
                gc.set_threshold(*_spared["thresholds"])
                gc.unfreeze()
