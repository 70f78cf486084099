"""Closed forms of the linear teacher-student problem in high dimension (Advani and Saxe 2017,
arXiv 1710.03667, sec. 3-4).

Inputs x ~ N(0, I/N), P = alpha N examples, teacher y = w_bar . x + eps with w_bar ~ N(0, sigma_w^2 I),
eps ~ N(0, sigma_eps^2); student w(0) ~ N(0, sigma_0^2 I); gradient flow tau dw/dt = -grad E with
E = 1/2 sum_mu (y_mu - w . x_mu)^2, in time s = t / tau. In the eigenbasis of X^T X (eigenvalues
lambda_i) each mode relaxes on its own:

    w_i(s) = w_bar_i + (eps_i / lambda_i)(1 - exp(-lambda_i s)) + (w_i(0) - w_bar_i) exp(-lambda_i s),

and modes with lambda_i = 0 (N - P of them when alpha < 1) never move. As N -> infinity the
eigenvalues follow the Marchenko-Pastur law rho(lambda) = sqrt((lambda_+ - lambda)(lambda - lambda_-))
/ (2 pi lambda) on [lambda_-, lambda_+], lambda_+- = (1 +- sqrt(alpha))^2, of mass min(1, alpha),
which gives the generalisation and training errors (derived here in this normalisation; the paper's own
equation numbers for them were not verified: its journal version's Fig. 1 calls the exact test error eq. 4)

    E_g(s) = int rho [(sigma_w^2 + sigma_0^2) e^{-2 lambda s} + sigma_eps^2 (1 - e^{-lambda s})^2 / lambda] dlambda
             + (1 - alpha)_+ (sigma_w^2 + sigma_0^2) + sigma_eps^2,
    E_train(s) = (1/alpha) int rho e^{-2 lambda s} [sigma_eps^2 + lambda (sigma_w^2 + sigma_0^2)] dlambda
                 + sigma_eps^2 (1 - 1/alpha)_+,

with E_g = E_x (y - w . x)^2 = ||w - w_bar||^2 / N + sigma_eps^2 and E_train = (1/P) sum_mu (y_mu - w . x_mu)^2.
The quadratures run in lambda = lambda_- + (lambda_+ - lambda_-) sin^2(theta), which removes the
square-root endpoints (and the 1/sqrt(lambda) singularity at alpha = 1).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import integrate, optimize


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)) or not (0 < alpha < math.inf):
        raise ValueError(f"alpha={alpha!r}: expected a finite number > 0 (examples per dimension)")
    return float(alpha)


def mp_edges(alpha: float) -> tuple[float, float]:
    """(lambda_-, lambda_+) = ((1 - sqrt(alpha))^2, (1 + sqrt(alpha))^2)."""
    a = _check_alpha(alpha)
    return (1 - math.sqrt(a)) ** 2, (1 + math.sqrt(a)) ** 2


def mp_density(lam, alpha: float):
    """rho(lambda) of the nonzero eigenvalues of X^T X (mass min(1, alpha))."""
    lo, hi = mp_edges(alpha)
    lam = np.asarray(lam, dtype=np.float64)
    inside = (lam > lo) & (lam < hi)
    out = np.zeros_like(lam)
    out[inside] = np.sqrt((hi - lam[inside]) * (lam[inside] - lo)) / (2 * math.pi * lam[inside])
    return out


def mp_integral(g, alpha: float) -> float:
    """int rho(lambda) g(lambda) dlambda over the bulk, with lambda = lo + (hi - lo) sin^2(theta):
    rho dlambda = (hi - lo)^2 sin^2 cos^2 / (pi lambda) dtheta, smooth on [0, pi/2]."""
    lo, hi = mp_edges(alpha)
    width = hi - lo

    def integrand(theta):
        s2 = math.sin(theta) ** 2
        lam = lo + width * s2
        return width * width * s2 * (1 - s2) / (math.pi * lam) * g(lam)

    value, _ = integrate.quad(integrand, 0.0, math.pi / 2, epsabs=1e-13, epsrel=1e-11, limit=200)
    return value


def inverse_moment(alpha: float) -> float:
    """int rho / lambda = alpha / (1 - alpha) (alpha < 1) or 1 / (alpha - 1) (alpha > 1); infinite at 1."""
    a = _check_alpha(alpha)
    if a == 1.0:
        return math.inf
    return a / (1 - a) if a < 1 else 1 / (a - 1)


def _decay(lam: float, t: float, step):
    """A mode's relaxation factor: exp(-lambda t) for gradient flow, (1 - lambda step)^(t / step) for
    GD with time step ``step`` (each mode's error contracts by 1 - lambda step per update)."""
    if step is None:
        return math.exp(-lam * t)
    return (1.0 - lam * step) ** (t / step)


def generalization_error(s, alpha: float, sigma_w: float = 1.0, sigma_eps: float = 0.5, sigma_0: float = 0.0,
                         step: float | None = None):
    """E_g(s) (module docstring); ``s`` a scalar or an array of times. ``step``: the same for GD with
    that time step (s a multiple of it), e^{-lambda s} replaced by (1 - lambda step)^(s / step)."""
    a = _check_alpha(alpha)
    signal, noise = sigma_w ** 2 + sigma_0 ** 2, sigma_eps ** 2

    def one(t):
        if math.isinf(t):
            return (max(1 - a, 0.0) * signal + noise * (1 + inverse_moment(a)))

        def g(lam):
            d = _decay(lam, t, step)
            return signal * d * d + noise * (1.0 - d) ** 2 / lam

        return mp_integral(g, a) + max(1 - a, 0.0) * signal + noise

    return _vectorize(one, s)


def training_error(s, alpha: float, sigma_w: float = 1.0, sigma_eps: float = 0.5, sigma_0: float = 0.0,
                   step: float | None = None):
    """E_train(s) (module docstring); ``step`` as in :func:`generalization_error`."""
    a = _check_alpha(alpha)
    signal, noise = sigma_w ** 2 + sigma_0 ** 2, sigma_eps ** 2
    floor = noise * max(1 - 1 / a, 0.0)

    def one(t):
        if math.isinf(t):
            return floor
        return mp_integral(lambda lam: _decay(lam, t, step) ** 2 * (noise + lam * signal), a) / a + floor

    return _vectorize(one, s)


def _vectorize(fn, s):
    arr = np.asarray(s, dtype=np.float64)
    out = np.array([fn(float(t)) for t in arr.ravel()]).reshape(arr.shape)
    return float(out) if out.ndim == 0 else out


def early_stopping(alpha: float, sigma_w: float = 1.0, sigma_eps: float = 0.5, sigma_0: float = 0.0,
                   s_max: float = 1e4) -> tuple[float, float]:
    """(s*, E_g(s*)): the stopping time minimising E_g, by bounded scalar minimisation in log s
    (E_g(s) falls, then rises towards E_g(infinity) when the noise is fitted)."""
    f = lambda u: generalization_error(math.exp(u), alpha, sigma_w, sigma_eps, sigma_0)  # noqa: E731
    grid = np.linspace(math.log(1e-3), math.log(s_max), 60)
    values = [f(u) for u in grid]
    i = int(np.argmin(values))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    return math.exp(res.x), float(res.fun)


# ---- one finite draw, exactly --------------------------------------------------------------
def gradient_flow(X, y, w0, s) -> np.ndarray:
    """w(s) [len(s), N] of tau dw/dt = -X^T (X w - y) from w0, exactly, through the eigendecomposition
    of X^T X (zero modes stay at their initial value)."""
    X, y, w0 = (np.asarray(a, dtype=np.float64) for a in (X, y, w0))
    lam, U = np.linalg.eigh(X.T @ X)
    zero = lam <= len(lam) * np.finfo(float).eps * max(lam.max(), 1e-300)  # the null space of X
    lam = np.where(zero, 1.0, lam)
    c0 = U.T @ w0
    b = U.T @ (X.T @ y)
    s = np.atleast_1d(np.asarray(s, dtype=np.float64))[:, None]
    coeff = c0 * np.exp(-lam * s) + b * (-np.expm1(-lam * s) / lam)
    return np.where(zero, c0, coeff) @ U.T
