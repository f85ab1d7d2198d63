"""The DSO trend (models/dashboard/dso.py) reads the sums the refresh keeps per customer
and month for the months before the as-of month: the amounts invoiced
(``invoice_month_rollup``) and the payments applied (``payment_month_rollup``), and the
as-of month's as well when nothing lies after the as-of date. On random small books
(tests/value/base_books.py: credit notes, part, exact and over payments, payments
before their invoice and after the as-of date), loaded in two batches with a refresh
after each, both equal the plain definition, one scan of every invoice and one join of
every payment with its invoice, at the book's as-of date, its month's end and a year
later; and again after a full rebuild of the roll-ups (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from sqlalchemy import case, delete, func, select, text, union_all

from models.dashboard import dso
from models.schema import InvoiceRollup, Payment, RollupBatch
from models.value import invoice_state as state
from models.value.recompute import refresh
from models.value.sqlfuncs import date_value, month_start
from tests import value_builders as vb
from tests.value.base_books import EDGES, Book, books, describe, load, month_end, wipe
from tests.value.test_base_contract import _CONTRACT


def _plain_applied(conn, as_of: date) -> pd.Series:
    """What payments took off the amounts due per month up to ``as_of``: every payment
    joined with its invoice, in full unless the invoice was overpaid (those, as the
    trend reads them: up to what was due)."""
    i, p = InvoiceRollup.__table__, Payment.__table__
    cut = date_value(as_of)
    when = state.applied_on(p.c.paid_on, i.c.invoice_date)
    in_full = (
        select(month_start(when).label("month"), func.sum(p.c.amount).label("amount"))
        .select_from(p.join(i, i.c.invoice_id == p.c.invoice_id))
        .where(i.c.amount_due > 0, i.c.invoice_date <= cut, p.c.paid_on <= cut)
        .where(i.c.paid_amount <= i.c.amount_due)
        .group_by(month_start(when))
    )
    return dso._monthly(conn, union_all(in_full, dso.applied_to_overpaid(as_of)))


def _plain_invoiced(conn, as_of: date) -> pd.DataFrame:
    """Per invoice month up to ``as_of``: every invoice's amount due, and those with
    something due, summed from the per-invoice roll-up."""
    i = InvoiceRollup.__table__
    month = month_start(i.c.invoice_date)
    positive = func.sum(case((i.c.amount_due > 0, i.c.amount_due), else_=0))
    rows = conn.execute(
        select(month, func.sum(i.c.amount_due), positive)
        .where(i.c.invoice_date <= date_value(as_of))
        .group_by(month)
    ).all()
    frame = pd.DataFrame(rows, columns=["month", "revenue", "due"])
    frame["month"] = pd.to_datetime(frame["month"])
    return frame.set_index("month").astype(float)


def _sums(invoiced: pd.DataFrame, applied: pd.Series) -> dict:
    """Invoiced, opened and applied per month, to the cent."""
    return {
        "revenue": _cents(invoiced["revenue"]),
        "due": _cents(invoiced["due"]),
        "applied": _cents(applied),
    }


def _trend_sums(conn, as_of: date) -> dict:
    """What the trend reads at ``as_of``."""
    return _sums(dso._invoiced(conn, as_of), dso._applied(conn, as_of))


def _plain_sums(conn, as_of: date) -> dict:
    """The same by the plain definitions."""
    return _sums(_plain_invoiced(conn, as_of), _plain_applied(conn, as_of))


def _cents(series: pd.Series) -> dict:
    """Months with what applied in them, to the cent (months of nothing left out)."""
    rounded = (series * 100).round().astype(int)
    return {str(m)[:7]: v for m, v in rounded.items() if v != 0}


def check_book(engine, book: Book) -> None:
    wipe(engine)
    load(engine, book, 1)
    refresh(engine)
    load(engine, book, 2)
    refresh(engine)
    dates = (book.as_of, month_end(book.as_of), book.as_of + timedelta(days=365))
    with engine.connect() as conn:
        expected = {d: _plain_sums(conn, d) for d in dates}
        for d in dates:
            assert _trend_sums(conn, d) == expected[d], f"at {d}, incremental"
    with engine.begin() as conn:
        conn.execute(delete(RollupBatch))  # the next refresh rebuilds the roll-ups whole
    assert refresh(engine).full_rebuild
    with engine.connect() as conn:
        for d in dates:
            assert _trend_sums(conn, d) == expected[d], f"at {d}, full rebuild"


@settings(_CONTRACT, max_examples=25)
@given(book=books())
def test_the_trend_sums_equal_the_plain_scans(engine, book):
    describe(book)
    check_book(engine, book)


def test_the_trend_sums_on_the_edges_book(engine):
    check_book(engine, EDGES)
    with engine.connect() as conn:
        applied = _cents(dso._applied(conn, EDGES.as_of))
    assert applied, "the edges book pays something before its as-of date"


# January's invoice paid in March (load 1), then a March invoice (load 2): the refresh
# rebuilds the customer's months from March, which hold January's payment too.
PAID_LATER = Book(
    as_of=date(2026, 6, 30),
    months=3,
    customers=["C0"],
    invoices=[
        ("I0", "C0", date(2026, 1, 10), None, [("PL1", 100_000, None)], 1),
        ("I1", "C0", date(2026, 3, 1), date(2026, 3, 31), [("PL2", 50_000, None)], 2),
    ],
    payments=[("P0", "C0", "I0", date(2026, 3, 5), 100_000, 1)],
)


def test_an_old_invoice_paid_in_a_month_a_later_batch_rebuilds(engine):
    check_book(engine, PAID_LATER)
    with engine.connect() as conn:
        assert _cents(dso._applied(conn, PAID_LATER.as_of)) == {"2026-03": 100_000}


@pytest.mark.slow
@settings(_CONTRACT, max_examples=120)
@given(book=books())
def test_the_trend_sums_equal_the_plain_scans_on_many_books(engine, book):
    check_book(engine, book)


def test_migration_0025_fills_the_roll_up_of_a_book_already_rolled_up(engine):
    """A database whose roll-ups were built before 0025 gets its payments applied per
    month at once, as a full refresh would build them (an empty one stays empty)."""
    from models.migrate import downgrade, upgrade
    from models.value.invoice_state import payments_applied_in_full
    from models.value.rollups import APPLIED, INVOICES

    downgrade(engine, "0024")
    upgrade(engine)  # no roll-ups yet: nothing to fill
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(APPLIED)) == 0
    _rolled_up_then_migrated_again(engine, "0024")
    with engine.connect() as conn:
        vb.assert_table_holds(conn, APPLIED, payments_applied_in_full(INVOICES))
        assert conn.scalar(select(func.count()).select_from(APPLIED)) > 0


def _rolled_up_then_migrated_again(engine, revision: str) -> None:
    """PAID_LATER loaded in its two batches and its roll-ups refreshed, then the schema
    stepped down to ``revision`` and up again to the latest."""
    from models.migrate import downgrade, upgrade

    load(engine, PAID_LATER, 1)
    load(engine, PAID_LATER, 2)
    refresh(engine)
    downgrade(engine, revision)
    upgrade(engine)


def test_migration_0026_fills_the_months_amounts_due_of_a_book_already_rolled_up(engine):
    """A database whose roll-ups were built before 0026 gets each invoice month's amounts
    due at once, as a full refresh would sum them."""
    from models.value.invoice_state import invoice_month_select
    from models.value.rollups import INVOICE_MONTHS, INVOICES

    _rolled_up_then_migrated_again(engine, "0025")
    with engine.connect() as conn:
        vb.assert_table_holds(conn, INVOICE_MONTHS, invoice_month_select(INVOICES))
        due = conn.scalar(select(func.sum(INVOICE_MONTHS.c.amount_due_positive)))
    assert float(due) == 1_500.0  # I0 1,000 and I1 500, in cents in the book


def test_the_overpaid_invoices_are_found_by_their_index(engine):
    """The trend finds the overpaid invoices through ``ix_invoice_rollup_overpaid``: the
    index's condition is the one the trend writes (models.value.invoice_state.overpaid)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    i = InvoiceRollup.__table__
    query = select(i.c.invoice_id).where(state.overpaid(i))
    compiled = query.compile(engine)  # with its parameters bound, as the trend runs it
    with engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))  # an empty table: any index will do
        explained = conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        plan = "\n".join(explained.scalars())
    assert "ix_invoice_rollup_overpaid" in plan, plan
