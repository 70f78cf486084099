"""Sharpness at an interpolating minimum and the linear stability of SGD there (Wu and Su 2023,
arXiv 2305.17490, sec. 3, following Wu, Ma, E 2018; spec C3).

At a minimum where every residual vanishes, the Hessian of L = 1/(2n) sum_i (f(x_i) - y_i)^2 is the
Gauss-Newton matrix G = J^T J / n = (1/n) sum_i g_i g_i^T (g_i = grad f(x_i)); its nonzero eigenvalues
are those of J J^T / n (n x n). Linearised SGD with batch size B (rows drawn uniformly with
replacement) moves a perturbation by delta <- (I - eta H_xi) delta, H_xi = (1/B) sum_s g_{i_s} g_{i_s}^T;
its second moment M = E[delta delta^T] follows the linear map

    T(M) = M - eta (G M + M G) + eta^2 [ (1/B) (1/n) sum_i g_i g_i^T M g_i g_i^T + (1 - 1/B) G M G ]

(GD: B = infinity, T(M) = (I - eta G) M (I - eta G)). The minimum is stable for SGD iff the spectral
radius of T on the span of the g_i is at most 1 (outside it T is the identity: the flat directions
of the valley). T maps PSD matrices to PSD matrices, so its spectral radius has a PSD eigenvector and
power iteration from the identity finds it. Wu and Su's bound: stability with B = 1 forces
tr(G) <= 2 / eta (equality when the g_i are orthogonal of equal norm); GD's only forces
lambda_max(G) <= 2 / eta.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import optimize


def gauss_newton(J) -> dict:
    """lambda_max, trace and Frobenius norm of G = J^T J / n, from the eigenvalues of J J^T / n."""
    J = np.asarray(J, dtype=np.float64)
    lam = np.clip(np.linalg.eigvalsh(J @ J.T / len(J)), 0.0, None)
    return {"lambda_max": float(lam[-1]), "trace": float(lam.sum()), "frobenius": float(math.sqrt(np.sum(lam * lam)))}


def _span(J):
    """Coordinates c_i [n, r] of the g_i in an orthonormal basis of their span."""
    U, s, _ = np.linalg.svd(np.asarray(J, dtype=np.float64), full_matrices=False)
    keep = s > s[0] * 1e-12
    return U[:, keep] * s[keep]  # rows: g_i in the basis V (J = U S V^T, so g_i = V (U S)_i)


def second_moment_map(C, eta: float, batch: float | None):
    """Q -> T(Q) on the span (C: coordinates [n, r] from :func:`_span`); ``batch=None``: GD."""
    n = len(C)
    G = C.T @ C / n

    def apply(Q):
        GQ = G @ Q
        out = Q - eta * (GQ + GQ.T)
        if batch is None:
            return out + eta * eta * (GQ @ G)
        q = np.einsum("ir,rs,is->i", C, Q, C)  # g_i^T Q g_i
        single = (C * q[:, None]).T @ C / n
        return out + eta * eta * (single / batch + (1.0 - 1.0 / batch) * (GQ @ G))

    return apply


def stability_radius(J, eta: float, batch: float | None = 1, iters: int = 5000, tol: float = 1e-12) -> float:
    """Spectral radius of the linearised second-moment map T at the minimum with Jacobian J
    (power iteration on the PSD cone from the identity)."""
    return _radius(_span(J), eta, batch, iters, tol)


def _radius(C, eta, batch, iters=5000, tol=1e-12):
    apply = second_moment_map(C, eta, batch)
    Q = np.eye(C.shape[1]) / C.shape[1]
    rho = 0.0
    for _ in range(iters):
        Q = apply(Q)
        Q = 0.5 * (Q + Q.T)  # T also acts on antisymmetric matrices, with larger eigenvalues: keep
        norm = np.trace(Q)  # rounding from exciting them (second moments are symmetric)
        if not np.isfinite(norm) or norm <= 0:
            return math.inf
        new, Q = norm, Q / norm
        if abs(new - rho) <= tol * new:
            return float(new)
        rho = new
    return float(rho)


def stability_boundary(J, batch: float | None = 1, lo: float = 1e-6, hi: float = 1e3) -> float:
    """The eta at which the spectral radius of T crosses 1 (brentq on log radius)."""
    C = _span(J)  # once: brentq evaluates the radius a few dozen times

    def f(log_eta):
        return math.log(_radius(C, math.exp(log_eta), batch))

    a, b = math.log(lo), math.log(hi)
    if f(b) <= 0:
        return math.inf
    while f(a) > 0:
        a -= 2.0
    return float(math.exp(optimize.brentq(f, a, b, xtol=1e-10)))
