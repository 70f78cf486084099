"""Closed forms of the best one-layer in-context learner (shared/papers/icl.md sec. 3).

For y_hat = x_q^T Gamma h with h = (1/N) sum_i y_i x_i, x ~ N(0, Sigma), w ~ N(0, Sigma_w),
eps ~ N(0, sigma^2), the Gaussian moment E[x x^T B x x^T] = 2 Sigma B Sigma + tr(B Sigma) Sigma
(Isserlis) gives

    E[h h^T]     = A_g = ((N+1)/N) Sigma Sigma_w Sigma + ((tr(Sigma Sigma_w) + sigma^2)/N) Sigma
    MSE(Gamma)   = tr(Gamma^T Sigma Gamma A_g) - 2 tr(Gamma Sigma Sigma_w Sigma) + tr(Sigma Sigma_w) + sigma^2
    Gamma*       = Sigma_w Sigma A_g^{-1}

so for Sigma_w = I, Gamma* = [((N+1)/N) Sigma + ((tr Sigma + sigma^2)/N) I]^{-1} (Ahn et al. 2023,
Thm 1 at sigma = 0; Mahankali et al. 2023: step N/(N+1+d+sigma^2) for Sigma = I). The in-context
loss is half the MSE: 0.5 d (1 - N/(N+d+1)) = 2.619 for d = N = 10, sigma = 0.

For x with iid coordinates of variance s and kurtosis k = E[x^4]/s^2 (e.g. U(-a, a): s = a^2/3,
k = 9/5) and w ~ N(0, I): eta* = N / (s (N + d + k - 2)), MSE* = s d (d + k - 2)/(N + d + k - 2).
"""
from __future__ import annotations

import numpy as np
import sympy as sp


def _check(Sigma, Sigma_w, n_context, noise_var):
    Sigma = np.atleast_2d(np.asarray(Sigma, dtype=np.float64))
    d = Sigma.shape[0]
    Sigma_w = np.eye(d) if Sigma_w is None else np.atleast_2d(np.asarray(Sigma_w, dtype=np.float64))
    if Sigma.shape != (d, d) or Sigma_w.shape != (d, d):
        raise ValueError(f"Sigma {Sigma.shape} and Sigma_w {Sigma_w.shape}: expected square matrices of one size")
    if not isinstance(n_context, (int, np.integer)) or n_context < 1:
        raise ValueError(f"n_context={n_context!r}: expected a positive integer")
    if noise_var < 0:
        raise ValueError(f"noise_var={noise_var!r}: expected a number >= 0")
    return Sigma, Sigma_w


def moment_hh(Sigma, n_context, noise_var=0.0, Sigma_w=None) -> np.ndarray:
    """A_g = E[h h^T]."""
    Sigma, Sigma_w = _check(Sigma, Sigma_w, n_context, noise_var)
    N = n_context
    return (N + 1) / N * Sigma @ Sigma_w @ Sigma + (np.trace(Sigma @ Sigma_w) + noise_var) / N * Sigma


def one_layer_mse(Gamma, Sigma, n_context, noise_var=0.0, Sigma_w=None) -> float:
    """E[(x_q^T Gamma h - y_q)^2] in closed form."""
    Sigma, Sigma_w = _check(Sigma, Sigma_w, n_context, noise_var)
    Gamma = np.atleast_2d(np.asarray(Gamma, dtype=np.float64))
    A = moment_hh(Sigma, n_context, noise_var, Sigma_w)
    return float(np.trace(Gamma.T @ Sigma @ Gamma @ A) - 2 * np.trace(Gamma @ Sigma @ Sigma_w @ Sigma)
                 + np.trace(Sigma @ Sigma_w) + noise_var)


def optimal_preconditioner(Sigma, n_context, noise_var=0.0, Sigma_w=None) -> np.ndarray:
    """Gamma* of the best one-layer LSA / one step of preconditioned GD."""
    Sigma, Sigma_w = _check(Sigma, Sigma_w, n_context, noise_var)
    return Sigma_w @ Sigma @ np.linalg.inv(moment_hh(Sigma, n_context, noise_var, Sigma_w))


def optimal_one_layer_loss(Sigma, n_context, noise_var=0.0, Sigma_w=None) -> float:
    """The in-context loss 0.5 E[(y_hat - y_q)^2] at Gamma*."""
    G = optimal_preconditioner(Sigma, n_context, noise_var, Sigma_w)
    return 0.5 * one_layer_mse(G, Sigma, n_context, noise_var, Sigma_w)


def iid_optimal_step(d: int, n_context: int, variance: float, kurtosis: float) -> tuple[float, float]:
    """(eta*, MSE*) of one GD step for iid coordinates of given variance and kurtosis, w ~ N(0, I)."""
    N, s, k = n_context, variance, kurtosis
    return N / (s * (N + d + k - 2)), s * d * (d + k - 2) / (N + d + k - 2)


def uniform_optimal_step(d: int, n_context: int, a: float = 0.5) -> tuple[float, float]:
    """(eta*, 0.5 MSE*) for x ~ U(-a, a)^d (von Oswald's data: a = 0.5, d = N = 10: 6.06, 0.206)."""
    eta, mse = iid_optimal_step(d, n_context, a * a / 3.0, 9.0 / 5.0)
    return eta, 0.5 * mse


def scalar_optimum_symbolic():
    """sympy: for d = 1 minimise MSE(g) = g^2 s A - 2 g s^2 s_w + s s_w + sigma^2 over g;
    returns (g*, MSE*) with A = ((N+1)/N) s^2 s_w + (s s_w + sigma^2) s / N."""
    g, s, sw, N, sig2 = sp.symbols("gamma s s_w N sigma2", positive=True)
    A = (N + 1) / N * s**2 * sw + (s * sw + sig2) * s / N
    mse = g**2 * s * A - 2 * g * s**2 * sw + s * sw + sig2
    (g_star,) = sp.solve(sp.diff(mse, g), g)
    return sp.simplify(g_star), sp.simplify(mse.subs(g, g_star))
