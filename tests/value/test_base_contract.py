"""The base aggregates' contract: on random small books the fast path (roll-ups, window
tables, the cut-off path) gives exactly the plain reference's figures, every column, to
the cent, with unknown (NULL) where the reference has it, on SQLite and PostgreSQL.

Each book (tests/value/base_books.py) is loaded in two committed batches with a refresh
after each, so the fast path is checked after an incremental refresh (with the window
tables held through it, as the recompute reads them) and again after a full rebuild of
the roll-ups. The reference itself is checked against figures worked out by hand.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from sqlalchemy import delete, select

from models.schema import RollupBatch
from models.value.aggregates import (
    BASE_COLUMNS,
    PER_LINE_COLUMNS,
    base_aggregates,
    fast_base_aggregates,
)
from models.value.facts import Shortcuts
from models.value.recompute import refresh
from models.value.rollups import APPLIED, INVOICE_MONTHS, INVOICES, OPEN_INVOICES, SALES
from models.value.windows import Windows
from tests.value.base_books import (
    EDGES,
    STOPPED_BUYING,
    Book,
    books,
    describe,
    load,
    month_end,
    wipe,
)

BUCKETS = (30, 60, 90)


def _cell(column: str, v) -> str:
    """A figure as text: money to the cent, whole numbers as such, '' for unknown."""
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if column == "named_strategic":
        return str(bool(v))
    if column == "last_invoice_date":
        return str(v)[:10]  # ISO text on SQLite, a date on PostgreSQL
    if isinstance(v, float | int | Decimal) and not isinstance(v, bool):
        return f"{float(v):.2f}"
    return str(v)


def _as_text(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    frame = frame.sort_values(key).reset_index(drop=True).astype(object)
    return pd.DataFrame({c: [_cell(c, v) for v in frame[c]] for c in frame.columns})


def differences(fast: pd.DataFrame, plain: pd.DataFrame, key: list[str]) -> list[str]:
    """Each (row, column) where the two frames disagree, as readable lines."""
    assert list(fast.columns) == list(plain.columns)
    a, b = _as_text(fast, key), _as_text(plain, key)
    if not a[key].equals(b[key]):
        return [f"rows differ:\nfast\n{a[key]}\nplain\n{b[key]}"]
    out = []
    for c in a.columns:
        for i in (a[c] != b[c]).to_numpy().nonzero()[0]:
            x, y = a.at[i, c], b.at[i, c]
            out.append(f"{'/'.join(a.loc[i, key])} {c}: fast {x!r} plain {y!r}")
    return out


def assert_same(fast, plain, what: str) -> None:
    """The fast path's (base, per_line) equal the plain reference's, every column."""
    for name, key, f, p in (
        ("base", ["customer_id"], fast[0], plain[0]),
        ("per_line", ["customer_id", "product_line_id"], fast[1], plain[1]),
    ):
        assert list(f.columns) == list(BASE_COLUMNS if name == "base" else PER_LINE_COLUMNS)
        diff = differences(f, p, key)
        assert not diff, f"{what}, {name}:\n" + "\n".join(diff)


def fast(conn, windows: Windows, *, stored_windows: bool = False):
    if stored_windows:  # the recompute's shortcut: the window tables, written if need be
        return fast_base_aggregates(conn, windows, BUCKETS, Shortcuts(stored_windows=True))
    return base_aggregates(conn, windows, BUCKETS, "fast")


def plain(conn, windows: Windows):
    return base_aggregates(conn, windows, BUCKETS, "plain")


def check_book(engine, book: Book) -> None:
    """Load ``book`` in two parts and require the fast path to equal the reference: after
    the incremental refresh (figures computed afresh and read from the window tables held
    through it), at the as-of month's end too, and after a full rebuild of the roll-ups."""
    wipe(engine)
    w = Windows(book.as_of, book.months)
    at_month_end = Windows(month_end(book.as_of), book.months)
    load(engine, book, 1)
    refresh(engine)
    with engine.begin() as conn:  # hold this window in the window tables through load 2
        fast(conn, w, stored_windows=True)
    load(engine, book, 2)
    refresh(engine)
    with engine.connect() as conn:
        expected, expected_at_month_end = plain(conn, w), plain(conn, at_month_end)
        assert_same(fast(conn, w), expected, f"{w} after an incremental refresh")
        assert_same(fast(conn, w, stored_windows=True), expected, f"{w} from the window tables")
        assert_same(fast(conn, at_month_end), expected_at_month_end, f"{at_month_end} too")
    incremental = rollup_rows(engine)
    with engine.begin() as conn:
        conn.execute(delete(RollupBatch))  # the next refresh rebuilds the roll-ups whole
    assert refresh(engine).full_rebuild
    with engine.connect() as conn:
        assert_same(fast(conn, w), expected, f"{w} after a full refresh")
    # Row for row: what the incremental refresh added or rebuilt is what a rebuild gives.
    for name, rows in rollup_rows(engine).items():
        assert incremental[name] == rows, f"{name} after an incremental refresh"


def rollup_rows(engine) -> dict[str, list[tuple]]:
    """Every roll-up table's rows, sorted."""
    with engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(select(t))), key=repr)
            for t in (SALES, INVOICES, INVOICE_MONTHS, OPEN_INVOICES, APPLIED)
        }


_CONTRACT = settings(
    derandomize=True,  # the same books on every run
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings(_CONTRACT, max_examples=25)
@given(book=books())
@example(book=EDGES)
def test_fast_base_aggregates_equal_the_plain_reference(engine, book):
    describe(book)
    check_book(engine, book)


@pytest.mark.slow
@settings(_CONTRACT, max_examples=120)
@given(book=books())
def test_fast_base_aggregates_equal_the_plain_reference_on_many_books(engine, book):
    describe(book)
    check_book(engine, book)


def test_the_reference_by_hand_on_the_edges_book(engine):
    """EDGES as of 2026-01-15 (now = January 1-15, before = December), worked by hand.

    C0: I0 (Jan 5, 100.00 = PL1 60 cost 25 + PL2 40) paid 60 + 40 by its due date, the
    as-of date: settled on time (the 5.00 after it changes nothing). I1 (Dec 20, 200 +
    a later 10.00 line) is unpaid by the as-of date, 5 days past due: 1-30 days.
    C1: I4 (Jan 2, 0.10 costed 0.20 + 0.20) settled by two payments on Jan 3, no due
    date: collected, not timed. The credit note I3 (Dec 31, -30) is owed nothing; I2
    is after the as-of date; 7.00 came on account on the as-of date.
    """
    load(engine, EDGES, 1)
    load(engine, EDGES, 2)
    with engine.connect() as conn:
        base, per_line = plain(conn, Windows(EDGES.as_of, EDGES.months))
    rows = _as_text(base, ["customer_id"]).set_index("customer_id")
    by_hand = {
        "C0": {"revenue": 100, "revenue_previous": 210, "cost": 25, "revenue_costed": 60},
        "C1": {"revenue": 0.3, "revenue_previous": -30, "cost": 0.2, "revenue_costed": 0.1},
    }
    by_hand["C0"] |= {"product_line_count": 2, "invoice_count": 1, "paid_any": 100}
    by_hand["C1"] |= {"product_line_count": 1, "invoice_count": 1, "paid_any": 0.3}
    by_hand["C0"] |= {"amount_due": 100, "amount_collected": 100, "timed_invoices": 1}
    by_hand["C1"] |= {"amount_due": 0.3, "amount_collected": 0.3, "timed_invoices": 0}
    for c in by_hand.values():
        c |= {"days_late_sum": 0, "late_invoices": 0, "late_amount_days": 0}
    by_hand["C0"] |= {"on_time_invoices": 1, "days_1_30": 210, "on_account": None}
    by_hand["C1"] |= {"on_time_invoices": 0, "days_1_30": None, "on_account": 7}
    for c in by_hand.values():
        c |= {k: None for k in ("current", "days_31_60", "days_61_90", "days_over_90")}
    for customer, figures in by_hand.items():
        for column, value in figures.items():
            assert rows.at[customer, column] == _cell(column, value), (customer, column)
    assert rows.at["C0", "last_invoice_date"] == "2026-01-05"
    assert rows.at["C1", "last_invoice_date"] == "2026-01-02"
    lines = _as_text(per_line, ["customer_id", "product_line_id"]).to_numpy().tolist()
    assert lines == [
        ["C0", "PL1", "60.00", "200.00", "25.00", "60.00"],
        ["C0", "PL2", "40.00", "10.00", "", ""],
        ["C1", "PL2", "0.30", "0.00", "0.20", "0.10"],
        ["C1", "PL3", "0.00", "-30.00", "", ""],
    ]


def _both(engine, book: Book):
    load(engine, book, 1)
    refresh(engine)
    w = Windows(book.as_of, book.months)
    with engine.connect() as conn:
        return fast(conn, w)[0].iloc[0], plain(conn, w)[0].iloc[0]


def test_a_customer_without_current_invoices_has_no_current_figures(engine):
    """The reference: nothing invoiced in the current window, so every figure of it is
    unknown, counts included; the old invoice is still owed (ageing reads every open
    invoice). The fast path agrees."""
    fast_row, plain_row = _both(engine, STOPPED_BUYING)
    unknown = ["invoice_count", "last_invoice_date", "paid_any", "revenue", "amount_due"]
    unknown += ["amount_collected", "timed_invoices", "on_time_invoices", "days_late_sum"]
    unknown += ["late_invoices", "late_amount_days", "current", "days_1_30", "on_account"]
    assert plain_row[unknown].isna().all(), plain_row[unknown]
    assert plain_row["days_over_90"] == 500.0  # 174 days past its due date
    one = ["customer_id"]
    assert differences(fast_row.to_frame().T, plain_row.to_frame().T, one) == []


def test_the_rules_file_picks_the_implementation(tmp_path):
    from models.config import load_config
    from models.errors import ConfigError
    from models.value.aggregates import base_implementation

    assert base_implementation(load_config()) == "fast"
    small = tmp_path / "small.yaml"
    small.write_text("value:\n  base_aggregates: plain\n")
    assert base_implementation(load_config(small)) == "plain"
    small.write_text("value:\n  base_aggregates: quick\n")
    with pytest.raises(ConfigError, match="value.base_aggregates: 'quick'"):
        base_implementation(load_config(small))


def test_a_recompute_on_the_plain_aggregates_stores_the_same_snapshot(engine):
    """value.base_aggregates: plain makes the recompute read the plain reference; every
    stored per-customer result (measures, tiers and reasons, receivables, segments) is
    the one the fast path stores."""
    import copy

    from sqlalchemy import select

    from models.config import load_config
    from models.schema import CustomerMeasure, CustomerReceivable, CustomerSegment, CustomerTier
    from models.value.recompute import recompute
    from tests.unit.test_value_measures import AS_OF, build_book

    build_book(engine)
    config = load_config()
    fast = recompute(engine, config, as_of=AS_OF).snapshot_id
    plain_config = copy.deepcopy(config)
    plain_config["value"]["base_aggregates"] = "plain"
    plain = recompute(engine, plain_config, as_of=AS_OF).snapshot_id
    with engine.connect() as conn:
        for model in (CustomerMeasure, CustomerTier, CustomerReceivable, CustomerSegment):
            t = model.__table__
            cols = [c for c in t.c if c.name != "snapshot_id"]
            keys = [c for c in t.primary_key.columns if c.name != "snapshot_id"]

            def rows(sid, t=t, cols=cols, keys=keys):
                q = select(*cols).where(t.c.snapshot_id == sid).order_by(*keys)
                return [tuple(r) for r in conn.execute(q)]

            assert rows(fast), model.__tablename__
            assert rows(plain) == rows(fast), model.__tablename__
