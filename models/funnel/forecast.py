"""Win probabilities learned from the periods already closed, the weighted forecast, and
its backtest.

**Weighted forecast** of a period = the sum of amount x probability over the deals open
on the forecast day whose expected close falls in the period; a deal whose expected
close has already passed counts in the first period forecast (it slipped), a deal with
no expected close is left out (and counted). The first period forecast is the one that
holds the day after the forecast day: on a period's last day, the next one.

**Learned probability**: what the forecast needs is the chance that a deal it counts in a
period is won *in that period*. So it is learned from the closed periods, each replayed
on its eve with what was known then: of the deals the forecast would have counted in the
period (open, expected to close in it or slipped), at stage s, the share won during it.
The last ``learn_periods`` closed periods are used, and each level is shrunk toward the
one above with ``prior_deals`` deals' weight (the mean of a Beta prior updated by the
deals):

    p(s)          = (won(s) + k * naive(s)) / (deals(s) + k)
    p(s, g)       = (won(s, g) + k * p(s)) / (deals(s, g) + k)   if deals(s, g) >= min_group_deals
                  = p(s)                                          otherwise
    p_stalled(s)  = (won_stalled(s) + k * p(s)) / (deals_stalled(s) + k)

so a stage with little history stays near the naive probability, a segment (owner,
product line or tier: ``segment_by``) gets its own probability only from
``min_group_deals`` deals and only as far as its history outweighs the stage's, and a
stalled deal (no stage change for ``stalled_after_days``) gets its stage's stalled
probability, whatever its segment. Counting the deals that were neither won nor lost in
the period as not won is what makes the probabilities honest about deals that slip.

**Backtest**: for each of the last ``backtest_periods`` closed periods, the forecast made
on the eve of the period (probabilities learned only from the periods closed by then)
against the amount won during the period, beside the naive forecast (one constant
probability per stage). The error is the mean absolute percentage error over the periods
in which something was won.
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
_NEVER = np.iinfo(np.int64).max // 4


def segments(history: History, rules: FunnelRules) -> tuple[np.ndarray, list[str]]:
    """Each deal's segment code (-1: none) and the segment names."""
    if rules.segment_by == "none":
        return np.full(len(history.deals), -1), []
    column = {"owner": "owner", "product_line": "product_line_id", "tier": "tier"}
    codes, names = pd.factorize(history.deals[column[rules.segment_by]], use_na_sentinel=True)
    return codes.astype(np.int64), [str(n) for n in names]


def naive_array(rules: FunnelRules) -> np.ndarray:
    return np.array([rules.naive(s) for s in STAGE_NAMES])


@dataclass(frozen=True)
class Candidates:
    """The deals a forecast made on ``view``'s day counts: open, with an expected close;
    the period each counts in, its stage and whether it has stalled."""

    deals: np.ndarray  # deal indices
    period: np.ndarray  # period start (day number)
    position: np.ndarray
    stalled: np.ndarray
    no_close_date: int


def candidates(history: History, view: View, rules: FunnelRules) -> Candidates:
    # The first period forecast holds the next day: on a period's last day it is over.
    current = day_number(period_start(day_date(view.day + 1), rules.period))
    open_ = view.open
    dated = open_ & (history.expected < _NEVER)
    idx = np.flatnonzero(dated)
    expected = history.expected[idx]
    starts = period_starts(expected, rules.period)
    starts = np.where(expected < view.day, current, np.maximum(starts, current))
    return Candidates(
        deals=idx,
        period=starts,
        position=view.position[idx],
        stalled=view.day - view.since[idx] >= rules.stalled_after_days,
        no_close_date=int((open_ & ~dated).sum()),
    )


def period_starts(days: np.ndarray, kind: str) -> np.ndarray:
    """The first day of the month or quarter holding each day (day numbers)."""
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    if kind == "quarter":
        months -= months % 3
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


@dataclass(frozen=True)
class Outcomes:
    """Per closed period, the deals its eve's forecast counted in it and whether each was
    won during it (one row per deal and period)."""

    end: np.ndarray  # the period's last day
    deal: np.ndarray
    position: np.ndarray
    stalled: np.ndarray
    won: np.ndarray


def outcomes(history: History, as_of: date, rules: FunnelRules) -> Outcomes:
    """Every period closed by ``as_of`` since the first recorded move, replayed."""
    parts: list[tuple[np.ndarray, ...]] = []
    if len(history.day):
        start = period_start(day_date(int(history.day.min())), rules.period)
        while period_end(start, rules.period) <= as_of:
            end = day_number(period_end(start, rules.period))
            c = candidates(history, history.at(day_number(start) - 1), rules)
            mine = c.period == day_number(start)
            deals = c.deals[mine]
            won = history.at(end).won[deals]
            parts.append((np.full(len(deals), end), deals, c.position[mine], c.stalled[mine], won))
            start = shift_period(start, rules.period, 1)
    if not parts:
        e = np.zeros(0, dtype=np.int64)
        return Outcomes(e, e, e, e.astype(bool), e.astype(bool))
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    return Outcomes(*cols)


@dataclass(frozen=True)
class Probabilities:
    """Learned win probabilities on one day: per stage, per segment and stage, and for
    stalled deals per stage."""

    stage: np.ndarray  # [stage]
    group: np.ndarray  # [segment, stage]
    stalled: np.ndarray  # [stage]
    table: pd.DataFrame  # segment ('' for the stage's own row), stage, deals, won, probability
    stalled_table: pd.DataFrame  # stage, stalled_deals, stalled_won, stalled_probability

    def of(self, codes: np.ndarray, positions: np.ndarray, stalled: np.ndarray) -> np.ndarray:
        """The probability of deals with segment ``codes`` at funnel ``positions``, stalled
        or not."""
        own = np.where(codes >= 0, codes, 0)
        grouped = self.group[own, positions] if self.group.size else self.stage[positions]
        fresh = np.where(codes >= 0, grouped, self.stage[positions])
        return np.where(stalled, self.stalled[positions], fresh)


def learn(
    out: Outcomes, day: int, codes: np.ndarray, names: list[str], rules: FunnelRules
) -> Probabilities:
    """Win probabilities from the last ``learn_periods`` periods closed by ``day``."""
    ends = np.unique(out.end[out.end <= day])[-rules.learn_periods :]
    use = np.isin(out.end, ends)
    pos, won, stalled = out.position[use], out.won[use], out.stalled[use]
    k = rules.prior_deals
    n, w = _count(pos, None), _count(pos[won], None)
    stage = (w + k * naive_array(rules)) / (n + k)
    rows = [("", STAGE_NAMES[s], n[s], w[s], stage[s]) for s in range(WON)]
    group = np.empty((0, WON))
    if names:
        g = codes[out.deal[use]]
        known = g >= 0
        gn = _count(pos[known], g[known], len(names))
        gw = _count(pos[known & won], g[known & won], len(names))
        group = np.where(gn >= rules.min_group_deals, (gw + k * stage) / (gn + k), stage)
        for gi, name in enumerate(names):
            rows += [(name, STAGE_NAMES[s], gn[gi, s], gw[gi, s], group[gi, s]) for s in range(WON)]
    table = pd.DataFrame(rows, columns=["segment", "stage", "deals", "won", "probability"])
    sn, sw = _count(pos[stalled], None), _count(pos[stalled & won], None)
    stalled_p = (sw + k * stage) / (sn + k)
    stalled_table = pd.DataFrame(
        {
            "stage": STAGE_NAMES,
            "stalled_deals": sn,
            "stalled_won": sw,
            "stalled_probability": stalled_p,
        }
    )
    return Probabilities(stage, group, stalled_p, table, stalled_table)


def _count(pos: np.ndarray, groups: np.ndarray | None, n_groups: int = 1) -> np.ndarray:
    """Deals per funnel stage, overall or per group ([group, stage])."""
    if groups is None:
        return np.bincount(pos, minlength=WON)[:WON]
    flat = np.bincount(groups * WON + pos, minlength=n_groups * WON)
    return flat.reshape(n_groups, WON)


@dataclass(frozen=True)
class Forecast:
    """The candidates of a forecast day with their learned and naive weighted amounts."""

    deals: np.ndarray
    period: np.ndarray
    learned: np.ndarray
    naive: np.ndarray
    probability: np.ndarray
    no_close_date: int


def forecast(
    history: History, view: View, probs: Probabilities, codes: np.ndarray, rules: FunnelRules
) -> Forecast:
    """The weighted forecast on ``view``'s day, deal by deal (see the module doc)."""
    c = candidates(history, view, rules)
    p = probs.of(codes[c.deals], c.position, c.stalled)
    amount = history.amount[c.deals]
    return Forecast(
        deals=c.deals,
        period=c.period,
        learned=amount * p,
        naive=amount * naive_array(rules)[c.position],
        probability=p,
        no_close_date=c.no_close_date,
    )


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
    history: History,
    out: Outcomes,
    codes: np.ndarray,
    names: list[str],
    as_of: date,
    rules: FunnelRules,
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
        probs = learn(out, eve, codes, names, rules)
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
