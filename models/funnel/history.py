"""The funnel's history as it was known on any date.

Every figure of the funnel (states, conversion, probabilities, forecast, backtest) is
computed from :class:`History`: the deals and their stage changes ("moves") held as
arrays sorted by deal, then date, then sequence. :meth:`History.at` answers "where was
each deal on day d, knowing only the moves recorded by then" in a few vectorised
passes, so replaying many past dates costs milliseconds, not a query per date.

Positions: the funnel stages are 0 (target_account) to 5 (win_commitment), 6 is won
(collect_payment is still won), -1 is lost. Dates are whole days since 1970-01-01.
Amounts are floats of cents-exact money; sums are rounded back to cents where they are
stored (models/value/store.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from models.schema.opportunities import Stage

from .rules import FUNNEL

WON, LOST = len(FUNNEL), -1
POSITION = {s.value: i for i, s in enumerate(FUNNEL)} | {
    Stage.WON.value: WON,
    Stage.COLLECT_PAYMENT.value: WON,
    Stage.LOST.value: LOST,
}
STAGE_NAMES = tuple(s.value for s in FUNNEL)
DEAL_COLUMNS = (
    "opportunity_id",
    "customer_id",
    "product_line_id",
    "owner",
    "amount",
    "created_on",
    "expected_close_on",
    "tier",
)
MOVE_COLUMNS = ("opportunity_id", "seq", "stage", "entered_on", "customer_action")
_EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    return (d - _EPOCH).days


def day_date(n: int) -> date:
    return date.fromordinal(_EPOCH.toordinal() + int(n))


def _days(values: pd.Series) -> np.ndarray:
    """Dates (``date`` objects, ISO text or datetime64; missing allowed) as day numbers;
    missing is a very large number (never reached). Each distinct date is converted once
    (a book has a few thousand days, and a million stage changes)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        days = values.to_numpy(dtype="datetime64[D]")
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        known = np.array(list(uniques.to_numpy(dtype=object)) + [None], dtype="datetime64[D]")
        days = known[codes]  # code -1 (missing) takes the last entry: NaT
    missing = np.isnat(days)
    out = days.astype("int64")
    out[missing] = np.iinfo(np.int64).max // 2
    return out


def _lookup(values: pd.Series, of) -> np.ndarray:
    """``of(v)`` for each value, computed once per distinct value (None for missing)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.array([of(u) for u in uniques] + [of(None)])
    return table[codes]  # code -1 (missing) takes the last entry


@dataclass(frozen=True)
class View:
    """Each deal on one day, from the moves known by then (arrays in deal order)."""

    day: int
    exists: np.ndarray  # a move of the deal was known by then
    position: np.ndarray  # -1 lost, 0-5 funnel stage, 6 won (meaningless where not exists)
    reach: np.ndarray  # furthest funnel position reached (6: won)
    since: np.ndarray  # day of the last known move
    last: np.ndarray  # index of the last known move

    @property
    def open(self) -> np.ndarray:
        return self.exists & (self.position >= 0) & (self.position < WON)

    @property
    def won(self) -> np.ndarray:
        return self.exists & (self.position == WON)

    @property
    def closed(self) -> np.ndarray:
        return self.exists & ((self.position == WON) | (self.position == LOST))


@dataclass(frozen=True)
class History:
    """Deals (``deals``, one row each, in deal order) and their moves as sorted arrays."""

    deals: pd.DataFrame
    amount: np.ndarray  # per deal
    expected: np.ndarray  # per deal: expected close day (very large when unknown)
    deal: np.ndarray  # per move: the deal's index
    day: np.ndarray  # per move
    position: np.ndarray  # per move
    reach: np.ndarray  # per move: furthest position reached up to and with this move
    unbacked: np.ndarray  # per move: an advance with no customer action recorded
    first: np.ndarray  # per deal: index of its first move
    _views: dict[int, View] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, deals: pd.DataFrame, moves: pd.DataFrame) -> History:
        """From the opportunities (``DEAL_COLUMNS``) and their stage changes
        (``MOVE_COLUMNS``). A deal with no recorded stage change is taken to have
        entered its current ``stage`` on the day it was created."""
        deals = deals.sort_values("opportunity_id", kind="stable").reset_index(drop=True)
        n = len(deals)
        # One factorize of the deals' ids then the moves': the deals (unique, first) get
        # codes 0..n-1 in order, a move of an unknown deal a code from n on.
        codes, _ = pd.factorize(
            pd.concat([deals["opportunity_id"], moves["opportunity_id"]], ignore_index=True)
        )
        deal = codes[n:]
        moves = moves.loc[deal < n]  # stage changes of unknown deals are not the funnel's
        deal = deal[deal < n]
        bare = np.flatnonzero(np.bincount(deal, minlength=n) == 0)
        if len(bare):
            alone = deals.iloc[bare]
            moves = pd.concat(
                [
                    moves,
                    pd.DataFrame(
                        {
                            "opportunity_id": alone["opportunity_id"],
                            "seq": 1,
                            "stage": alone["stage"],
                            "entered_on": alone["created_on"],
                            "customer_action": None,
                        }
                    ),
                ],
                ignore_index=True,
            )
            deal = np.concatenate([deal, bare])
        day = _days(moves["entered_on"])
        # Sorted by deal, day, seq: one int64 key (already in order when the rows come so).
        seq = moves["seq"].to_numpy(dtype=np.int64)
        low, span = (int(day.min()), int(day.max() - day.min()) + 1) if len(day) else (0, 1)
        key = (deal.astype(np.int64) * span + (day - low)) * (int(seq.max(initial=0)) + 1) + seq
        if len(key) and not (key[1:] >= key[:-1]).all():
            order = np.argsort(key, kind="stable")
        else:
            order = np.arange(len(key))
        deal, day = deal[order], day[order]
        position = _lookup(moves["stage"], lambda s: POSITION.get(str(s), LOST))[order]
        position = position.astype(np.int64)
        backed = _lookup(moves["customer_action"], lambda a: bool(a and str(a).strip()))[order]
        # Running maximum of the position within each deal: offset each deal's keys above
        # every earlier deal's, accumulate the maximum over the whole array, take it back.
        key = deal * 10 + (position + 1)
        reach = np.maximum.accumulate(key) - deal * 10 - 1
        same_deal = np.r_[False, deal[1:] == deal[:-1]]
        previous = np.r_[0, position[:-1]]
        advance = same_deal & (position >= 1) & (position <= WON) & (position > previous)
        first = np.searchsorted(deal, np.arange(len(deals)))
        return cls(
            deals=deals,
            amount=deals["amount"].astype(float).to_numpy(),
            expected=_days(deals["expected_close_on"]),
            deal=deal,
            day=day,
            position=position,
            reach=reach,
            unbacked=advance & ~backed,
            first=first,
        )

    def at(self, day: int) -> View:
        """Each deal on ``day``, knowing only the moves entered on or before it (computed
        once per day: states, probabilities and backtest ask for the same eves)."""
        view = self._views.get(day)
        if view is None:
            view = self._views[day] = self._at(day)
        return view

    def _at(self, day: int) -> View:
        n = len(self.deals)
        known = np.bincount(self.deal[self.day <= day], minlength=n)
        exists = known > 0
        last = np.where(exists, self.first + known - 1, 0)
        if len(self.position) == 0:
            empty = np.zeros(n, dtype=np.int64)
            return View(day, exists, empty, empty, empty, empty)
        return View(day, exists, self.position[last], self.reach[last], self.day[last], last)

    def unbacked_by(self, day: int) -> np.ndarray:
        """Per deal: advances entered by ``day`` with no customer action recorded."""
        hit = self.unbacked & (self.day <= day)
        return np.bincount(self.deal[hit], minlength=len(self.deals))

    def stays(self, day: int) -> pd.DataFrame:
        """Completed stays in a funnel stage known on ``day``: stage position and days."""
        nxt = np.r_[self.deal[1:] == self.deal[:-1], False]
        done = nxt & (np.r_[self.day[1:], 0] <= day) & (self.position >= 0)
        done &= self.position < WON
        idx = np.flatnonzero(done)
        return pd.DataFrame(
            {"position": self.position[idx], "days": self.day[idx + 1] - self.day[idx]}
        )
