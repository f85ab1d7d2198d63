"""The date window of the sample and small random helpers shared by the generators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

_EPOCH = date(1970, 1, 1)


def epoch_day(day: date) -> int:
    """Days since 1970-01-01, the integer form every generator works in."""
    return (day - _EPOCH).days


@dataclass(frozen=True)
class Window:
    """The ``years`` years of history ending at ``end`` inclusive, as epoch days."""

    start: int
    end: int
    n_years: int

    @classmethod
    def ending(cls, end_date: date, years: int) -> Window:
        """The window of ``years`` whole years whose last day is ``end_date``."""
        try:
            back = end_date.replace(year=end_date.year - years)
        except ValueError:  # 29 February going back to a non-leap year
            back = end_date.replace(year=end_date.year - years, day=28)
        return cls(epoch_day(back + timedelta(days=1)), epoch_day(end_date), years)

    @property
    def days(self) -> int:
        """Number of days in the window."""
        return self.end - self.start + 1


def years_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each epoch day."""
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def months_of(days: np.ndarray) -> np.ndarray:
    """Calendar month (0-11) of each epoch day."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12


def pick(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int) -> np.ndarray:
    """Codes 0..k-1 drawn with the given (not necessarily normalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum())


def uniform_days(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """One integer day per row, uniform in [low, high] inclusive (high >= low)."""
    span = np.maximum(np.asarray(high) - np.asarray(low), 0) + 1
    return np.asarray(low) + np.floor(rng.random(len(span)) * span).astype(np.int64)


def group_index(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes: each row's group and its 0-based position in it."""
    group = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return group, np.arange(len(group)) - starts[group]


def chunk_rng(seed: int, stream: int, chunk: int = 0) -> np.random.Generator:
    """An independent generator per (seed, stream, chunk): chunks never share draws."""
    return np.random.default_rng([seed, stream, chunk])
