"""Recompute speed and memory at scale, beside a plain DuckDB query over the same data.

    python benchmarks/recompute.py --customers 50000 --lines 10000000 --db sqlite|postgresql
        [--url URL] [--keep DIR [--runs N]] [--new-window] [--seed 1]

1. Draws a synthetic book (customers, invoices, lines, payments, wallet estimates)
   in chunks and loads it with a bulk loader of its own (COPY on PostgreSQL,
   executemany on SQLite), as batch 1; also writes the same rows to Parquet.
2. Builds the roll-ups once (``rollup_full_seconds``: the one-off cost).
3. Loads batch 2 (new invoices for 5% of the customers, ~1% of the lines) and
   times the recompute: incremental roll-up refresh + measures, tiers,
   migrations, segments, receivables, managers, all stored (``seconds``).
4. Times DuckDB computing the same per-customer aggregates (revenue now and
   before, cost, costed revenue, product lines, invoices, amounts due and
   collected, on-time counts, days late, last invoice) straight from Parquet
   (``baseline_seconds``: the median of three runs after an untimed one).

PostgreSQL runs in a fresh database on the server at ACCOUNTOPS_TEST_PG_URL (or
--url, an admin URL), dropped afterwards; SQLite in a temporary file.

``--new-window`` makes the window tables hold the previous month's windows before the
timed recompute (not timed), so it times the first recompute of a month: it releases
them, aggregates the new month's windows and stores them (see
models/value/window_tables.py).

``--keep DIR`` builds the book once and keeps it for later runs: the first run saves
the database as it stands just before the timed recompute (PostgreSQL: a template
database named in DIR/state.json; SQLite: the file DIR/book.db) and writes the
Parquet files into DIR; later runs with the same DIR skip steps 1-3's loading, copy
the kept book into a fresh database (dropped afterwards) and time only the recompute
and the DuckDB baseline. Drop a PostgreSQL template by hand when done
(``DROP DATABASE <template>``). ``--runs N`` then times N recomputes, each on a fresh copy
and followed by the baseline, and reports the medians (``runs``: each pair's figures):
on a machine whose speed drifts, one run can be 20% off either way.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from common import median_of, peak_rss_mb, progress, report, stopwatch
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from models.config import load_config
from models.db import make_engine
from models.migrate import upgrade
from models.value.recompute import recompute, refresh

END = date(2026, 9, 30)
DAYS = 3 * 365
PRODUCT_LINES = [f"PL-{i:02d}" for i in range(1, 9)]
LINES_PER_CHUNK = 1_000_000
BASELINE_RUNS = 3


# --- synthetic book ---------------------------------------------------------------------------


def customers_frame(n: int, rng) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"C-{i:07d}" for i in range(n)],
            "name": [f"Customer {i}" for i in range(n)],
            "manager_id": [f"AM-{i:04d}" for i in rng.integers(0, 200, n)],
            "influence": rng.integers(0, 101, n),
            "status": "active",
            "buying_factor": rng.choice(["relationship", "price", "innovation"], n),
            "named_strategic": rng.random(n) < 0.01,
        }
    )


def invoice_chunk(
    rng, customers: int, lines: int, first_invoice: int, day_lo: int, day_hi: int, pool=None
):
    """About ``lines`` lines on ~lines/3 invoices, customers drawn with a long tail
    (or uniformly from ``pool``, an array of customer numbers)."""
    n_inv = max(1, lines // 3)
    if pool is None:
        # A long tail: a few customers buy much more than most.
        cust = np.floor(customers * rng.beta(0.6, 1.5, n_inv))
        cust = np.minimum(cust, customers - 1).astype(int)
    else:
        cust = rng.choice(pool, n_inv)
    inv_ids = np.arange(first_invoice, first_invoice + n_inv)
    days = rng.integers(day_lo, day_hi, n_inv)
    inv_date = np.datetime64(END) - days.astype("timedelta64[D]")
    terms = rng.choice([30, 45, 60], n_inv)
    due = inv_date + terms.astype("timedelta64[D]")
    per = rng.integers(1, 6, n_inv)
    idx = np.repeat(np.arange(n_inv), per)
    line_no = np.arange(len(idx)) - np.repeat(np.cumsum(per) - per, per) + 1
    amount = np.round(rng.lognormal(6, 1.2, len(idx)), 2)
    credit = rng.random(len(idx)) < 0.01
    amount = np.where(credit, -amount, amount)
    cost = np.round(amount * rng.uniform(0.5, 0.85, len(idx)), 2)
    cost_known = rng.random(len(idx)) > 0.1
    invoices = pd.DataFrame(
        {
            "invoice_id": [f"INV-{i:09d}" for i in inv_ids],
            "customer_id": [f"C-{c:07d}" for c in cust],
            "invoice_date": inv_date,
            "due_date": due,
        }
    )
    line_frame = pd.DataFrame(
        {
            "invoice_id": invoices["invoice_id"].to_numpy()[idx],
            "line_no": line_no,
            "product_line_id": np.array(PRODUCT_LINES)[rng.integers(0, 8, len(idx))],
            "quantity": 1,
            "amount": amount,
            "cost": np.where(cost_known, cost, np.nan),
        }
    )
    totals = np.round(np.bincount(idx, weights=amount, minlength=n_inv), 2)
    fate = rng.random(n_inv)
    paid = (fate < 0.92) & (totals > 0)
    partial = (fate >= 0.92) & (fate < 0.96) & (totals > 0)
    delay = np.round(rng.normal(-3, 20, n_inv)).astype(int)
    paid_on = np.maximum(due + delay.astype("timedelta64[D]"), inv_date)
    keep = (paid | partial) & (paid_on <= np.datetime64(END))
    pay_amount = np.where(partial, np.round(totals * 0.5, 2), totals)
    payments = pd.DataFrame(
        {
            "payment_id": [f"PAY-{i:09d}" for i in inv_ids[keep]],
            "invoice_id": invoices["invoice_id"].to_numpy()[keep],
            "customer_id": invoices["customer_id"].to_numpy()[keep],
            "paid_on": paid_on[keep],
            "amount": pay_amount[keep],
        }
    )
    return invoices, line_frame, payments, n_inv


def wallet_frame(customers: int, rng) -> pd.DataFrame:
    cust = np.repeat(np.arange(customers), 4)
    pl = np.array(PRODUCT_LINES)[rng.integers(0, 8, len(cust))]
    frame = pd.DataFrame({"customer_id": [f"C-{c:07d}" for c in cust], "product_line_id": pl})
    frame = frame.drop_duplicates()
    out = []
    for year in (2025, 2026):
        out.append(
            frame.assign(year=year, potential_amount=np.round(rng.lognormal(10, 1, len(frame)), 2))
        )
    return pd.concat(out, ignore_index=True)


# --- bulk loaders -----------------------------------------------------------------------------

COLUMNS = {
    "customer": ["customer_id", "name", "manager_id", "influence", "status", "buying_factor"]
    + ["named_strategic", "batch_id"],
    "invoice": ["invoice_id", "customer_id", "invoice_date", "due_date", "currency", "batch_id"],
    "invoice_line": ["invoice_id", "line_no", "product_line_id", "quantity", "amount", "cost"]
    + ["batch_id"],
    "payment": ["payment_id", "invoice_id", "customer_id", "paid_on", "amount", "currency"]
    + ["batch_id"],
    "wallet_estimate": ["customer_id", "product_line_id", "year", "potential_amount", "currency"]
    + ["batch_id"],
}


def _prepared(table: str, frame: pd.DataFrame, batch: int) -> pd.DataFrame:
    frame = frame.assign(batch_id=batch)
    if "currency" in COLUMNS[table]:
        frame = frame.assign(currency="EUR")
    for col in ("invoice_date", "due_date", "paid_on"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col]).dt.strftime("%Y-%m-%d")
    return frame[COLUMNS[table]]


class Loader:
    """COPY on PostgreSQL, executemany on SQLite; every row carries its batch id."""

    def __init__(self, engine):
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"

    def batch(self, name: str) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                text(
                    "INSERT INTO ingest_batch (source, entity, content_sha256, status, rows_read,"
                    " rows_loaded, rows_updated, rows_quarantined, rows_skipped, validation)"
                    " VALUES ('bench', :n, :h, 'committed', 0, 0, 0, 0, 0, '{}')"
                    " RETURNING batch_id"
                ),
                {"n": name, "h": uuid.uuid4().hex * 2},
            ).scalar_one()

    def load(self, table: str, frame: pd.DataFrame, batch: int) -> None:
        data = _prepared(table, frame, batch)
        raw = self.engine.raw_connection()
        try:
            if self.pg:
                buf = io.StringIO()
                data.to_csv(buf, index=False, header=False, na_rep="\\N", quoting=csv.QUOTE_MINIMAL)
                cols = ", ".join(COLUMNS[table])
                with (
                    raw.cursor() as cur,
                    cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv, NULL '\\N')") as cp,
                ):
                    cp.write(buf.getvalue())
            else:
                cur = raw.cursor()
                cur.execute("PRAGMA foreign_keys=OFF")  # rows are consistent by construction
                marks = ", ".join("?" for _ in COLUMNS[table])
                rows = data.astype(object).where(data.notna(), None).itertuples(index=False)
                cur.executemany(
                    f"INSERT INTO {table} ({', '.join(COLUMNS[table])}) VALUES ({marks})",
                    (tuple(r) for r in rows),
                )
            raw.commit()
        finally:
            raw.close()


# --- DuckDB baseline --------------------------------------------------------------------------


def duckdb_invoices(folder: Path, since: date | None, as_of: date) -> str:
    """DuckDB CTEs over the book's Parquet files as of ``as_of`` (``WITH`` not included):
    ``l`` the invoice lines dated from ``since`` (None: the whole history), ``inv`` one
    row per invoice (its customer, dates and amount due), ``p`` the payments with their
    invoice's running total, ``ip`` each invoice with what was paid and the day it was
    settled (the first day the running total reached the amount due)."""
    lines, pays = folder / "lines.parquet", folder / "payments.parquet"
    first = f"invoice_date >= DATE '{since}' AND " if since else ""
    return f"""
    l AS (SELECT * FROM read_parquet('{lines}') WHERE {first}invoice_date <= DATE '{as_of}'),
    inv AS (SELECT invoice_id, any_value(customer_id) customer_id,
              any_value(invoice_date) invoice_date, any_value(due_date) due_date,
              sum(amount) due FROM l GROUP BY invoice_id),
    p AS (SELECT invoice_id, paid_on, amount,
            sum(amount) OVER (PARTITION BY invoice_id ORDER BY paid_on, payment_id) running
          FROM read_parquet('{pays}') WHERE paid_on <= DATE '{as_of}'),
    ip AS (SELECT i.*, coalesce(sum(p.amount), 0) paid,
             min(p.paid_on) FILTER (WHERE i.due > 0 AND p.running >= i.due) settled
           FROM inv i LEFT JOIN p USING (invoice_id) GROUP BY ALL)"""


def duckdb_baseline(folder: Path, as_of: date) -> tuple[float, int]:
    import duckdb

    cur_start, prev_start = date(as_of.year - 1, as_of.month % 12 + 1, 1), None
    if as_of.month == 12:
        cur_start = date(as_of.year, 1, 1)
    prev_start = date(cur_start.year - 1, cur_start.month, 1)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    query = f"""
    WITH {duckdb_invoices(folder, prev_start, as_of)},
    pl AS (SELECT customer_id, product_line_id,
             sum(amount) FILTER (WHERE invoice_date >= DATE '{cur_start}') AS rev,
             sum(amount) FILTER (WHERE invoice_date < DATE '{cur_start}') AS rev_prev,
             sum(cost) FILTER (WHERE invoice_date >= DATE '{cur_start}') AS cost,
             sum(amount) FILTER (WHERE invoice_date >= DATE '{cur_start}' AND cost IS NOT NULL)
               AS costed
           FROM l GROUP BY ALL),
    sales AS (SELECT customer_id, sum(rev) rev, sum(rev_prev) rev_prev, sum(cost) cost,
                sum(costed) costed, count(*) FILTER (WHERE rev > 0) pls FROM pl GROUP BY ALL),
    invs AS (SELECT customer_id,
               count(*) FILTER (WHERE invoice_date >= DATE '{cur_start}') n,
               sum(due) FILTER (WHERE invoice_date >= DATE '{cur_start}' AND due > 0
                                AND due_date <= DATE '{as_of}') amount_due,
               sum(least(paid, due)) FILTER (WHERE invoice_date >= DATE '{cur_start}' AND due > 0
                                AND due_date <= DATE '{as_of}') collected,
               count(*) FILTER (WHERE invoice_date >= DATE '{cur_start}' AND due > 0
                                AND due_date <= DATE '{as_of}' AND settled <= due_date) on_time,
               sum(greatest(coalesce(settled, DATE '{as_of}') - due_date, 0))
                 FILTER (WHERE invoice_date >= DATE '{cur_start}' AND due > 0
                         AND due_date <= DATE '{as_of}') days_late,
               max(invoice_date) last_invoice
             FROM ip GROUP BY ALL)
    SELECT * FROM sales FULL JOIN invs USING (customer_id)
    """
    # One untimed run reads the Parquet files into the page cache (the recompute's tables
    # are as warm: its database was written just before); the median of three is timed.
    seconds, _, result = median_of(BASELINE_RUNS, lambda: con.execute(query).fetch_df())
    return seconds, len(result)


# --- main -------------------------------------------------------------------------------------


def _database(kind: str, url: str | None, tmp: Path):
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}", lambda: None
    admin_url = url or os.environ.get(
        "ACCOUNTOPS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"accountops_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def main(argv: list[str] | None = None, prepare: Callable[[Engine], None] | None = None) -> dict:
    """Run the benchmark; with a kept book, ``prepare`` (if given) runs on the fresh copy
    before the timed recompute, untimed (benchmarks/funnel.py loads opportunities so)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", default=None, help="PostgreSQL admin URL")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the book in")
    parser.add_argument(
        "--new-window",
        action="store_true",
        help="time the first recompute of a month: the window tables hold the previous month's",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="with a kept book: time the recompute this many times, each on a fresh copy "
        "and followed by the DuckDB baseline, and report the medians (the run that builds "
        "the book times one)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs: at least 1")
    if args.keep is not None and (args.keep / "state.json").exists():
        return _rerun(args, prepare)
    rng = np.random.default_rng(args.seed)
    config = load_config()
    with tempfile.TemporaryDirectory(prefix="accountops-bench-") as tmp_name:
        tmp = Path(tmp_name)
        parquet_dir = tmp
        if args.keep is not None:
            parquet_dir = args.keep
            parquet_dir.mkdir(parents=True, exist_ok=True)
        url, drop = _database(args.db, args.url, tmp)
        try:
            engine = make_engine(url)
            upgrade(engine)
            loader = Loader(engine)
            with stopwatch() as load_time:
                b1 = loader.batch("bench-1")
                with engine.begin() as conn:
                    conn.execute(
                        text("INSERT INTO product_line (product_line_id, name) VALUES (:p, :p)"),
                        [{"p": p} for p in PRODUCT_LINES],
                    )
                    conn.execute(
                        text("INSERT INTO account_manager (manager_id, name) VALUES (:m, :m)"),
                        [{"m": f"AM-{i:04d}"} for i in range(200)],
                    )
                loader.load("customer", customers_frame(args.customers, rng), b1)
                writers: dict[str, pq.ParquetWriter] = {}
                lines_done, next_invoice = 0, 1
                main_lines = int(args.lines * 0.99)
                while lines_done < main_lines:
                    todo = min(LINES_PER_CHUNK, main_lines - lines_done)
                    inv, lines, pays, n_inv = invoice_chunk(
                        rng, args.customers, todo, next_invoice, 30, DAYS
                    )
                    next_invoice += n_inv
                    loader.load("invoice", inv, b1)
                    loader.load("invoice_line", lines, b1)
                    loader.load("payment", pays, b1)
                    _parquet(writers, parquet_dir, inv, lines, pays)
                    lines_done += len(lines)
                    progress(f"loaded {lines_done:,} lines")
                loader.load("wallet_estimate", wallet_frame(args.customers, rng), b1)
                if args.db == "postgresql":
                    with engine.begin() as conn:
                        conn.execute(text("ANALYZE"))
            load_seconds = load_time()
            progress(f"batch 1 loaded in {load_seconds:.1f} s")
            with stopwatch() as full_time:
                first = refresh(engine)
            rollup_full = full_time()
            progress(f"full roll-up build: {rollup_full:.1f} s ({first.customers_rebuilt:,} cust.)")
            # A first snapshot to migrate from, as of the data's end (payments run to it).
            recompute(engine, config, as_of=END, refresh_first=False)
            # Batch 2: new invoices (the last month) for 5% of the customers.
            b2 = loader.batch("bench-2")
            new_lines = args.lines - lines_done
            # A random 5% of the customers, heavy and light alike.
            pool = rng.choice(args.customers, max(1, args.customers // 20), replace=False)
            inv, lines, pays, n_inv = invoice_chunk(
                rng, args.customers, new_lines, next_invoice, 0, 30, pool=pool
            )
            loader.load("invoice", inv, b2)
            loader.load("invoice_line", lines, b2)
            loader.load("payment", pays, b2)
            _parquet(writers, parquet_dir, inv, lines, pays)
            for w in writers.values():
                w.close()
            lines_done += len(lines)
            if args.db == "postgresql":
                with engine.begin() as conn:
                    conn.execute(text("ANALYZE"))
            if args.keep is not None:
                engine.dispose()
                _save_template(args, url, lines_done, len(lines), rollup_full, load_seconds)
            _hold_previous_month(engine, args.new_window)
            rss_before = peak_rss_mb()
            with stopwatch() as rc_time:
                result = recompute(engine, config)
            seconds = rc_time()
            rss_recompute = peak_rss_mb()
            progress(
                f"recompute: {seconds:.2f} s, snapshot {result.snapshot_id}: {result.tier_counts}"
            )
            engine.dispose()
            baseline_seconds, baseline_rows = duckdb_baseline(parquet_dir, result.as_of)
            progress(f"duckdb baseline: {baseline_seconds:.2f} s ({baseline_rows:,} customers)")
        finally:
            drop()
    return report(
        "recompute",
        lines_done,
        seconds,
        baseline="duckdb",
        baseline_seconds=baseline_seconds,
        db=args.db,
        customers=args.customers,
        customers_tiered=result.customers_tiered,
        incremental_customers=result.refresh.customers_rebuilt if result.refresh else 0,
        incremental_lines=len(lines),
        new_window=args.new_window,
        rollup_full_seconds=round(rollup_full, 2),
        load_seconds=round(load_seconds, 1),
        peak_rss_before_recompute_mb=rss_before,
        peak_rss_after_recompute_mb=rss_recompute,
    )


def _hold_previous_month(engine, forget: bool) -> None:
    """With ``--new-window``: the window tables hold the previous month's windows, as the
    first recompute of a month finds them (not timed)."""
    if not forget:
        return
    from models.value.early_windows import window_frame
    from models.value.facts import default_as_of
    from models.value.rules import value_rules
    from models.value.window_tables import WINDOW_TABLES
    from models.value.windows import Windows

    months = value_rules(load_config()).window_months
    with engine.begin() as conn:
        as_of = default_as_of(conn)
        previous = Windows(as_of.replace(day=1) - timedelta(days=1), months)
        for name in WINDOW_TABLES:
            window_frame(conn, name, previous)


def _admin(args):
    return create_engine(
        args.url
        or os.environ.get(
            "ACCOUNTOPS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        isolation_level="AUTOCOMMIT",
    )


def _save_template(args, url: str, lines: int, new_lines: int, rollup_full, load_seconds):
    """Copy the database as it stands (batch 2 loaded, not yet recomputed) to a template."""
    if args.db == "sqlite":
        template = str(args.keep / "book.db")
        _sqlite_copy(make_url(url).database, template)
    else:
        template = f"{make_url(url).database}_keep"
        admin = _admin(args)
        with admin.connect() as conn:
            source = make_url(url).database
            conn.execute(
                text(f'CREATE DATABASE "{template}" TEMPLATE "{source}" STRATEGY = FILE_COPY')
            )
            conn.execute(text("CHECKPOINT"))
        admin.dispose()
    state = {
        "db": args.db,
        "template": template,
        "rows": lines,
        "incremental_lines": new_lines,
        "rollup_full_seconds": round(rollup_full, 2),
        "load_seconds": round(load_seconds, 1),
        "customers": args.customers,
    }
    (args.keep / "state.json").write_text(json.dumps(state))
    progress(f"kept the book as database {template} (see {args.keep / 'state.json'})")


def _sqlite_copy(source: str, target: str) -> None:
    """A consistent copy of a SQLite database file (the WAL folded in)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _fresh_copy(args, state: dict, tmp: Path) -> tuple[str, object]:
    """A fresh database copied from the kept book: (its URL, a function dropping it)."""
    if state.get("db", "postgresql") == "sqlite":
        path = tmp / "bench.db"
        _sqlite_copy(state["template"], str(path))
        return f"sqlite:///{path}", lambda: None
    admin = _admin(args)
    name = f"accountops_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        # FILE_COPY: not the whole book through the WAL (WAL_LOG, PostgreSQL 15's default,
        # leaves checkpoints running into the timed recompute); then a checkpoint now.
        conn.execute(
            text(f'CREATE DATABASE "{name}" TEMPLATE "{state["template"]}" STRATEGY = FILE_COPY')
        )
        conn.execute(text("CHECKPOINT"))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin.url).set(database=name).render_as_string(hide_password=False), drop


def _upgrade_kept(args, state: dict) -> None:
    """Bring the kept book itself to the code's schema (once per new migration, untimed),
    so each copy starts current and the timed recompute runs on what ``init`` leaves."""
    if state.get("db", "postgresql") == "sqlite":
        url = f"sqlite:///{state['template']}"
    else:
        url = make_url(_admin(args).url).set(database=state["template"])
        url = url.render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        before, after = upgrade(engine)
        if before != after and engine.dialect.name == "postgresql":
            # A migration that rewrites rows (0022 filled invoice.line_total: 3.3M rows)
            # leaves them dead in the kept book and so in every copy, where a book built
            # with the code has none: vacuumed now, as autovacuum would in time.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM"))
    finally:
        engine.dispose()
    if before != after:
        progress(f"kept book upgraded from schema {before} to {after}")


def _rerun(args, prepare: Callable[[Engine], None] | None = None) -> dict:
    """Time the recompute again on a fresh copy of the kept book, ``args.runs`` times,
    each followed by the DuckDB baseline: the figures are the medians (the machine's
    speed drifts between runs, and a pair run back to back drifts together)."""
    state = json.loads((args.keep / "state.json").read_text())
    if state.get("db", "postgresql") != args.db:
        raise SystemExit(f"{args.keep} keeps a {state.get('db', 'postgresql')} book, not {args.db}")
    _upgrade_kept(args, state)
    runs = [_run_once(args, state, prepare) for _ in range(args.runs)]
    seconds = float(np.median([r["seconds"] for r in runs]))
    baseline_seconds = float(np.median([r["baseline_seconds"] for r in runs]))
    result = runs[-1]["result"]
    return report(
        "recompute",
        state["rows"],
        seconds,
        baseline="duckdb",
        baseline_seconds=baseline_seconds,
        db=args.db,
        customers=state["customers"],
        customers_tiered=result.customers_tiered,
        incremental_customers=result.refresh.customers_rebuilt if result.refresh else 0,
        incremental_lines=state["incremental_lines"],
        rollup_full_seconds=state["rollup_full_seconds"],
        load_seconds=state["load_seconds"],
        kept=str(args.keep),
        new_window=args.new_window,
        runs=[
            {"seconds": round(r["seconds"], 3), "baseline_seconds": round(r["baseline_seconds"], 3)}
            for r in runs
        ],
        peak_rss_before_recompute_mb=min(r["rss_before"] for r in runs),
        peak_rss_after_recompute_mb=max(r["rss_after"] for r in runs),
    )


def _run_once(args, state: dict, prepare: Callable[[Engine], None] | None) -> dict:
    """One timed recompute on a fresh copy of the kept book, then the DuckDB baseline."""
    tmp = tempfile.TemporaryDirectory(prefix="accountops-bench-")
    url, drop = _fresh_copy(args, state, Path(tmp.name))
    try:
        engine = make_engine(url)
        _hold_previous_month(engine, args.new_window)
        if prepare is not None:
            prepare(engine)
        rss_before = peak_rss_mb()
        with stopwatch() as rc_time:
            result = recompute(engine, load_config())
        seconds = rc_time()
        rss_after = peak_rss_mb()
        progress(f"recompute: {seconds:.2f} s, snapshot {result.snapshot_id}: {result.tier_counts}")
        engine.dispose()
        baseline_seconds, baseline_rows = duckdb_baseline(args.keep, result.as_of)
        progress(f"duckdb baseline: {baseline_seconds:.2f} s ({baseline_rows:,} customers)")
    finally:
        drop()
        tmp.cleanup()
    return {
        "seconds": seconds,
        "baseline_seconds": baseline_seconds,
        "result": result,
        "rss_before": rss_before,
        "rss_after": rss_after,
    }


def _parquet(writers: dict, tmp: Path, inv: pd.DataFrame, lines: pd.DataFrame, pays: pd.DataFrame):
    """The same rows for DuckDB: lines denormalised with their invoice header, and payments."""
    joined = lines.merge(inv, on="invoice_id")
    joined["invoice_date"] = pd.to_datetime(joined["invoice_date"]).dt.date
    joined["due_date"] = pd.to_datetime(joined["due_date"]).dt.date
    pays = pays.assign(paid_on=pd.to_datetime(pays["paid_on"]).dt.date)
    for name, frame in (("lines", joined), ("payments", pays)):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if name not in writers:
            writers[name] = pq.ParquetWriter(tmp / f"{name}.parquet", table.schema)
        writers[name].write_table(table.cast(writers[name].schema))


if __name__ == "__main__":
    for numpy_type, python_type in ((np.int64, int), (np.float64, float), (np.bool_, bool)):
        sqlite3.register_adapter(numpy_type, python_type)
    main()
