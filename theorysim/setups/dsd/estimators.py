"""Closed-form trainers of the CNN and LCN (numpy, all training-set sizes of a seed at once).

``projected_step``: the first step of the two-step projected GD of the paper's upper-bound analysis
(spec B3 [S]): from w = 0 with b = 0 the activation is the identity, so the gradient of
L = 1/(2m) sum_i (f(x_i) - y_i)^2 is -(1/m) sum_i y_i x_i[j] for unit j, and the step projected onto
the unit sphere gives

    CNN: w   = S / ||S||,      S = sum_i y_i sum_j x_i[j]   (the patches' gradients summed: sharing)
    LCN: w_j = S_j / ||S_j||,  S_j = sum_i y_i x_i[j]
    FCN: w_j = S / ||S||,      S = sum_i y_i x_i            (every unit the same: the step cannot
                                                             break the symmetry, spec B4)

(the step size drops out under the projection). The network then predicts with threshold b > 0,
f(x) = sum_j phi_b(w_j . x_j), which zeroes the noise patches. Prefix sums give every training-set
size m of one draw in one pass (cumsum over rows).
"""
from __future__ import annotations

import numpy as np

from theorysim.setups.dsd import model


def projected_step(arch: str, X, y, k: int, d: int, sizes) -> np.ndarray:
    """theta [len(sizes), P]: the projected first step trained on the first m rows, m in ``sizes``."""
    sizes = np.asarray(sizes, dtype=np.int64)
    if np.any(sizes < 1) or np.any(sizes > len(X)):
        raise ValueError(f"sizes: expected integers in [1, {len(X)}], got {sizes.tolist()}")
    S = np.cumsum(np.asarray(y)[:, None] * np.asarray(X), axis=0)[sizes - 1]  # [len(sizes), k d]
    if arch == "cnn":
        W = S.reshape(len(sizes), k, d).sum(axis=1)
        return W / np.linalg.norm(W, axis=1, keepdims=True)
    if arch == "lcn":
        W = S.reshape(len(sizes), k, d)
        return (W / np.linalg.norm(W, axis=2, keepdims=True)).reshape(len(sizes), k * d)
    if arch == "fcn":
        W = S / np.linalg.norm(S, axis=1, keepdims=True)
        return np.repeat(W[:, None, :], k, axis=1).reshape(len(sizes), k * k * d)
    raise ValueError(f"arch={arch!r}: expected one of {', '.join(map(repr, model.ARCHITECTURES))}")
