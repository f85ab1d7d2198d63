"""Ingest throughput: invoice lines with validation vs a bare bulk load, same run,
and the payments of those invoices beside them.

python benchmarks/ingest.py --lines 1000000 --db sqlite|postgresql
python benchmarks/ingest.py --book DIR --db sqlite|postgresql

After the invoice lines, a payments file of the same invoices (most paid in full,
some in two instalments, some not at all, a few payments on account) is ingested
with validation, the overpayment check included: ``payments_rows_per_second``
beside ``rows_per_second`` (the lines'), and ``payments_cost_ratio``, what a
payment row costs over what a line costs (the aim: at most 2).

The baseline loads the same file's rows with COPY (PostgreSQL) or one
executemany in one transaction (SQLite) into a plain table with the lines'
primary key (invoice_id, line_no), no validation: the bare load issue 4 names
("COPY of 1M lines with a primary key"). ``bare_no_key_seconds`` is the same
load into a table without the key. The schema floor is the same rows into the
real invoice and invoice_line tables (their keys and indexes), no validation.

``--book DIR`` ingests a whole book written by ``benchmarks/sample.py --out DIR``
(every canonical file, in load order) into a new database, each file in a
process of its own, so that each file's ``peak_rss_mb`` is its own: the figure
that must stay flat from a 1M-line book (5,000 customers, 3 years) to a
10M-line one (50,000 customers). No baseline runs in this mode.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import peak_rss_mb, progress, report
from sqlalchemy import create_engine, text

from models.db import make_engine
from models.migrate import upgrade

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
AS_OF = date(2026, 10, 1)
COPY_BLOCK = 1 << 20


def generate(folder: Path, lines: int, customers: int = 5000, seed: int = 1) -> Path:
    """customers.csv, product_lines.csv, invoice_lines.csv and payments.csv of the
    canonical shape, fast; each invoice's payments are written as it is finished,
    so nothing of the file is held."""
    rng = random.Random(seed)
    payments = Payments(folder / "payments.csv", random.Random(seed + 1))
    (folder / "product_lines.csv").write_text(
        "product_line_id,name,category\n" + "".join(f"PL-{i:02d},Line {i},Cat\n" for i in range(8))
    )
    with (folder / "customers.csv").open("w") as fh:
        fh.write(
            "customer_id,name,industry,ownership_type,region,country,parent_customer_id,"
            "manager_id,influence,status,buying_factor,named_strategic,estimated_potential\n"
        )
        for c in range(customers):
            fh.write(f"C-{c:06d},Customer {c},machinery,private,DACH,DE,,,50,active,price,false,\n")
    path = folder / "invoice_lines.csv"
    start = date(2024, 1, 1)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "invoice_id",
                "line_no",
                "customer_id",
                "invoice_date",
                "due_date",
                "product_line_id",
                "product_code",
                "quantity",
                "amount",
                "cost",
                "currency",
            ]
        )
        n, inv = 0, 0
        while n < lines:
            inv += 1
            day = start + timedelta(days=rng.randrange(900))
            due = (day + timedelta(days=30)).isoformat()
            cust = f"C-{rng.randrange(customers):06d}"
            total = 0
            for line in range(1, min(rng.randrange(1, 10), lines - n) + 1):
                q = rng.randrange(1, 50)
                amount = q * rng.randrange(100, 50000) / 100
                total += round(amount * 100)
                w.writerow(
                    [
                        f"INV-{inv:08d}",
                        line,
                        cust,
                        day.isoformat(),
                        due,
                        f"PL-{rng.randrange(8):02d}",
                        f"SKU-{rng.randrange(999)}",
                        q,
                        f"{amount:.2f}",
                        f"{amount * 0.7:.2f}",
                        "EUR",
                    ]
                )
                n += 1
            payments.pay(f"INV-{inv:08d}", cust, day, total)
    payments.close()
    return path


class Payments:
    """payments.csv, written invoice by invoice: 70% of the invoices paid in full in
    one payment, 15% in two instalments, the rest open; one in 50 also brings a
    payment on account (no invoice)."""

    def __init__(self, path: Path, rng: random.Random) -> None:
        self.rng, self.n = rng, 0
        self.fh = path.open("w", newline="")
        self.out = csv.writer(self.fh, lineterminator="\n")
        self.out.writerow(
            ["payment_id", "invoice_id", "customer_id", "paid_on", "amount", "currency"]
        )

    def pay(self, invoice_id: str, customer_id: str, day: date, cents: int) -> None:
        """The payments of one invoice of ``cents`` (its lines' total)."""
        draw = self.rng.random()
        parts = [cents] if draw < 0.70 else [cents // 2, cents - cents // 2] if draw < 0.85 else []
        for part in parts:
            self._write(invoice_id, customer_id, day, part)
        if self.rng.random() < 0.02:
            self._write("", customer_id, day, self.rng.randrange(100, 100_000))

    def _write(self, invoice_id: str, customer_id: str, day: date, cents: int) -> None:
        self.n += 1
        paid_on = (day + timedelta(days=self.rng.randrange(5, 90))).isoformat()
        self.out.writerow(
            [f"PAY-{self.n:09d}", invoice_id, customer_id, paid_on, f"{cents / 100:.2f}", "EUR"]
        )

    def close(self) -> None:
        self.fh.close()


LINE_COLUMNS = (
    "invoice_id varchar(64), line_no int, customer_id varchar(64), invoice_date date,"
    " due_date date, product_line_id varchar(64), product_code varchar(64),"
    " quantity numeric(18,3), amount numeric(18,2), cost numeric(18,2), currency varchar(3)"
)
LINE_KEY = ", PRIMARY KEY (invoice_id, line_no)"


def bulk_load(conn, table: str, path: Path) -> None:
    """The file's rows into ``table`` (as many columns as the file's header): COPY on
    PostgreSQL, one executemany on SQLite; no validation, no conversion beyond the
    database's own."""
    raw = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as fh,
        ):
            while block := fh.read(COPY_BLOCK):
                copy.write(block)
    else:
        with path.open(newline="") as fh:
            reader = csv.reader(fh)
            marks = ",".join("?" * len(next(reader)))
            raw.cursor().executemany(f"INSERT INTO {table} VALUES ({marks})", reader)


def baseline(url: str, path: Path, key: str = LINE_KEY) -> float:
    """Bare load of the same rows: COPY (PostgreSQL) or one executemany (SQLite)."""
    engine = make_engine(url)
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_bare"))
        conn.execute(text(f"CREATE TABLE bench_bare ({LINE_COLUMNS}{key})"))
        bulk_load(conn, "bench_bare", path)
    seconds = time.perf_counter() - start
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_bare"))
    engine.dispose()
    return seconds


def schema_floor(url: str, path: Path) -> float:
    """The same rows into the real invoice/invoice_line tables (their keys and indexes,
    each invoice's line total as the ingest keeps it), no validation: bulk into a temp
    table, then two INSERT ... SELECT; rolled back. The tables are emptied first in the
    same transaction (TRUNCATE on PostgreSQL: a DELETE would leave a million dead index
    entries to step over)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE invoice_line, invoice, ingest_change, payment"))
        else:
            for table in ("ingest_change", "payment", "invoice_line", "invoice"):
                conn.execute(text(f"DELETE FROM {table}"))
        start = time.perf_counter()
        conn.execute(text(f"CREATE TEMP TABLE floor_stage ({LINE_COLUMNS})"))
        bulk_load(conn, "floor_stage", path)
        batch = conn.scalar(text("SELECT max(batch_id) FROM ingest_batch"))
        conn.execute(
            text(
                "INSERT INTO invoice (invoice_id, customer_id, invoice_date, due_date, currency,"
                " batch_id, line_total) SELECT invoice_id, min(customer_id), min(invoice_date),"
                " min(due_date), min(currency), :b, sum(amount) FROM floor_stage"
                " WHERE true GROUP BY invoice_id"
            ),
            {"b": batch},
        )
        conn.execute(
            text(
                "INSERT INTO invoice_line (invoice_id, line_no, product_line_id, product_code,"
                " quantity, amount, cost, batch_id) SELECT invoice_id, line_no, product_line_id,"
                " product_code, quantity, amount, cost, :b FROM floor_stage"
            ),
            {"b": batch},
        )
        seconds = time.perf_counter() - start
        conn.rollback()
    engine.dispose()
    return seconds


def warm_up(runner) -> None:
    """Great Expectations' first validation costs seconds: pay it before timing."""
    import pandas as pd

    runner(
        "product_lines",
        pd.DataFrame({"product_line_id": ["x"], "name": ["x"], "category": ["x"]}),
        {},
    )


def load_one(url: str, path: Path) -> None:
    """Ingest one file into ``url`` (already migrated); print its figures as JSON."""
    from expectations.runner import SuiteRunner
    from models.ingest import ingest_config, ingest_file

    engine = make_engine(url)
    config = ingest_config()
    runner = SuiteRunner(config, AS_OF)
    warm_up(runner)
    start = time.perf_counter()
    result = ingest_file(engine, path, validator=runner, config=config, as_of=AS_OF)
    seconds = time.perf_counter() - start
    engine.dispose()
    figures = {
        "file": path.name,
        "outcome": result.outcome,
        "rows": result.rows_read,
        "seconds": round(seconds, 3),
        "rows_per_second": round(result.rows_read / seconds) if seconds else None,
        "peak_rss_mb": peak_rss_mb(),
        "message": result.message,
    }
    print(json.dumps(figures), flush=True)


@contextmanager
def database(db: str, folder: Path):
    """A new, migrated database (dropped afterwards on PostgreSQL); yields its URL."""
    admin = name = None
    if db == "postgresql":
        name = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{folder / 'bench.db'}"
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        if admin is not None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def amended_copy(path: Path, folder: Path) -> Path:
    """A copy of ``path`` (a payments file) whose last amount is 0.50 lower, same name."""
    folder.mkdir()
    out = folder / path.name
    shutil.copyfile(path, out)
    amount = path.open().readline().rstrip("\n").split(",").index("amount")
    with out.open("r+b") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(size - 4096, 0))
        tail = fh.read()
        start = size - len(tail) + tail.rstrip(b"\n").rfind(b"\n") + 1
        fh.seek(start)
        last = fh.read().decode().rstrip("\n").split(",")
        last[amount] = f"{float(last[amount]) - 0.5:.2f}"
        fh.seek(start)
        fh.truncate()
        fh.write((",".join(last) + "\n").encode())
    return out


def book(folder: Path, db: str) -> None:
    """Every canonical file of a sample book, in load order, each in its own process;
    then the payments file again with one amount changed."""
    from models.canonical import ENTITIES, LOAD_ORDER

    files = [folder / ENTITIES[e].file_name for e in LOAD_ORDER]
    runs = [(f.stem, f) for f in files if f.exists()]
    per_file = {}
    with tempfile.TemporaryDirectory(prefix="ingest-book-") as tmp, database(db, Path(tmp)) as url:
        runs.append(("payments_resent", amended_copy(folder / "payments.csv", Path(tmp) / "re")))
        for key, path in runs:
            progress(f"ingesting {key}")
            figures = load_in_child(url, path)
            took = f"{figures['seconds']}s, {figures['peak_rss_mb']} MB"
            progress(f"  {figures['message'][:200]} in {took}")
            if key != "payments_resent":  # reported, whatever its outcome
                assert figures["outcome"] == "LOADED", figures["message"]
            per_file[key] = {k: figures[k] for k in ("outcome", "rows", "seconds", "peak_rss_mb")}
    lines = per_file.get("invoice_lines", {})
    beside = payments_beside_lines(lines, per_file["payments"]) if "payments" in per_file else {}
    report(
        f"ingest-book-{db}",
        lines.get("rows", 0),
        sum(f["seconds"] for f in per_file.values()),
        book=str(folder),
        max_file_peak_rss_mb=max(f["peak_rss_mb"] for f in per_file.values()),
        **beside,
        files=per_file,
    )


def load_in_child(url: str, path: Path) -> dict:
    """Ingest one file in a process of its own (so its peak RSS is its own); its figures."""
    child = subprocess.run(
        [sys.executable, __file__, "--load-one", str(path), "--url", url],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode:
        raise SystemExit(f"{path.name}: {child.stderr.strip().splitlines()[-1]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def payments_beside_lines(lines: dict, payments: dict) -> dict:
    """Payments' figures beside the invoice lines' (each: rows, seconds, peak_rss_mb),
    with ``payments_cost_ratio``: seconds per payment row over seconds per line (the
    aim: at most 2). Also printed as a small table on stderr."""
    rate = {k: f["rows"] / f["seconds"] for k, f in (("lines", lines), ("payments", payments))}
    progress(f"{'file':<16}{'rows':>12}{'seconds':>10}{'rows/s':>10}{'peak MB':>10}")
    for name, f in (("invoice_lines", lines), ("payments", payments)):
        row = f"{f['rows']:>12,}{f['seconds']:>10.2f}{rate[name.split('_')[-1]]:>10,.0f}"
        progress(f"{name:<16}{row}{f['peak_rss_mb']:>10}")
    ratio = round(rate["lines"] / rate["payments"], 2)
    progress(f"a payment row costs {ratio}x an invoice line")
    return {
        "lines_rows_per_second": round(rate["lines"]),
        "payments_rows": payments["rows"],
        "payments_seconds": payments["seconds"],
        "payments_rows_per_second": round(rate["payments"]),
        "payments_peak_rss_mb": payments["peak_rss_mb"],
        "payments_cost_ratio": ratio,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--book", type=Path, help="ingest this sample book instead")
    parser.add_argument("--load-one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_one:
        load_one(args.url, args.load_one)
        return
    if args.book:
        book(args.book, args.db)
        return
    from expectations.runner import SuiteRunner
    from models.ingest import ingest_config, ingest_file

    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        folder = Path(tmp)
        progress(f"generating {args.lines:,} invoice lines")
        path = generate(folder, args.lines)
        with database(args.db, folder) as url:
            engine = make_engine(url)
            config = ingest_config()
            runner = SuiteRunner(config, AS_OF)
            for f in ("product_lines.csv", "customers.csv"):
                ingest_file(engine, folder / f, validator=runner, config=config, as_of=AS_OF)
            warm_up(runner)
            progress("ingesting with validation")
            start = time.perf_counter()
            result = ingest_file(engine, path, validator=runner, config=config, as_of=AS_OF)
            seconds = time.perf_counter() - start
            ingest_peak = peak_rss_mb()  # before the baselines run in this process
            assert result.outcome == "LOADED", result.message
            progress(f"{result.message} in {seconds:.1f}s; payments of those invoices")
            paid = load_in_child(url, folder / "payments.csv")
            assert paid["outcome"] == "LOADED", paid["message"]
            lines = {"rows": result.rows_read, "seconds": seconds, "peak_rss_mb": ingest_peak}
            beside = payments_beside_lines(lines, paid)
            progress("baseline bare load")
            base_seconds = baseline(url, path)
            progress("bare load without the key")
            bare_no_key = baseline(url, path, key="")
            progress("schema floor: the same rows into the real tables, no validation")
            floor_seconds = schema_floor(url, path)
            engine.dispose()
    report(
        f"ingest-{args.db}",
        args.lines,
        seconds,
        baseline=("COPY" if args.db == "postgresql" else "executemany-one-transaction")
        + " with the primary key",
        baseline_seconds=base_seconds,
        bare_no_key_seconds=round(bare_no_key, 3),
        ratio_to_bare_no_key=round(seconds / bare_no_key, 2),
        rows_loaded=result.rows_loaded,
        schema_floor_seconds=round(floor_seconds, 3),
        ratio_to_schema_floor=round(seconds / floor_seconds, 2),
        rows_quarantined=result.rows_quarantined,
        ingest_peak_rss_mb=ingest_peak,
        **beside,
    )


if __name__ == "__main__":
    main()
