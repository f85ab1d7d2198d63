"""Opportunities and their stage history for one chunk of customers.

Every opportunity starts at ``target_account`` and moves forward one stage at a
time, each move triggered by a customer action (DOMAIN.md section 6). Its fate
decides where the history stops: won (then collect_payment once the customer
has paid), lost at some stage, open and recently advanced, or stalled (open,
but the last move was half a year or more before the end). So that the funnel
page has something to show:

- open deals sit mostly in the middle stages (the funnel bulges there);
- a quarter of the open deals that got past customer_analysis fell back one stage;
- about one advance in twenty has no customer action recorded;
- two lost deals in five were written off after months without a move (stalled first);
- one account manager (``OPTIMIST``, the third) is systematically optimistic: the
  deals move to the late stages but are lost far more often than anyone else's;
- the expected close date is what the owner would have said: near the day a won deal
  was won, a month per remaining stage after the last move otherwise (so stalled deals
  have slipped past theirs).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from models.schema.opportunities import Stage

from . import columns as col
from .customers import ACTIVE, N_LINES, PROSPECT, CustomerBook
from .invoices import Counters
from .names import DEAL_KINDS, LOST_REASONS, PRODUCT_LINES, STAGE_ACTIONS
from .window import Window, group_index, pick, uniform_days

STAGES = tuple(s.value for s in Stage)
WON_STAGE, COLLECT_STAGE, LOST_STAGE = (STAGES.index(s) for s in ("won", "collect_payment", "lost"))
FUNNEL_STAGES = WON_STAGE  # target_account .. win_commitment come before "won"
OPEN, STALLED, WON, LOST = 0, 1, 2, 3
OPTIMIST = 2  # index of the systematically optimistic account manager (AM-0003)
_ACTIONS = tuple(a for actions in STAGE_ACTIONS[1:] for a in actions)
_DEAL_NAMES = tuple(f"{p[1]} {kind}" for p in PRODUCT_LINES for kind in DEAL_KINDS)
_STATUS = ("open", "open", "won", "lost")


def draw_opportunities(
    rng: np.random.Generator,
    book: CustomerBook,
    sl: slice,
    window: Window,
    counters: Counters,
    manager_ids: pa.Array,
) -> tuple[dict[str, pa.Array], dict[str, pa.Array]]:
    """The opportunities and opportunity_stages columns of the customers in ``sl``."""
    status = book.status[sl]
    n = len(status)
    count = np.where(status == ACTIVE, np.minimum(rng.poisson(4.0, n), 5), 0)
    count = np.where((status == PROSPECT) & (rng.random(n) < 0.45), 1, count)
    cust, _ = group_index(count)
    gc = cust + sl.start
    k = len(cust)
    prospect = book.status[gc] == PROSPECT
    optimist = book.manager[gc] == OPTIMIST
    # Prospects have bought nothing yet, so none of their deals is won.
    fate = np.where(
        prospect, pick(rng, (0.45, 0.15, 0.0, 0.40), k), pick(rng, (0.26, 0.08, 0.36, 0.30), k)
    )
    fate = np.where(optimist & ~prospect, pick(rng, (0.22, 0.10, 0.18, 0.50), k), fate)
    # Rows before the ending: open deals mostly in the middle stages, the optimist's late;
    # lost deals at any stage, the optimist's after present_value.
    waiting = pick(rng, (0.0, 0.07, 0.09, 0.22, 0.28, 0.22, 0.12), k)
    lost_at = np.where(optimist, rng.integers(5, FUNNEL_STAGES + 1, k), rng.integers(1, 7, k))
    reached = np.where(fate == WON, FUNNEL_STAGES, np.where(fate == LOST, lost_at, waiting))
    reached = np.where(optimist & (fate <= STALLED), np.maximum(reached, 5), reached)
    regress = (fate <= STALLED) & (reached >= 3) & (rng.random(k) < 0.25)
    n_rows = reached + (fate == LOST) + 2 * (fate == WON) + regress
    opp, pos = group_index(n_rows)
    starts = np.cumsum(n_rows) - n_rows
    ending = pos == reached[opp]
    code = np.where(ending & (fate[opp] == LOST), LOST_STAGE, pos)
    code = np.where(ending & regress[opp], reached[opp] - 2, code)

    # Days between stages, squeezed for short windows so stalled deals still fit.
    gap = np.where(pos == 0, 0, rng.integers(5, 61, len(opp)))
    # Two lost deals in five were closed by sales ops after months without a move.
    silent = (code == LOST_STAGE) & (rng.random(len(opp)) < 0.4)
    gap = np.where(silent, rng.integers(120, 301, len(opp)), gap)
    collect = code == COLLECT_STAGE
    span = np.bincount(opp, weights=np.where(collect, 0, gap), minlength=k)
    factor = np.minimum(1.0, (window.days - 200) / np.maximum(span, 1))
    gap = np.where(pos == 0, 0, np.maximum(1, np.floor(gap * factor[opp]))).astype(np.int64)
    gap = np.where(collect, rng.integers(20, 91, len(opp)), gap)
    span = np.bincount(opp, weights=np.where(collect, 0, gap), minlength=k).astype(np.int64)
    room = window.days - 1 - span
    tail_low = np.where(fate == STALLED, 180, 0)
    tail_high = np.where(fate == OPEN, np.minimum(60, room), room)
    last_day = window.end - uniform_days(rng, tail_low, np.maximum(tail_low, tail_high))
    created = last_day - span
    offset = np.cumsum(gap) - np.repeat(np.cumsum(gap)[starts], n_rows)
    entered = created[opp] + offset
    closed_row = starts + np.where(fate == WON, WON_STAGE, np.minimum(reached, n_rows - 1))
    closed = np.where((fate == WON) | (fate == LOST), entered[closed_row], 0)
    # The owner's expected close: near the win; else a month per stage still to go.
    last_move = starts + np.where(fate == WON, WON_STAGE, n_rows - 1)
    to_go = np.where(fate == WON, 0, WON_STAGE - np.maximum(code[last_move], 0))
    expected = entered[last_move] + 30 * to_go + rng.integers(-20, 21, k)
    expected = np.maximum(expected, created + 14)

    # Payment is collected only if that happened by the end of the window.
    keep = ~collect | (entered <= window.end)
    back = ending & regress[opp]  # the step back of a deal that regressed
    opp, pos, code, entered, back = opp[keep], pos[keep], code[keep], entered[keep], back[keep]
    last_row = np.flatnonzero(np.r_[opp[1:] != opp[:-1], True]) if k else np.zeros(0, int)

    numbers = counters.opportunity + np.arange(1, k + 1)
    counters.opportunity += k
    opp_ids = col.ids("OPP-", numbers, 6)
    line = _product_lines(rng, book, gc, prospect)
    base = np.where(prospect, book.potential[gc] * rng.uniform(0.3, 1.0, k), 0.0)
    base = np.where(prospect, base, book.size[gc] * rng.uniform(0.05, 0.5, k))
    amount = (np.maximum(1, np.round(base / 100)) * 10_000).astype(np.int64)
    manager = book.manager[gc]
    closed_known = (fate == WON) | (fate == LOST)
    opportunities = {
        "opportunity_id": opp_ids,
        "customer_id": book.ids.take(pa.array(gc, pa.int64())),
        "product_line_id": col.labels(tuple(p[0] for p in PRODUCT_LINES), line),
        "name": col.labels(
            _DEAL_NAMES, line * len(DEAL_KINDS) + rng.integers(0, len(DEAL_KINDS), k)
        ),
        "amount": col.money(amount),
        "currency": col.constant("EUR", k),
        "owner_manager_id": manager_ids.take(pa.array(np.maximum(manager, 0), mask=manager < 0)),
        "created_on": col.dates(created),
        "expected_close_on": col.dates(expected),
        "stage": col.labels(STAGES, code[last_row]),
        "status": col.labels(_STATUS, fate),
        "closed_on": col.dates(closed, closed_known),
        "lost_reason": col.labels(
            LOST_REASONS, rng.integers(0, len(LOST_REASONS), k), fate == LOST
        ),
    }
    # An advance carries the customer action behind it; one in twenty was logged without.
    advanced = (pos > 0) & (code != LOST_STAGE) & ~back & (rng.random(len(code)) >= 0.05)
    action = np.maximum(code - 1, 0) * 2 + rng.integers(0, 2, len(code))
    stages = {
        "opportunity_id": opp_ids.take(pa.array(opp, pa.int64())),
        "seq": col.integers(pos + 1),
        "stage": col.labels(STAGES, code),
        "entered_on": col.dates(entered),
        "customer_action": col.labels(_ACTIONS, action, advanced),
    }
    return opportunities, stages


def _product_lines(rng, book: CustomerBook, gc: np.ndarray, prospect: np.ndarray) -> np.ndarray:
    """Mostly a line the customer already buys; sometimes a cross-sell into a new one."""
    cum = np.cumsum(book.mix[gc], axis=1)
    own = np.minimum((rng.random(len(gc))[:, None] > cum).sum(axis=1), N_LINES - 1)
    popularity = [p[5] for p in PRODUCT_LINES]
    other = pick(rng, popularity, len(gc))
    return np.where(prospect | (rng.random(len(gc)) < 0.3), other, own)
