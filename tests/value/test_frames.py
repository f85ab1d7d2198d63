"""Query results as frames (models/value/frames.py): on PostgreSQL the rows come through
COPY, read straight from libpq; the frame is the one fetching the rows gives, an error
raised mid-way is psycopg's own, and the connection is usable after it (SQLite and
PostgreSQL)."""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest
from sqlalchemy import Float, Integer, String, cast, func, literal, select

from models.value.frames import frame_of


def test_many_rows_arrive_whole_and_in_order(engine):
    if engine.dialect.name == "sqlite":
        pytest.skip("the COPY path is PostgreSQL's")
    x = func.generate_series(1, 120_000).table_valued("value").render_derived(name="x")
    query = select(
        x.c.value.label("n"),
        cast(x.c.value / 7.0, Float).label("ratio"),
        cast(literal('c,"q"\n') + cast(x.c.value, String), String).label("text"),
    ).order_by(x.c.value)
    with engine.connect() as conn:
        frame = frame_of(conn, query)
        fetched = pd.DataFrame(conn.execute(query).all(), columns=["n", "ratio", "text"])
    assert len(frame) == 120_000
    pd.testing.assert_frame_equal(frame, fetched, check_dtype=False)
    assert frame["text"].iloc[-1] == 'c,"q"\n120000'


def test_an_error_mid_way_is_raised_and_the_connection_goes_on(engine):
    """Division by zero at the 50,000th row, after many rows were sent."""
    if engine.dialect.name == "sqlite":
        pytest.skip("the COPY path is PostgreSQL's")
    x = func.generate_series(1, 100_000).table_valued("value").render_derived(name="x")
    query = select(cast(literal(1) / (x.c.value - 50_000), Integer).label("n"))
    with engine.connect() as conn:
        conn.execute(select(literal(1)))  # a transaction begun, as the recompute's are
        # The driver's own error, as any statement run on the raw connection raises it.
        with pytest.raises(psycopg.errors.DivisionByZero, match="division by zero"):
            frame_of(conn, query)
        conn.rollback()
        ok = frame_of(conn, select(cast(literal(3), Integer).label("n")))
    assert ok["n"].tolist() == [3]


def test_no_rows_give_an_empty_frame_with_the_columns(engine):
    query = select(cast(literal(1), Integer).label("n")).where(literal(1) == literal(2))
    with engine.connect() as conn:
        frame = frame_of(conn, query)
    assert frame.empty and list(frame.columns) == ["n"]


def test_a_stop_while_the_copy_ends_cancels_it_and_leaves_the_connection_idle():
    """A stop (here Ctrl-C) while the COPY's final result is awaited: the statement is
    cancelled and what is left read, then the stop goes on (libpq stand-in: the window
    is too short to hit on a real server)."""
    from models.value.frames import _end_of_copy

    class Pgconn:
        busy, left = True, ["cancelled"]

        def is_busy(self):
            return self.busy

        def get_result(self):
            return self.left.pop() if self.left else None

    class Raw:
        pgconn = Pgconn()
        cancelled = False

        def cancel_safe(self):
            self.cancelled = True

    def stopped():
        raise KeyboardInterrupt

    raw = Raw()
    with pytest.raises(KeyboardInterrupt):
        _end_of_copy(raw, stopped)
    assert raw.cancelled and raw.pgconn.left == []
