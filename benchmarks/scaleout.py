"""Scale-out: ingest and recompute in one process, then on a local Dask cluster, on PostgreSQL.

    python benchmarks/scaleout.py --book DIR [--workers 2] [--customers 50000 --years 3]
        [--url ADMIN_URL] [--only single|dask]

DIR holds a book of canonical files (``benchmarks/sample.py --out DIR`` writes one;
50,000 customers x 3 years is about 10 million invoice lines). When DIR holds no
invoice_lines.csv, a book of ``--customers`` x ``--years`` is generated there first.

Each mode gets a fresh PostgreSQL database on the server at ACCOUNTOPS_TEST_PG_URL (or
``--url``, an admin URL), dropped afterwards, and runs the flows as the pipeline does:

1. ``ingest``: the ingest flow over DIR (with workers: the waves on the cluster);
2. ``recompute``: the recompute flow right after it (the roll-ups built whole, the
   one-off cost no cluster shares, then the snapshot: with workers, the customers'
   base aggregates read in ranges on the cluster);
3. ``recompute_again``: a second snapshot, nothing new (the roll-ups stand; one process
   reads the stored window tables, the cluster aggregates the roll-ups range by range).

The Dask cluster is local (threads of this process: the work is PostgreSQL's), as
``--dask-workers N`` makes it. Both runs' tier counts must be equal (``same_tiers``).
Prints a table, then one JSON line: ``seconds`` = the cluster run's ingest + recompute,
``baseline_seconds`` = the single process's.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from common import progress, report, stopwatch
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from models.db import make_engine
from models.migrate import upgrade

PG_ADMIN = os.environ.get(
    "ACCOUNTOPS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
STEPS = ("ingest", "recompute", "recompute_again")


def ensure_book(folder: Path, customers: int, years: int) -> int:
    """The book's invoice lines (generating the book first if the folder has none)."""
    lines = folder / "invoice_lines.csv"
    if not lines.exists():
        from models.sampledata import generate_sample

        progress(f"generating a book of {customers:,} customers x {years} years in {folder}")
        folder.mkdir(parents=True, exist_ok=True)
        generate_sample(folder, customers=customers, years=years, seed=42)
    with lines.open("rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 24), b"")) - 1


def run_mode(admin_url: str, book: Path, scale: dict[str, Any]) -> dict[str, Any]:
    """A fresh database; the three steps timed; the tier counts of both snapshots."""
    from flows.ingest import ingest
    from flows.recompute import recompute_flow

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"accountops_scaleout_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    figures: dict[str, Any] = {}
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        with stopwatch() as t:
            state = ingest(paths=[str(book)], database_url=url, **scale, return_state=True)
        assert state.is_completed(), state.message
        figures["ingest"] = t()
        progress(f"  ingest {figures['ingest']:.1f} s: {state.message}")
        tiers = []
        for step in STEPS[1:]:
            with stopwatch() as t:
                state = recompute_flow(database_url=url, **scale, return_state=True)
            assert state.is_completed(), state.message
            figures[step] = t()
            tiers.append(state.result()["tier_counts"])
            progress(f"  {step} {figures[step]:.1f} s: {state.message}")
        figures["tiers"] = tiers
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--url", default=PG_ADMIN, help="admin URL of the PostgreSQL server")
    parser.add_argument("--only", choices=["single", "dask"], default=None)
    args = parser.parse_args(argv)

    lines = ensure_book(args.book, args.customers, args.years)
    from prefect import flow

    flow(name="warm-up")(lambda: None)()  # the temporary Prefect server starts untimed
    modes = {"single": {}, "dask": {"dask_workers": args.workers}}
    runs = {}
    for mode, scale in modes.items():
        if args.only in (None, mode):
            progress(f"{mode}: {lines:,} invoice lines")
            runs[mode] = run_mode(args.url, args.book, scale)

    print(f"\n{'step':<16} {'one process':>12} {f'{args.workers} workers':>12}")
    for step in STEPS:
        cells = [f"{runs[m][step]:>10.1f} s" if m in runs else f"{'-':>12}" for m in modes]
        print(f"{step:<16} {cells[0]:>12} {cells[1]:>12}")
    total = {m: runs[m]["ingest"] + runs[m]["recompute"] for m in runs}
    single, dask = runs.get("single"), runs.get("dask")
    extra = {f"{m}_{step}_seconds": round(runs[m][step], 2) for m in runs for step in STEPS} | {
        "workers": args.workers,
        "cores": os.cpu_count(),
    }
    if single and dask:
        extra["same_tiers"] = single["tiers"] == dask["tiers"]
    main_mode = "dask" if dask else "single"
    return report(
        "scaleout",
        lines,
        total[main_mode],
        baseline="single process" if dask and single else None,
        baseline_seconds=total["single"] if dask and single else None,
        **extra,
    )


if __name__ == "__main__":
    main()
