"""Date and money arithmetic that compiles to the same answer on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Float, Integer, cast, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class month_start(FunctionElement):
    """First day of the month of a date column."""

    type = Date()
    inherit_cache = True


@compiles(month_start, "postgresql")
def _month_start_pg(element, compiler, **kw):
    return f"CAST(date_trunc('month', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(month_start, "sqlite")
def _month_start_sqlite(element, compiler, **kw):
    # SQLite stores dates as ISO text: the first of the month is the same text form.
    return f"strftime('%Y-%m-01', {compiler.process(element.clauses, **kw)})"


class year_of(FunctionElement):
    """The year of a date column, as an integer."""

    type = Integer()
    inherit_cache = True


@compiles(year_of, "postgresql")
def _year_pg(element, compiler, **kw):
    return f"CAST(EXTRACT(YEAR FROM {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(year_of, "sqlite")
def _year_sqlite(element, compiler, **kw):
    return f"CAST(substr({compiler.process(element.clauses, **kw)}, 1, 4) AS INTEGER)"


class days_between(FunctionElement):
    """Whole days from the first date to the second (second - first)."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "postgresql")
def _days_pg(element, compiler, **kw):
    first, second = list(element.clauses)
    return f"({compiler.process(second, **kw)} - {compiler.process(first, **kw)})"


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    first, second = list(element.clauses)
    a, b = compiler.process(first, **kw), compiler.process(second, **kw)
    return f"CAST(julianday({b}) - julianday({a}) AS INTEGER)"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (earlier if negative), clipped to the month's end."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = (nxt.toordinal() - 1) - date(year, month, 1).toordinal() + 1
    return date(year, month, min(day.day, last))


def first_of_month(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


class day_number(FunctionElement):
    """Days since 1970-01-01 of a date column: integer arithmetic on both backends."""

    type = Integer()
    inherit_cache = True


@compiles(day_number, "postgresql")
def _day_pg(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} - DATE '1970-01-01')"


@compiles(day_number, "sqlite")
def _day_sqlite(element, compiler, **kw):
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_of(day: date) -> int:
    """A date's day number (days since 1970-01-01), as :class:`day_number` computes it."""
    return day.toordinal() - EPOCH_ORDINAL


def date_value(day: date):
    """A date as a typed SQL literal (bound as a date on both databases)."""
    return literal(day, Date)


def cents(expr):
    """A money expression rounded to cents.

    SQLite sums money as REAL: 0.10 + 0.20 is 0.30000000000000004. Rounding every stored
    sum to cents makes comparisons (paid >= due) agree with PostgreSQL's NUMERIC.
    """
    return func.round(expr, 2)


def whole_cents(amount):
    """A money expression in whole cents, as an integer (exact to add up in any order)."""
    return cast(func.round(amount * 100), BigInteger)


def money_of_cents(total_cents):
    """Whole cents (an integer sum) as money in a float: the nearest double to the exact
    amount (an integer divided by 100 rounds once), on both databases."""
    return cast(total_cents, Float) / 100
