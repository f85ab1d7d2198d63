"""The floors under the nightly pipeline's limits: what the limits leave room for, measured.

    python benchmarks/floors.py --book DIR --database URL [--runs 3]

``DIR`` is a book kept by ``benchmarks/pipeline.py --keep DIR`` (its Parquet files and
its split); ``URL`` a PostgreSQL database holding that book's bulk (``accountops init``
then ``accountops ingest DIR/bulk``), reached as a superuser (the read-out below writes
to the server's ``/dev/null``). What the script writes there it drops again: the bare
load's ``bare_*`` tables (pipeline.py's) and one unlogged scratch table.

``benchmarks/pipeline.py`` holds the pipeline to its ``LIMITS`` over its baselines:
(a) 5x DuckDB on the whole book, (b) and (c) 3x a bare load of the night's files plus
DuckDB. This script measures, on the same book and machine, what no code of ours can
go below:

1. **The command's fixed cost**: ``benchmarks/pipeline.py --customers 50 --lines 5000``
   run whole, on the PostgreSQL server pipeline.py uses (127.0.0.1:5432); its (a), (b)
   and (c) wall seconds are what ``accountops pipeline`` costs with almost no data (a
   new process, its imports, the Prefect flow and task runs, and for a night Great
   Expectations' validation of its files).
2. **The limits in seconds**: pipeline.py's baselines on the book, times its limits.
3. **DuckDB building the whole history's roll-ups** from the Parquet files into its own
   tables: the sales roll-up (customer, product line, month; whole cents, as stored)
   and the per-invoice one (amount due, paid, settled on; recompute.py's
   ``duckdb_invoices``). What a columnar engine costs for the first build's aggregates
   (the baseline reads two years and fewer columns).
4. **Reading the book out of PostgreSQL**: the columns the roll-ups need, of the lines,
   the invoices and the payments, each table by ``COPY ... TO '/dev/null' (FORMAT
   binary)`` on the server: the rows read and encoded, nothing sent. What any engine
   outside PostgreSQL pays at least to see the book (it also pays the transfer).
5. **Writing roll-up rows into PostgreSQL**: the sales roll-up's rows (written by DuckDB
   to a CSV file) by ``COPY ... FROM STDIN`` into an unlogged table shaped like
   ``sales_rollup``, then its primary key. What storing one roll-up computed elsewhere
   costs (the per-invoice roll-up has more rows and five indexes; not measured).

Each of 3-5 is the median of ``--runs`` after one untimed run. Progress goes to stderr;
the last line on stdout is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import duckdb
import pipeline
from common import median_of, progress
from ingest import bulk_load
from recompute import duckdb_invoices
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from models.db import make_engine

AS_OF = pipeline.BULK  # the first build's as-of
SALES = f"""SELECT customer_id, product_line_id,
              CAST(date_trunc('month', invoice_date) AS DATE) AS month,
              CAST(round(sum(amount) * 100) AS BIGINT) AS revenue,
              CAST(round(sum(cost) * 100) AS BIGINT) AS cost,
              CAST(round(sum(amount) FILTER (WHERE cost IS NOT NULL) * 100) AS BIGINT)
                AS revenue_costed,
              count(*) AS line_count
            FROM read_parquet('{{lines}}') WHERE invoice_date <= DATE '{AS_OF}' GROUP BY ALL"""
READ_OUT = {
    "invoice_line": "invoice_id, product_line_id, amount, cost",
    "invoice": "invoice_id, customer_id, invoice_date, due_date",
    "payment": "payment_id, invoice_id, paid_on, amount",
}
SCRATCH = "floor_sales_rollup"


def timed(name: str, runs: int, once: Callable[[], int], unit: str = "rows") -> dict:
    """``common.median_of`` with progress; ``once`` returns how much it handled, in
    ``unit`` (the figure's key)."""
    progress(f"{name} ...")
    median, times, amount = median_of(runs, once)
    progress(f"  {median:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)}), {amount:,} {unit}")
    return {"seconds": round(median, 2), "runs": [round(t, 2) for t in times], unit: amount}


def duckdb_rollups(book: Path, runs: int, csv_out: Path) -> dict:
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        sales = SALES.format(lines=book / "lines.parquet")
        invoices = f"WITH {duckdb_invoices(book, None, AS_OF)} SELECT * FROM ip"

        def build(query: str) -> Callable[[], int]:
            def once() -> int:
                con.execute(f"CREATE OR REPLACE TABLE t AS {query}")
                return con.execute("SELECT count(*) FROM t").fetchone()[0]  # type: ignore[index]

            return once

        figures = {
            "sales": timed("DuckDB: the sales roll-up, whole history", runs, build(sales)),
            "invoices": timed(
                "DuckDB: the per-invoice roll-up, whole history", runs, build(invoices)
            ),
        }
        con.execute(f"COPY ({sales}) TO '{csv_out}' (HEADER)")
    return figures


def read_out(engine, runs: int) -> dict:
    def once() -> int:
        rows = 0
        with engine.connect() as conn:
            for table, columns in READ_OUT.items():
                sql = f"COPY {table} ({columns}) TO '/dev/null' (FORMAT binary)"
                rows += conn.execute(text(sql)).rowcount
        return rows

    try:
        return timed("PostgreSQL: the book's lines, invoices and payments read out", runs, once)
    except DBAPIError as exc:
        raise SystemExit(f"--database: the read-out needs a superuser ({exc.orig})") from None


def write_in(engine, runs: int, csv_file: Path) -> dict:
    def once() -> int:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {SCRATCH}"))
            conn.execute(text(f"CREATE UNLOGGED TABLE {SCRATCH} (LIKE sales_rollup)"))
            bulk_load(conn, SCRATCH, csv_file)
            conn.execute(
                text(f"ALTER TABLE {SCRATCH} ADD PRIMARY KEY (customer_id, product_line_id, month)")
            )
            # Counted by the key's build: no second scan.
            return conn.scalar(
                text(f"SELECT reltuples::bigint FROM pg_class WHERE relname = '{SCRATCH}'")
            )

    try:
        return timed("PostgreSQL: the sales roll-up's rows written in, with their key", runs, once)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {SCRATCH}"))


def night_floor() -> dict:
    """``benchmarks/pipeline.py`` on a 50-customer book: each run with almost no data."""
    progress("the command's fixed cost: benchmarks/pipeline.py --customers 50 --lines 5000")
    with contextlib.redirect_stdout(sys.stderr):  # its JSON line is not this script's
        small = pipeline.main(["--customers", "50", "--lines", "5000", "--db", "postgresql"])
    return {
        key: {"seconds": small[key]["seconds"], "steps": small[key]["steps"]}
        for key in pipeline.LIMITS
    }


def positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: a whole number of at least 1")
    return int(value)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, required=True, help="a pipeline.py --keep folder")
    parser.add_argument("--database", required=True, help="PostgreSQL URL holding its bulk")
    parser.add_argument("--runs", type=positive, default=3, help="timed runs of each (median)")
    args = parser.parse_args(argv)
    for name in ("lines.parquet", "payments.parquet", "night1", "night2"):
        if not (args.book / name).exists():
            raise SystemExit(f"{args.book / name}: missing; run benchmarks/pipeline.py --keep")
    engine = make_engine(args.database)
    if engine.dialect.name != "postgresql":
        raise SystemExit(f"--database {args.database}: PostgreSQL only")

    floor = night_floor()  # first: it needs pipeline.py's own server, and fails early
    per_run, _, _ = pipeline.baselines(args.book, args.database)
    limits = {key: per_run[key] * pipeline.LIMITS[key] for key in per_run}
    with tempfile.TemporaryDirectory(prefix="accountops-floors-") as tmp:
        csv_file = Path(tmp) / "sales_rollup.csv"
        duck = duckdb_rollups(args.book, args.runs, csv_file)
        out = read_out(engine, args.runs)
        into = write_in(engine, args.runs, csv_file)
    engine.dispose()
    figures = {
        "benchmark": "floors",
        "baseline_seconds": {key: round(s, 3) for key, s in per_run.items()},
        "limit_seconds": {key: round(s, 2) for key, s in limits.items()},
        "night_floor": floor,
        "duckdb_rollups": duck,
        "pg_read_out": out,
        "pg_write_in": into,
    }
    progress("")
    progress(
        f"(a) limit: {limits['a_first_build']:.1f} s; with no data on a 50-customer book: "
        f"{floor['a_first_build']['seconds']:.1f} s"
    )
    progress(
        f"    DuckDB roll-ups, whole history: sales {duck['sales']['seconds']:.1f} s + "
        f"invoices {duck['invoices']['seconds']:.1f} s"
    )
    progress(
        f"    PostgreSQL: the book read out {out['seconds']:.1f} s; "
        f"{into['rows']:,} sales roll-up rows written in {into['seconds']:.1f} s"
    )
    progress(f"(b) limit: {limits['b_night']:.1f} s, (c) limit: {limits['c_new_month']:.1f} s")
    progress(
        f"    a night on a 50-customer book: {floor['b_night']['seconds']:.1f} s, "
        f"first of a month {floor['c_new_month']['seconds']:.1f} s"
    )
    print(json.dumps(figures), flush=True)
    return figures


if __name__ == "__main__":
    main()
