"""A scale-invariant layer: f(W) = 1/2 || W / ||W||_F - U ||_F^2 with ||U||_F = 1.

The toy of AdamP (Heo et al. 2021, sec. 2): f(cW) = f(W) for c > 0, so the gradient is
orthogonal to W, grad f(W) = (G - <G, W_hat> W_hat) / ||W||_F with W_hat = W / ||W||_F and
G = W_hat - U, and the effective step size on the sphere is lr / ||W||^2.
"""
from __future__ import annotations

import math

import numpy as np

from theorysim.core.config import jit
from theorysim.core import rng
from theorysim.core.data import farray_flat, pack
from theorysim.core.layout import Layout
from theorysim.models.base import Model
from theorysim.core.bounds import POSITIVE


@jit
def frobenius_norm(theta):
    """||theta||_2 by a plain loop (runs unchanged in CUDA device code)."""
    s = 0.0
    for i in range(theta.shape[0]):
        s += theta[i] * theta[i]
    return math.sqrt(s)


@jit
def scale_invariant_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work):
    U = farray_flat(fdata, idata, 0)
    n = frobenius_norm(theta)
    dot = 0.0
    loss = 0.0
    for i in range(theta.shape[0]):
        gi = theta[i] / n - U[i]
        loss += gi * gi
        dot += gi * theta[i] / n
    for i in range(theta.shape[0]):
        grad[i] = ((theta[i] / n - U[i]) - dot * theta[i] / n) / n
    return 0.5 * loss


@jit
def scale_invariant_metrics(theta, fdata, idata, mh, out, work):
    """out = (loss, ||W||_F)."""
    U = farray_flat(fdata, idata, 0)
    n = frobenius_norm(theta)
    loss = 0.0
    for i in range(theta.shape[0]):
        d = theta[i] / n - U[i]
        loss += d * d
    out[0] = 0.5 * loss
    out[1] = n
    return 0.0


class ScaleInvariant(Model):
    """f(W) = 1/2 ||W/||W|| - U||^2 for one (rows, cols) matrix block; U from ``target_seed``,
    normalised. Per-member ``init_scale``: W_0 = init_scale * Z, Z ~ N(0, I) from the seed."""

    name = "scale_invariant"
    metric_names = ("loss", "weight_norm")
    hyper_spec = {"init_scale": (1.0, POSITIVE)}
    kernels = (scale_invariant_loss_grad, scale_invariant_metrics)

    def __init__(self, rows: int, cols: int, target_seed: int = 0):
        if not (isinstance(rows, int) and isinstance(cols, int) and rows >= 1 and cols >= 1):
            raise ValueError(f"rows={rows!r}, cols={cols!r}: expected positive integers")
        U = rng.normal(target_seed, (rows, cols), stream=rng.STREAM_USER + 7)
        self.U = U / np.linalg.norm(U)
        self.layout = Layout.of({"W": (rows, cols)})
        self.work_size = 1

    def data(self):
        return pack(self.U)

    def init(self, seeds, mh):
        P = self.layout.size
        return np.stack([mh[m, 0] * rng.normal(int(s), (P,), stream=rng.STREAM_INIT) for m, s in enumerate(seeds)])

    def loss_grad_numpy(self, theta, mh, key, t):
        n = np.linalg.norm(theta)
        w = theta / n
        G = w - self.U.ravel()
        return 0.5 * float(G @ G), (G - (G @ w) * w) / n

    def metrics_numpy(self, theta, mh):
        n = np.linalg.norm(theta)
        d = theta / n - self.U.ravel()
        return np.array([0.5 * float(d @ d), n])
