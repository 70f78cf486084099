"""Sparse regression for the diagonal linear network (Wu and Su 2023, sec. 4.1; spec C3): x ~ U[-1, 1]^d,
y = <beta*, x> with beta* = (1, ..., 1, 0, ..., 0) (``sparsity`` ones), no label noise, so every run
that converges interpolates."""
from __future__ import annotations

import numpy as np


def draw(n: int, d: int, sparsity: int, seed: int, problem_seed: int = 0):
    """(X [n, d], y [n], beta* [d]) from ``numpy.random.default_rng((problem_seed, seed))``."""
    for key, v in (("n", n), ("d", d), ("sparsity", sparsity)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{key}={v!r}: expected a positive integer")
    if sparsity > d:
        raise ValueError(f"sparsity={sparsity}: expected at most d = {d}")
    gen = np.random.default_rng((problem_seed, seed))
    beta = np.zeros(d)
    beta[:sparsity] = 1.0
    X = gen.uniform(-1.0, 1.0, size=(n, d))
    return X, X @ beta, beta


def jacobian(theta, X) -> np.ndarray:
    """J [n, 2d]: rows g_i = (b * x_i, a * x_i), the gradients of f(x_i) = <a * b, x_i>."""
    theta, X = np.asarray(theta, dtype=np.float64), np.asarray(X, dtype=np.float64)
    d = X.shape[1]
    return np.concatenate([X * theta[d:], X * theta[:d]], axis=1)


def random_features(n: int, d: int, p: int, noise: float, seed: int = 0):
    """(Phi [n, p], y [n]): centred ReLU random features (ReLU(X W) minus its column means, / sqrt(p)) of
    inputs X ~ N(0, I_d), W with
    N(0, 1/d) entries, and labels y = Phi v + noise N(0, noise^2) with v ~ N(0, I_p) (Granziol et al.'s
    least-squares testbed, reconstructed: spec optimizers.md sec. 12.2)."""
    for key, value in (("n", n), ("d", d), ("p", p)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{key}={value!r}: expected a positive integer")
    gen = np.random.default_rng((7, seed))
    X = gen.normal(size=(n, d))
    Phi = np.maximum(X @ (gen.normal(size=(d, p)) / np.sqrt(d)), 0.0)
    Phi = (Phi - Phi.mean(axis=0)) / np.sqrt(p)  # centred: the mean feature would own the top eigenvalue
    return Phi, Phi @ gen.normal(size=p) + noise * gen.normal(size=n)
