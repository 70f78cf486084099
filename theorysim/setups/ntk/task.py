"""Jacot et al.'s experiments (sec. 6): networks of L = depth + 1 Dense layers, equal widths n,
one output, ReLU, beta = b_std = 0.1, NTK parameterization, GD with learning rate 1 on the
empirical-measure squared loss; inputs on the unit circle or 2-d standard Gaussians, target
f*(x) = x_1 x_2 (Fig. 1's task)."""
from __future__ import annotations

import numpy as np

from theorysim.models.mlp import MLP
from theorysim.setups.ntk.theory import circle

#: Jacot's L = 4 (four Dense layers): three hidden layers in the (depth, readout) convention
JACOT_DEPTH = 3
JACOT_BETA = 0.1


def target(X) -> np.ndarray:
    """f*(x) = x_1 x_2."""
    return X[:, 0] * X[:, 1]


def circle_inputs(count: int, offset: float = 0.1) -> np.ndarray:
    """``count`` equally spaced points on the unit circle, the first at angle ``offset`` (off the
    axes, where x_1 x_2 = 0, so that the targets are not all trivial)."""
    return circle(offset + 2 * np.pi * np.arange(count) / count)


def gaussian_inputs(count: int, seed: int) -> np.ndarray:
    """``count`` N(0, I_2) inputs (Fig. 1's training set; the paper does not give its size)."""
    return np.random.default_rng(seed).normal(size=(count, 2))


def jacot_net(width: int, X, depth: int = JACOT_DEPTH, probes=None, activation: str = "relu",
              b_std: float = JACOT_BETA) -> MLP:
    """The paper's network on training inputs ``X`` with targets x_1 x_2."""
    return MLP((X.shape[1],) + (int(width),) * depth + (1,), X, target(X), activation, "ntk", 1.0, b_std,
               probes=probes)
