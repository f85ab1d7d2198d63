"""Where the funnel stands: period states, conversion, time in stage, shape and bulge.

A deal's state in a period (DOMAIN.md section 6), the first that applies:

- ``won`` / ``lost``: it was won / lost during the period;
- ``new``: its first stage change falls in the period (inflow);
- ``advanced`` / ``regressed``: it ends the period at a later / earlier funnel stage than
  it began it;
- ``stalled``: open, with no stage change for ``stalled_after_days`` at the period's end;
- ``holding``: open, moved recently but ends where it began (neither of the above).

Deals closed before the period, or not yet known at its end, have no state in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from .history import LOST, STAGE_NAMES, WON, History, View, day_number
from .rules import FunnelRules

STATES = ("new", "advanced", "regressed", "stalled", "holding", "won", "lost")
NO_STATE = -1
# The order in which the states are tried: the first that applies.
_PRECEDENCE = ("won", "lost", "new", "advanced", "regressed", "stalled", "holding")
_MONTHS = {"month": 1, "quarter": 3}


def period_start(d: date, kind: str) -> date:
    """First day of the month or quarter holding ``d``."""
    months = _MONTHS[kind]
    return date(d.year, (d.month - 1) // months * months + 1, 1)


def shift_period(start: date, kind: str, periods: int) -> date:
    """The first day of the period ``periods`` after (or before, if negative) ``start``."""
    index = start.year * 12 + start.month - 1 + periods * _MONTHS[kind]
    return date(index // 12, index % 12 + 1, 1)


def period_end(start: date, kind: str) -> date:
    return date.fromordinal(shift_period(start, kind, 1).toordinal() - 1)


def period_states(
    history: History, start: date, end: date, rules: FunnelRules
) -> tuple[np.ndarray, View]:
    """Each deal's state from ``start`` to ``end``, as its index in ``STATES``
    (``NO_STATE``: none in the period; :func:`state_names` gives the words), and the view
    on ``end``."""
    first_day, last_day = day_number(start), day_number(end)
    before, after = history.at(first_day - 1), history.at(last_day)
    state = np.full(len(history.deals), NO_STATE, dtype=np.int8)
    moved = after.since >= first_day
    stalled = after.open & (after.since <= last_day - rules.stalled_after_days)
    choices = [
        (after.position == WON) & ~(before.exists & (before.position == WON)),
        (after.position == LOST) & ~(before.exists & (before.position == LOST)),
        ~before.exists,
        moved & (after.position > before.position),
        moved & (after.position < before.position),
        stalled,
        after.open,
    ]
    for name, hit in zip(_PRECEDENCE[::-1], choices[::-1], strict=True):
        state[hit] = STATES.index(name)  # the last written, the first that applies
    state[~(after.exists & (after.open | (after.since >= first_day)))] = NO_STATE
    return state, after


def state_names(codes: np.ndarray) -> np.ndarray:
    """State codes as words (None for ``NO_STATE``)."""
    return np.array([*STATES, None], dtype=object)[codes]


@dataclass(frozen=True)
class Shape:
    """Open deals per funnel stage on a day, and whether the middle stages bulge."""

    table: pd.DataFrame  # stage, open_deals, open_amount
    middle_share: float | None  # None: no open deal
    bulge_stage: str | None  # the fullest middle stage when they bulge, else None


def shape(history: History, view: View, rules: FunnelRules) -> Shape:
    open_ = view.open
    pos = view.position[open_]
    counts = np.bincount(pos, minlength=WON)[:WON]
    amounts = np.bincount(pos, weights=history.amount[open_], minlength=WON)[:WON]
    table = pd.DataFrame(
        {"stage": STAGE_NAMES, "open_deals": counts, "open_amount": amounts.round(2)}
    )
    total = int(counts.sum())
    if total == 0:
        return Shape(table, None, None)
    middle = table["stage"].isin(rules.middle_stages)
    share = float(counts[middle.to_numpy()].sum()) / total
    bulge = None
    if share > rules.bulge_share_above:
        fullest = table[middle].sort_values("open_deals", ascending=False, kind="stable")
        bulge = str(fullest["stage"].iloc[0])
    return Shape(table, share, bulge)


def conversion(view: View) -> pd.DataFrame:
    """Per funnel stage: deals that reached it, and the share of those decided there that
    went on to the next stage (won after win_commitment). A deal still open at the
    furthest stage it reached is undecided and left out of that stage's rate."""
    reached_at = np.bincount(view.reach[view.exists & (view.reach >= 0)], minlength=WON + 1)
    reached = np.cumsum(reached_at[::-1])[::-1]  # reached stage s: furthest >= s
    waiting = np.bincount(view.reach[view.open], minlength=WON + 1)
    decided = reached[:WON] - waiting[:WON]
    nxt = reached[1 : WON + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(decided > 0, nxt / np.maximum(decided, 1), np.nan)
    return pd.DataFrame(
        {"stage": STAGE_NAMES, "reached": reached[:WON], "decided": decided, "conversion": rate}
    )


def time_in_stage(history: History, day: int) -> pd.DataFrame:
    """Per funnel stage: completed stays known on ``day`` and their days (median and the
    quartiles as the spread); NaN where a stage has no completed stay."""
    stays = history.stays(day)
    rows = []
    for position, name in enumerate(STAGE_NAMES):
        days = stays.loc[stays["position"] == position, "days"].to_numpy()
        if len(days):
            q1, median, q3 = np.percentile(days, [25, 50, 75])
        else:
            q1 = median = q3 = np.nan
        rows.append((name, len(days), median, q1, q3))
    return pd.DataFrame(rows, columns=["stage", "stays", "median_days", "p25_days", "p75_days"])
