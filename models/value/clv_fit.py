"""BG/NBD and Gamma-Gamma: maximum-likelihood fits and predictions (the likelihoods and
the objectives the fits minimise are in models/value/clv_likelihood.py).

Pure numerics on numpy arrays, vectorised over customers, no randomness.

* BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way"):
  purchase frequency (Poisson with Gamma(r, alpha) rates) and drop-out after
  each purchase (probability Beta(a, b)). Inputs per customer: x = frequency,
  t_x = recency, T = age, all in the same period unit.
* Gamma-Gamma (Fader and Hardie 2013, "The Gamma-Gamma model of monetary
  value"): spend per purchase of customers with x > 0 repeat purchases and
  mean repeat spend m.

Both fits minimise the mean negative log-likelihood plus
``penalizer * sum(params**2)`` (the ``lifetimes`` convention, so a penalizer
means the same thing there and here) over the log-parameters, so the
parameters stay positive without constraints. L-BFGS-B runs first, with the
objective's analytic gradient. Where its line search fails, a point whose gradient
has vanished (to ``_STATIONARY``) is the optimum; elsewhere Nelder-Mead continues
from there, until its best value stops improving (``_Stall``). BG/NBD's a and b are
often weakly identified (they drift together at almost the same likelihood, or a runs
to 0 when nobody seems to drop out): nothing fails, the fit carries the log-likelihood
reached, ``converged`` as the optimiser saw it (False also when a parameter hit the
search box) and a ``message`` naming the optimisers' verdicts and, for a and b both
above 100, the ridge. Callers use the
parameters anyway; the predictions stay finite on the ridge (see ``_f_large_a``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.optimize import minimize
from scipy.special import hyp2f1

from .clv_likelihood import (
    Objective,
    bgnbd_log_likelihood,
    bgnbd_objective,
    gamma_gamma_log_likelihood,
    gamma_gamma_objective,
)

__all__ = [
    "BgNbdFit",
    "GammaGammaFit",
    "bgnbd_expected_purchases",
    "bgnbd_log_likelihood",
    "bgnbd_p_alive",
    "fit_bgnbd_arrays",
    "fit_gamma_gamma_arrays",
    "gamma_gamma_expected_spend",
    "gamma_gamma_log_likelihood",
    "unfitted_bgnbd",
    "unfitted_gamma_gamma",
]

# Log-parameter box: exp(+-15) spans 3e-7 .. 3e6, far wider than any sensible
# fit, and keeps the optimiser away from overflow in gammaln/exp.
_LOG_BOUND = 15.0
_MAX_ITER = 2000
# Where L-BFGS-B's line search fails, a gradient of the mean log-likelihood below this in
# every log-parameter is taken as the optimum (the simplex method would only crawl on).
_STATIONARY = 1e-5
# Nelder-Mead's polish stops once its best value has improved by less than this (relative
# to the objective, at least 1) over the last _STALL_ITERATIONS iterations: on a flat ridge
# the simplex otherwise crawls to its iteration limit (seen at 50,000 customers: 8,040
# iterations, 50-110 s, for a gain of 2.7e-10 in a mean negative log-likelihood of 220).
_STALL_RELATIVE = 1e-10
_STALL_ITERATIONS = 100
# BG/NBD a and b both above this: the fit sits on the a/(a+b) ridge (diagnostic only).
# Published fits have a and b of order 1 (CDNOW: 0.79 and 2.43); on the ridge where
# they stop depends on floating-point details of the machine (seen: 590 and 620 on
# one, above 1,000 on another), so the line is drawn well below that.
_RIDGE = 1e2
_LEGENDRE = np.polynomial.legendre.leggauss(64)


class _Fit:
    """What both fitted models answer: usable parameters, and the fit as a plain dict."""

    PARAMETERS: ClassVar[tuple[str, ...]] = ()

    @property
    def fitted(self) -> bool:
        """True when the parameters are usable (finite), converged or not."""
        return bool(np.all(np.isfinite([getattr(self, name) for name in self.PARAMETERS])))

    def as_dict(self) -> dict:
        """Plain dict (JSON-friendly, NaN for a model that was not fitted)."""
        return asdict(self)  # type: ignore[call-overload]  # each subclass is a dataclass


@dataclass(frozen=True)
class BgNbdFit(_Fit):
    """A fitted BG/NBD model; ``log_likelihood`` is the sum over customers (FHL 2005 eq. 6)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    converged: bool
    iterations: int
    message: str
    n_customers: int = 0
    PARAMETERS: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class GammaGammaFit(_Fit):
    """A fitted Gamma-Gamma spend model; ``log_likelihood`` sums over repeat customers."""

    p: float
    q: float
    v: float
    log_likelihood: float
    converged: bool
    iterations: int
    message: str
    n_customers: int = 0
    PARAMETERS: ClassVar[tuple[str, ...]] = ("p", "q", "v")

    @property
    def population_mean_spend(self) -> float:
        """E(spend per purchase) = p v / (q - 1); NaN when q <= 1 (the mean does not exist)."""
        if not self.fitted or self.q <= 1.0:
            return float("nan")
        return self.p * self.v / (self.q - 1.0)


def unfitted_bgnbd(message: str, n_customers: int = 0) -> BgNbdFit:
    """A placeholder fit (NaN parameters) carrying why no fit was made."""
    nan = float("nan")
    return BgNbdFit(nan, nan, nan, nan, nan, False, 0, message, n_customers)


def unfitted_gamma_gamma(message: str, n_customers: int = 0) -> GammaGammaFit:
    """A placeholder fit (NaN parameters) carrying why no fit was made."""
    nan = float("nan")
    return GammaGammaFit(nan, nan, nan, nan, False, 0, message, n_customers)


# --- BG/NBD -------------------------------------------------------------------


def _minimise(objective: Objective, start: np.ndarray) -> tuple[np.ndarray, bool, int, str]:
    """Minimise over log-parameters: L-BFGS-B with the objective's exact gradient, then
    Nelder-Mead if that stops abnormally."""
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(start)
    res = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": _MAX_ITER, "ftol": 1e-13, "gtol": 1e-9},
    )
    iterations = int(res.nit)
    message = f"L-BFGS-B: {str(res.message).strip()}"
    if not res.success and _stationary(res.x, res.jac, bounds):
        # The line search found nothing lower because nothing lower is representable: at
        # 50,000 customers this is how a fit on a flat ridge ends, 1e-7 from the optimum.
        res.success = True
        message += f" at a stationary point (gradient below {_STATIONARY:g})"
    if not res.success or not np.isfinite(res.fun):
        # L-BFGS-B's line search can fail away from the optimum on a flat ridge (a and b
        # drifting together); the simplex method does not need gradients there.
        polish = _polish(objective, res.x if np.all(np.isfinite(res.x)) else start, bounds)
        iterations += int(polish.nit)
        message += f"; then Nelder-Mead: {polish.message}"
        if polish.fun <= res.fun or not np.isfinite(res.fun):
            res = polish
    at_bound = bool(np.any(np.abs(res.x) >= _LOG_BOUND - 1e-6))
    converged = bool(res.success) and not at_bound
    if at_bound:
        message = f"a parameter reached the search bound exp(+-{_LOG_BOUND:g}); {message}"
    return np.asarray(res.x, dtype=float), converged, iterations, message


def _polish(objective: Objective, start: np.ndarray, bounds: list[tuple[float, float]]) -> Any:
    """Nelder-Mead from ``start`` on the objective's values (no gradient), stopped by
    :class:`_Stall` once its best value no longer improves (then a success)."""

    def value_only(log_params: np.ndarray, *_: Any) -> float:
        return objective(log_params)[0]

    stall = _Stall()
    polish = minimize(
        value_only,
        start,
        method="Nelder-Mead",
        bounds=bounds,
        callback=stall,
        options={"maxiter": 4 * _MAX_ITER, "xatol": 1e-9, "fatol": 1e-12},
    )
    if stall.stalled:  # converged in value: only a flat direction was left to crawl
        polish.success = True
        polish.message = stall.describe()
    return polish


class _Stall:
    """Nelder-Mead's callback: stops the simplex once its best value has improved by less
    than :data:`_STALL_RELATIVE` (relative, at least 1) over :data:`_STALL_ITERATIONS`."""

    def __init__(self) -> None:
        self.best: list[float] = []
        self.stalled = False

    def __call__(self, intermediate_result: Any) -> None:
        self.best.append(float(intermediate_result.fun))
        if len(self.best) <= _STALL_ITERATIONS:
            return
        before, now = self.best[-1 - _STALL_ITERATIONS], self.best[-1]
        if before - now < _STALL_RELATIVE * max(1.0, abs(now)):
            self.stalled = True
            raise StopIteration

    def describe(self) -> str:
        return (
            f"stopped after {len(self.best)} iterations: the objective improved less than "
            f"{_STALL_RELATIVE:g} (relative) in the last {_STALL_ITERATIONS}"
        )


def _stationary(x: np.ndarray, grad: np.ndarray, bounds: list[tuple[float, float]]) -> bool:
    """The gradient projected on the search box is below :data:`_STATIONARY` everywhere (a
    component pushing out through a bound the parameter sits on counts as zero)."""
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(grad))):
        return False
    low = np.array([lo for lo, _ in bounds])
    high = np.array([hi for _, hi in bounds])
    pushed_out = ((x <= low + 1e-9) & (grad > 0)) | ((x >= high - 1e-9) & (grad < 0))
    return bool(np.all(np.where(pushed_out, 0.0, np.abs(grad)) <= _STATIONARY))


def fit_bgnbd_arrays(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, penalizer: float = 0.0
) -> BgNbdFit:
    """Maximum-likelihood BG/NBD on arrays of frequency, recency and age (same unit)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    n = len(x)
    # Deterministic start: r = a = b = 1 and alpha = the mean age, which puts
    # the prior purchase rate on the data's time scale (days or weeks alike).
    start = np.log([1.0, max(float(np.mean(T)), 1e-3), 1.0, 1.0])

    objective = bgnbd_objective(x, t_x, T, penalizer)
    log_params, converged, iterations, message = _minimise(objective, start)
    r, alpha, a, b = (float(v) for v in np.exp(log_params))
    if min(a, b) > _RIDGE:
        message += (
            f"; a and b drifted together to {a:.3g} and {b:.3g}: weakly identified, "
            "only the drop-out probability a/(a+b) matters"
        )
    ll = float(np.sum(bgnbd_log_likelihood(r, alpha, a, b, x, t_x, T)))
    return BgNbdFit(r, alpha, a, b, ll, converged, iterations, message, n)


def bgnbd_p_alive(fit: BgNbdFit, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still active at T | x, t_x, T); exactly 1 for customers with x == 0 (FHL 2005 eq. 11)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    return 1.0 / (1.0 + _dropout_odds(fit, x, t_x, T))


def _dropout_odds(fit: BgNbdFit, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """delta(x>0) a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x), computed in logs (it can overflow)."""
    repeat = x > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_odds = (
            np.log(fit.a)
            - np.log(fit.b + x - 1.0)
            + (fit.r + x) * (np.log(fit.alpha + T) - np.log(fit.alpha + t_x))
        )
        odds = np.exp(log_odds)
    return np.where(repeat, odds, 0.0)


def bgnbd_expected_purchases(
    fit: BgNbdFit, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Expected purchases in (T, T + t] given x, t_x, T (FHL 2005 eq. 10).

    The paper's term ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)
    is rewritten with Euler's transformation as
    (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), z = t/(alpha+T+t): the same
    value, but the hypergeometric's first two parameters no longer grow with x,
    so frequent buyers (x in the hundreds with daily periods) neither overflow
    nor lose precision. When a and b have drifted to large values (a weakly
    identified fit) the two factors overflow and underflow; there ``_f_large_a``
    takes over.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if t <= 0:
        return np.zeros_like(x)
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = t / (alpha + T + t)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        f = np.power(1.0 - z, a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
    broken = ~np.isfinite(f)
    if broken.any() and a > 2.0:  # Beta(a-1, .) then has a bounded density
        # Only where it broke: the quadrature costs 64 evaluations a customer.
        f[broken] = _f_large_a(fit, t, x[broken], T[broken])
    numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - f)
    return numerator / (1.0 + _dropout_odds(fit, x, t_x, T))


def _f_large_a(fit: BgNbdFit, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The factor f of eq. 10 for large a, by quadrature of Euler's integral.

    f = E[(1 + p t/(alpha+T))^-(r+x)] with p ~ Beta(a-1, b+x). Where the
    hypergeometric overflows, a is in the hundreds or more and the Beta is
    concentrated: Gauss-Legendre on its mean +-12 standard deviations, with
    the density normalised over the nodes, is accurate to many digits.
    """
    k = (fit.r + x)[:, None]
    w = (t / (fit.alpha + T))[:, None]
    shape1, shape2 = fit.a - 1.0, fit.b + x
    mean = shape1 / (shape1 + shape2)
    sd = np.sqrt(mean * (1.0 - mean) / (shape1 + shape2 + 1.0))
    lo = np.maximum(mean - 12.0 * sd, 0.0)[:, None]
    hi = np.minimum(mean + 12.0 * sd, 1.0)[:, None]
    nodes, weights = _LEGENDRE
    p = lo + (hi - lo) * (nodes + 1.0) / 2.0
    log_density = (shape1 - 1.0) * np.log(p) + (shape2[:, None] - 1.0) * np.log1p(-p)
    density = np.exp(log_density - log_density.max(axis=1, keepdims=True)) * weights
    return np.sum(density * np.exp(-k * np.log1p(w * p)), axis=1) / np.sum(density, axis=1)


# --- Gamma-Gamma --------------------------------------------------------------


def fit_gamma_gamma_arrays(x: np.ndarray, m: np.ndarray, penalizer: float = 0.0) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma on repeat customers' frequency x > 0 and mean spend m > 0."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    # Deterministic start: p = q = 1 and v = the mean spend (the spend scale).
    start = np.log([1.0, 1.0, max(float(np.mean(m)), 1e-3)])

    objective = gamma_gamma_objective(x, m, penalizer)
    log_params, converged, iterations, message = _minimise(objective, start)
    p, q, v = (float(val) for val in np.exp(log_params))
    ll = float(np.sum(gamma_gamma_log_likelihood(p, q, v, x, m)))
    return GammaGammaFit(p, q, v, ll, converged, iterations, message, len(x))


def gamma_gamma_expected_spend(fit: GammaGammaFit, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E(spend per purchase | x, m): a weighted mean of the population mean and the customer's m.

    For x == 0 (no repeat purchase) this is the population mean p v / (q - 1);
    NaN everywhere when q <= 1 (the population mean does not exist).
    """
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    if not fit.fitted or fit.q <= 1.0:
        return np.full_like(x, np.nan)
    return fit.p * (fit.v + x * m) / (fit.p * x + fit.q - 1.0)
