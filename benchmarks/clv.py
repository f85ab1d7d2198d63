"""The CLV fit's speed: ours beside a plain scipy maximum-likelihood fit of the same models.

    python benchmarks/clv.py [--customers 50000] [--lines 10000000] [--seed 1] [--runs 3]
        [--summary both|model|book] [--database URL [--as-of YYYY-MM-DD]]

1. Builds two seeded summaries of ``--customers`` customers (daily periods, as the
   recompute's summary):

   * ``model``: drawn from the models themselves: each customer's purchase rate from
     Gamma(r, alpha), drop-out probability from Beta(a, b), age T of 30 days to three
     years; repeat purchases up to T or the drop-out (frequency, recency rounded down to
     whole days), and the mean repeat spend from Gamma-Gamma (p, q, v), in cents. Both
     models are well identified here.
   * ``book``: benchmarks/recompute.py's synthetic book (``--lines`` invoice lines on
     ~lines/3 invoices over three years, long-tailed customers, 1% credit lines), its
     purchases summarised by ``models.value.clv.rfm_summary``. Nobody drops out of that
     book, so BG/NBD's a runs to 0 and b is unidentified: the flat ridge where a fit can
     crawl (a minute before the gradients were exact).

   * ``database`` (with ``--database``): the summary a recompute of that database fits,
     read as the recompute reads it (``models.value.purchases.summary_at``, from the
     roll-ups as they stand) at ``--as-of`` (default: the recompute's default as-of
     date). A kept book of benchmarks/recompute.py after one recompute is the case
     where BG/NBD's L-BFGS-B stops abnormally on the a/b ridge and Nelder-Mead takes over.

2. Times our fit on each (``models.value.clv.fit_bgnbd`` + ``fit_gamma_gamma``, what
   the recompute runs; the median of ``--runs`` runs after an untimed one).
3. Times the baseline on the same summary: ``scipy.optimize.minimize`` with its default
   method (BFGS, gradients by finite differences) on the mean negative log-likelihoods
   over the log-parameters (the per-customer log-likelihoods of
   ``models/value/clv_likelihood.py``, which follow the papers), started from all
   parameters 1 (median the same way). Both with BLAS on one thread, as the recompute fits
   (``models.value.parallel.one_blas_thread``); the same again with OpenBLAS's own
   threads: ``blas_threads_seconds`` and ``blas_threads_baseline_seconds``.
4. Prints both sets of parameters (and, for ``model``, the true ones they were drawn
   with), the largest relative difference between ours and the baseline's
   (``max_param_rel_diff``: large on the book's ridge, where b is unidentified) and the
   difference of the log-likelihoods reached (``ll_diff``: ours minus the baseline's,
   per customer; positive: ours found the higher likelihood).

The aim: ours within 3x of the baseline (``ratio`` = ours / baseline) on each summary.
Progress goes to stderr; the last line on stdout is the JSON figures: ``seconds``,
``baseline_seconds`` and ``ratio`` of the summary with the higher ratio, each summary's
own under its name. ``rows`` = the customers. Nothing is written to disk.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from common import median_of, progress, report

from models.value.clv import fit_bgnbd, fit_gamma_gamma
from models.value.clv_likelihood import bgnbd_log_likelihood, gamma_gamma_log_likelihood
from models.value.parallel import one_blas_thread

# Per-day parameters of the draw: a purchase every ~2 months on average, a third of the
# customers dropping out after each purchase on average, spend around 100-300.
TRUE_BGNBD = {"r": 0.75, "alpha": 45.0, "a": 0.8, "b": 2.5}
TRUE_GAMMA_GAMMA = {"p": 6.0, "q": 3.8, "v": 120.0}
MAX_AGE_DAYS = 3 * 365


def draw_summary(customers: int, seed: int) -> pd.DataFrame:
    """A seeded RFM summary drawn from BG/NBD and Gamma-Gamma, one row per customer."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = TRUE_BGNBD.values()
    T = rng.integers(30, MAX_AGE_DAYS + 1, customers).astype(float)
    rate = rng.gamma(r, 1.0 / alpha, customers)
    dropout = rng.beta(a, b, customers)
    # Purchases in (0, T] are a Poisson process; the customer stops after the purchase
    # that a Bernoulli(dropout) draw ends, so at most `possible` repeat purchases happen.
    arrivals = rng.poisson(rate * T)
    possible = rng.geometric(dropout)
    frequency = np.minimum(arrivals, possible)
    # The k-th of n uniform arrival times on (0, T] is T * Beta(k, n - k + 1).
    repeat = frequency > 0
    recency = np.zeros(customers)
    k, n = frequency[repeat], arrivals[repeat]
    recency[repeat] = np.floor(T[repeat] * rng.beta(k, n - k + 1))
    p, q, v = TRUE_GAMMA_GAMMA.values()
    nu = rng.gamma(q, 1.0 / v, customers)
    monetary = np.zeros(customers)
    # The mean of k Gamma(p, nu) spends is Gamma(p k, k nu).
    monetary[repeat] = np.round(rng.gamma(p * k, 1.0 / (nu[repeat] * k)), 2)
    monetary[repeat] = np.maximum(monetary[repeat], 0.01)
    return pd.DataFrame(
        {
            "customer_id": [f"C-{i:07d}" for i in range(customers)],
            "frequency": frequency.astype(np.int64),
            "recency": recency.astype(np.int64),
            "T": T.astype(np.int64),
            "monetary_value": monetary,
        }
    )


# --- the plain baseline ---------------------------------------------------------------


def plain_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """BG/NBD by maximum likelihood (FHL 2005 eq. 6), BFGS over log-parameters from 1."""

    def negative_ll(log_params):
        return -np.mean(bgnbd_log_likelihood(*np.exp(log_params), x, t_x, T))

    return np.exp(minimize(negative_ll, np.zeros(4)).x)


def plain_gamma_gamma(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Gamma-Gamma by maximum likelihood (Fader-Hardie 2013), BFGS over log-parameters."""

    def negative_ll(log_params):
        return -np.mean(gamma_gamma_log_likelihood(*np.exp(log_params), x, m))

    return np.exp(minimize(negative_ll, np.zeros(3)).x)


def plain_fit(summary: pd.DataFrame) -> dict[str, float]:
    x = summary["frequency"].to_numpy(dtype=float)
    t_x = summary["recency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    m = summary["monetary_value"].to_numpy(dtype=float)
    repeat = (x > 0) & (m > 0)
    r, alpha, a, b = plain_bgnbd(x, t_x, T)
    p, q, v = plain_gamma_gamma(x[repeat], m[repeat])
    return {"r": r, "alpha": alpha, "a": a, "b": b, "p": p, "q": q, "v": v}


def our_fit(summary: pd.DataFrame) -> dict[str, float]:
    bgnbd, gamma_gamma = fit_bgnbd(summary), fit_gamma_gamma(summary)
    return {
        "r": bgnbd.r,
        "alpha": bgnbd.alpha,
        "a": bgnbd.a,
        "b": bgnbd.b,
        "p": gamma_gamma.p,
        "q": gamma_gamma.q,
        "v": gamma_gamma.v,
        "converged": bgnbd.converged and gamma_gamma.converged,
        "iterations": bgnbd.iterations + gamma_gamma.iterations,
        "messages": {"bgnbd": bgnbd.message, "gamma_gamma": gamma_gamma.message},
    }


def mean_log_likelihoods(summary: pd.DataFrame, params: dict[str, float]) -> float:
    """BG/NBD's plus Gamma-Gamma's log-likelihood at ``params``, per customer."""
    x = summary["frequency"].to_numpy(dtype=float)
    t_x = summary["recency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    m = summary["monetary_value"].to_numpy(dtype=float)
    repeat = (x > 0) & (m > 0)
    ll = np.sum(bgnbd_log_likelihood(*(params[k] for k in ["r", "alpha", "a", "b"]), x, t_x, T))
    pqv = (params["p"], params["q"], params["v"])
    ll += np.sum(gamma_gamma_log_likelihood(*pqv, x[repeat], m[repeat]))
    return float(ll / len(x))


def timed(fn, summary: pd.DataFrame, runs: int) -> tuple[float, dict]:
    """The median of ``runs`` timed runs after an untimed one, and the last result."""
    seconds, _, result = median_of(runs, lambda: fn(summary))
    return seconds, result


def book_summary(customers: int, lines: int, seed: int) -> pd.DataFrame:
    """benchmarks/recompute.py's synthetic book, drawn in chunks, summarised as the
    recompute summarises purchases (positive lines per customer and day)."""
    from recompute import DAYS, END, LINES_PER_CHUNK, invoice_chunk

    from models.value.clv import rfm_summary

    rng = np.random.default_rng(seed)
    parts, done, next_invoice = [], 0, 1
    while done < lines:
        todo = min(LINES_PER_CHUNK, lines - done)
        invoices, chunk, _, n_inv = invoice_chunk(rng, customers, todo, next_invoice, 0, DAYS)
        next_invoice += n_inv
        done += len(chunk)
        positive = chunk[chunk["amount"] > 0].groupby("invoice_id", sort=False)["amount"].sum()
        bought = invoices.set_index("invoice_id").join(positive, how="inner")
        parts.append(bought[["customer_id", "invoice_date", "amount"]].reset_index(drop=True))
    return rfm_summary(pd.concat(parts, ignore_index=True), END)


def database_summary(args: argparse.Namespace) -> pd.DataFrame:
    """The summary a recompute of ``args.database`` fits at ``args.as_of``."""
    from models.db import make_engine
    from models.value.facts import default_as_of
    from models.value.purchases import summary_at

    engine = make_engine(args.database)
    try:
        with engine.connect() as conn:
            as_of = args.as_of or default_as_of(conn)
            progress(f"database: the summary at {as_of}")
            return summary_at(conn, as_of)
    finally:
        engine.dispose()


def compare(name: str, summary: pd.DataFrame, runs: int) -> dict:
    """Our fit and the baseline's on one summary: times, parameters, agreement."""
    repeaters = int((summary["frequency"] > 0).sum())
    progress(f"{name}: {len(summary)} customers, {repeaters} with a repeat purchase")
    with one_blas_thread():  # as the recompute fits
        seconds, ours = timed(our_fit, summary, runs)
        progress(f"{name}: ours {seconds:.3f} s")
        baseline_seconds, plain = timed(plain_fit, summary, runs)
        progress(f"{name}: plain scipy {baseline_seconds:.3f} s")
    default_seconds, _ = timed(our_fit, summary, runs)
    default_baseline_seconds, _ = timed(plain_fit, summary, runs)
    progress(
        f"{name}: with BLAS's own threads, ours {default_seconds:.3f} s, plain scipy "
        f"{default_baseline_seconds:.3f} s"
    )
    names = [*TRUE_BGNBD, *TRUE_GAMMA_GAMMA]
    rel = max(abs(ours[k] - plain[k]) / abs(plain[k]) for k in names)
    ll_diff = mean_log_likelihoods(summary, ours) - mean_log_likelihoods(summary, plain)
    return {
        "customers": len(summary),
        "repeat_customers": repeaters,
        "seconds": round(seconds, 3),
        "baseline_seconds": round(baseline_seconds, 3),
        "ratio": round(seconds / baseline_seconds, 2),
        "blas_threads_seconds": round(default_seconds, 3),
        "blas_threads_baseline_seconds": round(default_baseline_seconds, 3),
        "ours": {k: float(f"{ours[k]:.6g}") for k in names},
        "ours_converged": bool(ours["converged"]),
        "ours_iterations": int(ours["iterations"]),
        "ours_messages": ours["messages"],
        "baseline_params": {k: float(f"{plain[k]:.6g}") for k in names},
        "max_param_rel_diff": float(f"{rel:.3g}"),
        "ll_diff": float(f"{ll_diff:.3g}"),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--summary", choices=["both", "model", "book"], default="both")
    parser.add_argument("--database", help="also fit the summary a recompute of this reads")
    parser.add_argument("--as-of", type=date.fromisoformat, help="with --database")
    args = parser.parse_args(argv)

    results = {}
    if args.summary in ("both", "model"):
        results["model"] = compare("model", draw_summary(args.customers, args.seed), args.runs)
        results["model"]["true_params"] = {**TRUE_BGNBD, **TRUE_GAMMA_GAMMA}
    if args.summary in ("both", "book"):
        progress(f"book: drawing {args.lines:,} lines")
        book = book_summary(args.customers, args.lines, args.seed)
        results["book"] = compare("book", book, args.runs)
    if args.database:
        results["database"] = compare("database", database_summary(args), args.runs)
    worst = max(results.values(), key=lambda r: r["ratio"])
    return report(
        "clv_fit",
        args.customers,
        worst["seconds"],
        baseline="scipy.optimize.minimize (BFGS) on the log-likelihoods",
        baseline_seconds=worst["baseline_seconds"],
        **results,
    )


if __name__ == "__main__":
    main()
