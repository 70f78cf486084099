"""Quadratic problems with a prescribed spectrum, built deterministically from a seed."""
from __future__ import annotations

import numpy as np

from theorysim.core import rng
from theorysim.core.rng import random_orthogonal
from theorysim.models.linear import Quadratic

__all__ = ["make_quadratic", "random_orthogonal", "spectrum"]


def spectrum(dim: int, kappa: float, lambda_max: float = 1.0) -> np.ndarray:
    """``dim`` eigenvalues log-spaced from lambda_max / kappa to lambda_max (both exact)."""
    if not isinstance(dim, (int, np.integer)) or dim < 2:
        raise ValueError(f"dim={dim!r}: expected an integer >= 2")
    if not (kappa >= 1.0):
        raise ValueError(f"kappa={kappa!r}: expected a condition number >= 1")
    if not (lambda_max > 0.0):
        raise ValueError(f"lambda_max={lambda_max!r}: expected a positive number")
    eig = np.geomspace(lambda_max / kappa, lambda_max, dim)
    eig[0], eig[-1] = lambda_max / kappa, lambda_max
    return eig


def make_quadratic(dim: int, kappa: float, lambda_max: float = 1.0, seed: int = 0,
                   x_star_scale: float = 0.0) -> tuple[Quadratic, np.ndarray]:
    """A = V diag(spectrum) V^T with a random rotation V; x* = x_star_scale * N(0, I).

    Returns the model and its exact eigenvalues. x* = 0 (the default) keeps x_t - x* exact to
    full relative precision however small the error gets, which the rate fits rely on.
    """
    eig = spectrum(dim, kappa, lambda_max)
    V = random_orthogonal(dim, seed)
    A = (V * eig) @ V.T
    A = 0.5 * (A + A.T)
    x_star = x_star_scale * rng.normal(seed, (dim,), stream=rng.STREAM_USER + 1)
    return Quadratic(A, x_star), eig
