"""Scale-out reads the base aggregates range of customers by range: put together, the
parts are exactly the whole read (every row, column, value and dtype), on SQLite and
PostgreSQL, on random small books; and the ranges hold every customer once, in order."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from models.schema import Customer
from models.value.aggregates import (
    BASE_COLUMNS,
    PER_LINE_COLUMNS,
    PartitionedAggregates,
    customer_part_aggregates,
)
from models.value.facts import choose_sources, customer_base
from models.value.partitions import EVERY_CUSTOMER, CustomerRange, customer_ranges
from models.value.recompute import refresh
from models.value.windows import Windows
from tests import value_builders as vb
from tests.value.base_books import EDGES, Book, books, describe, load, wipe
from tests.value.test_base_contract import _CONTRACT, BUCKETS, assert_same, plain


def read_one_by_one(engine):
    """A ReadParts that reads each range on a connection of its own, one after another
    (the flow's reads them on a cluster's workers)."""

    def read(windows, bucket_days, ranges):
        parts = []
        for part in ranges:
            with engine.begin() as conn:
                parts.append(customer_part_aggregates(conn, windows, bucket_days, part))
        return parts

    return read


def check_parts(engine, book: Book, parts: int) -> None:
    wipe(engine)
    load(engine, book, 1)
    load(engine, book, 2)
    refresh(engine)
    w = Windows(book.as_of, book.months)
    with engine.begin() as conn:
        whole = customer_base(conn, choose_sources(conn, w), BUCKETS)
        expected = plain(conn, w)
        parted = PartitionedAggregates(parts, read_one_by_one(engine))(conn, w, BUCKETS)
    pd.testing.assert_frame_equal(parted[0], whole[0])
    # per_line's row order is the database's (no ORDER BY); the rows are the same.
    key = ["customer_id", "product_line_id"]
    pd.testing.assert_frame_equal(
        parted[1].sort_values(key, ignore_index=True), whole[1].sort_values(key, ignore_index=True)
    )
    cut = (parted[0][list(BASE_COLUMNS)], parted[1][list(PER_LINE_COLUMNS)])
    assert_same(cut, expected, f"{w} in {parts} parts")


# One customer with an invoice, one without: a part whose columns are all unknown.
ONE_BUYER = Book(
    as_of=date(2025, 12, 31),
    months=1,
    customers=["C0", "C1"],
    invoices=[("I0", "C0", date(2025, 11, 1), None, [("PL1", 1, None)], 2)],
)


@settings(_CONTRACT, max_examples=10)
@given(book=books(), parts=st.sampled_from([2, 3, 5]))
@example(book=ONE_BUYER, parts=2)
def test_the_parts_put_together_are_the_whole(engine, book, parts):
    describe(book)
    check_parts(engine, book, parts)


def test_the_edges_book_in_two_parts(engine):
    check_parts(engine, EDGES, 2)


def test_ranges_hold_every_customer_once_in_the_databases_order(engine):
    with engine.begin() as conn:
        b = vb.batch(conn, "customers")
        # Upper and lower case, digits and a space: whatever the collation orders them by.
        ids = ["b", "A", "a 1", "Z9", "10", "9", "c", "B"]
        conn.execute(
            insert(Customer),
            [{"customer_id": i, "name": i, "status": "active", "batch_id": b} for i in ids],
        )
    with engine.connect() as conn:
        ordered = list(conn.scalars(select(Customer.customer_id).order_by(Customer.customer_id)))
        for parts in (1, 2, 3, 8, 20):
            ranges = customer_ranges(conn, parts)
            assert len(ranges) == min(parts, len(ids))
            assert ranges[0].start is None and ranges[-1].stop is None
            held = []
            for r in ranges:
                query = select(Customer.customer_id).order_by(Customer.customer_id)
                held += conn.scalars(query.where(r.keeps(Customer.customer_id))).all()
            assert held == ordered, parts


def test_no_customers_is_one_range_of_everyone(engine):
    with engine.connect() as conn:
        assert customer_ranges(conn, 4) == [EVERY_CUSTOMER]


def test_a_part_never_reads_the_stored_window_tables(engine):
    """The window tables are read and written whole in the recompute's transaction: a
    part asking for them is a mistake, said at once."""
    from models.value.facts import Shortcuts

    w = Windows(EDGES.as_of, EDGES.months)
    with engine.begin() as conn, pytest.raises(ValueError, match="every customer"):
        src = choose_sources(conn, w)
        customer_base(conn, src, BUCKETS, Shortcuts(stored_windows=True), CustomerRange("C1"))
