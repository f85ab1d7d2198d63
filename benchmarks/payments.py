"""Payments ingest on PostgreSQL, timed and its CPU counted: where a payment row's time goes.

python benchmarks/payments.py --lines 1000000 [--runs 2] [--file invoice_lines]

The book of ``benchmarks/ingest.py`` (same generator, same seed: 203,885 payments of
the invoices of 1M lines) is loaded once, up to its invoice lines, into a template
database; each run ingests its payments.csv into a fresh copy (CREATE DATABASE ...
TEMPLATE) in this process and reports the wall seconds, this process's CPU seconds
(``python_cpu_seconds``, every thread) and its database connections'
(``database_cpu_seconds``: each backend's CPU read from /proc while the ingest runs, so
the server must run on this machine). On a machine other work shares, CPU seconds move
much less than wall seconds from run to run; ``benchmarks/ingest.py`` gives the cost
ratio to invoice lines. ``--file invoice_lines`` times the other side of that ratio the
same way: the template then holds the book up to its customers, and each run ingests the
invoice lines.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import progress, report
from ingest import AS_OF, PG_ADMIN, generate, warm_up
from sqlalchemy import create_engine, text

from models.db import make_engine
from models.migrate import upgrade

TICK = os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """CPU seconds of every backend connected to ``database``, polled every 50 ms while
    running (a backend's last 50 ms before it ends can be missed)."""

    def __init__(self, admin, database: str) -> None:
        self.admin, self.database = admin, database
        self.seconds: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> BackendCpu:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.1)
        self.stop.set()
        self.thread.join()

    def _poll(self) -> None:
        query = text("SELECT pid FROM pg_stat_activity WHERE datname = :d")
        with self.admin.connect() as conn:
            while not self.stop.is_set():
                for (pid,) in conn.execute(query, {"d": self.database}):
                    try:
                        with open(f"/proc/{pid}/stat") as fh:
                            fields = fh.read().rsplit(")", 1)[1].split()
                    except OSError:  # ended since
                        continue
                    self.seconds[pid] = (int(fields[11]) + int(fields[12])) / TICK
                self.stop.wait(0.05)


def database_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def build_template(admin, folder: Path, lines: int, timed: str = "payments") -> str:
    """A database holding the book up to the file before ``timed``; its name."""
    from expectations.runner import SuiteRunner
    from models.ingest import ingest_config, ingest_file

    generate(folder, lines)
    name = f"bench_payments_tpl_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(database_url(name))
    upgrade(engine)
    config = ingest_config()
    runner = SuiteRunner(config, AS_OF)
    files = ["product_lines", "customers", "invoice_lines", "payments"]
    for file in (f"{f}.csv" for f in files[: files.index(timed)]):
        result = ingest_file(engine, folder / file, validator=runner, config=config, as_of=AS_OF)
        assert result.outcome == "LOADED", result.message
    engine.dispose()
    return name


def run_once(admin, template: str, path: Path) -> dict:
    """Ingest ``path`` into a fresh copy of ``template``; its figures."""
    from expectations.runner import SuiteRunner
    from models.ingest import ingest_config, ingest_file

    name = f"bench_payments_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        engine = make_engine(database_url(name))
        config = ingest_config()
        runner = SuiteRunner(config, AS_OF)
        warm_up(runner)
        with BackendCpu(admin, name) as backends:
            before = resource.getrusage(resource.RUSAGE_SELF)
            start = time.perf_counter()
            result = ingest_file(engine, path, validator=runner, config=config, as_of=AS_OF)
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_SELF)
        engine.dispose()
        assert result.outcome == "LOADED", result.message
        python_cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return {
            "rows": result.rows_read,
            "seconds": round(seconds, 3),
            "python_cpu_seconds": round(python_cpu, 2),
            "database_cpu_seconds": round(sum(backends.seconds.values()), 2),
            "connections": len(backends.seconds),
            "load_average": round(os.getloadavg()[0], 2),
        }
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--file", choices=["payments", "invoice_lines"], default="payments")
    args = parser.parse_args()
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    template = None
    try:
        with tempfile.TemporaryDirectory(prefix="payments-bench-") as tmp:
            progress(f"book of {args.lines:,} invoice lines, up to {args.file}, into a template")
            template = build_template(admin, Path(tmp), args.lines, args.file)
            runs = []
            for i in range(args.runs):
                figures = run_once(admin, template, Path(tmp) / f"{args.file}.csv")
                progress(f"run {i + 1}: {figures}")
                runs.append(figures)
    finally:
        if template is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        admin.dispose()
    best = min(runs, key=lambda r: r["seconds"])
    report(
        f"{args.file}-postgresql",
        best["rows"],
        best["seconds"],
        cpu_seconds=[round(r["python_cpu_seconds"] + r["database_cpu_seconds"], 2) for r in runs],
        runs=runs,
    )


if __name__ == "__main__":
    main()
