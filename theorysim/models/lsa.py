"""Linear self-attention (LSA) for in-context regression, in Ahn et al.'s form (2023, eq. 3-4).

Tokens are the columns of Z in R^{(d+1) x (N+1)}: z_i = (x_i, y_i) for the N context pairs and
z_q = (x_q, 0) last. One layer:

    Z <- Z + (1/N) P Z M (Z^T Q Z),   M = diag(I_N, 0)   (the query is neither key nor value)

and the prediction is minus the query's y-entry after the last layer, y_hat = -[Z_L]_{d+1, N+1}
(the sign convention of von Oswald et al. and Ahn et al.: learned Q blocks are then negative
for positive step sizes). Here: a numpy forward pass and the weight constructions; the Numba
kernel with hand-written gradients for pretraining builds on the same definitions.
"""
from __future__ import annotations

import numpy as np


def tokens(X: np.ndarray, y: np.ndarray, xq: np.ndarray) -> np.ndarray:
    """Z [B, d+1, N+1] from contexts X [B, N, d], labels y [B, N], queries xq [B, d]."""
    B, N, d = X.shape
    Z = np.zeros((B, d + 1, N + 1))
    Z[:, :d, :N] = np.swapaxes(X, 1, 2)
    Z[:, d, :N] = y
    Z[:, :d, N] = xq
    return Z


def forward(Z: np.ndarray, Ps, Qs) -> np.ndarray:
    """Apply the layers (lists of (d+1, d+1) matrices) and return the final Z."""
    N = Z.shape[2] - 1
    for P, Q in zip(Ps, Qs):
        ctx = Z[:, :, :N]
        G = ctx @ np.swapaxes(ctx, 1, 2)  # Z M Z^T, [B, d+1, d+1]
        Z = Z + (P @ G @ Q) @ Z / N
    return Z


def predict(X, y, xq, Ps, Qs) -> np.ndarray:
    """y_hat = -(query y-entry after the last layer)."""
    return -forward(tokens(X, y, xq), Ps, Qs)[:, -1, -1]


def preconditioned_gd_weights(gammas, d: int):
    """P = [[0, 0], [0, 1]], Q = -[[Gamma^T, 0], [0, 0]] per layer: layer k is one step
    w <- w - Gamma_k grad L(w) (Ahn et al. 2023, eq. 8; von Oswald et al. 2023, A.1 eq. 8 with
    Gamma = eta I)."""
    Ps, Qs = [], []
    for g in gammas:
        G = g * np.eye(d) if np.ndim(g) == 0 else np.asarray(g, dtype=np.float64)
        P = np.zeros((d + 1, d + 1))
        P[d, d] = 1.0
        Q = np.zeros((d + 1, d + 1))
        Q[:d, :d] = -G.T
        Ps.append(P)
        Qs.append(Q)
    return Ps, Qs


def gdpp_weights(etas, gammas, d: int, n_context: int):
    """von Oswald's GD++ layer (A.10 eq. 23) in this form: P = diag(-N gamma I, -eta),
    Q = [[I, 0], [0, 0]] (their W_V = [[I, 0], [0, -I]], P = diag(-gamma I, eta/N), W_K = W_Q)."""
    Ps, Qs = [], []
    for eta, gamma in zip(etas, gammas):
        P = np.zeros((d + 1, d + 1))
        P[:d, :d] = -n_context * gamma * np.eye(d)
        P[d, d] = -eta
        Q = np.zeros((d + 1, d + 1))
        Q[:d, :d] = np.eye(d)
        Ps.append(P)
        Qs.append(Q)
    return Ps, Qs
