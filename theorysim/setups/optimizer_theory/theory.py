"""Closed forms and exact identities behind the optimizer-theory claims.

* Lion with decoupled weight decay lambda (Chen, Liu, Liang, Liu 2023, arXiv 2310.05898,
  Theorem 3.1 and sec. 3): each update is x_{t+1} = (1 - eta lambda) x_t - eta s_t with
  |s_t| <= 1 coordinate-wise, so (our derivation of the discrete corollary)
  ||x_t||_inf <= 1/lambda implies ||x_{t+1}||_inf <= 1/lambda, and outside the box
  ||x_t||_inf - 1/lambda <= (1 - eta lambda)^t (||x_0||_inf - 1/lambda)^+.
  On f = 1/2 sum_i a_i (x_i - x*_i)^2 the constrained minimiser is clip(x*, -1/lambda, 1/lambda).
* Heavy ball on a scale-invariant loss (Heo et al. 2021, arXiv 2006.08217, sec. 2.2): with
  p_t = beta p_{t-1} + g_t, p_1 = g_1 and g_t orthogonal to w_t,
  ||w_{t+1}||^2 = ||w_t||^2 + eta^2 ||p_t||^2 + 2 eta^2 sum_{k<t} beta^(t-k) ||p_k||^2.
* Muon's Newton-Schulz iteration approximates the polar factor U V^T of G = U S V^T
  (Bernstein & Newhouse 2024, arXiv 2409.20325: steepest descent under the spectral norm,
  argmin_{||D||_op <= 1} <G, D> = -U V^T with value -||G||_*).
* Annealed gradient noise (Neelakantan et al. 2015, arXiv 1511.06807, eq. 1):
  sigma_t^2 = eta / (1 + t)^gamma, gamma = 0.55 (t from 0; our t counts from 1).
"""
from __future__ import annotations

import numpy as np

from theorysim.optim import rules


def heavy_ball_norm_sq(w0_norm_sq: float, p_norm_sq: np.ndarray, eta: float, beta: float) -> np.ndarray:
    """||w_t||^2 for t = 0..T from ||p_1||^2..||p_T||^2 by the momentum norm identity."""
    out = np.empty(len(p_norm_sq) + 1)
    out[0] = w0_norm_sq
    acc = 0.0  # sum_{k<t} beta^(t-k) ||p_k||^2
    for t, pn in enumerate(p_norm_sq):
        out[t + 1] = out[t] + eta**2 * pn + 2 * eta**2 * acc
        acc = beta * (acc + pn)
    return out


def newton_schulz(G: np.ndarray, steps: int = 5) -> np.ndarray:
    """The engine's NS5 (:func:`theorysim.optim.rules.newton_schulz5`) on one matrix."""
    r, c = G.shape
    u = np.ascontiguousarray(G, dtype=np.float64).ravel().copy()
    k, n = min(r, c), max(r, c)
    work = np.zeros(2 * k * n + 2 * k * k)
    rules.newton_schulz5(u, 0, r, c, steps, work)
    return u.reshape(r, c)


def polar_factor(G: np.ndarray) -> np.ndarray:
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    return U @ Vt


def box_projection(x_star: np.ndarray, wd: float) -> np.ndarray:
    return np.clip(x_star, -1.0 / wd, 1.0 / wd)


def noise_variance(eta: float, gamma: float, t: np.ndarray) -> np.ndarray:
    """Variance of the injected noise at update t (t from 1 = the paper's 1 + t)."""
    return eta / np.asarray(t, dtype=np.float64) ** gamma
