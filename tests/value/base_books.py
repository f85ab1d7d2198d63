"""Small random books for the base aggregates' contract (tests/value/test_base_contract.py).

A book is one to four customers with up to seven invoices of one to three lines each
(credit notes: negative lines; some invoices without a due date; dates on and around
the windows' edges, the as-of date, month and year ends, and after the as-of date),
up to three payments per invoice (part, exact, over, zero, before and after the as-of
date, several on one day) and payments on account. Each row belongs to load 1 or 2:
load 2 also adds lines to invoices of load 1 and pays them, as a later ingest would.
Rows are written with tests/value_builders.py, as every value test loads facts.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import event
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from models.schema import InvoiceLine
from models.schema.base import Base
from models.value.windows import Windows
from tests import value_builders as vb

PRODUCT_LINES = ("PL1", "PL2", "PL3")


@dataclass
class Book:
    """A small book: who, what was invoiced and paid, and which load (1 or 2) holds each row."""

    as_of: date
    months: int
    customers: list[str]
    # (invoice_id, customer, date, due or None, [(product line, cents, cost cents or None)], part)
    invoices: list[tuple] = field(default_factory=list)
    # (invoice_id, line_no, product line, cents, cost cents or None): added by load 2
    late_lines: list[tuple] = field(default_factory=list)
    # (payment_id, customer, invoice_id or None, paid_on, cents, part)
    payments: list[tuple] = field(default_factory=list)


def money(cents: int) -> str:
    return str(Decimal(cents).scaleb(-2))


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@st.composite
def as_of_dates(draw) -> date:
    """Mid-month, month ends (February of a leap year too) and firsts, around year ends."""
    year, month = draw(st.sampled_from([(2025, 12), (2026, 1), (2026, 2), (2024, 2), (2026, 6)]))
    first = date(year, month, 1)
    kind = draw(st.sampled_from(["mid", "end", "first"]))
    if kind == "end":
        return month_end(first)
    return first if kind == "first" else first.replace(day=draw(st.integers(2, 27)))


@st.composite
def books(draw) -> Book:
    """A random small book around a random as-of date (see the module docstring)."""
    as_of = draw(as_of_dates())
    months = draw(st.sampled_from([1, 2, 3]))
    w = Windows(as_of, months)
    book = Book(as_of, months, [f"C{i}" for i in range(draw(st.integers(1, 4)))])
    one_day = timedelta(days=1)
    # Days on the windows' edges, and any day from well before them to after the as-of date.
    edges = [w.previous_start - one_day, w.previous_start, w.current_start - one_day]
    edges += [w.current_start, as_of - one_day, as_of, as_of + one_day, month_end(as_of)]
    some_day = st.one_of(
        st.sampled_from(edges),
        st.integers(-230, 40).map(lambda d: as_of + timedelta(days=d)),
    )
    cents = st.one_of(st.integers(1, 300_000), st.sampled_from([1, 10, 20, 30, 99_999]))
    for k in range(draw(st.integers(0, 7))):
        inv_id, customer = f"I{k}", draw(st.sampled_from(book.customers))
        day = draw(some_day)
        due = draw(
            st.one_of(
                st.none(),
                st.integers(0, 60).map(lambda d, day=day: day + timedelta(days=d)),
                # Due the day before, on or after the as-of date (never before the invoice).
                st.sampled_from([-1, 0, 1]).map(
                    lambda d, day=day: max(day, as_of + timedelta(days=d))
                ),
            )
        )
        sign = -1 if draw(st.integers(0, 3)) == 0 else 1  # 1 in 4 a credit note
        lines = []
        for _ in range(draw(st.integers(1, 3))):
            amount = sign * draw(cents) * (-1 if draw(st.integers(0, 9)) == 0 else 1)
            cost = draw(st.one_of(st.none(), st.integers(0, abs(amount))))
            cost = None if cost is None else cost * (1 if amount >= 0 else -1)
            lines.append((draw(st.sampled_from(PRODUCT_LINES)), amount, cost))
        part = draw(st.sampled_from([1, 2]))
        book.invoices.append((inv_id, customer, day, due, lines, part))
        total = sum(a for _, a, _ in lines)
        if part == 1 and draw(st.integers(0, 3)) == 0:  # a line added to it by load 2
            amount = draw(cents)
            book.late_lines.append((inv_id, 9, draw(st.sampled_from(PRODUCT_LINES)), amount, None))
            total += amount
        paid = 0
        for j in range(draw(st.integers(0, 3))):
            rest = max(total - paid, 0)
            plan = draw(st.sampled_from(["rest", "part", "over", "zero", "any"]))
            if plan == "rest":  # settles it (exactly, with the payments before)
                amount = rest
            elif plan == "part":
                amount = rest // 2
            elif plan == "over":
                amount = rest + draw(st.integers(1, 5000))
            else:
                amount = 0 if plan == "zero" else draw(cents)
            paid += amount
            offset = draw(st.one_of(st.integers(-3, 120), st.sampled_from([0, 0, 1])))
            paid_on = draw(st.one_of(st.just(day + timedelta(days=offset)), st.sampled_from(edges)))
            p_part = draw(st.sampled_from([part, 2]))  # never before its invoice is loaded
            book.payments.append((f"P{k}-{j}", customer, inv_id, paid_on, amount, p_part))
    for j in range(draw(st.integers(0, 3))):  # payments on account
        customer, paid_on = draw(st.sampled_from(book.customers)), draw(some_day)
        book.payments.append(
            (f"A{j}", customer, None, paid_on, draw(cents), draw(st.integers(1, 2)))
        )
    return book


def wipe(engine) -> None:
    """Every table empty again (the migration state kept): the next book starts afresh."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))


def load(engine, book: Book, part: int) -> None:
    """One committed batch: the book's rows of load ``part`` (customers come with load 1)."""
    with engine.begin() as conn:
        b = vb.batch(conn)
        if part == 1:
            for pl in PRODUCT_LINES:
                vb.product_line(conn, pl, b)
            for c in book.customers:
                vb.customer(conn, c, b)
        for inv_id, customer, day, due, lines, p in book.invoices:
            if p == part:
                rows = [(pl, money(a), None if c is None else money(c)) for pl, a, c in lines]
                vb.invoice(conn, inv_id, customer, day, due, rows, b)
        if part == 2:
            for inv_id, line_no, pl, amount, cost in book.late_lines:
                row = {"invoice_id": inv_id, "line_no": line_no, "product_line_id": pl}
                cost = None if cost is None else Decimal(money(cost))
                row |= {"quantity": 1, "amount": Decimal(money(amount)), "cost": cost}
                conn.execute(insert(InvoiceLine), row | {"batch_id": b})
        for pay_id, customer, inv_id, paid_on, amount, p in book.payments:
            if p == part:
                vb.payment(conn, pay_id, customer, inv_id, paid_on, money(amount), b)


def describe(book: Book) -> None:
    """Count the cases a book holds (hypothesis' statistics show how often each came up)."""
    after = [p for p in book.payments if p[3] > book.as_of]
    event(f"payments after the as-of date: {bool(after)}")
    month = (book.as_of.year, book.as_of.month)
    later = [i for i in book.invoices if i[2] > book.as_of and (i[2].year, i[2].month) == month]
    event(f"invoices after the as-of date in its month: {bool(later)}")
    event(f"credit notes: {any(sum(a for _, a, _ in i[4]) < 0 for i in book.invoices)}")
    event(f"payments on account: {any(p[2] is None for p in book.payments)}")


# Every edge in one book (as of 2026-01-15, one-month windows): I0 settled on the as-of
# date by its second payment, with a third after it; I1 paid in part only after it; I2
# dated after it in its month; a credit note of the previous window; an invoice with no
# due date paid twice on one day; payments on account on and after the as-of date.
EDGES = Book(
    as_of=date(2026, 1, 15),
    months=1,
    customers=["C0", "C1"],
    invoices=[
        (
            "I0",
            "C0",
            date(2026, 1, 5),
            date(2026, 1, 15),
            [("PL1", 6_000, 2_500), ("PL2", 4_000, None)],
            1,
        ),
        ("I1", "C0", date(2025, 12, 20), date(2026, 1, 10), [("PL1", 20_000, 15_000)], 1),
        ("I2", "C1", date(2026, 1, 20), date(2026, 2, 19), [("PL3", 7_000, None)], 2),
        ("I3", "C1", date(2025, 12, 31), None, [("PL3", -3_000, -1_000)], 1),
        ("I4", "C1", date(2026, 1, 2), None, [("PL2", 10, 20), ("PL2", 20, None)], 1),
    ],
    late_lines=[("I1", 9, "PL2", 1_000, None)],
    payments=[
        ("P0", "C0", "I0", date(2026, 1, 10), 6_000, 1),
        ("P1", "C0", "I0", date(2026, 1, 15), 4_000, 1),
        ("P2", "C0", "I0", date(2026, 1, 20), 500, 2),
        ("P3", "C0", "I1", date(2026, 1, 16), 5_000, 2),
        ("P4", "C1", "I4", date(2026, 1, 3), 10, 1),
        ("P5", "C1", "I4", date(2026, 1, 3), 20, 1),
        ("A0", "C1", None, date(2026, 1, 15), 700, 1),
        ("A1", "C0", None, date(2026, 1, 16), 900, 2),
    ],
)


# A customer who stopped buying before the windows and still owes an old invoice
# (an old credit note does the same: it is never settled, so always "open").
STOPPED_BUYING = Book(
    as_of=date(2025, 12, 31),
    months=1,
    customers=["C0"],
    invoices=[("I0", "C0", date(2025, 6, 10), date(2025, 7, 10), [("PL1", 50_000, None)], 1)],
)
