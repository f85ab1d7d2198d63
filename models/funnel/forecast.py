"""Win probabilities learned from closed deals, the weighted forecast, and its backtest.

**Learned probability** of a deal at stage s: of the deals closed by then that reached s,
the share that were won, shrunk toward a prior with ``prior_deals`` deals' weight (the
mean of a Beta prior updated by the closed deals):

    p(s)    = (won(s) + k * naive(s)) / (closed(s) + k)
    p(s, g) = (won(s, g) + k * p(s)) / (closed(s, g) + k)   if closed(s, g) >= min_group_deals
            = p(s)                                          otherwise

so a stage with little history stays near the naive probability, and a segment (owner,
product line or tier, ``segment_by``) gets its own probability only from
``min_group_deals`` closed deals, and even then only as far as its history outweighs the
stage's.

**Weighted forecast** of a period = the sum of amount x probability over the deals open
on the forecast day whose expected close falls in the period; a deal whose expected
close has already passed counts in the current period (it slipped), a deal with no
expected close is left out (and counted).

**Backtest**: for each of the last ``backtest_periods`` closed periods, the forecast made
on the eve of the period from what was known that day (moves entered by then, deals
closed by then) against the amount won during the period, beside the naive forecast (one
constant probability per stage). The error is the mean absolute percentage error over
the periods in which something was won.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from .history import STAGE_NAMES, WON, History, View, day_date, day_number
from .rules import FunnelRules
from .states import period_end, period_start, shift_period

UNASSIGNED = "unassigned"


def segments(history: History, rules: FunnelRules) -> tuple[np.ndarray, list[str]]:
    """Each deal's segment code (-1: none) and the segment names."""
    if rules.segment_by == "none":
        return np.full(len(history.deals), -1), []
    column = {"owner": "owner", "product_line": "product_line_id", "tier": "tier"}
    codes, names = pd.factorize(history.deals[column[rules.segment_by]], use_na_sentinel=True)
    return codes.astype(np.int64), [str(n) for n in names]


@dataclass(frozen=True)
class Probabilities:
    """Learned win probabilities on one day: per stage, and per segment and stage."""

    stage: np.ndarray  # [stage]
    group: np.ndarray  # [segment, stage]
    table: pd.DataFrame  # segment ('' for the stage's own row), stage, closed, won, probability

    def of(self, codes: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The probability of deals with segment ``codes`` at funnel ``positions``."""
        own = np.where(codes >= 0, codes, 0)
        grouped = self.group[own, positions] if self.group.size else self.stage[positions]
        return np.where(codes >= 0, grouped, self.stage[positions])


def naive_array(rules: FunnelRules) -> np.ndarray:
    return np.array([rules.naive(s) for s in STAGE_NAMES])


def learn(view: View, codes: np.ndarray, names: list[str], rules: FunnelRules) -> Probabilities:
    """Win probabilities from the deals closed on ``view``'s day (see the module doc)."""
    closed = view.closed & (view.reach >= 0)  # a deal lost before any stage taught nothing
    reach = np.minimum(view.reach[closed], WON)
    won = view.won[closed]
    k = rules.prior_deals
    n_closed = _reached(reach, None)
    n_won = _reached(reach[won], None)
    stage = (n_won + k * naive_array(rules)) / (n_closed + k)
    rows = [("", STAGE_NAMES[s], n_closed[s], n_won[s], stage[s]) for s in range(WON)]
    group = np.empty((0, WON))
    if names:
        g = codes[closed]
        known = g >= 0
        g_closed = _reached(reach[known], g[known], len(names))
        g_won = _reached(reach[known & won], g[known & won], len(names))
        shrunk = (g_won + k * stage) / (g_closed + k)
        group = np.where(g_closed >= rules.min_group_deals, shrunk, stage)
        for gi, name in enumerate(names):
            rows += [
                (name, STAGE_NAMES[s], g_closed[gi, s], g_won[gi, s], group[gi, s])
                for s in range(WON)
            ]
    table = pd.DataFrame(rows, columns=["segment", "stage", "closed", "won", "probability"])
    return Probabilities(stage, group, table)


def _reached(reach: np.ndarray, groups: np.ndarray | None, n_groups: int = 1) -> np.ndarray:
    """Deals that reached each funnel stage (furthest >= stage), overall or per group."""
    if groups is None:
        return np.cumsum(np.bincount(reach, minlength=WON + 1)[::-1])[::-1][:WON]
    flat = np.bincount(groups * (WON + 1) + reach, minlength=n_groups * (WON + 1))
    return np.cumsum(flat.reshape(n_groups, WON + 1)[:, ::-1], axis=1)[:, ::-1][:, :WON]


@dataclass(frozen=True)
class Forecast:
    """Open deals on the forecast day with the period they are expected to close in."""

    deals: np.ndarray  # deal indices
    period: np.ndarray  # period start (day number) per deal
    learned: np.ndarray  # amount x learned probability per deal
    naive: np.ndarray  # amount x naive probability per deal
    probability: np.ndarray
    no_close_date: int


def forecast(
    history: History, view: View, probs: Probabilities, codes: np.ndarray, rules: FunnelRules
) -> Forecast:
    """The weighted forecast on ``view``'s day, deal by deal (see the module doc)."""
    today = day_date(view.day)
    current = day_number(period_start(today, rules.period))
    open_ = view.open
    dated = open_ & (history.expected < np.iinfo(np.int64).max // 4)
    idx = np.flatnonzero(dated)
    expected = history.expected[idx]
    starts = _period_starts(expected, rules.period)
    starts = np.where(expected < view.day, current, np.maximum(starts, current))
    position = view.position[idx]
    p = probs.of(codes[idx], position)
    amount = history.amount[idx]
    return Forecast(
        deals=idx,
        period=starts,
        learned=amount * p,
        naive=amount * naive_array(rules)[position],
        probability=p,
        no_close_date=int((open_ & ~dated).sum()),
    )


def _period_starts(days: np.ndarray, kind: str) -> np.ndarray:
    months = {"month": "M", "quarter": "Q"}[kind]
    stamps = pd.to_datetime(days, unit="D").to_period(months).start_time
    return stamps.to_numpy(dtype="datetime64[D]").astype(np.int64)


def won_between(history: History, start: date, end: date) -> float:
    """Amount of the deals won from ``start`` to ``end``."""
    before, after = history.at(day_number(start) - 1), history.at(day_number(end))
    hit = after.won & ~before.won
    return float(history.amount[hit].sum())


def closed_periods(as_of: date, rules: FunnelRules) -> list[date]:
    """Starts of the last ``backtest_periods`` periods that ended by ``as_of``, oldest
    first."""
    last = period_start(as_of, rules.period)
    if period_end(last, rules.period) > as_of:
        last = shift_period(last, rules.period, -1)
    return [shift_period(last, rules.period, -i) for i in range(rules.backtest_periods)][::-1]


def backtest(
    history: History, codes: np.ndarray, names: list[str], as_of: date, rules: FunnelRules
) -> pd.DataFrame:
    """Per closed period: the learned and naive forecasts made on its eve, and the amount
    won in it (see the module doc). Periods before the first known deal are left out."""
    rows = []
    first_day = int(history.day.min()) if len(history.day) else None
    for start in closed_periods(as_of, rules):
        eve = day_number(start) - 1
        if first_day is None or eve < first_day:
            continue
        view = history.at(eve)
        probs = learn(view, codes, names, rules)
        f = forecast(history, view, probs, codes, rules)
        mine = f.period == day_number(start)
        rows.append(
            (
                start,
                int(mine.sum()),
                float(f.learned[mine].sum()),
                float(f.naive[mine].sum()),
                won_between(history, start, period_end(start, rules.period)),
            )
        )
    return pd.DataFrame(rows, columns=["period_start", "deals", "learned", "naive", "won"])


def percentage_error(table: pd.DataFrame, column: str) -> float | None:
    """Mean absolute percentage error of ``column`` against ``won`` over the periods in
    which something was won; None when there is no such period."""
    counted = table[table["won"] > 0]
    if counted.empty:
        return None
    return float(((counted[column] - counted["won"]).abs() / counted["won"]).mean())
