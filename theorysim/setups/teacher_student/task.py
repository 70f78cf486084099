"""Draws of the linear teacher-student problem (Advani and Saxe 2017): each member of an ensemble
gets its own teacher, label noise, training inputs and initialisation, as per-member data of one
:class:`~theorysim.models.LeastSquares`."""
from __future__ import annotations

import numpy as np

from theorysim.models import LeastSquares


def draw(N: int, alpha: float, sigma_w: float, sigma_eps: float, seed: int, problem_seed: int = 0):
    """(X [P, N] with entries N(0, 1/N), y [P], w_bar [N]) for P = round(alpha N), from
    ``numpy.random.default_rng((problem_seed, seed))``."""
    P = int(round(alpha * N))
    if P < 1:
        raise ValueError(f"alpha={alpha!r}: gives P = {P} examples at N = {N}; expected at least 1")
    gen = np.random.default_rng((problem_seed, seed))
    w_bar = sigma_w * gen.normal(size=N)
    X = gen.normal(size=(P, N)) / np.sqrt(N)
    y = X @ w_bar + sigma_eps * gen.normal(size=P)
    return X, y, w_bar


def ensemble(N: int, alpha: float, sigma_w: float, sigma_eps: float, seeds, problem_seed: int = 0):
    """(LeastSquares with per-member data [E, P, N], teachers w_bar [E, N]) for the member seeds.

    LeastSquares' loss is 1/(2P) ||X w - y||^2, the paper's E = 1/2 ||X w - y||^2 divided by P, so
    GD with learning rate eta advances the paper's time s by eta / P per step."""
    draws = [draw(N, alpha, sigma_w, sigma_eps, s, problem_seed) for s in seeds]
    X = np.stack([d[0] for d in draws])
    y = np.stack([d[1] for d in draws])
    return LeastSquares(X, y), np.stack([d[2] for d in draws])


def generalization_error(w, w_bar, sigma_eps: float):
    """E_g = E_x (w_bar . x + eps - w . x)^2 = ||w - w_bar||^2 / N + sigma_eps^2 (last axis: parameters)."""
    N = w_bar.shape[-1]
    return np.sum((w - w_bar) ** 2, axis=-1) / N + sigma_eps ** 2


def converged(X, y, w0):
    """w(infinity) of gradient flow from w0: the minimum-norm solution plus w0's null-space part."""
    pinv = np.linalg.pinv(X)
    return pinv @ y + w0 - pinv @ (X @ w0)
