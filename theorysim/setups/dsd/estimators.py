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

from theorysim.core.config import jit

from theorysim.setups.dsd import model


@jit
def _prefix_sums_at(X, y, sizes):
    """out[s] = sum_{i < sizes[s]} y_i x_i (``sizes`` ascending), summed row by row in order: the rows of
    ``np.cumsum(y[:, None] * X, axis=0)[sizes - 1]`` bit for bit, in one pass over X and without
    the [n, k d] products and sums (numpy's cumsum down the rows of a C-ordered array was 53 ms a
    call here, 90% of the claims' time)."""
    n, p = X.shape
    out = np.empty((sizes.shape[0], p))
    acc = np.empty(p)
    for c in range(p):
        acc[c] = y[0] * X[0, c]
    s = 0
    for i in range(n):
        if i > 0:
            xi = X[i]
            yi = y[i]
            for c in range(p):
                acc[c] += yi * xi[c]
        while s < sizes.shape[0] and sizes[s] == i + 1:
            out[s] = acc
            s += 1
        if s == sizes.shape[0]:
            break
    return out


def projected_step(arch: str, X, y, k: int, d: int, sizes) -> np.ndarray:
    """theta [len(sizes), P]: the projected first step trained on the first m rows, m in ``sizes``."""
    sizes = np.asarray(sizes, dtype=np.int64)
    if np.any(sizes < 1) or np.any(sizes > len(X)):
        raise ValueError(f"sizes: expected integers in [1, {len(X)}], got {sizes.tolist()}")
    order = np.argsort(sizes, kind="stable")  # the kernel walks the rows once: sizes ascending
    S = np.empty((len(sizes), np.shape(X)[1]))
    S[order] = _prefix_sums_at(np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64),
                               sizes[order])  # [len(sizes), k d]
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
