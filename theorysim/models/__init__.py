"""Reusable models with hand-written gradients (Numba kernels plus a numpy oracle each)."""
from theorysim.models.base import Model
from theorysim.models.linear import LeastSquares, Quadratic
from theorysim.models.mlp import MLP
from theorysim.models.scale_invariant import ScaleInvariant

__all__ = ["LeastSquares", "MLP", "Model", "Quadratic", "ScaleInvariant"]
