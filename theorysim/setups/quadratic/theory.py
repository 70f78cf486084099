"""Closed forms for GD and heavy ball on f(x) = 1/2 (x - x*)^T A (x - x*).

* GD: e_{t+1} = (I - eta A) e_t, so e_t = (I - eta A)^t e_0 exactly; the asymptotic per-step
  factor is rho = max_i |1 - eta lambda_i|, and GD diverges iff eta > 2 / lambda_max (from a
  generic e_0).
* Heavy ball (Polyak 1964, "Some methods of speeding up the convergence of iteration methods",
  Theorem 9): with mu <= lambda <= L, eta = 4 / (sqrt(L) + sqrt(mu))^2 and
  beta = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2, every mode's iteration matrix has spectral
  radius sqrt(beta) = (sqrt(kappa) - 1) / (sqrt(kappa) + 1). The extreme modes have a double
  eigenvalue (a Jordan block), so their error decays like t rho^t and a finite-window fit of the
  rate is biased upward by about 1/t per step in log scale.
* Noisy GD: e_{t+1} = (I - eta A) e_t - eta sigma xi_t with xi_t ~ N(0, I). In A's eigenbasis
  the modes are independent AR(1) processes with stationary variance
  v_i = eta sigma^2 / (lambda_i (2 - eta lambda_i)), so the stationary excess loss is
  E[1/2 e^T A e] = 1/2 sum_i eta sigma^2 / (2 - eta lambda_i)
  (derived symbolically by :func:`noise_floor_symbolic`).
"""
from __future__ import annotations

import numpy as np
import sympy as sp


def gd_error(A: np.ndarray, e0: np.ndarray, eta: float, steps: int) -> np.ndarray:
    """Exact e_t = (I - eta A)^t e_0 for t = 0..steps, shape [steps + 1, P], via A's eigenbasis."""
    lam, V = np.linalg.eigh(A)
    c = V.T @ e0
    t = np.arange(steps + 1)[:, None]
    return (c * (1.0 - eta * lam) ** t) @ V.T


def gd_rate(eigenvalues, eta: float) -> float:
    """Asymptotic per-step factor of ||e_t||: max_i |1 - eta lambda_i|."""
    return float(np.max(np.abs(1.0 - eta * np.asarray(eigenvalues))))


def gd_stability_threshold(eigenvalues) -> float:
    """The largest stable constant step: 2 / lambda_max."""
    return 2.0 / float(np.max(eigenvalues))


def polyak_heavy_ball(mu: float, L: float) -> tuple[float, float, float]:
    """Polyak's tuned (eta, beta) and the resulting rate (sqrt(kappa) - 1) / (sqrt(kappa) + 1)."""
    if not (0 < mu <= L):
        raise ValueError(f"mu={mu!r}, L={L!r}: expected 0 < mu <= L")
    eta = 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    sk = np.sqrt(L / mu)
    rate = (sk - 1.0) / (sk + 1.0)
    return float(eta), float(rate**2), float(rate)


def sgd_noise_floor(eigenvalues, eta: float, sigma: float) -> float:
    """Stationary E[1/2 e^T A e] of GD with additive N(0, sigma^2 I) gradient noise."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if np.any(eta * lam >= 2.0):
        raise ValueError(f"eta={eta!r}: no stationary law unless eta < 2 / lambda_max = {2.0 / lam.max():.6g}")
    return float(0.5 * np.sum(eta * sigma**2 / (2.0 - eta * lam)))


def noise_floor_symbolic() -> sp.Expr:
    """Solve v = (1 - eta lam)^2 v + eta^2 sigma^2 for the stationary variance of one mode and
    return its expected loss lam v / 2, simplified (= eta sigma^2 / (2 (2 - eta lam)))."""
    eta, lam, sigma, v = sp.symbols("eta lambda sigma v", positive=True)
    (v_star,) = sp.solve(sp.Eq(v, (1 - eta * lam) ** 2 * v + eta**2 * sigma**2), v)
    return sp.simplify(lam * v_star / 2)
