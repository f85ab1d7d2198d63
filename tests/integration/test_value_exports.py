"""Exports: identical on SQLite and PostgreSQL (C1 across runs and clocks), spreadsheet-safe
(S2), incremental roll-ups equal a full rebuild, migrations explain themselves."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
import time_machine
from sqlalchemy import insert, update

from models.config import load_config
from models.db import make_engine
from models.migrate import upgrade
from models.sampledata import generate_sample
from models.schema import IngestChange, Invoice, InvoiceLine
from models.value.exports import export, export_frame, neutralise
from models.value.recompute import recompute
from models.value.rollups import refresh_rollups
from tests import value_builders as vb

from ..unit.test_value_measures import AS_OF, build_book

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config()
KINDS = ("tiers", "migrations", "segments", "receivables", "managers", "clv", "funnel", "forecast")


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate_sample(out, customers=60, years=2, seed=7, end_date=date(2026, 9, 30))
    return out


def _all_exports(url: str, sample: Path, out: Path) -> dict[str, bytes]:
    engine = make_engine(url)
    upgrade(engine)
    vb.load_sample(engine, sample)
    recompute(engine, CONFIG, as_of=date(2026, 3, 15))  # historical: raw as-of month and payments
    recompute(engine, CONFIG)  # default as-of: the latest invoice, roll-ups only
    files = {}
    out.mkdir(parents=True)  # an export never makes its folder
    for kind in KINDS:
        for fmt in ("csv", "json"):
            path = out / f"{kind}.{fmt}"
            export(engine, kind, fmt, path, CONFIG)
            files[path.name] = path.read_bytes()
    engine.dispose()
    return files


@pytest.mark.slow
@pytest.mark.postgres
def test_sqlite_and_postgresql_give_identical_exports(sample_dir, sqlite_url, pg_url, tmp_path):
    lite = _all_exports(sqlite_url, sample_dir, tmp_path / "sqlite")
    pg = _all_exports(pg_url, sample_dir, tmp_path / "pg")
    assert lite.keys() == pg.keys()
    for name in lite:
        assert lite[name] == pg[name], f"{name} differs between SQLite and PostgreSQL"
    tiers = pd.read_csv(tmp_path / "sqlite" / "tiers.csv", keep_default_na=False)
    assert tiers["customer_id"].is_unique
    assert {"customer_id", "tier", "previous_tier", "score", "reasons"} <= set(tiers.columns)
    assert set(tiers["tier"]) >= {"diamond", "gold", "general"}


@pytest.mark.slow
@pytest.mark.postgres
def test_a_large_book_prints_the_same_reasons_on_both_databases(sqlite_url, pg_url, tmp_path):
    """One rounding rule (half up, blind to float noise): the tier export of a book of
    2,000 customers is byte-identical on SQLite and PostgreSQL. Before the rule, two of
    its reasons printed a revenue of x.50 one way on each (3,634 and 3,633: the engine's
    paths sum in different orders, and Python formats half to even)."""
    book = tmp_path / "book"
    generate_sample(book, customers=2000, years=3, seed=11, end_date=date(2026, 9, 30))
    tiers = {}
    for name, url in (("sqlite", sqlite_url), ("postgresql", pg_url)):
        engine = make_engine(url)
        upgrade(engine)
        vb.load_sample(engine, book)
        recompute(engine, CONFIG)
        export(engine, "tiers", "csv", tmp_path / f"{name}.csv", CONFIG)
        engine.dispose()
        tiers[name] = (tmp_path / f"{name}.csv").read_bytes()
    assert tiers["sqlite"].count(b"\n") > 1900
    assert tiers["sqlite"] == tiers["postgresql"]


def test_c1_tiers_export_is_byte_identical_across_runs_and_wall_clock_dates(tmp_path):
    outputs = []
    for i, moment in enumerate(
        (datetime(2026, 11, 23, 9, 0, tzinfo=UTC), datetime(2031, 2, 1, 23, 59, tzinfo=UTC))
    ):
        with time_machine.travel(moment, tick=False):
            engine = make_engine(f"sqlite:///{tmp_path / f'c1-{i}.db'}")
            upgrade(engine)
            build_book(engine)
            recompute(engine, CONFIG, as_of=AS_OF)
            for fmt in ("csv", "json"):
                export(engine, "tiers", fmt, tmp_path / f"tiers-{i}.{fmt}", CONFIG)
            engine.dispose()
        outputs.append(
            (
                (tmp_path / f"tiers-{i}.csv").read_bytes(),
                (tmp_path / f"tiers-{i}.json").read_bytes(),
            )
        )
    assert outputs[0] == outputs[1]
    assert b"collection rate 40% is below the 80% floor" in outputs[0][0]


def test_c1_no_clock_reads_in_value_computations():
    clock = re.compile(
        r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time|time\.monotonic)\("
    )
    for path in (ROOT / "models" / "value").glob("*.py"):
        assert not clock.search(path.read_text()), f"{path.name} reads the clock"


def test_s2_text_cells_are_neutralised_but_negative_numbers_stay_numbers(engine, tmp_path):
    with engine.begin() as conn:
        b = vb.batch(conn)
        vb.product_line(conn, "PL1", b)
        for cid in ("=HYPERLINK(1)", "+SUM", "-2+3", "@cmd", "\tTAB", "Fine"):
            vb.customer(conn, cid, b)
            vb.invoice(
                conn,
                f"I{len(cid)}{cid[-1]}",
                cid,
                date(2026, 1, 5),
                None,
                [("PL1", "-100", None)],
                b,
            )
    recompute(engine, CONFIG, as_of=date(2026, 1, 31))
    export(engine, "tiers", "csv", tmp_path / "t.csv", CONFIG)
    lines = (tmp_path / "t.csv").read_text().splitlines()
    first_cells = sorted(line.split(",")[0] for line in lines[1:])
    assert first_cells == sorted(["'=HYPERLINK(1)", "'+SUM", "'-2+3", "'@cmd", "'\tTAB", "Fine"])
    revenue_col = lines[0].split(",").index("revenue")
    frame = pd.read_csv(tmp_path / "t.csv", dtype=str)
    assert set(frame["revenue"]) == {"-100.00"}
    assert revenue_col > 0
    assert neutralise(-5) == -5 and neutralise("-5") == "'-5" and neutralise("\rX") == "'\rX"


def test_incremental_rollups_equal_a_full_rebuild(engine):
    build_book(engine)
    with engine.begin() as conn:
        first = refresh_rollups(conn)
    assert first.full_rebuild
    with engine.begin() as conn:
        b = vb.batch(conn)
        vb.invoice(conn, "B2", "B", date(2026, 6, 1), date(2026, 7, 1), [("PL2", "250", "100")], b)
        vb.payment(conn, "pB2", "B", "B2", date(2026, 6, 20), "250", b)
        # An amendment moves A3 from customer A to C and changes its amount.
        conn.execute(
            update(Invoice).where(Invoice.invoice_id == "A3").values(customer_id="C", batch_id=b)
        )
        conn.execute(
            update(InvoiceLine).where(InvoiceLine.invoice_id == "A3").values(amount=350, batch_id=b)
        )
        conn.execute(
            insert(IngestChange),
            {
                "batch_id": b,
                "entity": "invoices",
                "natural_key": "A3",
                "previous_customer_id": "A",
                "changes": {"customer_id": ["A", "C"]},
            },
        )
    with engine.begin() as conn:
        second = refresh_rollups(conn)
        assert not second.full_rebuild
        assert second.customers_rebuilt == 3  # A (previous owner), B, C
        vb.assert_rollups_match_a_full_rebuild(conn)
    with engine.begin() as conn:
        assert refresh_rollups(conn).batch_ids == []


def test_a_downgrade_to_problem_names_the_measures_that_moved(engine):
    with engine.begin() as conn:
        b = vb.batch(conn)
        vb.product_line(conn, "PL1", b)
        for i in range(10):
            cid = f"D{i}"
            vb.customer(conn, cid, b)
            vb.invoice(
                conn,
                f"{cid}-1",
                cid,
                date(2026, 1, 5),
                date(2026, 2, 4),
                [("PL1", str(1000 * (i + 1)), str(500 * (i + 1)))],
                b,
            )
            vb.payment(conn, f"{cid}-p", cid, f"{cid}-1", date(2026, 2, 1), str(1000 * (i + 1)), b)
    recompute(engine, CONFIG, as_of=date(2026, 2, 28))
    with engine.begin() as conn:
        b = vb.batch(conn)
        vb.invoice(
            conn, "D9-2", "D9", date(2026, 3, 1), date(2026, 3, 31), [("PL1", "50000", "20000")], b
        )
    recompute(engine, CONFIG, as_of=date(2026, 4, 30))
    moves = export_frame(engine, "migrations", CONFIG).set_index("customer_id")
    d9 = moves.loc["D9"]
    assert (d9["previous_tier"], d9["tier"], d9["kind"]) == ("diamond", "problem", "downgrade")
    moved = d9["moved_measures"].split("; ")
    assert moved[0] == "collection_rate" and len(moved) == len(set(moved))
    assert "collection rate 100% -> 17%" in d9["explanation"]
    tiers = export_frame(engine, "tiers", CONFIG).set_index("customer_id")
    assert tiers.loc["D9", "previous_tier"] == "diamond"


def test_export_command_does_not_import_prefect(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    build_book(engine)
    recompute(engine, CONFIG, as_of=AS_OF)
    out = tmp_path / "tiers.csv"
    code = (
        "import sys\n"
        "from flows.cli import app\n"
        f"app(['export', 'tiers', '--out', {str(out)!r}], standalone_mode=False)\n"
        "print('prefect' in sys.modules)\n"
    )
    env = {"ACCOUNTOPS_DATABASE_URL": str(engine.url), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("False")
    assert out.read_text().startswith("customer_id,customer_name,tier,previous_tier,score,reasons")


def test_funnel_and_forecast_exports(sample_dir, sqlite_url, tmp_path):
    import json

    from sqlalchemy import delete

    from models.funnel.store import NoFunnelStored
    from models.schema import FunnelRun

    engine = make_engine(sqlite_url)
    upgrade(engine)
    vb.load_sample(engine, sample_dir)
    result = recompute(engine, CONFIG)
    export(engine, "funnel", "csv", tmp_path / "funnel.csv", CONFIG)
    funnel = pd.read_csv(tmp_path / "funnel.csv")
    assert list(funnel.columns[:10]) == [
        "opportunity_id", "customer_id", "customer_name", "owner", "owner_name", "stage",
        "state", "amount", "days_in_stage", "expected_close_on",
    ]  # fmt: skip
    assert funnel["opportunity_id"].is_unique
    # every opportunity known on the as-of date: the live ones and those that ended before
    known = pd.read_csv(sample_dir / "opportunities.csv", dtype=str)
    as_of = result.as_of.isoformat()
    assert set(funnel["opportunity_id"]) == set(known[known["created_on"] <= as_of].opportunity_id)
    text = pd.read_csv(tmp_path / "funnel.csv", dtype=str, keep_default_na=False)
    assert text["amount"].str.fullmatch(r"-?\d+\.\d\d").all()  # money to the cent, every row
    assert text["days_in_stage"].str.fullmatch(r"\d*").all()  # whole days or empty
    ended = funnel[funnel["state"].isna()]
    assert len(ended) and set(ended["stage"]) <= {"won", "lost"}
    assert set(funnel["state"].dropna()) <= {
        "new", "advanced", "regressed", "stalled", "holding", "won", "lost"
    }  # fmt: skip
    export(engine, "forecast", "json", tmp_path / "forecast.json", CONFIG)
    doc = json.loads((tmp_path / "forecast.json").read_text())
    assert {"learned_error", "naive_error", "periods"} <= set(doc["backtest"])
    assert 1 <= len(doc["backtest"]["periods"]) <= 8  # periods before the first deal: none
    assert {"period_start", "owner", "learned", "naive"} <= set(doc["forecast"][0])
    rows = export(engine, "forecast", "csv", tmp_path / "forecast.csv", CONFIG)
    assert rows == len(doc["forecast"])
    with engine.begin() as conn:  # a snapshot stored before the funnel existed
        conn.execute(delete(FunnelRun))
    with pytest.raises(NoFunnelStored, match="run `accountops recompute`"):
        export_frame(engine, "funnel", CONFIG)
    engine.dispose()
