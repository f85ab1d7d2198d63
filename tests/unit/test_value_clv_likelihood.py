"""The CLV fits' objectives (models/value/clv_likelihood.py): the same sums as the
per-customer log-likelihoods as the papers print them, and exact gradients."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import OptimizeResult, approx_fprime, minimize, rosen, rosen_der

from models.value.clv_fit import (
    _LOG_BOUND,
    _STALL_ITERATIONS,
    _STALL_RELATIVE,
    _STATIONARY,
    _polish,
    _Stall,
    _stationary,
)
from models.value.clv_likelihood import (
    bgnbd_log_likelihood,
    bgnbd_objective,
    gamma_gamma_log_likelihood,
    gamma_gamma_objective,
)

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow"


def _daily_summary(n: int = 4000, seed: int = 5) -> pd.DataFrame:
    """Daily periods, frequent buyers among them (x up to several hundred), spend in cents."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 1100, n).astype(float)
    x = np.minimum(rng.poisson(rng.gamma(0.6, 1 / 40, n) * T), rng.geometric(0.02, n))
    t_x = np.where(x > 0, np.floor(T * rng.beta(np.maximum(x, 1), 1.5)), 0.0)
    m = np.where(x > 0, np.round(rng.gamma(4.0, 40.0, n), 2) + 0.01, 0.0)
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T, "monetary_value": m})


@pytest.fixture(scope="module", params=["cdnow_weeks", "daily"])
def summary(request) -> pd.DataFrame:
    if request.param == "daily":
        return _daily_summary()
    df = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    return df.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


BGNBD_POINTS = [(0.24, 4.4, 0.79, 2.4), (1.0, 30.0, 1.0, 1.0), (1.8, 32.0, 1e-5, 113.0)]
BGNBD_POINTS += [(0.6, 57.4, 300.0, 800.0)]
GG_POINTS = [(6.25, 3.74, 15.4), (1.0, 1.0, 100.0), (1.1, 111.0, 249_000.0), (3.0, 2e4, 3e6)]


@pytest.mark.parametrize("penalizer", [0.0, 0.01])
@pytest.mark.parametrize("params", BGNBD_POINTS)
def test_bgnbd_objective_is_the_papers_likelihood_with_its_gradient(summary, params, penalizer):
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    objective = bgnbd_objective(x, t_x, T, penalizer)
    at = np.log(params)
    value, grad = objective(at)
    spec = -np.mean(bgnbd_log_likelihood(*params, x, t_x, T)) + penalizer * np.sum(
        np.square(params)
    )
    assert value == pytest.approx(spec, rel=1e-12, abs=1e-12)
    numeric = approx_fprime(at, lambda p: objective(p)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("penalizer", [0.0, 0.001])
@pytest.mark.parametrize("params", GG_POINTS)
def test_gamma_gamma_objective_is_the_papers_likelihood_with_its_gradient(
    summary, params, penalizer
):
    repeat = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    x = summary.loc[repeat, "frequency"].to_numpy(dtype=float)
    m = summary.loc[repeat, "monetary_value"].to_numpy(dtype=float)
    objective = gamma_gamma_objective(x, m, penalizer)
    at = np.log(params)
    value, grad = objective(at)
    spec = -np.mean(gamma_gamma_log_likelihood(*params, x, m)) + penalizer * np.sum(
        np.square(params)
    )
    assert value == pytest.approx(spec, rel=1e-12)
    numeric = approx_fprime(at, lambda p: objective(p)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6 * max(1.0, abs(value)))


def test_an_objective_out_of_its_domain_says_so_without_failing():
    x, t_x, T = np.array([0.0, 2.0]), np.array([0.0, 5.0]), np.array([10.0, 10.0])
    value, grad = bgnbd_objective(x, t_x, T)(np.array([800.0, 0.0, 0.0, 0.0]))  # r overflows
    assert value == 1e300 and (grad == 0).all()


def test_a_vanished_gradient_is_stationary_and_a_bound_only_stops_its_own_push():
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 3
    inside = np.zeros(3)
    assert _stationary(inside, np.full(3, _STATIONARY / 2), bounds)
    assert not _stationary(inside, np.array([0.0, 2 * _STATIONARY, 0.0]), bounds)
    # At the lower bound a positive gradient pushes out through it (no lower value there);
    # a negative one pulls back inside and still counts.
    low = np.array([-_LOG_BOUND, 0.0, 0.0])
    assert _stationary(low, np.array([5.0, 0.0, 0.0]), bounds)
    assert not _stationary(low, np.array([-5.0, 0.0, 0.0]), bounds)
    assert not _stationary(inside, np.array([np.nan, 0.0, 0.0]), bounds)


def test_the_polish_stops_when_its_best_value_stops_improving():
    """Nelder-Mead crawling along a flat ridge (8,040 iterations, 50-110 s at 50,000
    customers, for 2.7e-10 of a mean negative log-likelihood of 220) stops once the best
    value gained less than the relative tolerance over the last iterations, not before."""
    stall = _Stall()
    value = 220.0
    for _ in range(_STALL_ITERATIONS + 10):  # real progress: 1e-6 an iteration
        value -= 1e-6
        stall(OptimizeResult(fun=value))
    assert not stall.stalled
    with pytest.raises(StopIteration):
        for _ in range(10 * _STALL_ITERATIONS):  # a crawl: one ulp of 220 an iteration
            value = np.nextafter(value, 0.0)
            stall(OptimizeResult(fun=value))
    assert stall.stalled
    gained = stall.best[-1 - _STALL_ITERATIONS] - stall.best[-1]
    assert gained < _STALL_RELATIVE * 220.0
    assert "stopped after" in stall.describe()


def test_a_polish_that_makes_progress_ends_as_plain_nelder_mead_does():
    """Where the simplex converges by its own tolerances the stop never fires: the
    result is plain Nelder-Mead's, to the bit."""
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 4
    start = np.array([-1.2, 1.0, -1.2, 1.0])

    def objective(x):
        return 220.0 + float(rosen(x)), rosen_der(x)

    ours = _polish(objective, start, bounds)
    plain = minimize(
        lambda x: objective(x)[0],
        start,
        method="Nelder-Mead",
        bounds=bounds,
        options={"maxiter": 8000, "xatol": 1e-9, "fatol": 1e-12},
    )
    assert ours.success and ours.nit == plain.nit and ours.nit > _STALL_ITERATIONS
    assert np.array_equal(ours.x, plain.x) and ours.fun == plain.fun
