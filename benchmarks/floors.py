"""The floors under the nightly pipeline's limits: what the limits leave room for, measured.

    python benchmarks/floors.py --book DIR --database URL [--runs 3]

``DIR`` is a book kept by ``benchmarks/pipeline.py --keep DIR`` (its Parquet files and
its split); ``URL`` a PostgreSQL database holding that book's bulk (``accountops init``
then ``accountops ingest DIR/bulk``). Nothing in the database is changed but one
unlogged scratch table, dropped at the end.

``benchmarks/pipeline.py`` holds the pipeline to (a) 5x DuckDB on the whole book, and
(b), (c) 3x a bare load of the night's files plus DuckDB. This script measures, on the
same book and machine, what no code of ours can go below:

1. **The limits in seconds**: the (a) and (b) baselines as pipeline.py computes them.
2. **A night's fixed cost**: ``benchmarks/pipeline.py --customers 50 --lines 5000`` run
   whole; its (b) and (c) wall seconds are what ``accountops pipeline`` costs with
   almost no data (a new process, its imports, the Prefect flow and task runs,
   Great Expectations' validation of the night's files).
3. **DuckDB building the whole history's roll-ups** from the Parquet files into its
   own tables: the sales roll-up (customer, product line, month) and the per-invoice
   one (amount due, paid, settled on). What a columnar engine costs for the first
   build's aggregates (the baseline reads two years and fewer columns).
4. **Reading the book out of PostgreSQL**: the lines with their invoice's customer and
   dates by ``COPY ... TO STDOUT (FORMAT binary)``, discarded. What any engine outside
   PostgreSQL pays to see the book.
5. **Writing roll-up rows into PostgreSQL**: the sales roll-up's rows (written by
   DuckDB to a CSV file) by ``COPY ... FROM STDIN`` into an unlogged table, then its
   primary key. What storing roll-ups computed elsewhere costs.

Each of 3-5 is the median of ``--runs`` after one untimed run. Progress goes to stderr;
the last line on stdout is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import duckdb
import pipeline
from common import progress, stopwatch
from ingest import bulk_load
from recompute import duckdb_baseline
from sqlalchemy import text

from models.db import make_engine

# The first build's as-of, the roll-ups' columns: the same as pipeline.py's (a).
AS_OF = pipeline.BULK
SALES = f"""SELECT customer_id, product_line_id, CAST(date_trunc('month', invoice_date) AS DATE)
              AS month, sum(amount) AS revenue, sum(cost) AS cost,
              sum(amount) FILTER (WHERE cost IS NOT NULL) AS revenue_costed,
              count(*) AS line_count
            FROM read_parquet('{{lines}}') WHERE invoice_date <= DATE '{AS_OF}' GROUP BY ALL"""
INVOICES = f"""
    WITH inv AS (SELECT invoice_id, any_value(customer_id) AS customer_id,
                   any_value(invoice_date) AS invoice_date, any_value(due_date) AS due_date,
                   sum(amount) AS due
                 FROM read_parquet('{{lines}}') WHERE invoice_date <= DATE '{AS_OF}'
                 GROUP BY invoice_id),
    p AS (SELECT invoice_id, paid_on, amount,
            sum(amount) OVER (PARTITION BY invoice_id ORDER BY paid_on, payment_id) AS running
          FROM read_parquet('{{payments}}') WHERE paid_on <= DATE '{AS_OF}')
    SELECT i.invoice_id, any_value(i.customer_id), any_value(i.invoice_date),
           any_value(i.due_date), any_value(i.due), coalesce(sum(p.amount), 0) AS paid,
           min(p.paid_on) FILTER (WHERE i.due > 0 AND p.running >= i.due) AS settled_on
    FROM inv i LEFT JOIN p USING (invoice_id) GROUP BY i.invoice_id"""
READ_OUT = f"""COPY (SELECT l.invoice_id, i.customer_id, i.invoice_date, i.due_date,
                 l.product_line_id, l.amount, l.cost
               FROM invoice_line l JOIN invoice i USING (invoice_id)
               WHERE i.invoice_date <= DATE '{AS_OF}') TO STDOUT (FORMAT binary)"""
SCRATCH = "floor_sales_rollup"
SCRATCH_COLUMNS = (
    "customer_id varchar(64), product_line_id varchar(64), month date, revenue numeric(18, 2),"
    " cost numeric(18, 2), revenue_costed numeric(18, 2), line_count integer"
)


def timed(name: str, runs: int, once: Callable[[], int], unit: str = "rows") -> dict:
    """The median seconds of ``runs`` calls of ``once`` after one untimed call; ``once``
    returns how much it handled, in ``unit`` (the figure's key)."""
    progress(f"{name} ...")
    rows = once()
    times = []
    for _ in range(runs):
        with stopwatch() as elapsed:
            once()
        times.append(elapsed())
    median = statistics.median(times)
    progress(f"  {median:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)}), {rows:,} {unit}")
    return {"seconds": round(median, 2), "runs": [round(t, 2) for t in times], unit: rows}


def duckdb_rollups(book: Path, runs: int, csv_out: Path) -> dict:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    files = {"lines": book / "lines.parquet", "payments": book / "payments.parquet"}

    def build(query: str) -> Callable[[], int]:
        def once() -> int:
            con.execute(f"CREATE OR REPLACE TABLE t AS {query.format(**files)}")
            return con.execute("SELECT count(*) FROM t").fetchone()[0]

        return once

    figures = {
        "sales": timed("DuckDB: the sales roll-up, whole history", runs, build(SALES)),
        "invoices": timed("DuckDB: the per-invoice roll-up, whole history", runs, build(INVOICES)),
    }
    con.execute(f"COPY ({SALES.format(**files)}) TO '{csv_out}' (HEADER)")
    con.close()
    return figures


def read_out(engine, runs: int) -> dict:
    def once() -> int:
        size = 0
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            with raw.cursor() as cur, cur.copy(READ_OUT) as copy:
                for block in copy:
                    size += len(block)
        return size

    return timed("PostgreSQL: the lines with their invoice keys read out", runs, once, "bytes")


def write_in(engine, runs: int, csv_file: Path) -> dict:
    def once() -> int:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {SCRATCH}"))
            conn.execute(text(f"CREATE UNLOGGED TABLE {SCRATCH} ({SCRATCH_COLUMNS})"))
            bulk_load(conn, SCRATCH, csv_file)
            conn.execute(
                text(f"ALTER TABLE {SCRATCH} ADD PRIMARY KEY (customer_id, product_line_id, month)")
            )
            return conn.scalar(text(f"SELECT count(*) FROM {SCRATCH}"))

    try:
        return timed("PostgreSQL: the sales roll-up's rows written in, with their key", runs, once)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {SCRATCH}"))


def night_floor() -> dict:
    """``benchmarks/pipeline.py`` on a 50-customer book: a night with almost no data."""
    progress("a night's fixed cost: benchmarks/pipeline.py --customers 50 --lines 5000")
    with contextlib.redirect_stdout(sys.stderr):  # its JSON line is not this script's
        small = pipeline.main(["--customers", "50", "--lines", "5000", "--db", "postgresql"])
    return {
        key: {"seconds": small[key]["seconds"], "steps": small[key]["steps"]}
        for key in ("b_night", "c_new_month")
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, required=True, help="a pipeline.py --keep folder")
    parser.add_argument("--database", required=True, help="PostgreSQL URL holding its bulk")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    for name in ("lines.parquet", "payments.parquet", "night1"):
        if not (args.book / name).exists():
            raise SystemExit(f"{args.book / name}: missing; run benchmarks/pipeline.py --keep")
    engine = make_engine(args.database)
    if engine.dialect.name != "postgresql":
        raise SystemExit(f"--database {args.database}: PostgreSQL only")

    a_baseline = duckdb_baseline(args.book, AS_OF)[0]
    b_baseline = duckdb_baseline(args.book, pipeline.NIGHT)[0] + pipeline.bare_load(
        args.database, args.book / "night1"
    )
    with tempfile.TemporaryDirectory(prefix="accountops-floors-") as tmp:
        csv_file = Path(tmp) / "sales_rollup.csv"
        duck = duckdb_rollups(args.book, args.runs, csv_file)
        out = read_out(engine, args.runs)
        into = write_in(engine, args.runs, csv_file)
    engine.dispose()
    floor = night_floor()
    figures = {
        "benchmark": "floors",
        "limit_a_seconds": round(5 * a_baseline, 2),
        "limit_b_seconds": round(3 * b_baseline, 2),
        "a_baseline_seconds": round(a_baseline, 3),
        "b_baseline_seconds": round(b_baseline, 3),
        "night_floor": floor,
        "duckdb_rollups": duck,
        "pg_read_out": out,
        "pg_write_in": into,
    }
    progress("")
    progress(f"(a) limit: {figures['limit_a_seconds']:.1f} s (5 x DuckDB {a_baseline:.2f} s)")
    progress(
        f"    DuckDB roll-ups, whole history: sales {duck['sales']['seconds']:.1f} s + "
        f"invoices {duck['invoices']['seconds']:.1f} s"
    )
    progress(
        f"    PostgreSQL: read the book out {out['seconds']:.1f} s; "
        f"write {into['rows']:,} sales roll-up rows in {into['seconds']:.1f} s"
    )
    progress(f"(b) limit: {figures['limit_b_seconds']:.1f} s (3 x {b_baseline:.2f} s)")
    progress(
        f"    a night on a 50-customer book: {floor['b_night']['seconds']:.1f} s, "
        f"first of a month {floor['c_new_month']['seconds']:.1f} s"
    )
    print(json.dumps(figures), flush=True)
    return figures


if __name__ == "__main__":
    main()
