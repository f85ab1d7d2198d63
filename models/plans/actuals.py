"""Plan vs actual: yearly targets per product line against invoiced revenue.

Revenue is the value engine's own definition (invoice line amounts, credit notes
netted), read per customer, product line and month by :mod:`models.plans.store`.
For the as-of year two projections of the full year:

- **run-rate**: year-to-date revenue divided by the elapsed share of the year
  (days from 1 January through the as-of date over the days of the year);
- **profile run-rate**: year-to-date revenue divided by the share of the prior
  year's revenue the account had invoiced by the same day (its whole months, plus
  the as-of month pro rata by day). Unknown (None) when the account had no positive
  revenue the prior year, or none by that day.

Years after the as-of year have no actual (None: unknown, not zero).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .content import CENTS, PlanContent, plan_years


@dataclass(frozen=True)
class MonthSales:
    """Invoiced revenue of one product line in one month (``month``: its first day)."""

    product_line_id: str
    month: date
    revenue: Decimal


@dataclass(frozen=True)
class PlanActual:
    """One year and product line of a plan: target, actual, gap and projections."""

    year: int
    product_line_id: str
    target: Decimal | None
    actual: Decimal | None
    run_rate: Decimal | None = None
    run_rate_profile: Decimal | None = None

    @property
    def gap(self) -> Decimal | None:
        """Actual minus target (negative: short of it); None where either is unknown."""
        if self.target is None or self.actual is None:
            return None
        return self.actual - self.target


def elapsed_share(as_of: date) -> Decimal:
    """Days from 1 January through ``as_of`` over the days of its year."""
    days = 366 if calendar.isleap(as_of.year) else 365
    return Decimal(as_of.timetuple().tm_yday) / Decimal(days)


def profile_share(sales: list[MonthSales], as_of: date) -> Decimal | None:
    """The share of the prior year's revenue the account had invoiced by ``as_of``'s day.

    Whole months before the as-of month, plus the as-of month's revenue scaled by the
    days elapsed in it; None when the prior year's revenue is not positive.
    """
    prior = as_of.year - 1
    by_month: dict[int, Decimal] = defaultdict(Decimal)
    for s in sales:
        if s.month.year == prior:
            by_month[s.month.month] += s.revenue
    total = sum(by_month.values(), Decimal(0))
    if total <= 0:
        return None
    days_in_month = calendar.monthrange(prior, as_of.month)[1]
    part = by_month[as_of.month] * Decimal(min(as_of.day, days_in_month)) / days_in_month
    share = (sum((by_month[m] for m in range(1, as_of.month)), Decimal(0)) + part) / total
    return share if share > 0 else None


def plan_vs_actual(content: PlanContent, sales: list[MonthSales], as_of: date) -> list[PlanActual]:
    """Per plan year and product line (targeted or sold), target against actual.

    ``sales`` are the account's months up to ``as_of`` (the as-of month cut at it).
    Rows come by year, then product line.
    """
    actual: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for s in sales:
        if s.month <= as_of:
            actual[(s.month.year, s.product_line_id)] += s.revenue
    share = elapsed_share(as_of)
    profile = profile_share(sales, as_of)
    rows = []
    for year in plan_years(content):
        targets = content.targets.get(year, {})
        sold = {pl for (y, pl) in actual if y == year}
        for pl in sorted(set(targets) | sold):
            target = targets.get(pl)
            if year > as_of.year:
                rows.append(PlanActual(year, pl, _cents(target), None))
                continue
            done = actual.get((year, pl), Decimal(0))
            linear = by_profile = None
            if year == as_of.year:
                linear = _cents(done / share)
                by_profile = _cents(done / profile) if profile is not None else None
            rows.append(PlanActual(year, pl, _cents(target), _cents(done), linear, by_profile))
    return rows


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENTS, rounding=ROUND_HALF_UP)
