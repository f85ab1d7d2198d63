"""Where one recompute's time goes, step by step and thread by thread, on a kept book.

    python benchmarks/timeline.py --keep DIR [--db postgresql|sqlite] [--new-window]
        [--statements SECONDS] [--refresh N]

Copies the book ``benchmarks/recompute.py --keep DIR`` kept into a fresh database (dropped
afterwards), runs one recompute on it and prints, for each step, the thread that ran it
and when it started and ended (seconds from the recompute's start), then the total. The
steps are the functions of ``models/value`` listed in ``STEPS`` below, timed by wrapping
them for this run only; ``--statements S`` also lists each SQL statement that took at
least S seconds (statements only: the ``COPY`` reads and writes go past SQLAlchemy's
events). ``--refresh N`` then times N dashboard refreshes of the new snapshot (the
pipeline's last step; each replaces the last one's rows) the same way, its steps from
``REFRESH_STEPS``. Nothing is asserted and nothing is compared with DuckDB: for the
ratio, run ``benchmarks/recompute.py``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import recompute as book  # benchmarks/recompute.py: the kept book's copies
from sqlalchemy import event

from models.config import load_config
from models.db import make_engine

# Module (under models.value) -> the functions timed in it, as that module names them.
STEPS = {
    "recompute": (
        "refresh_reading_inputs",
        "compute",
        "per_line_sales",
        "customer_base",
        "_measures_and_tiers",
        "explain_migrations",
        "store_customer_results",
        "store_plan_reviews",
        "store_roadmap",
        "store_funnel",
        "write_clv",
        "_complete_snapshot",
        "lifetime_values_apart",
        "classify_segments",
        "segment_rows",
    ),
    "results": ("measure_rows", "receivable_rows", "tier_rows"),
    "clv_store": ("keep_purchases", "kept_summary", "clv_from_summary"),
    "windows_apart": ("fill_window",),
    "inputs": ("refresh", "read_inputs", "_read_window_alone"),
    "early_windows": ("read_early_window",),
    "purchases": ("appendable", "_append_days", "_frame"),
    "store": ("bulk_insert",),
}

# The dashboard refresh's steps (models/dashboard/refresh.py), timed with ``--refresh``.
REFRESH_STEPS = ("snapshot_figures", "_fill_tables", "_read_apart", "_copy_clv", "top_share")


def _timed(events: list, start: list[float], name: str, fn):
    @functools.wraps(fn)
    def run(*args, **kwargs):
        began = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            ended = time.perf_counter()
            thread = threading.current_thread().name
            events.append((began - start[0], ended - start[0], thread, name))

    return run


def _wrap(events: list, start: list[float]) -> None:
    import importlib

    for module, names in STEPS.items():
        mod = importlib.import_module(f"models.value.{module}")
        for name in names:
            setattr(mod, name, _timed(events, start, name, getattr(mod, name)))
    refresh = importlib.import_module("models.dashboard.refresh")
    for name in REFRESH_STEPS:
        setattr(refresh, name, _timed(events, start, name, getattr(refresh, name)))


def _statements(engine, events: list, start: list[float], at_least: float) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, params, context, executemany):
        conn.info["began"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn, cursor, statement, params, context, executemany):
        ended = time.perf_counter()
        began = conn.info.pop("began", ended)
        if ended - began >= at_least:
            text = "SQL " + " ".join(statement.split())[:70]
            thread = threading.current_thread().name
            events.append((began - start[0], ended - start[0], thread, text))


def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, all) clock ticks of every core since boot (Linux), or None elsewhere."""
    stat = Path("/proc/stat")
    if not stat.exists():
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = map(
        int, stat.read_text().split("\n", 1)[0].split()[1:9]
    )
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


def _busy_share(before, after) -> float | None:
    """The share of the cores' time spent busy between two :func:`_cpu_ticks` readings
    (every process on the machine, the database's included)."""
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, required=True, help="folder of the kept book")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--url", default=None, help="PostgreSQL admin URL")
    parser.add_argument("--new-window", action="store_true", help="the first recompute of a month")
    parser.add_argument("--statements", type=float, default=None, metavar="SECONDS")
    parser.add_argument("--refresh", type=int, default=0, metavar="N", help="then N refreshes")
    args = parser.parse_args(argv)
    state_file = args.keep / "state.json"
    if not state_file.exists():
        raise SystemExit(f"{state_file} not found: keep a book with benchmarks/recompute.py --keep")
    state = json.loads(state_file.read_text())
    book._upgrade_kept(args, state)
    events: list = []
    start = [0.0]
    _wrap(events, start)
    from models.dashboard.refresh import refresh_dashboard
    from models.value.recompute import recompute

    with tempfile.TemporaryDirectory(prefix="accountops-timeline-") as tmp:
        url, drop = book._fresh_copy(args, state, Path(tmp))
        try:
            engine = make_engine(url)
            book._hold_previous_month(engine, args.new_window)
            if args.statements is not None:
                _statements(engine, events, start, args.statements)
            config = load_config()
            snapshot_id = _run(events, start, lambda: recompute(engine, config).snapshot_id)
            for _ in range(args.refresh):
                print(f"-- dashboard refresh of snapshot {snapshot_id}")
                _run(events, start, lambda: refresh_dashboard(engine, snapshot_id, config))
            engine.dispose()
        finally:
            drop()


def _run(events: list, start: list[float], run):
    """Time ``run()``, then print its steps (``events``, emptied) and the total."""
    events.clear()
    busy_before, own_before = _cpu_ticks(), time.process_time()
    start[0] = time.perf_counter()
    result = run()
    total = time.perf_counter() - start[0]
    busy = _busy_share(busy_before, _cpu_ticks())
    own = time.process_time() - own_before
    for began, ended, thread, name in sorted(events):
        took = ended - began
        print(f"{thread[:20]:20s} {name:40s} {began:6.2f} -> {ended:6.2f}  ({took:5.2f} s)")
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    cores = os.cpu_count() or 1
    share = f"; this process's CPU {own:.2f} s"
    if busy is not None:
        share += f", every process's {busy * total * cores:.2f} s ({busy:.0%} of {cores} cores)"
    print(f"total {total:.2f} s; load average {' '.join(load)}{share}")
    return result


if __name__ == "__main__":
    main()
