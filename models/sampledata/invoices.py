"""Invoice lines and payments for one chunk of customers, vectorised with numpy.

Invoice dates come from a Poisson process per customer whose intensity follows
the month of the year (seasonality) and the customer's own growth or decline
(trend), drawn by thinning: candidates at the peak rate, each kept with
probability intensity / peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import columns as col
from .customers import BAD, DEFAULTED, GOOD, LATE, N_LINES, PROSPECT, CustomerBook
from .names import PRODUCT_LINES, SKUS_PER_LINE
from .window import Window, group_index, months_of, pick, uniform_days

# Monthly demand factors (mean 1): a spring and an autumn peak, a summer and a
# year-end dip, as in most industrial supply businesses.
SEASON = np.array([0.85, 0.95, 1.15, 1.05, 1.05, 1.0, 0.9, 0.65, 1.1, 1.2, 1.15, 0.95])
LINES_PER_INVOICE = (0.25, 0.20, 0.20, 0.15, 0.10, 0.10)  # 1..6 lines, mean 2.95
CREDIT_NOTE_SHARE = 0.02
UNKNOWN_COST_SHARE = 0.01
INSTALMENT_SHARE = 0.08


@dataclass
class Counters:
    """Running numbers that make ids unique across chunks."""

    invoice: int = 0
    credit_note: int = 0
    payment: int = 0
    opportunity: int = 0
    initiative: int = 0


@dataclass(frozen=True)
class Catalogue:
    """The article list: list price and unit cost in cents per (product line, SKU)."""

    price: np.ndarray
    cost: np.ndarray
    codes: pa.Array


def draw_catalogue(rng: np.random.Generator) -> Catalogue:
    """SKUs per product line, priced around the line's typical unit price."""
    list_price = np.array([p[4] for p in PRODUCT_LINES])[:, None]
    margin = np.array([p[3] for p in PRODUCT_LINES])[:, None]
    shape = (N_LINES, SKUS_PER_LINE)
    price = np.round(list_price * np.exp(rng.normal(0.0, 0.5, shape)) * 100)
    cost = price * (1 - margin) * np.exp(rng.normal(0.0, 0.05, shape))
    codes = [f"SKU-{pl + 1:02d}-{s + 1:03d}" for pl in range(N_LINES) for s in range(SKUS_PER_LINE)]
    return Catalogue(price=price.astype(np.int64), cost=cost, codes=pa.array(codes))


@dataclass(frozen=True)
class Sales:
    """One chunk's invoice lines, kept for the wallet estimates (chunk-local customers)."""

    customer: np.ndarray
    product_line: np.ndarray
    day: np.ndarray
    amount: np.ndarray  # cents


def _invoice_days(rng: np.random.Generator, book: CustomerBook, sl: slice, window: Window):
    """Chunk-local customer and epoch day of every invoice, sorted by day then customer."""
    trading = book.status[sl] != PROSPECT
    first, last, trend = book.first_day[sl], book.last_day[sl], book.trend[sl]
    mid = (window.start + window.end) / 2
    ends = np.maximum(trend * (first - mid), trend * (last - mid)) / 365.25
    peak = SEASON.max() * np.exp(ends)
    years = (last - first + 1) / 365.25
    expected = np.where(trading, book.rate[sl] * years * peak, 0.0)
    cust, _ = group_index(rng.poisson(expected))
    day = uniform_days(rng, first[cust], last[cust])
    intensity = SEASON[months_of(day)] * np.exp(trend[cust] * (day - mid) / 365.25)
    keep = rng.random(len(day)) * peak[cust] < intensity
    cust, day = cust[keep], day[keep]
    # Every trading customer has traded at least once.
    idle = np.flatnonzero(trading & (np.bincount(cust, minlength=len(trading)) == 0))
    cust = np.concatenate([cust, idle])
    day = np.concatenate([day, uniform_days(rng, first[idle], last[idle])])
    order = np.lexsort((cust, day))
    return cust[order], day[order]


def draw_sales(
    rng: np.random.Generator,
    book: CustomerBook,
    sl: slice,
    window: Window,
    catalogue: Catalogue,
    counters: Counters,
) -> tuple[dict[str, pa.Array], dict[str, pa.Array], Sales]:
    """The invoice_lines and payments columns of the customers in ``sl``."""
    cust, day = _invoice_days(rng, book, sl, window)
    n_inv = len(cust)
    gcust = cust + sl.start
    credit = rng.random(n_inv) < CREDIT_NOTE_SHARE
    n_lines = pick(rng, LINES_PER_INVOICE, n_inv) + 1
    n_lines[credit] = np.minimum(n_lines[credit], 2)
    due = day + book.terms[gcust]
    inv_no = counters.invoice + np.cumsum(~credit)
    cn_no = counters.credit_note + np.cumsum(credit)
    counters.invoice += int((~credit).sum())
    counters.credit_note += int(credit.sum())
    inv_ids = pc.if_else(pa.array(credit), col.ids("CN-", cn_no, 7), col.ids("INV-", inv_no, 7))

    inv, line_no = group_index(n_lines)
    lc = cust[inv]
    gc = lc + sl.start
    # Product line by inverse CDF over the customer's purchase mix.
    cum = np.cumsum(book.mix[sl], axis=1)[lc]
    pl = np.minimum((rng.random(len(inv))[:, None] > cum).sum(axis=1), N_LINES - 1)
    sku = rng.integers(0, SKUS_PER_LINE, len(inv))
    unit = np.maximum(1, np.round(catalogue.price[pl, sku] * book.discount[gc])).astype(np.int64)
    # Average line value such that a customer's yearly revenue is about its size.
    line_value = book.size[gc] / (book.rate[gc] * 2.95) * np.exp(rng.normal(-0.18, 0.6, len(inv)))
    qty = np.maximum(1, np.round(line_value * 100 / unit)).astype(np.int64)
    returned = np.maximum(1, np.round(qty * rng.uniform(0.1, 0.6, len(inv)))).astype(np.int64)
    qty = np.where(credit[inv], -returned, qty)
    amount = qty * unit
    cost = np.round(qty * catalogue.cost[pl, sku] * np.exp(rng.normal(0, 0.04, len(inv))))
    cost_known = rng.random(len(inv)) >= UNKNOWN_COST_SHARE

    lines = {
        "invoice_id": inv_ids.take(pa.array(inv)),
        "line_no": col.integers(line_no + 1),
        "customer_id": book.ids.take(pa.array(gc)),
        "invoice_date": col.dates(day[inv]),
        "due_date": col.dates(due[inv]),
        "product_line_id": col.labels(tuple(p[0] for p in PRODUCT_LINES), pl),
        "product_code": catalogue.codes.take(pa.array(pl * SKUS_PER_LINE + sku)),
        "quantity": col.integers(qty),
        "amount": col.money(amount),
        "cost": col.money(cost.astype(np.int64), cost_known),
        "currency": col.constant("EUR", len(inv)),
    }
    starts = np.cumsum(n_lines) - n_lines
    total = np.add.reduceat(amount, starts) if n_inv else np.zeros(0, dtype=np.int64)
    payments = _payments(rng, book, gcust, day, due, total, credit, window, counters, inv_ids)
    return lines, payments, Sales(lc, pl, day[inv], amount)


def _payments(rng, book, gcust, day, due, total, credit, window, counters, inv_ids):
    """Payments by payer kind (the kind after the customer's turn for invoices from its
    turn day); none for credit notes or after the window's end."""
    n = len(day)
    payer = np.where(day >= book.turn_day[gcust], book.payer_after[gcust], book.payer[gcust])
    u = rng.random(n)
    pay_day = np.where(payer == GOOD, np.maximum(day, due - rng.integers(0, 16, n)), due)
    late = np.clip(np.round(book.lateness[gcust] + rng.normal(0, 12, n)), 5, 90)
    # Late payers are late on some invoices, not all: the more days late they run, the
    # more often (20-70% of invoices), so only the worst fall under the on-time floor.
    late_now = (payer == LATE) & (rng.random(n) < 0.1 + book.lateness[gcust] / 100)
    pay_day = np.where(late_now, due + late, pay_day)
    # Slow payers pay in the end, one to five months late; half of their invoices in two
    # parts, the rest chased for weeks after the first. Defaulted customers pay nothing.
    share = np.ones(n)
    slow = payer == BAD
    pay_day = np.where(slow, due + rng.integers(30, 151, n), pay_day)
    in_parts = slow & (u < 0.5)
    share = np.where(payer == DEFAULTED, 0.0, share)
    paid = np.floor(total * share).astype(np.int64)
    paid[credit] = 0
    split = ((rng.random(n) < INSTALMENT_SHARE) | in_parts) & (paid >= 2)
    first = np.where(split, np.floor(paid * rng.uniform(0.3, 0.7, n)).astype(np.int64), paid)
    first_day = np.where(split, np.maximum(day, pay_day - rng.integers(7, 31, n)), pay_day)
    first_day = np.where(in_parts, np.maximum(day, due + rng.integers(0, 31, n)), first_day)
    first_day = np.minimum(first_day, pay_day)
    # One row per payment, two for an invoice paid in instalments.
    inv, pos = group_index(np.where(paid > 0, 1 + split, 0))
    amount = np.where(pos == 0, first[inv], paid[inv] - first[inv])
    paid_on = np.where(pos == 0, first_day[inv], pay_day[inv]).astype(np.int64)
    ok = (paid_on <= window.end) & (amount > 0)
    inv, amount, paid_on = inv[ok], amount[ok], paid_on[ok]
    numbers = counters.payment + np.arange(1, len(inv) + 1)
    counters.payment += len(inv)
    return {
        "payment_id": col.ids("PAY-", numbers, 7),
        "invoice_id": inv_ids.take(pa.array(inv, pa.int64())),
        "customer_id": book.ids.take(pa.array(gcust[inv], pa.int64())),
        "paid_on": col.dates(paid_on),
        "amount": col.money(amount),
        "currency": col.constant("EUR", len(inv)),
    }
