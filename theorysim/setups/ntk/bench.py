"""`theorysim bench` workloads of the NTK setup (issue 18): the analytic kernel on many input pairs
(W4) and the empirical kernel of a wide network (W5). ``benchmarks/ntk_neural_tangents.py`` runs
the same two with neural-tangents (same inputs, float64) for the comparison in RESULTS.md."""
from __future__ import annotations

import functools

import numpy as np

from theorysim.models.mlp import MLP
from theorysim.setups.ntk import theory

W4 = {"points": 4096, "dim": 32, "depth": 8, "W_std": 1.0, "b_std": 0.1, "input_seed": 0}
W5 = {"points": 256, "dim": 32, "depth": 3, "width": 4096, "W_std": 1.0, "b_std": 0.1, "input_seed": 0, "seed": 0}


def inputs(points: int, dim: int, seed: int) -> np.ndarray:
    """Gaussian inputs on the sphere of radius sqrt(dim) (so x.x / n_0 = 1)."""
    X = np.random.default_rng(seed).normal(size=(points, dim))
    return X / np.linalg.norm(X, axis=1, keepdims=True) * np.sqrt(dim)


def _summary(K: np.ndarray) -> dict:
    return {"mean": float(K.mean()), "trace": float(np.trace(K)), "min": float(K.min()), "max": float(K.max())}


def w4_analytic(backend: str = "cpu"):
    """NNGP and NTK of 8 ReLU layers (ntk parameterization, W_std 1, b_std 0.1) on 4096 x 4096 pairs of
    d = 32 inputs. FLOPs: the Gram matrix (2 N^2 d) plus 20 per pair and layer (the arc-cosine
    moments and the two affine updates, sqrt and atan2 counted as one each)."""
    c = W4
    X = inputs(c["points"], c["dim"], c["input_seed"])
    nngp, ntk = theory.nngp_ntk(X, None, c["depth"], "relu", c["W_std"], c["b_std"])
    N = c["points"]
    return {"nngp": _summary(nngp), "ntk": _summary(ntk)}, float(2 * N * N * c["dim"] + 20 * N * N * c["depth"])


@functools.lru_cache(maxsize=1)
def w5_model():
    """(model, inputs, theta at init): drawn once per process (the warm-up run), so the timed runs
    measure the kernel alone, as neural-tangents' are (its parameters are drawn outside the timing)."""
    c = W5
    X = inputs(c["points"], c["dim"], c["input_seed"])
    widths = (c["dim"],) + (c["width"],) * c["depth"] + (1,)
    model = MLP(widths, X, np.zeros(len(X)), "relu", "ntk", c["W_std"], c["b_std"])
    return model, X, model.init(np.array([c["seed"]]), np.zeros((1, 1)))[0]


def w5_empirical(backend: str = "cpu"):
    """Exact empirical NTK (summed over the one output) of a depth-3, width-4096 ReLU MLP at init
    (seed 0) on 256 inputs of dimension 32. FLOPs: forward 2 N sum_l n_l n_{l+1}, backward the
    same without the first layer, and per layer the two N x N Gram matrices 2 N^2 (n_l + n_{l+1})."""
    model, X, theta = w5_model()
    K = theory.empirical_ntk(model, theta, X)
    N, w = len(X), model.widths
    forward = 2 * N * sum(w[i] * w[i + 1] for i in range(len(w) - 1))
    backward = 2 * N * sum(w[i] * w[i + 1] for i in range(1, len(w) - 1))
    grams = sum(2 * N * N * (w[i] + w[i + 1]) for i in range(len(w) - 1))
    return {"ntk": _summary(K)}, float(forward + backward + grams)
