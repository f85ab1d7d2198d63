"""The nightly run at scale: what a data team waits for, end to end, beside its baselines.

    python benchmarks/pipeline.py --customers 50000 --lines 10000000 --db postgresql|sqlite
        [--keep DIR] [--seed 42] [--new-customers 10]

1. Writes a sample book (``accountops sample``'s generator, ``--customers``, as many
   years as give about ``--lines`` invoice lines) ending on 2026-11-01, and splits it
   by date: the **bulk** (every invoice line and payment up to 2026-10-26, and every
   other file whole), **night 1** (the lines and payments of 27-29 October, about
   0.3% of the lines) and **night 2** (30 October to 1 November: the first night of
   a new month). Each night also brings ``--new-customers`` customers nobody has
   seen, with some of the night's invoices and their payments.
2. Loads the bulk with ``accountops ingest`` into a new database (PostgreSQL: a fresh
   database on 127.0.0.1, dropped afterwards; SQLite: a file).
3. Times, each as a user runs it (``accountops pipeline``, in its own process, with
   its own temporary Prefect server):
   (a) the first pipeline after the bulk load (no files: the first build of the
       roll-ups, the recompute and the dashboard refresh), as of 2026-10-26;
   (b) the nightly pipeline with night 1's files, as of 2026-10-29;
   (c) the nightly pipeline with night 2's files, as of 2026-11-01 (new month).
4. Baselines, on the same data: DuckDB computing the per-customer aggregates the
   recompute starts from (``benchmarks/recompute.py``'s query) straight from Parquet
   at each as-of date, and a bare bulk load (COPY on PostgreSQL, one executemany on
   SQLite) of each night's files into plain tables with their keys. The limits the
   nightly run is held to: (a) within 5x of DuckDB on the whole book; (b) and (c)
   within 3x of bare load + DuckDB; the refresh under 10% of each pipeline.

The commands talk to one Prefect server started beforehand (``prefect server start``),
as in production, where the nightly run is a deployment on a running server;
``--temporary-server`` lets each command start its own instead, as a bare
``accountops pipeline`` on a laptop does (about 10-20 s more per command). Wall times
include the command's start-up; the steps' own seconds come from the pipeline's step
table. ``peak_rss_mb`` is each command's own peak (the
Prefect server is a process of its own and not counted). Progress and a table for
people go to stderr; the last line on stdout is one JSON object with every figure.
``--keep DIR`` keeps the book and its split in DIR and reuses them on the next run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import duckdb
from common import progress, run_measured, stopwatch
from ingest import PG_ADMIN, bulk_load
from recompute import duckdb_baseline
from sqlalchemy import create_engine, text

from models.db import make_engine
from models.sampledata import generate_sample

END = date(2026, 11, 1)  # night 2's as-of: the first day of a new month
BULK = date(2026, 10, 26)  # the bulk's last day: (a)'s as-of
NIGHT = date(2026, 10, 29)  # night 1's as-of
LINES_PER_CUSTOMER_YEAR = 67.6  # what the sample generator writes, measured
BIN = Path(sys.executable).parent
# Each run's limit: its wall seconds over its baseline's.
LIMITS = {"a_first_build": 5.0, "b_night": 3.0, "c_new_month": 3.0}
STEP_LINE = re.compile(r"^\s+(ingest|recompute|refresh)\s+(\w+(?: run)?)\s+([\d.]+) s\b")

# Plain tables for the bare load: the columns of the night's files, with their keys.
BARE_TABLES = {
    "invoice_lines.csv": (
        "invoice_id varchar(64), line_no int, customer_id varchar(64), invoice_date date,"
        " due_date date, product_line_id varchar(64), product_code varchar(64),"
        " quantity numeric(18,3), amount numeric(18,2), cost numeric(18,2),"
        " currency varchar(3), PRIMARY KEY (invoice_id, line_no)"
    ),
    "payments.csv": (
        "payment_id varchar(64) PRIMARY KEY, invoice_id varchar(64), customer_id varchar(64),"
        " paid_on date, amount numeric(18,2), currency varchar(3)"
    ),
    "customers.csv": (
        "customer_id varchar(64) PRIMARY KEY, name varchar(200), industry varchar(64),"
        " ownership_type varchar(64), region varchar(64), country varchar(64),"
        " parent_customer_id varchar(64), manager_id varchar(64), influence int,"
        " status varchar(64), buying_factor varchar(64), named_strategic varchar(64),"
        " estimated_potential numeric(18,2)"
    ),
}


# --- the book and its split -----------------------------------------------------------------


def book(folder: Path, customers: int, lines: int, seed: int) -> dict[str, int]:
    """The sample book in ``folder/book`` (reused when it is there); its row counts."""
    out, stamp = folder / "book", folder / "book" / "counts.json"
    if stamp.exists():
        progress(f"reusing the book in {out}")
        return json.loads(stamp.read_text())
    years = max(1, min(20, round(lines / (customers * LINES_PER_CUSTOMER_YEAR))))
    progress(f"writing a book of {customers:,} customers, {years} years, into {out}")

    def show(name: str, rows: int) -> None:
        if name == "invoice_lines.csv":
            progress(f"  invoice_lines.csv: {rows:,} rows")

    with stopwatch() as elapsed:
        counts = generate_sample(
            out, customers=customers, years=years, seed=seed, end_date=END, progress=show
        )
    progress(f"book written in {elapsed():.0f} s")
    stamp.write_text(json.dumps(counts))
    return counts


def split(folder: Path, new_customers: int) -> dict[str, dict[str, int]]:
    """bulk/, night1/ and night2/ from book/ (see the module's docstring); their rows."""
    source, stamp = folder / "book", folder / "split.json"
    if stamp.exists():
        return json.loads(stamp.read_text())
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")

    def read(name: str) -> str:
        return f"read_csv('{source / name}', all_varchar = true, header = true)"

    def write(query: str, target: Path) -> int:
        target.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY ({query}) TO '{target}' (HEADER, DELIMITER ',')")
        return int(con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0])

    rows: dict[str, dict[str, int]] = {"bulk": {}, "night1": {}, "night2": {}}
    bulk = folder / "bulk"
    for path in sorted(source.glob("*.csv")):
        if path.name not in ("invoice_lines.csv", "payments.csv"):
            rows["bulk"][path.name] = write(f"SELECT * FROM {read(path.name)}", bulk / path.name)
    dated = {"invoice_lines.csv": "invoice_date", "payments.csv": "paid_on"}
    for name, column in dated.items():
        rows["bulk"][name] = write(
            f"SELECT * FROM {read(name)} WHERE {column} <= '{BULK}'", bulk / name
        )
    nights = {"night1": (BULK, NIGHT), "night2": (NIGHT, END)}
    for night, (after, until) in nights.items():
        # The night's first invoices go to customers nobody has seen yet.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE moved AS
            SELECT invoice_id, '{night.upper()}-C-' || lpad(CAST(row_number() OVER
                     (ORDER BY invoice_id) AS VARCHAR), 5, '0') AS new_id,
                   any_value(customer_id) AS old_id
            FROM {read("invoice_lines.csv")}
            WHERE invoice_date > '{after}' AND invoice_date <= '{until}'
            GROUP BY invoice_id ORDER BY invoice_id LIMIT {new_customers}"""
        )
        for name, column in dated.items():
            rows[night][name] = write(
                f"""SELECT t.* REPLACE (coalesce(m.new_id, t.customer_id) AS customer_id)
                FROM {read(name)} t LEFT JOIN moved m USING (invoice_id)
                WHERE {column} > '{after}' AND {column} <= '{until}'""",
                folder / night / name,
            )
        rows[night]["customers.csv"] = write(
            f"""SELECT c.* REPLACE (m.new_id AS customer_id, 'New customer ' || m.new_id AS name)
            FROM moved m JOIN {read("customers.csv")} c ON c.customer_id = m.old_id""",
            folder / night / "customers.csv",
        )
    _parquet(con, folder)
    stamp.write_text(json.dumps(rows))
    return rows


def _parquet(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """lines.parquet and payments.parquet of bulk + nights, for the DuckDB baseline."""
    parts = ("bulk", "night1", "night2")
    lines = ", ".join(f"'{folder / p / 'invoice_lines.csv'}'" for p in parts)
    pays = ", ".join(f"'{folder / p / 'payments.csv'}'" for p in parts)
    con.execute(
        f"""COPY (SELECT invoice_id, customer_id, CAST(invoice_date AS DATE) invoice_date,
                 CAST(due_date AS DATE) due_date, product_line_id,
                 CAST(amount AS DECIMAL(18, 2)) amount, CAST(cost AS DECIMAL(18, 2)) cost
          FROM read_csv([{lines}], all_varchar = true, header = true))
        TO '{folder / "lines.parquet"}' (FORMAT parquet)"""
    )
    con.execute(
        f"""COPY (SELECT payment_id, invoice_id, customer_id, CAST(paid_on AS DATE) paid_on,
                 CAST(amount AS DECIMAL(18, 2)) amount
          FROM read_csv([{pays}], all_varchar = true, header = true))
        TO '{folder / "payments.parquet"}' (FORMAT parquet)"""
    )


# --- the commands, as a user runs them ----------------------------------------------------------


@contextmanager
def database(kind: str, work: Path):
    """A new, empty database; yields its URL (PostgreSQL: dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{work / 'accountops.db'}"
        return
    name = f"bench_pipeline_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def prefect_server(work: Path, env: dict[str, str]):
    """``prefect server start`` on a free port until the block ends; yields its API URL."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = f"http://127.0.0.1:{port}/api"
    log = (work / "prefect-server.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"the Prefect server did not start; log: {log.name}")
            time.sleep(1)
        yield api
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()


def accountops(args: list[str], env: dict[str, str], log: Path) -> dict:
    """Run ``accountops ARGS``; its wall seconds, peak memory and the steps it printed."""
    progress(f"$ accountops {' '.join(args)}")
    with log.open("w") as out:
        code, seconds, peak_mb = run_measured([str(BIN / "accountops"), *args], env, out)
    text_out = log.read_text()
    if code != 0:
        progress(text_out[-3000:])
        raise SystemExit(f"accountops {args[0]} failed (exit {code}); log: {log}")
    steps = {m[1]: float(m[3]) for m in map(STEP_LINE.match, text_out.splitlines()) if m}
    return {"seconds": round(seconds, 2), "steps": steps, "peak_rss_mb": peak_mb}


def baselines(
    folder: Path, url: str
) -> tuple[dict[str, float], dict[date, float], dict[str, float]]:
    """Each run's baseline seconds (DuckDB over the book's Parquet at the run's as-of date,
    plus for a night a bare load of its files into ``url``), and those two parts."""
    progress("baselines: DuckDB over Parquet, bare loads of the nights' files")
    duck = {day: duckdb_baseline(folder, day)[0] for day in (BULK, NIGHT, END)}
    bare = {night: bare_load(url, folder / night) for night in ("night1", "night2")}
    per_run = {
        "a_first_build": duck[BULK],
        "b_night": bare["night1"] + duck[NIGHT],
        "c_new_month": bare["night2"] + duck[END],
    }
    return per_run, duck, bare


def bare_load(url: str, night: Path) -> float:
    """Seconds to bulk-load the night's files into plain tables with their keys."""
    engine = make_engine(url)
    seconds = 0.0
    for name, columns in BARE_TABLES.items():
        table = f"bare_{name.removesuffix('.csv')}"
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
            conn.execute(text(f"CREATE TABLE {table} ({columns})"))
        with stopwatch() as elapsed, engine.begin() as conn:
            bulk_load(conn, table, night / name)
        seconds += elapsed()
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {table}"))
    engine.dispose()
    return seconds


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--lines", type=int, default=10_000_000, help="invoice lines, about")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--new-customers", type=int, default=10, help="per night")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the book and its split here")
    parser.add_argument(
        "--temporary-server",
        action="store_true",
        help="each command starts its own Prefect server (default: one server for all)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="accountops-pipeline-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        counts = book(folder, args.customers, args.lines, args.seed)
        rows = split(folder, args.new_customers)
        work = Path(tmp) / "run"
        work.mkdir()
        env = {
            **os.environ,
            "PREFECT_HOME": str(work / ".prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "GX_ANALYTICS_ENABLED": "false",
        }
        with database(args.db, work) as url, contextlib.ExitStack() as stack:
            if not args.temporary_server:
                env["PREFECT_API_URL"] = stack.enter_context(prefect_server(work, env))
            env |= {"ACCOUNTOPS_DATABASE_URL": url, "ACCOUNTOPS_DATA_DIR": str(work)}
            figures = run(args, env, folder, work, counts, rows)
    table(figures)
    print(json.dumps(figures), flush=True)
    return figures


def run(args, env: dict[str, str], folder: Path, work: Path, counts: dict, rows: dict) -> dict:
    url = env["ACCOUNTOPS_DATABASE_URL"]
    accountops(["init"], env, work / "init.log")
    bulk = accountops(["ingest", str(folder / "bulk")], env, work / "bulk.log")
    runs = {
        "a_first_build": accountops(["pipeline", "--as-of", str(BULK)], env, work / "a.log"),
        "b_night": accountops(
            ["pipeline", str(folder / "night1"), "--as-of", str(NIGHT)], env, work / "b.log"
        ),
        "c_new_month": accountops(
            ["pipeline", str(folder / "night2"), "--as-of", str(END)], env, work / "c.log"
        ),
    }
    per_run, duck, bare = baselines(folder, url)
    for key, figures in runs.items():
        steps_total = sum(figures["steps"].values())
        figures |= {
            "baseline_seconds": round(per_run[key], 3),
            "ratio": round(figures["seconds"] / per_run[key], 2),
            "steps_ratio": round(steps_total / per_run[key], 2),
            "limit": LIMITS[key],
            "refresh_share": round(figures["steps"].get("refresh", 0) / figures["seconds"], 3),
        }
    return {
        "benchmark": "pipeline",
        "db": args.db,
        "customers": args.customers,
        "lines": counts["invoice_lines.csv"],
        "night_lines": {n: rows[n]["invoice_lines.csv"] for n in ("night1", "night2")},
        "night_share": round(rows["night1"]["invoice_lines.csv"] / counts["invoice_lines.csv"], 4),
        "bulk_ingest": bulk,
        **runs,
        "duckdb_seconds": {str(day): round(s, 3) for day, s in duck.items()},
        "bare_load_seconds": {night: round(s, 3) for night, s in bare.items()},
        "prefect_server": "temporary per command" if args.temporary_server else "running",
        "cpus": os.cpu_count(),
    }


def table(figures: dict) -> None:
    progress("")
    progress(
        f"{'run':<16}{'wall s':>9}{'steps s':>9}{'baseline s':>12}{'ratio':>8}"
        f"{'limit':>7}{'refresh':>9}{'peak MB':>9}"
    )
    for key in ("a_first_build", "b_night", "c_new_month"):
        f = figures[key]
        progress(
            f"{key:<16}{f['seconds']:>9.1f}{sum(f['steps'].values()):>9.1f}"
            f"{f['baseline_seconds']:>12.2f}{f['ratio']:>8.1f}{f['limit']:>7.0f}"
            f"{f['refresh_share']:>9.1%}{f['peak_rss_mb']:>9.0f}"
        )
    b = figures["bulk_ingest"]
    progress(
        f"bulk ingest of {figures['lines']:,} lines: {b['seconds']:.0f} s, "
        f"peak {b['peak_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
