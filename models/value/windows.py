"""The measurement windows around an as-of date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .sqlfuncs import add_months, first_of_month


@dataclass(frozen=True)
class Windows:
    """Current and previous windows, in whole calendar months, cut at the as-of date.

    The current window runs from the first day of the month ``months - 1`` months
    before the as-of month through the as-of date; the previous window is the
    ``months`` calendar months before it. Calendar months let the measures read
    the monthly roll-ups instead of every invoice line.
    """

    as_of: date
    months: int

    @property
    def current_start(self) -> date:
        return add_months(first_of_month(self.as_of), -(self.months - 1))

    @property
    def previous_start(self) -> date:
        return add_months(self.current_start, -self.months)

    @property
    def as_of_month(self) -> date:
        return first_of_month(self.as_of)

    @property
    def days(self) -> int:
        """Calendar days in the current window (what DSO scales revenue by)."""
        return (self.as_of - self.current_start).days + 1
