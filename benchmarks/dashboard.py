"""Page render times of the executive dashboard with N customers (AppTest, no browser).

    python benchmarks/dashboard.py [--customers 500|50000] [--years 2] [--rebuild]
        [--fast [--lines-per-customer 60]]

1. Builds (or reuses) ``var/bench-dashboard-sample-<N>.db``: sample CSVs from the
   generator, loaded through the ingest service (real validation), one recompute, the
   dashboard refresh. ``--fast`` bulk-loads benchmarks/recompute.py's synthetic book
   instead (``var/bench-dashboard-fast-<N>.db``): the ingest service would need most of an
   hour for 50,000 customers. Build times are reported (``build_*_seconds``,
   ``refresh_seconds``).
2. Renders every executive page with ``streamlit.testing.v1.AppTest`` in one session:
   a first load (empty caches) and a second, cached load.

``seconds`` is the slowest page's cached render (the aim: under 2 s with 50,000
customers); per-page figures are ``first_<page>`` and ``cached_<page>``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from common import progress, report, stopwatch

ROOT = Path(__file__).resolve().parents[1]

PAGES = ["overview", "customers", "attack_defend", "receivables", "managers", "data_health"]
AS_OF = date(2026, 10, 1)


def build(db: Path, customers: int, years: int) -> dict[str, float]:
    from expectations.runner import SuiteRunner
    from models.canonical import LOAD_ORDER
    from models.config import load_config
    from models.dashboard import refresh_dashboard
    from models.db import make_engine
    from models.ingest import ingest_config, ingest_file
    from models.migrate import upgrade
    from models.sampledata import generate_sample
    from models.value.recompute import recompute

    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with stopwatch() as t:
            generate_sample(folder, customers=customers, years=years, seed=11)
        figures["build_sample_seconds"] = round(t(), 2)
        engine = make_engine(f"sqlite:///{db}")
        upgrade(engine)
        config = load_config()
        icfg = ingest_config(config)
        runner = SuiteRunner(icfg, AS_OF)
        with stopwatch() as t:
            for name in LOAD_ORDER:
                path = folder / f"{name}.csv"
                if path.exists():
                    result = ingest_file(engine, path, validator=runner, config=icfg, as_of=AS_OF)
                    progress(f"ingest {name}: {result.outcome} {result.rows_loaded:,} rows")
        figures["build_ingest_seconds"] = round(t(), 2)
    with stopwatch() as t:
        snap = recompute(engine, config)
    figures["build_recompute_seconds"] = round(t(), 2)
    with stopwatch() as t:
        refresh_dashboard(engine, snap.snapshot_id, config)
    figures["refresh_seconds"] = round(t(), 2)
    engine.dispose()
    return figures


def build_fast(db: Path, customers: int, lines_per_customer: int) -> dict[str, float]:
    """A synthetic book bulk-loaded as benchmarks/recompute.py does (no validation), for
    sizes where the ingest service would take most of an hour; then recompute + refresh."""
    import numpy as np
    import recompute as book
    from sqlalchemy import text

    from models.config import load_config
    from models.dashboard import refresh_dashboard
    from models.db import make_engine
    from models.migrate import upgrade
    from models.value.recompute import recompute

    rng = np.random.default_rng(11)
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    loader = book.Loader(engine)
    figures = {}
    with stopwatch() as t:
        batch = loader.batch("bench-dashboard")
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO product_line (product_line_id, name) VALUES (:p, :p)"),
                [{"p": p} for p in book.PRODUCT_LINES],
            )
            conn.execute(
                text("INSERT INTO account_manager (manager_id, name) VALUES (:m, :m)"),
                [{"m": f"AM-{i:04d}"} for i in range(200)],
            )
        loader.load("customer", book.customers_frame(customers, rng), batch)
        total, done, next_invoice = customers * lines_per_customer, 0, 1
        while done < total:
            todo = min(book.LINES_PER_CHUNK, total - done)
            inv, lines, pays, n_inv = book.invoice_chunk(
                rng, customers, todo, next_invoice, 0, book.DAYS
            )
            next_invoice += n_inv
            for table, frame in (("invoice", inv), ("invoice_line", lines), ("payment", pays)):
                loader.load(table, frame, batch)
            done += len(lines)
            progress(f"loaded {done:,} lines")
        loader.load("wallet_estimate", book.wallet_frame(customers, rng), batch)
    figures["build_load_seconds"] = round(t(), 2)
    config = load_config()
    with stopwatch() as t:
        snap = recompute(engine, config)
    figures["build_recompute_seconds"] = round(t(), 2)
    with stopwatch() as t:
        refresh_dashboard(engine, snap.snapshot_id, config)
    figures["refresh_seconds"] = round(t(), 2)
    engine.dispose()
    return figures


def render(db: Path) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    os.environ.update(
        ACCOUNTOPS_DATABASE_URL=f"sqlite:///{db}", ACCOUNTOPS_AUTH_MODE="dev", ACCOUNTOPS_ENV="dev"
    )
    at = AppTest.from_file(str(ROOT / "dashboards" / "streamlit_app.py"), default_timeout=300)
    with stopwatch() as t:
        at.run()  # the landing page: the overview, first load
    figures = {"first_overview": round(t(), 3)}
    progress(f"first overview: {t():.2f} s")
    for rnd in ("first", "cached"):
        for page in PAGES:
            if rnd == "first" and page == "overview":
                continue
            with stopwatch() as t:
                at.switch_page(f"app_pages/{page}.py").run()
            if at.exception:
                raise SystemExit(f"{page} failed: {at.exception[0].message}")
            figures[f"{rnd}_{page}"] = round(t(), 3)
            progress(f"{rnd} {page}: {t():.2f} s")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true", help="build the database afresh")
    parser.add_argument(
        "--fast",
        action="store_true",
        help="bulk-load a synthetic book instead of the sample generator + ingest service",
    )
    parser.add_argument("--lines-per-customer", type=int, default=60)
    args = parser.parse_args()
    kind = "fast" if args.fast else "sample"
    db = ROOT / "var" / f"bench-dashboard-{kind}-{args.customers}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    figures: dict[str, float] = {}
    if args.rebuild or not db.exists():
        db.unlink(missing_ok=True)
        if args.fast:
            figures |= build_fast(db, args.customers, args.lines_per_customer)
        else:
            figures |= build(db, args.customers, args.years)
    else:
        progress(f"reusing {db} (--rebuild to build it afresh)")
    figures |= render(db)
    slowest = max(v for k, v in figures.items() if k.startswith("cached_"))
    report("dashboard", args.customers, slowest, database=str(db.name), **figures)


if __name__ == "__main__":
    main()
