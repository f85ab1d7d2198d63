"""Each plan measured on the data: plan vs actual, the 1+2+1 check and the warnings.

The recompute calls :func:`store_plan_reviews` in the transaction that writes its
snapshot, so the stored review is always the snapshot's; ``accountops plan show``
calls :func:`review_plan` for one plan. Revenue is the value engine's own:
the sales roll-up for whole months, the invoice lines of the as-of month when
invoices after the as-of date share it (the roll-up would count them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection, Engine, func, select, union_all

from models.schema import AccountPlan, PlanActualRow, PlanReview, Snapshot, SnapshotStatus
from models.value.facts import choose_sources
from models.value.rollups import SALES, rolled_up, sales_select
from models.value.sqlfuncs import date_value, year_of
from models.value.store import bulk_insert, prepare
from models.value.windows import Windows

from .actuals import AccountSales, PlanActual, plan_vs_actual
from .checks import PlanCheck, check_plan
from .content import from_stored
from .rules import PlanRules


@dataclass(frozen=True)
class PlanReviewResult:
    """One plan on one as-of date."""

    customer_id: str
    version: int
    as_of: date
    check: PlanCheck
    actuals: list[PlanActual]


def account_sales(
    conn: Connection, as_of: date, first_year: int, customer_id: str | None = None
) -> dict[str, AccountSales]:
    """Revenue from ``first_year`` through ``as_of`` per customer, for one customer or
    for every customer with a plan: summed in the database per year and product line,
    and per month of the prior year (a few rows per plan, not one per month and line).
    """
    as_of_month = date(as_of.year, as_of.month, 1)
    if not rolled_up(conn):
        # No roll-up yet (before the first recompute, or emptied by a database crash):
        # the same sums from the lines, for the one plan a page or command measures.
        raw = sales_select(date_from=date(first_year, 1, 1), date_to=as_of).subquery()
        parts = [select(raw.c.customer_id, raw.c.product_line_id, raw.c.month, raw.c.revenue)]
    else:
        parts = _rolled_and_raw(conn, as_of, as_of_month, first_year)
    rows = union_all(*parts).subquery()
    who = (
        rows.c.customer_id == customer_id
        if customer_id is not None
        else rows.c.customer_id.in_(select(AccountPlan.customer_id))
    )
    out: dict[str, AccountSales] = defaultdict(AccountSales)
    year = year_of(rows.c.month)
    per_year = select(rows.c.customer_id, year, rows.c.product_line_id, func.sum(rows.c.revenue))
    per_year = per_year.where(who).group_by(rows.c.customer_id, year, rows.c.product_line_id)
    for cid, y, pl, revenue in conn.execute(per_year):
        out[cid].by_year[(int(y), pl)] = _summed(revenue)
    prior = rows.c.month.between(
        date_value(date(as_of.year - 1, 1, 1)), date_value(date(as_of.year - 1, 12, 1))
    )
    per_month = select(rows.c.customer_id, rows.c.month, func.sum(rows.c.revenue))
    per_month = per_month.where(who, prior).group_by(rows.c.customer_id, rows.c.month)
    for cid, month, revenue in conn.execute(per_month):
        out[cid].prior_months[_as_date(month).month] = _summed(revenue)
    return out


def _rolled_and_raw(conn: Connection, as_of: date, as_of_month: date, first_year: int) -> list:
    """The sales roll-up's months from ``first_year`` on, and the as-of month's lines
    when invoices after ``as_of`` share that month (the roll-up would count them)."""
    raw_month = choose_sources(conn, Windows(as_of, 1)).raw_as_of_month
    last_rolled = SALES.c.month < date_value(as_of_month) if raw_month else None
    rolled = select(SALES.c.customer_id, SALES.c.product_line_id, SALES.c.month, SALES.c.revenue)
    rolled = rolled.where(
        SALES.c.month >= date_value(date(first_year, 1, 1)),
        last_rolled if last_rolled is not None else SALES.c.month <= date_value(as_of_month),
    )
    parts = [rolled]
    if raw_month:
        raw = sales_select(date_from=as_of_month, date_to=as_of).subquery()
        parts.append(select(raw.c.customer_id, raw.c.product_line_id, raw.c.month, raw.c.revenue))
    return parts


def _summed(revenue_cents: int | Decimal | None) -> Decimal:
    """A grouped SUM of the roll-up's revenue (whole cents) as money: revenue is NOT NULL,
    so a group's sum is known."""
    assert revenue_cents is not None, "a SUM over NOT NULL revenue is never NULL"
    return Decimal(int(revenue_cents)).scaleb(-2)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def review_plan(
    conn: Connection, customer_id: str, content: dict, version: int, as_of: date, rules: PlanRules
) -> PlanReviewResult:
    """One plan's review on ``as_of`` (``content``: a stored canonical dict)."""
    plan = from_stored(content)
    first = min(plan.start_year, as_of.year - 1)
    sales = account_sales(conn, as_of, first, customer_id).get(customer_id, AccountSales())
    return PlanReviewResult(
        customer_id,
        version,
        as_of,
        check_plan(plan, rules, as_of),
        plan_vs_actual(plan, sales, as_of),
    )


def measure_plan(
    engine: Engine,
    customer_id: str,
    content: dict,
    version: int,
    rules: PlanRules,
    as_of: date | None = None,
) -> PlanReviewResult:
    """:func:`review_plan` on ``as_of``, by default the latest snapshot's as-of date (what
    the stored reviews use), else today when nothing was computed yet."""
    day = as_of or latest_as_of(engine) or date.today()
    with engine.connect() as conn:
        return review_plan(conn, customer_id, content, version, day, rules)


def store_plan_reviews(conn: Connection, snapshot_id: int, as_of: date, rules: PlanRules) -> int:
    """Review every plan on ``as_of`` and store it with snapshot ``snapshot_id``.

    Returns the number of plans reviewed. One read of the plans, two of their sales
    (summed in the database), two bulk writes (COPY on PostgreSQL).
    """
    plans = conn.execute(
        select(
            AccountPlan.customer_id,
            AccountPlan.version,
            AccountPlan.content,
            AccountPlan.start_year,
        )
    ).all()
    if not plans:
        return 0
    first = min(min(p.start_year for p in plans), as_of.year - 1)
    sales = account_sales(conn, as_of, first)
    reviews: list[tuple] = []
    actuals: list[tuple] = []
    for p in plans:
        plan = from_stored(p.content)
        check = check_plan(plan, rules, as_of)
        warnings = [w.as_dict() for w in check.warnings]
        reviews.append(
            (p.customer_id, p.version, check.one_two_one.ok, check.one_two_one.missing, warnings)
        )
        for row in plan_vs_actual(plan, sales.get(p.customer_id, AccountSales()), as_of):
            actuals.append(
                (p.customer_id, row.year, row.product_line_id, row.target, row.actual, row.gap)
                + (row.run_rate, row.run_rate_profile)
            )
    review_frame = pd.DataFrame(
        reviews, columns=["plan_id", "version", "one_two_one_ok", "missing", "warnings"]
    )
    review_frame["warning_count"] = review_frame["warnings"].map(len)
    bulk_insert(conn, _REVIEW, _prepared(review_frame, snapshot_id, json_cols=_REVIEW_JSON))
    actual_frame = pd.DataFrame(actuals, columns=["plan_id", "year", "product_line_id", *_MONEY])
    bulk_insert(conn, _ACTUAL, _prepared(actual_frame, snapshot_id, money=_MONEY))
    return len(plans)


_REVIEW, _ACTUAL = PlanReview.__table__, PlanActualRow.__table__
_REVIEW_JSON = ("missing", "warnings")
_MONEY = ("target", "actual", "gap", "run_rate", "run_rate_profile")


def _prepared(frame: pd.DataFrame, snapshot_id: int, **how) -> pd.DataFrame:
    frame.insert(0, "snapshot_id", snapshot_id)
    return prepare(frame, list(frame.columns), **how)


def latest_as_of(engine: Engine) -> date | None:
    """The as-of date of the latest complete snapshot (what plans are measured on)."""
    with engine.connect() as conn:
        last = conn.scalar(
            select(func.max(Snapshot.snapshot_id)).where(Snapshot.status == SnapshotStatus.COMPLETE)
        )
        return (
            None
            if last is None
            else conn.scalar(select(Snapshot.as_of).where(Snapshot.snapshot_id == last))
        )
