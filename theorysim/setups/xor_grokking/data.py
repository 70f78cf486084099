"""XOR cluster data (Xu et al. 2023, Def. 2.1) and the two-layer network built on it.

Clean label +1: x ~ 1/2 N(mu_1, I) + 1/2 N(-mu_1, I); clean label -1: the same with mu_2;
mu_1 = ||mu|| e_1 and mu_2 = ||mu|| e_2 (orthogonal, equal norms; the noise is isotropic, so the
basis is immaterial). Training labels are flipped with probability eta; test points are clean.
Problem data come from ``numpy.random.default_rng(data_seed)``.
"""
from __future__ import annotations

import math

import numpy as np

from theorysim.setups.xor_grokking.model import TwoLayerReLU


def sample(n: int, p: int, mu_norm: float, rng):
    """n clean points: (X, y_clean)."""
    y = rng.choice([-1.0, 1.0], size=n)
    sign = rng.choice([-1.0, 1.0], size=n)
    X = rng.normal(size=(n, p))
    X[y > 0, 0] += sign[y > 0] * mu_norm
    X[y < 0, 1] += sign[y < 0] * mu_norm
    return X, y


def mu_norm(cfg) -> float:
    """||mu|| = mu_scale sqrt(p / n) (the paper's experiments: 2.5 sqrt(p / n))."""
    return cfg["mu_scale"] * math.sqrt(cfg["p"] / cfg["n"])


def build(cfg, data_seed: int) -> TwoLayerReLU:
    """The network on one draw of the data: n training points with labels flipped at rate eta,
    ``test`` clean test points, m fixed second-layer weights a_j = +-1/sqrt(m)."""
    for key in ("n", "p", "m", "test"):
        if not isinstance(cfg[key], int) or cfg[key] < 1:
            raise ValueError(f"{key}={cfg[key]!r}: expected a positive integer")
    if not (0.0 <= cfg["eta"] < 0.5):
        raise ValueError(f"eta={cfg['eta']!r}: expected a flip rate in [0, 0.5)")
    rng = np.random.default_rng(data_seed)
    norm = mu_norm(cfg)
    X, y_clean = sample(cfg["n"], cfg["p"], norm, rng)
    flipped = rng.random(cfg["n"]) < cfg["eta"]
    y = np.where(flipped, -y_clean, y_clean)
    a = rng.choice([-1.0, 1.0], size=cfg["m"]) / math.sqrt(cfg["m"])
    Xt, yt = sample(cfg["test"], cfg["p"], norm, rng)
    mu1 = np.zeros(cfg["p"])
    mu2 = np.zeros(cfg["p"])
    mu1[0] = mu2[1] = norm
    return TwoLayerReLU(X, y, a, Xt, yt, mu1, mu2, flipped.astype(float))
