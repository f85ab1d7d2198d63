"""The roll-up refresh gives the planner statistics of the fact tables a bulk load left
without any (PostgreSQL): once after a large load, not after a night's few rows."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from models.value.dbtuning import analyze_stale_facts
from models.value.rollups import refresh_rollups
from tests import value_builders as vb
from tests.unit.test_value_measures import build_book


def _never_analyzed(conn) -> set[str]:
    rows = conn.execute(
        text(
            "SELECT relname FROM pg_class WHERE reltuples < 0 "
            "AND relname IN ('invoice', 'invoice_line', 'payment')"
        )
    )
    return set(rows.scalars())


@pytest.fixture
def pg_engine(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    return engine


def test_the_first_refresh_analyzes_the_loaded_facts_and_a_small_batch_does_not(pg_engine):
    build_book(pg_engine)
    with pg_engine.begin() as conn:
        assert _never_analyzed(conn) == {"invoice", "invoice_line", "payment"}
        refresh_rollups(conn)
        assert _never_analyzed(conn) == set()
    vb.a_batch_of_new_rows(pg_engine)  # a handful of rows on a book of ~30
    with pg_engine.begin() as conn:
        # Fewer rows changed than autovacuum's threshold (50 + 10%): nothing to do.
        assert analyze_stale_facts(conn) == ()


def test_no_statistics_to_gather_on_sqlite(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite")
    with engine.begin() as conn:
        assert analyze_stale_facts(conn) == ()
