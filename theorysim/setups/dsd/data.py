"""The Dynamic Signal Distribution (DSD) of Lahoti, Karp, Winston, Singh, Li (2024, arXiv 2403.15707,
sec. 4), as reconstructed in spec B1: an input is k patches of dimension d; a label y = +-1 and a patch
i are drawn uniformly; patch i carries the signal y w* (||w*|| = 1, here w* = 1_d / sqrt(d)); and

* ``"additive"``: every coordinate gets N(0, sigma^2) noise, the signal added on top
  (x | y, i ~ N(y mu_i, sigma^2 I_kd), mu_i = w* in block i);
* ``"replace"``: the other patches are N(0, sigma^2) noise and patch i is exactly y w* (the form of
  Karp et al.'s 2021 simulation code).

Inputs are stored flat, [m, k d], patch j in columns j d .. (j + 1) d - 1.
"""
from __future__ import annotations

import math

import numpy as np

MODES = ("additive", "replace")


def check(k, d, sigma, mode) -> None:
    """One-line ValueError for a bad (k, d, sigma, mode)."""
    for key, v in (("k", k), ("d", d)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{key}={v!r}: expected a positive integer")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not math.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma={sigma!r}: expected a finite number >= 0")
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: expected one of {', '.join(map(repr, MODES))}")


def signal(d: int) -> np.ndarray:
    """w* = 1_d / sqrt(d)."""
    return np.full(d, 1.0 / math.sqrt(d))


def sample(m: int, k: int, d: int, sigma: float, mode: str = "additive", seed: int = 0, stream: int = 0):
    """(X [m, k d], y [m] in {-1, +1}, patch index [m]) from ``default_rng((stream, seed))`` (a search
    over training-set sizes draws once at the largest size and trains on prefixes)."""
    check(k, d, sigma, mode)
    gen = np.random.default_rng((stream, seed))
    y = np.where(gen.random(m) < 0.5, -1.0, 1.0)
    where = gen.integers(0, k, size=m)
    X = sigma * gen.normal(size=(m, k, d))
    rows = np.arange(m)
    if mode == "replace":
        X[rows, where] = 0.0
    X[rows, where] += y[:, None] * signal(d)
    return X.reshape(m, k * d), y, where
