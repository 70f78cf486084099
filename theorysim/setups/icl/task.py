"""Prompts for in-context linear regression, drawn from the counter RNG.

A prompt has N context pairs (x_i, y_i) and one query (x_q, y_q), with y = g(w^T x) + eps:
x ~ N(0, Sigma) (``x_dist="gaussian"``) or U(-a, a)^d (``"uniform"``, von Oswald's code uses
a = 0.5), w ~ N(0, Sigma_w), eps ~ N(0, sigma^2), g the identity, tanh or ReLU. A batch is one
draw per (seed, step, stream) of shape [B, N+1, d] (x), [B, d] (w) and [B, N+1] (noise):
prompt b is the b-th slice, at flat offset b (N+1) d of its stream, so a kernel can regenerate
any prompt from that offset.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorysim.core import rng

X_DISTS = ("gaussian", "uniform")
RESPONSES = ("linear", "tanh", "relu")
STREAM_X, STREAM_W, STREAM_NOISE = rng.STREAM_USER + 20, rng.STREAM_USER + 21, rng.STREAM_USER + 22


@dataclass(frozen=True)
class Prompts:
    X: np.ndarray  # [B, N, d] context inputs
    y: np.ndarray  # [B, N] context labels
    xq: np.ndarray  # [B, d] query
    yq: np.ndarray  # [B] query label
    w: np.ndarray  # [B, d] task vectors

    @property
    def n_context(self) -> int:
        return self.X.shape[1]


def matrix_sqrt(S: np.ndarray, name: str, d: int | None = None) -> np.ndarray:
    """The symmetric square root of a covariance; ``d``: the dimension it must have."""
    S = np.asarray(S, dtype=np.float64)
    want = f"({d}, {d})" if d is not None else "(d, d)"
    if S.ndim != 2 or S.shape[0] != S.shape[1] or (d is not None and S.shape[0] != d):
        raise ValueError(f"{name}: expected a symmetric matrix of shape {want}, got shape {S.shape}")
    if not np.all(np.isfinite(S)) or not np.allclose(S, S.T):
        raise ValueError(f"{name}: expected a finite symmetric matrix of shape {want}")
    lam, V = np.linalg.eigh(S)
    if lam.min() < -1e-12 * max(1.0, lam.max()):
        raise ValueError(f"{name}: expected a positive semi-definite matrix (min eigenvalue {lam.min():.3g})")
    return (V * np.sqrt(np.clip(lam, 0, None))) @ V.T


def sample(seed: int, batch: int, d: int, n_context: int, *, step: int = 0, x_dist: str = "gaussian",
           sigma=None, sigma_w=None, uniform_a: float = 0.5, noise_std: float = 0.0,
           response: str = "linear") -> Prompts:
    """``batch`` prompts for one step. ``sigma`` / ``sigma_w``: covariances (default identity)."""
    if x_dist not in X_DISTS:
        raise ValueError(f"x_dist={x_dist!r}: expected one of {', '.join(X_DISTS)}")
    if response not in RESPONSES:
        raise ValueError(f"response={response!r}: expected one of {', '.join(RESPONSES)}")
    for name, v in (("batch", batch), ("d", d), ("n_context", n_context)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name}={v!r}: expected a positive integer")
    if noise_std < 0:
        raise ValueError(f"noise_std={noise_std!r}: expected a number >= 0")
    n = n_context + 1
    if x_dist == "gaussian":
        X = rng.normal_zig(seed, (batch, n, d), step=step, stream=STREAM_X)
    else:
        X = uniform_a * (2.0 * rng.uniform(seed, (batch, n, d), step=step, stream=STREAM_X) - 1.0)
    W = rng.normal_zig(seed, (batch, d), step=step, stream=STREAM_W)
    E = rng.normal_zig(seed, (batch, n), step=step, stream=STREAM_NOISE) if noise_std > 0 else np.zeros((batch, n))
    if sigma is not None and x_dist == "gaussian":
        X = X @ matrix_sqrt(sigma, "sigma", d)
    if sigma_w is not None:
        W = W @ matrix_sqrt(sigma_w, "sigma_w", d)
    s = np.einsum("bnd,bd->bn", X, W)
    if response == "tanh":
        s = np.tanh(s)
    elif response == "relu":
        s = np.maximum(s, 0.0)
    Y = s + noise_std * E
    return Prompts(X[:, :-1], Y[:, :-1], X[:, -1], Y[:, -1], W)


def spectrum_covariance(d: int, eigenvalues, seed: int = 0) -> np.ndarray:
    """U diag(eigenvalues) U^T with a Haar-random orthogonal U from ``seed``."""

    U = rng.random_orthogonal(d, seed)
    return (U * np.asarray(eigenvalues, dtype=np.float64)) @ U.T
