"""The whole funnel on one as-of date: a function of (opportunities, stage changes,
rules, as_of), as the recompute stores it with each snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from .forecast import (
    UNASSIGNED,
    backtest,
    forecast,
    learn,
    naive_array,
    outcomes,
    percentage_error,
    segments,
)
from .history import LOST, STAGE_NAMES, WON, History, day_date, day_number
from .rules import FunnelRules
from .states import (
    NO_STATE,
    STATES,
    conversion,
    period_end,
    period_start,
    period_states,
    shape,
    shift_period,
    state_names,
    time_in_stage,
)


@dataclass(frozen=True)
class FunnelSummary:
    period: str  # month or quarter
    period_start: date  # the current period (its states run to the as-of date)
    forecast_start: date  # the first period forecast: the one holding the next day
    segment_by: str
    middle_share: float | None
    bulge_stage: str | None
    learned_error: float | None
    naive_error: float | None
    backtest_periods: int  # periods with something won (the errors' denominators)
    no_close_date: int  # open deals left out of the forecast: no expected close


@dataclass(frozen=True)
class FunnelResult:
    rules: FunnelRules
    summary: FunnelSummary
    deals: pd.DataFrame  # the live deals: open on the as-of date or closed in its period
    periods: pd.DataFrame  # period_start, state, deals, amount
    stages: pd.DataFrame  # per funnel stage: shape, conversion, time, probabilities
    probabilities: pd.DataFrame  # per segment and stage (empty when not segmented)
    forecast: pd.DataFrame  # period_start, owner, deals, learned, naive, won
    backtest: pd.DataFrame  # period_start, deals, learned, naive, won


def compute_funnel(
    deals: pd.DataFrame, moves: pd.DataFrame, rules: FunnelRules, as_of: date
) -> FunnelResult:
    """The funnel on ``as_of`` from the opportunities (``history.DEAL_COLUMNS`` and their
    ``stage``) and their stage changes (``history.MOVE_COLUMNS``): states in the current
    period and the ones kept, shape, conversion, time in stage, probabilities, the
    forecast of the coming periods and the backtest of the closed ones."""
    history = History.build(deals, moves)
    today = day_number(as_of)
    current = period_start(as_of, rules.period)
    state, view = period_states(history, current, as_of, rules)
    codes, names = segments(history, rules)
    out = outcomes(history, as_of, rules)
    probs = learn(out, today, codes, names, rules)
    ahead = forecast(history, view, probs, codes, rules)
    tested = backtest(history, out, codes, names, as_of, rules)

    fig = shape(history, view, rules)
    stages = fig.table.merge(conversion(view), on="stage").merge(
        time_in_stage(history, today), on="stage"
    )
    overall = probs.table[probs.table["segment"] == ""].drop(columns="segment")
    overall = overall.rename(columns={"deals": "history_deals", "won": "history_won"})
    stages = stages.merge(overall, on="stage").merge(probs.stalled_table, on="stage")
    stages["naive_probability"] = naive_array(rules)

    summary = FunnelSummary(
        period=rules.period,
        period_start=current,
        forecast_start=period_start(as_of + timedelta(days=1), rules.period),
        segment_by=rules.segment_by,
        middle_share=fig.middle_share,
        bulge_stage=fig.bulge_stage,
        learned_error=percentage_error(tested, "learned"),
        naive_error=percentage_error(tested, "naive"),
        backtest_periods=int((tested["won"] > 0).sum()),
        no_close_date=ahead.no_close_date,
    )
    return FunnelResult(
        rules=rules,
        summary=summary,
        deals=_deal_rows(history, view, state, ahead, today),
        periods=_period_counts(history, rules, as_of),
        stages=stages,
        probabilities=probs.table[probs.table["segment"] != ""].reset_index(drop=True),
        forecast=_forecast_rows(history, view, ahead, rules, as_of),
        backtest=tested,
    )


def _stage_names(position: np.ndarray) -> np.ndarray:
    names = np.array([*STAGE_NAMES, "won", "lost"], dtype=object)
    return names[np.where(position == LOST, WON + 1, position)]


def _deal_rows(history, view, state, ahead, today: int) -> pd.DataFrame:
    d = history.deals
    probability = np.full(len(d), np.nan)
    probability[ahead.deals] = ahead.probability
    weighted = np.full(len(d), np.nan)
    weighted[ahead.deals] = ahead.learned
    naive = np.full(len(d), np.nan)
    naive[ahead.deals] = ahead.naive
    period = np.full(len(d), None, dtype=object)
    starts, which = np.unique(ahead.period, return_inverse=True)
    period[ahead.deals] = np.array([day_date(s) for s in starts], dtype=object)[which]
    rows = pd.DataFrame(
        {
            "opportunity_id": d["opportunity_id"],
            "customer_id": d["customer_id"],
            "owner": d["owner"],
            "product_line_id": d["product_line_id"],
            "tier": d["tier"],
            "stage": _stage_names(view.position),
            "state": state_names(state),
            "amount": d["amount"],
            "days_in_stage": np.where(view.open, today - view.since, np.nan),
            "expected_close_on": d["expected_close_on"],
            "unbacked_moves": history.unbacked_by(today),
            "probability": probability,
            "forecast_period": period,
            "weighted_amount": weighted,
            "naive_amount": naive,
        }
    )
    live = view.exists & (view.open | (state != NO_STATE))
    return rows[live].reset_index(drop=True)


def _period_counts(history: History, rules: FunnelRules, as_of: date) -> pd.DataFrame:
    """Deals and amount per state in the current period and the ones before it."""
    current = period_start(as_of, rules.period)
    frames = []
    for back in range(rules.history_periods - 1, -1, -1):
        start = shift_period(current, rules.period, -back)
        end = min(as_of, period_end(start, rules.period))
        state, _ = period_states(history, start, end, rules)
        has = state != NO_STATE
        deals = np.bincount(state[has], minlength=len(STATES))
        amount = np.bincount(state[has], weights=history.amount[has], minlength=len(STATES))
        counts = pd.DataFrame(
            {"period_start": start, "state": STATES, "deals": deals, "amount": amount}
        )
        if deals.any():
            frames.append(counts[counts["deals"] > 0])
    if not frames:
        return pd.DataFrame(columns=["period_start", "state", "deals", "amount"])
    out = pd.concat(frames, ignore_index=True)
    out["deals"] = out["deals"].astype(int)
    out["amount"] = out["amount"].round(2)
    return out


def _forecast_rows(history, view, ahead, rules: FunnelRules, as_of: date) -> pd.DataFrame:
    """Per coming period and owner: open deals, learned and naive weighted amounts, and
    (in the first period, when it is under way) what has been won in it so far."""
    owner = history.deals["owner"].fillna(UNASSIGNED).to_numpy(dtype=object)
    first = period_start(as_of + timedelta(days=1), rules.period)
    last = day_number(shift_period(first, rules.period, rules.forecast_periods))
    keep = ahead.period < last
    frame = pd.DataFrame(
        {
            "period_start": ahead.period[keep],
            "owner": owner[ahead.deals[keep]],
            "learned": ahead.learned[keep],
            "naive": ahead.naive[keep],
        }
    )
    before = history.at(day_number(first) - 1)
    won = view.won & ~before.won  # nothing when the first period has not begun
    won_frame = pd.DataFrame(
        {"period_start": day_number(first), "owner": owner[won], "won": history.amount[won]}
    )
    out = frame.groupby(["period_start", "owner"]).agg(
        deals=("learned", "size"), learned=("learned", "sum"), naive=("naive", "sum")
    )
    got = won_frame.groupby(["period_start", "owner"]).agg(won=("won", "sum"))
    out = out.join(got, how="outer").reset_index()
    out["deals"] = out["deals"].fillna(0).astype(int)
    out[["learned", "naive", "won"]] = out[["learned", "naive", "won"]].fillna(0.0).round(2)
    out["period_start"] = out["period_start"].map(day_date)
    return out.sort_values(["period_start", "owner"], kind="stable").reset_index(drop=True)
