"""Wallet estimates: each active customer's total spend per product line and year.

Estimates are derived from what the customer actually bought from us in the
chunk just generated, divided by a share of wallet of 5-90%, so the attack /
defend matrix has every quadrant populated. A few estimates are too low (as
planners' estimates sometimes are) and a few lines are whitespace: the customer
spends on them, but not with us.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from . import columns as col
from .customers import ACTIVE, N_LINES, CustomerBook
from .invoices import Sales
from .names import PRODUCT_LINES, WALLET_SOURCES
from .window import Window, epoch_day, pick, years_of

UNDERESTIMATED_SHARE = 0.03


def _year_coverage(window: Window, years: np.ndarray) -> np.ndarray:
    """Days of each calendar year that fall inside the window."""
    out = []
    for y in years:
        lo = max(epoch_day(date(int(y), 1, 1)), window.start)
        hi = min(epoch_day(date(int(y), 12, 31)), window.end)
        out.append(max(0, hi - lo + 1))
    return np.array(out, dtype=np.float64)


def draw_wallet(
    rng: np.random.Generator, book: CustomerBook, sl: slice, window: Window, sales: Sales
) -> dict[str, pa.Array]:
    """The wallet_estimates columns of the active customers in ``sl``."""
    end_year = int(years_of(np.array([window.end]))[0])
    years = np.arange(end_year - window.n_years + 1, end_year + 1)
    n = sl.stop - sl.start
    # Our revenue per (customer, product line, year) in whole cents.
    yi = years_of(sales.day) - years[0]
    inside = yi >= 0
    flat = (sales.customer[inside] * N_LINES + sales.product_line[inside]) * len(years) + yi[inside]
    weights = sales.amount[inside].astype(np.float64)
    cents = np.bincount(flat, weights=weights, minlength=n * N_LINES * len(years))
    revenue = cents.reshape(n, N_LINES, len(years)) / 100
    annual = revenue * (365.25 / np.maximum(_year_coverage(window, years), 1.0))

    mix = book.mix[sl]
    bought = mix > 0
    # One or two whitespace lines per customer among those it does not buy from us.
    keys = np.where(bought, np.inf, rng.random((n, N_LINES)))
    rank = np.argsort(np.argsort(keys, axis=1), axis=1)
    whitespace = ~bought & (rank < rng.integers(1, 3, n)[:, None])
    active = (book.status[sl] == ACTIVE)[:, None]
    cust, line = np.nonzero((bought | whitespace) & active)
    k = len(cust)

    size = book.size[sl][cust]
    share = rng.uniform(0.05, 0.9, k)[:, None] * np.exp(rng.normal(0, 0.1, (k, len(years))))
    share = np.clip(share, 0.05, 0.9)
    ours = annual[cust, line]
    expected = (size * mix[cust, line] * rng.uniform(0.5, 1.5, k))[:, None]
    base = np.where(ours > 0, ours, expected)
    potential = base / share
    low = (rng.random((k, len(years))) < UNDERESTIMATED_SHARE) & (ours > 0)
    potential = np.where(low, ours * rng.uniform(0.8, 0.98, (k, len(years))), potential)
    spend_elsewhere = (size * rng.uniform(0.1, 0.6, k))[:, None] * np.ones(len(years))
    potential = np.where(whitespace[cust, line][:, None], spend_elsewhere, potential)
    # Planners round up to the next hundred euros.
    cents = (np.ceil(potential.ravel() / 100) * 10_000).astype(np.int64)

    rows = k * len(years)
    return {
        "customer_id": book.ids.take(pa.array(np.repeat(cust + sl.start, len(years)))),
        "product_line_id": col.labels(
            tuple(p[0] for p in PRODUCT_LINES), np.repeat(line, len(years))
        ),
        "year": col.integers(np.tile(years, k)),
        "potential_amount": col.money(cents),
        "currency": col.constant("EUR", rows),
        "source": col.labels(
            tuple(s for s, _ in WALLET_SOURCES), pick(rng, [w for _, w in WALLET_SOURCES], rows)
        ),
    }
