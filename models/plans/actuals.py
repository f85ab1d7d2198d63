"""Plan vs actual: yearly targets per product line against invoiced revenue.

Revenue is the value engine's own definition (invoice line amounts, credit notes
netted), read per customer, product line and year (and per month of the prior year) by
:mod:`models.plans.review`.
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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .content import CENTS, PlanContent, plan_years


@dataclass(frozen=True)
class MonthSales:
    """Invoiced revenue of one product line in one month (``month``: its first day)."""

    product_line_id: str
    month: date
    revenue: Decimal


@dataclass
class AccountSales:
    """One account's invoiced revenue as plan vs actual reads it: per year and product
    line, and per month of the year before the as-of year (the profile run-rate's base).
    """

    by_year: dict[tuple[int, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    prior_months: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    @classmethod
    def from_months(cls, sales: Iterable[MonthSales], as_of: date) -> AccountSales:
        """Sum months up to ``as_of`` (each month's revenue is already cut at it)."""
        out = cls()
        for s in sales:
            if s.month <= as_of:
                out.by_year[(s.month.year, s.product_line_id)] += s.revenue
                if s.month.year == as_of.year - 1:
                    out.prior_months[s.month.month] += s.revenue
        return out


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


def profile_share(sales: AccountSales, as_of: date) -> Decimal | None:
    """The share of the prior year's revenue the account had invoiced by ``as_of``'s day.

    Whole months before the as-of month, plus the as-of month's revenue scaled by the
    days elapsed in it; None when the prior year's revenue is not positive.
    """
    prior = as_of.year - 1
    by_month = sales.prior_months
    total = sum(by_month.values(), Decimal(0))
    if total <= 0:
        return None
    days_in_month = calendar.monthrange(prior, as_of.month)[1]
    days = Decimal(min(as_of.day, days_in_month))
    part = by_month.get(as_of.month, Decimal(0)) * days / days_in_month
    before = sum((v for m, v in by_month.items() if m < as_of.month), Decimal(0))
    share = (before + part) / total
    return share if share > 0 else None


def plan_vs_actual(content: PlanContent, sales: AccountSales, as_of: date) -> list[PlanActual]:
    """Per plan year and product line (targeted or sold), target against actual.

    ``sales``: the account's revenue through ``as_of``. Rows come by year, then product
    line.
    """
    actual = sales.by_year
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
