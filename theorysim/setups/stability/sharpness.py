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
of the valley). T maps PSD matrices to PSD matrices, so its spectral radius has a PSD eigenvector;
T is self-adjoint on symmetric matrices, so Lanczos finds it. Wu and Su's bound: stability with B = 1 forces
tr(G) <= 2 / eta (equality when the g_i are orthogonal of equal norm); GD's only forces
lambda_max(G) <= 2 / eta.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.sparse import linalg as sparse_linalg


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


def stability_radius(J, eta: float, batch: float | None = 1) -> float:
    """Spectral radius of the linearised second-moment map T at the minimum with Jacobian J."""
    return _radius(_span(J), eta, batch)


def _radius(C, eta, batch):
    """Largest eigenvalue of T on symmetric matrices, by Lanczos (scipy's eigsh).

    T is self-adjoint for the Frobenius inner product (<N, T(M)> is symmetric in N and M term by
    term), and so is T composed with the projection onto symmetric matrices, acting on all r x r
    matrices (zero on the antisymmetric ones, whose own T-eigenvalues can be larger: second moments
    are symmetric). T maps the PSD cone into itself, so by Krein-Rutman its spectral radius on
    symmetric matrices is this largest eigenvalue. Lanczos converges where power iteration crawls:
    near radius 1 the next eigenvalues lie close behind.
    """
    r = C.shape[1]
    apply = second_moment_map(C, eta, batch)

    def matvec(v):
        Q = v.reshape(r, r)
        return apply(0.5 * (Q + Q.T)).ravel()

    if r * r <= 400:  # tiny: the explicit matrix (eigsh needs more dimensions than eigenvalues)
        T = np.column_stack([matvec(e) for e in np.eye(r * r)])
        return float(np.linalg.eigvalsh(0.5 * (T + T.T))[-1])
    op = sparse_linalg.LinearOperator((r * r, r * r), matvec=matvec, dtype=np.float64)
    v0 = (np.eye(r) / r).ravel()  # start inside the PSD cone, where the top eigenvector lives
    return float(sparse_linalg.eigsh(op, k=1, which="LA", v0=v0, tol=1e-12, return_eigenvectors=False)[0])


def stability_boundary(J, batch: float | None = 1) -> float:
    """The eta at which the spectral radius of T crosses 1, from one symmetric eigenproblem.

    T(eta) = I - eta L + eta^2 Q with L(M) = G M + M G (positive definite on symmetric matrices over
    the span) and Q(M) = (1/B) S(M) + (1 - 1/B) G M G (positive semi-definite, S(M) = (1/n) sum_i
    g_i g_i^T M g_i g_i^T), both self-adjoint. The largest eigenvalue of T exceeds 1 iff
    eta <M, Q M> > <M, L M> for some M, so eta* = 1 / mu_max with mu_max the largest eigenvalue of the
    pencil Q M = mu L M. In G's eigenbasis L is elementwise multiplication by lambda_a + lambda_b, so
    mu_max is the top eigenvalue of L^(-1/2) Q L^(-1/2), found by Lanczos. GD: eta* = 2 / lambda_max(G).
    """
    C = _span(J)
    n, r = C.shape
    lam, V = np.linalg.eigh(C.T @ C / n)
    if batch is None:
        return float(2.0 / lam[-1])
    C = C @ V  # coordinates in G's eigenbasis: G = diag(lam)
    scale = 1.0 / np.sqrt(lam[:, None] + lam[None, :])  # L^(-1/2), elementwise
    outer = lam[:, None] * lam[None, :]

    def matvec(v):
        M = v.reshape(r, r)
        M = scale * 0.5 * (M + M.T)
        q = np.sum((C @ M) * C, axis=1)  # g_i^T M g_i (one BLAS product; einsum's triple loop was 10x slower)
        QM = (C * q[:, None]).T @ C / (n * batch) + (1.0 - 1.0 / batch) * outer * M
        return (scale * QM).ravel()

    if r * r <= 400:  # tiny: the explicit matrix (eigsh needs more dimensions than eigenvalues)
        A = np.column_stack([matvec(e) for e in np.eye(r * r)])
        mu = np.linalg.eigvalsh(0.5 * (A + A.T))[-1]
    else:
        op = sparse_linalg.LinearOperator((r * r, r * r), matvec=matvec, dtype=np.float64)
        mu = sparse_linalg.eigsh(op, k=1, which="LA", v0=np.ones(r * r), tol=1e-12, return_eigenvectors=False)[0]
    return float(1.0 / mu) if mu > 0 else math.inf
