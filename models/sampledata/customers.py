"""Customer master data, account managers and product lines for the sample.

All customers are drawn up front (50,000 rows is small); the hidden traits that
drive their invoices and payments (size, trend, payer kind...) are kept in a
:class:`CustomerBook` that the per-chunk generators slice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from . import columns as col
from .names import (
    BUYING_FACTORS,
    FIRST_NAMES,
    INDUSTRIES,
    INDUSTRY_NOUNS,
    LAST_NAMES,
    NAME_MIDDLES,
    NAME_PREFIXES,
    OWNERSHIP_TYPES,
    PRODUCT_LINES,
    REGIONS,
    SENIORITIES,
)
from .window import Window, pick, uniform_days

STATUSES = ("prospect", "active", "churned")
PROSPECT, ACTIVE, CHURNED = 0, 1, 2
# Payer kinds. DEFAULTED (never pays) is only ever a payer's kind after a turn.
GOOD, LATE, BAD, DEFAULTED = 0, 1, 2, 3
# Shares of good, late and slow payers: most B2B customers pay about on time; a slow
# payer pays in the end, months late.
PAYER_SHARES = (0.70, 0.24, 0.06)
# Customers whose payment behaviour changes in the last year (a share of the customers,
# at least one each): some stop paying (they fall to Problem within months), some slow
# payers mend their ways (they leave Problem as their late invoices leave the window).
DEFAULTERS, MENDERS = 0.004, 0.01
# Between how many days before the end the turn happens (most, fewest): defaulters late
# enough that their unpaid invoices are a recent story (they reach Problem within the last
# months), menders early enough that their late invoices leave the 12-month window then.
DEFAULT_DAYS_BEFORE_END = (240, 120)
MEND_DAYS_BEFORE_END = (330, 210)
# Late payers late this often or more are the ones below the on-time floor (invoices.py).
MENDER_LATENESS_AT_LEAST = 45
PAYMENT_TERMS = np.array([30, 45, 60])
N_LINES = len(PRODUCT_LINES)
COUNTRIES = tuple(c for _, countries, _ in REGIONS for c, _, _ in countries)
_COUNTRY_REGION = np.array([r for r, (_, cs, _) in enumerate(REGIONS) for _ in cs])
_COUNTRY_WEIGHT = np.array([rw * w for _, cs, rw in REGIONS for _, _, w in cs])
_SUFFIXES = tuple(s for _, countries, _ in REGIONS for _, s, _ in countries)


def product_lines_table() -> dict[str, pa.Array]:
    """The fixed product line catalogue."""
    return {
        "product_line_id": pa.array([p[0] for p in PRODUCT_LINES]),
        "name": pa.array([p[1] for p in PRODUCT_LINES]),
        "category": pa.array([p[2] for p in PRODUCT_LINES]),
    }


@dataclass(frozen=True)
class Managers:
    """Account managers; ``active`` is False for those who have left."""

    region: np.ndarray
    active: np.ndarray
    table: dict[str, pa.Array]


def draw_managers(rng: np.random.Generator, n_customers: int, window: Window) -> Managers:
    """About one manager per 25 customers (at least 3); one or two of them have left."""
    n = max(3, round(n_customers / 25))
    names = len(FIRST_NAMES) * len(LAST_NAMES)
    combo = rng.choice(names, size=n, replace=n > names)
    first, last = combo // len(LAST_NAMES), combo % len(LAST_NAMES)
    full = [f"{FIRST_NAMES[f]} {LAST_NAMES[s]}" for f, s in zip(first, last, strict=True)]
    local = [name.lower().replace(" ", ".") for name in full]
    # Names repeat only above 2,500 managers; the number keeps e-mails unique then.
    email = [f"{x}.{i + 1}" if n > names else x for i, x in enumerate(local)]
    # Regions in proportion to customers, cycling so small samples cover several.
    region = np.arange(n) % len(REGIONS)
    region = np.where(np.arange(n) < len(REGIONS), region, pick(rng, [r[2] for r in REGIONS], n))
    hired = uniform_days(rng, np.full(n, window.start - 3650), np.full(n, window.end - 200))
    leavers = rng.choice(n, size=1 if n < 50 else 2, replace=False)
    active = np.ones(n, dtype=bool)
    active[leavers] = False
    left = np.zeros(n, dtype=np.int64)
    left_low = np.maximum(hired[leavers] + 60, window.start + 30)
    left[leavers] = uniform_days(rng, left_low, np.full(len(leavers), window.end - 30))
    specialty = pick(rng, [w for _, w in INDUSTRIES], n)
    table = {
        "manager_id": col.ids("AM-", np.arange(1, n + 1), 4),
        "name": pa.array(full),
        "email": pa.array([f"{x}@example.com" for x in email]),
        "region": col.labels(tuple(r[0] for r in REGIONS), region),
        "seniority": col.labels(
            tuple(s for s, _ in SENIORITIES), pick(rng, [w for _, w in SENIORITIES], n)
        ),
        "specialty": col.labels(tuple(i for i, _ in INDUSTRIES), specialty),
        "hired_on": col.dates(hired),
        "left_on": col.dates(left, ~active),
    }
    return Managers(region=region, active=active, table=table)


@dataclass(frozen=True)
class CustomerBook:
    """Every customer's hidden traits (arrays indexed by customer position)."""

    ids: pa.Array
    status: np.ndarray
    size: np.ndarray  # expected annual revenue in EUR while trading
    rate: np.ndarray  # invoices per year while trading, before season and trend
    first_day: np.ndarray  # trading interval, epoch days inclusive
    last_day: np.ndarray
    trend: np.ndarray  # yearly log growth of purchase frequency
    payer: np.ndarray  # GOOD | LATE | BAD
    turn_day: np.ndarray  # epoch day from which ``payer_after`` applies (past the end: none)
    payer_after: np.ndarray  # GOOD | LATE | BAD | DEFAULTED
    lateness: np.ndarray  # mean days late of a late payer
    terms: np.ndarray  # payment terms in days
    discount: np.ndarray  # price factor on list prices
    mix: np.ndarray  # (n, product lines) purchase weights, 0 = not bought from us
    manager: np.ndarray  # manager position, -1 = none
    potential: np.ndarray  # prospects: estimated deal potential in EUR


def draw_customers(
    rng: np.random.Generator, n: int, window: Window, managers: Managers, lines_per_year: float
) -> tuple[CustomerBook, dict[str, pa.Array]]:
    """Draw ``n`` customers and the customers.csv columns.

    ``lines_per_year`` is the average number of invoice lines per customer
    (prospects included) per year; purchase rates are scaled to hit it.
    """
    status = _exact_shares(rng, n, (ACTIVE, PROSPECT, CHURNED), (0.82, 0.10, 0.08))
    trading = status != PROSPECT
    # Lognormal sizes: sigma 1.4 puts roughly 70% of revenue in the top 20%.
    size = np.exp(rng.normal(np.log(45_000.0), 1.4, n))
    first = np.full(n, window.start, dtype=np.int64)
    last = np.full(n, window.end, dtype=np.int64)
    newcomer = (status == ACTIVE) & (rng.random(n) < 0.12)
    first[newcomer] = uniform_days(rng, first[newcomer], first[newcomer] + window.days * 2 // 3)
    churned = status == CHURNED
    # Churned customers stop buying at least half a year before the end.
    churn_high = np.full(churned.sum(), window.end - 180)
    churn_low = np.minimum(window.start + 90, churn_high)
    last[churned] = uniform_days(rng, churn_low, churn_high)
    # Bigger customers order more often and in bigger lines; the exponent splits
    # their size between frequency and basket.
    weight = (size / 45_000.0) ** 0.3
    active_years = np.where(trading, (last - first + 1) / 365.25, 0.0)
    mean_lines_per_invoice = 2.95  # of the 1-6 line distribution in invoices.py
    wanted = n * lines_per_year * window.n_years
    rate = weight * wanted / (mean_lines_per_invoice * (weight * active_years).sum())
    kind = pick(rng, (0.30, 0.25, 0.45), n)  # growing, shrinking, stable
    trend = np.where(kind == 0, rng.uniform(0.08, 0.35, n), rng.normal(0.0, 0.03, n))
    trend = np.where(kind == 1, rng.uniform(-0.35, -0.08, n), trend)
    payer = _exact_shares(rng, n, (GOOD, LATE, BAD), PAYER_SHARES)
    lateness = rng.uniform(10, 60, n)
    terms = PAYMENT_TERMS[pick(rng, (0.45, 0.25, 0.30), n)]
    discount = np.clip(np.exp(rng.normal(0.0, 0.08, n)), 0.7, 1.15)
    loss_making = rng.random(n) < 0.015
    discount[loss_making] = rng.uniform(0.45, 0.7, loss_making.sum())
    mix = _purchase_mix(rng, n)
    industry = pick(rng, [w for _, w in INDUSTRIES], n)
    country = pick(rng, _COUNTRY_WEIGHT, n)
    region = _COUNTRY_REGION[country]
    parent = _parents(rng, status, size)
    industry = np.where(parent >= 0, industry[np.maximum(parent, 0)], industry)
    manager = _assign(rng, region, managers)
    manager[(status == PROSPECT) & (rng.random(n) < 0.2)] = -1
    z = (np.log(size) - np.log(45_000.0)) / 1.4
    influence = np.clip(np.round(50 + 14 * z + rng.normal(0, 14, n)), 0, 100)
    influence = np.where(trading, influence, np.clip(np.round(rng.normal(45, 22, n)), 0, 100))
    influence_known = rng.random(n) >= 0.07
    # At least one key opportunity among the prospects, however small the sample.
    prospects = np.flatnonzero(status == PROSPECT)
    if len(prospects) and not (influence_known & (influence >= 60))[prospects].any():
        influence[prospects[0]] = rng.integers(60, 101)
        influence_known[prospects[0]] = True
    factor_known = rng.random(n) >= 0.03
    named = np.zeros(n, dtype=bool)
    candidates = np.flatnonzero((status == ACTIVE) & (influence >= 55) & influence_known)
    if len(candidates):
        named[rng.choice(candidates, size=max(1, len(candidates) // 40), replace=False)] = True
    potential = np.round(np.exp(rng.normal(np.log(150_000.0), 1.0, n)), -3)
    potential_cents = (potential * 100).astype(np.int64)
    book = CustomerBook(
        ids=col.ids("C-", np.arange(1, n + 1), 6),
        status=status, size=size, rate=rate, first_day=first, last_day=last, trend=trend,
        payer=payer, turn_day=np.full(n, window.end + 1, dtype=np.int64), payer_after=payer,
        lateness=lateness, terms=terms, discount=discount, mix=mix,
        manager=manager, potential=potential,
    )  # fmt: skip
    table = {
        "customer_id": book.ids,
        "name": pa.array(_names(rng, industry, country)),
        "industry": col.labels(tuple(i for i, _ in INDUSTRIES), industry),
        "ownership_type": col.labels(
            tuple(o for o, _ in OWNERSHIP_TYPES), pick(rng, [w for _, w in OWNERSHIP_TYPES], n)
        ),
        "region": col.labels(tuple(r[0] for r in REGIONS), region),
        "country": col.labels(COUNTRIES, country),
        "parent_customer_id": book.ids.take(pa.array(np.maximum(parent, 0), mask=parent < 0)),
        "manager_id": managers.table["manager_id"].take(
            pa.array(np.maximum(manager, 0), mask=manager < 0)
        ),
        "influence": col.integers(influence, influence_known),
        "status": col.labels(STATUSES, status),
        "buying_factor": col.labels(
            tuple(b for b, _ in BUYING_FACTORS),
            pick(rng, [w for _, w in BUYING_FACTORS], n),
            factor_known,
        ),
        "named_strategic": pa.array(named),
        "estimated_potential": col.money(potential_cents, status == PROSPECT),
    }
    return book, table


def draw_turns(rng: np.random.Generator, book: CustomerBook, window: Window) -> CustomerBook:
    """The book with its turning payers: good payers trading to the end that stop paying
    (:data:`DEFAULTERS`) and the latest payers that start paying on time (:data:`MENDERS`).

    Drawn on a stream of their own, so the customers' other traits stay as they were.
    """
    n = len(book.status)
    trading_to_end = (book.status != PROSPECT) & (book.last_day == window.end)
    turn_day, after = book.turn_day.copy(), book.payer_after.copy()
    worst = book.payer == BAD
    worst |= (book.payer == LATE) & (book.lateness >= MENDER_LATENESS_AT_LEAST)
    for eligible, share, (far, near), becomes in (
        (book.payer == GOOD, DEFAULTERS, DEFAULT_DAYS_BEFORE_END, DEFAULTED),
        (worst, MENDERS, MEND_DAYS_BEFORE_END, GOOD),
    ):
        pool = np.flatnonzero(trading_to_end & eligible)
        # Trading for half a year before the turn, so there is a before to turn from.
        pool = pool[book.first_day[pool] < window.end - far - 182]
        take = min(len(pool), max(1, round(share * n)))
        chosen = np.sort(rng.choice(pool, size=take, replace=False))
        turn_day[chosen] = uniform_days(
            rng, np.full(take, window.end - far), np.full(take, window.end - near)
        )
        after[chosen] = becomes
    return replace(book, turn_day=turn_day, payer_after=after)


def _exact_shares(
    rng: np.random.Generator, n: int, codes: tuple[int, ...], shares: tuple[float, ...]
) -> np.ndarray:
    """Codes in exact proportions (the first takes the rounding), randomly placed.

    Exact rather than independent draws so even a 60-customer sample has
    prospects, churned customers and bad payers.
    """
    out = np.full(n, codes[0], dtype=np.int64)
    order = rng.permutation(n)
    at = 0
    for code, share in zip(codes[1:], shares[1:], strict=True):
        take = max(1, round(share * n)) if n >= 20 else round(share * n)
        out[order[at : at + take]] = code
        at += take
    return out


def _purchase_mix(rng: np.random.Generator, n: int) -> np.ndarray:
    """Each customer buys 1-6 product lines from us, favouring the popular ones."""
    popularity = np.array([p[5] for p in PRODUCT_LINES])
    # Gumbel-top-k: the k largest of log(p) + Gumbel noise are a weighted sample
    # without replacement, for every customer at once.
    keys = np.log(popularity) + rng.gumbel(size=(n, N_LINES))
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    bought = rank < rng.integers(1, 7, n)[:, None]
    weights = rng.gamma(1.0, 1.0, (n, N_LINES)) * popularity * bought
    return weights / weights.sum(axis=1, keepdims=True)


def _parents(rng: np.random.Generator, status: np.ndarray, size: np.ndarray) -> np.ndarray:
    """About 5% of trading customers are subsidiaries of a larger active customer."""
    n = len(status)
    parent = np.full(n, -1, dtype=np.int64)
    big = np.flatnonzero((status == ACTIVE) & (size >= np.quantile(size, 0.7)))
    others = np.setdiff1d(np.flatnonzero(status != PROSPECT), big)
    if len(big) == 0 or len(others) == 0:
        return parent
    subs = rng.choice(others, size=min(len(others), max(1, round(0.05 * n))), replace=False)
    parent[subs] = rng.choice(big, size=len(subs))
    return parent


def _assign(rng: np.random.Generator, region: np.ndarray, managers: Managers) -> np.ndarray:
    """Each customer gets a current manager of its region (any current one if none there)."""
    current = np.flatnonzero(managers.active)
    manager = current[rng.integers(0, len(current), len(region))]
    for r in range(len(REGIONS)):
        local = current[managers.region[current] == r]
        here = np.flatnonzero(region == r)
        if len(local) and len(here):
            manager[here] = local[rng.integers(0, len(local), len(here))]
    return manager


def _names(rng: np.random.Generator, industry: np.ndarray, country: np.ndarray) -> list[str]:
    """Distinct names like ``Rhein Global Logistics GmbH`` (distinct per industry)."""
    n = len(industry)
    a, b, c = len(NAME_PREFIXES), len(NAME_MIDDLES), len(INDUSTRY_NOUNS[0])
    combo = np.zeros(n, dtype=np.int64)
    crowded = np.zeros(len(INDUSTRIES), dtype=bool)
    for i in range(len(INDUSTRIES)):
        rows = np.flatnonzero(industry == i)
        # Only beyond 18,000 customers in one industry must combinations repeat;
        # the customer number then keeps the names distinct.
        crowded[i] = len(rows) > a * b * c
        combo[rows] = rng.choice(a * b * c, size=len(rows), replace=bool(crowded[i]))
    names = []
    for k, (ind, ctry, code) in enumerate(zip(industry, country, combo, strict=True)):
        noun = INDUSTRY_NOUNS[ind][code % c]
        name = f"{NAME_PREFIXES[code // (b * c)]} {NAME_MIDDLES[(code // c) % b]} {noun}"
        if crowded[ind]:
            name = f"{name} {k + 1}"
        names.append(f"{name} {_SUFFIXES[ctry]}")
    return names
