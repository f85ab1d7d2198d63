"""The benchmark convention: progress on stderr, one JSON line of figures on stdout.

Every script in benchmarks/ is run by hand as ``python benchmarks/NAME.py
[--size options]``; it is never part of the test run's pass/fail. Its last
line is one JSON object with at least: benchmark, rows, seconds,
rows_per_second, peak_rss_mb; and, when a baseline ran beside it in the same
process, baseline, baseline_seconds and ratio (seconds / baseline_seconds).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def peak_rss_mb() -> float:
    """Peak resident memory of this process. Linux's VmHWM where there is one:
    ``ru_maxrss`` survives fork and exec, so a child started by a large process
    would report its parent's peak as its own."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)  # kB
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


# Runs ``argv``; writes its wall seconds, peak memory (kB) and wait status to the file
# named first.
_LAUNCHER = """import os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as fh:
    fh.write(f"{seconds} {usage.ru_maxrss} {status}")
"""


def run_measured(argv: list[str], env: dict[str, str], out) -> tuple[int, float, float]:
    """Run ``argv`` (output to the open file ``out``): its exit code (negative: the
    signal that ended it), wall seconds and own peak memory in MB. A child's
    ``ru_maxrss`` starts from its parent's peak, so a command started by a benchmark that
    held a large book would report the book: the command is started by a small launcher
    process instead, whose children start small (and the launcher times it, so its own
    start-up is not counted). The peak is the largest of the command and the children
    it waited for (a temporary Prefect server it started, say)."""
    with tempfile.TemporaryDirectory(prefix="accountops-bench-") as tmp:
        figures = Path(tmp) / "figures"
        code = subprocess.call(
            [sys.executable, "-c", _LAUNCHER, str(figures), *argv], env=env, stdout=out, stderr=out
        )
        if not figures.exists():  # the launcher itself failed (its traceback is in ``out``)
            return code or 1, float("nan"), float("nan")
        seconds, peak_kb, status = figures.read_text().split()
    return os.waitstatus_to_exitcode(int(status)), float(seconds), round(int(peak_kb) / 1024, 1)


def median_of(runs: int, once: Callable[[], T]) -> tuple[float, list[float], T]:
    """``once`` called untimed (it warms the caches), then ``runs`` times timed: the
    median seconds, each run's seconds, and the last call's result."""
    result = once()
    times = []
    for _ in range(runs):
        with stopwatch() as elapsed:
            result = once()
        times.append(elapsed())
    return statistics.median(times), times, result


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def stopwatch():
    """``with stopwatch() as t: ...`` then ``t()`` gives the elapsed seconds."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def report(
    benchmark: str,
    rows: int,
    seconds: float,
    *,
    baseline: str | None = None,
    baseline_seconds: float | None = None,
    **extra,
) -> dict:
    """Print the final JSON line of figures and return it."""
    figures = {
        "benchmark": benchmark,
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds) if seconds > 0 else None,
        "peak_rss_mb": peak_rss_mb(),
    }
    if baseline is not None and baseline_seconds:
        figures |= {
            "baseline": baseline,
            "baseline_seconds": round(baseline_seconds, 3),
            "ratio": round(seconds / baseline_seconds, 2),
        }
    figures |= extra
    print(json.dumps(figures), flush=True)
    return figures
