"""The roll-ups are UNLOGGED on PostgreSQL (migration 0028): what the refresh derives from
the facts, with the two tables that say what it holds, so that a crash, which empties
every unlogged table, empties them together, and the next refresh rebuilds them whole.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from models.config import load_config
from models.dashboard.refresh import SnapshotNotReady, refresh_dashboard
from models.plans.review import account_sales
from models.schema import RollupBatch
from models.value.recompute import recompute, refresh
from models.value.rollups import APPLIED, INVOICE_MONTHS, INVOICES, OPEN_INVOICES, SALES
from models.value.window_tables import WINDOW_STATE, WINDOW_TABLES
from models.value.windows import Windows
from tests.value.base_books import EDGES, load, wipe
from tests.value.test_base_contract import assert_same, fast, plain, rollup_rows

DERIVED = {t.name for t in (SALES, INVOICES, INVOICE_MONTHS, OPEN_INVOICES, APPLIED)}
DERIVED |= {table.name for table, _ in WINDOW_TABLES.values()}
DERIVED |= {WINDOW_STATE.name, RollupBatch.__tablename__}


@pytest.fixture
def pg_engine(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("UNLOGGED is PostgreSQL's")
    return engine


def _unlogged(conn) -> set[str]:
    rows = conn.execute(
        text(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relpersistence = 'u'"
            " AND relnamespace = 'public'::regnamespace"
        )
    )
    return set(rows.scalars())


def test_the_unlogged_tables_are_what_the_refresh_derives_and_what_says_what_it_holds(
    pg_engine,
):
    with pg_engine.connect() as conn:
        assert _unlogged(conn) == DERIVED


def test_after_a_crash_empties_them_the_next_refresh_rebuilds_the_same_rows(pg_engine):
    wipe(pg_engine)
    w = Windows(EDGES.as_of, EDGES.months)
    load(pg_engine, EDGES, 1)
    refresh(pg_engine)
    load(pg_engine, EDGES, 2)
    refresh(pg_engine)
    with pg_engine.begin() as conn:
        expected = plain(conn, w)
        assert_same(fast(conn, w, stored_windows=True), expected, "before the crash")
    before = rollup_rows(pg_engine)
    crash(pg_engine)
    assert refresh(pg_engine).full_rebuild
    assert rollup_rows(pg_engine) == before
    with pg_engine.begin() as conn:
        assert_same(fast(conn, w, stored_windows=True), expected, "after the crash")


def crash(engine) -> None:
    """What crash recovery does to each unlogged table: reset it to empty."""
    with engine.begin() as conn:
        for name in sorted(_unlogged(conn)):
            conn.execute(text(f"TRUNCATE {name}"))  # names from the catalogue


def test_until_the_next_recompute_plans_read_the_lines_and_the_refresh_stops(pg_engine):
    wipe(pg_engine)
    load(pg_engine, EDGES, 1)
    load(pg_engine, EDGES, 2)
    config = load_config()
    snapshot_id = recompute(pg_engine, config, as_of=EDGES.as_of).snapshot_id
    customers = list(EDGES.customers)

    def actuals():
        with pg_engine.connect() as conn:
            first = EDGES.as_of.year - 2
            return {c: account_sales(conn, EDGES.as_of, first, c).get(c) for c in customers}

    rolled = actuals()
    assert any(rolled.values())
    crash(pg_engine)
    assert actuals() == rolled  # the same sums, from the invoice lines
    with pytest.raises(SnapshotNotReady, match="run `accountops recompute`"):
        refresh_dashboard(pg_engine, snapshot_id, config)
    snapshot_id = recompute(pg_engine, config, as_of=EDGES.as_of).snapshot_id
    refresh_dashboard(pg_engine, snapshot_id, config)
