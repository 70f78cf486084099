"""The diagonal linear network of Wu and Su (2023, arXiv 2305.17490, sec. 4.1; spec C3):
f(x) = <a * b, x>, parameters theta = (a, b) in R^{2d}, effective predictor beta = a * b, trained on

    L = 1/(2n) sum_i (f(x_i) - y_i)^2,   dL/da = (1/n) sum_i r_i b * x_i,   dL/db = (1/n) sum_i r_i a * x_i

(r_i = f(x_i) - y_i), or on a minibatch of B rows drawn uniformly with replacement each step
(``batch_size`` B; 0 = full batch), counter RNG stream BATCH. At an interpolating minimum the
Hessian is the Gauss-Newton matrix G = J^T J / n with J_i = (b * x_i, a * x_i)
(:mod:`theorysim.setups.stability.sharpness`). Per-member hyperparameters: ``batch_size`` and
``init_scale`` (a, b ~ init_scale N(0, I) from the member's seed, stream INIT; or, with ``theta0``
[E, 2d] given, member e starts at theta0[e] + init_scale z: a perturbed minimum, for the stability
oracle's runs).
"""
from __future__ import annotations

import numpy as np

from theorysim.core import rng
from theorysim.core.bounds import COUNT0, NONNEG
from theorysim.core.config import jit
from theorysim.core.data import farray1, farray2, pack, pack_members
from theorysim.core.layout import Layout
from theorysim.models.base import Model

# fdata: X[n, d], y[n]; mh = (batch_size, init_scale); work: the batch's uniforms [B]


@jit
def diagonal_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work):
    X = farray2(fdata, idata, 0)
    y = farray1(fdata, idata, 1)
    n, d = X.shape[0], X.shape[1]
    batch = int(mh[0])
    for j in range(2 * d):
        grad[j] = 0.0
    count = n
    u = work[:n]
    if 0 < batch < n:
        count = batch
        u = work[:batch]
        rng.fill_uniform(k0, k1, t, rng.STREAM_BATCH, 0, u)
    loss = 0.0
    for s in range(count):
        i = s if count == n else min(int(u[s] * n), n - 1)
        r = -y[i]
        for j in range(d):
            r += theta[j] * theta[d + j] * X[i, j]
        loss += r * r
        for j in range(d):
            grad[j] += r * theta[d + j] * X[i, j]
            grad[d + j] += r * theta[j] * X[i, j]
    inv = 1.0 / count
    for j in range(2 * d):
        grad[j] *= inv
    return 0.5 * loss * inv


@jit
def diagonal_metrics(theta, fdata, idata, mh, out, work):
    """out = (full-batch loss, ||a * b||_1)."""
    X = farray2(fdata, idata, 0)
    y = farray1(fdata, idata, 1)
    n, d = X.shape[0], X.shape[1]
    loss = 0.0
    for i in range(n):
        r = -y[i]
        for j in range(d):
            r += theta[j] * theta[d + j] * X[i, j]
        loss += r * r
    l1 = 0.0
    for j in range(d):
        l1 += abs(theta[j] * theta[d + j])
    out[0] = 0.5 * loss / n
    out[1] = l1
    return 0.0


class DiagonalLinearNet(Model):
    """f(x) = <a * b, x> on ``X`` [n, d], ``y`` [n] (or per member [E, n, d], [E, n])."""

    name = "diagonal_linear_net"
    metric_names = ("loss", "l1")
    hyper_spec = {"batch_size": (0.0, COUNT0), "init_scale": (1.0, NONNEG)}
    kernels = (diagonal_loss_grad, diagonal_metrics)

    def __init__(self, X, y, theta0=None):
        X = np.ascontiguousarray(X, dtype=np.float64)
        y = np.ascontiguousarray(y, dtype=np.float64)
        if X.ndim not in (2, 3) or min(X.shape) < 1:
            raise ValueError(f"X: expected (n, d) or, per member, (E, n, d); got shape {X.shape}")
        if y.shape != X.shape[:-1]:
            raise ValueError(f"y: expected shape {X.shape[:-1]}, got {y.shape}")
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
            raise ValueError("X, y: expected finite values")
        self.X, self.y = X, y
        self.data_members = X.shape[0] if X.ndim == 3 else 0
        self.d = X.shape[-1]
        self.layout = Layout.of({"a": (self.d,), "b": (self.d,)})
        self.work_size = X.shape[-2]
        if theta0 is not None:
            theta0 = np.asarray(theta0, dtype=np.float64)
            if theta0.ndim != 2 or theta0.shape[1] != 2 * self.d or not np.all(np.isfinite(theta0)):
                raise ValueError(f"theta0: expected finite starting points of shape (E, {2 * self.d}), got {theta0.shape}")
        self.theta0 = theta0

    def data(self):
        if self.data_members:
            return pack_members([(self.X[e], self.y[e]) for e in range(self.data_members)])
        return pack(self.X, self.y)

    def for_member(self, m: int) -> "DiagonalLinearNet":
        if not self.data_members:
            return self
        return DiagonalLinearNet(self.X[m], self.y[m], None if self.theta0 is None else self.theta0[m : m + 1])

    def init(self, seeds, mh):
        P = self.layout.size
        z = np.stack([mh[e, 1] * rng.normal(int(s), (P,), stream=rng.STREAM_INIT) for e, s in enumerate(seeds)])
        if self.theta0 is None:
            return z
        if len(self.theta0) != len(seeds):
            raise ValueError(f"theta0: {len(self.theta0)} starting points for {len(seeds)} members")
        return self.theta0 + z

    def config(self):
        cfg = {"name": self.name, "n": int(self.X.shape[-2]), "d": self.d}
        if self.data_members:
            cfg["data_members"] = self.data_members
        return cfg

    # ---- numpy oracle --------------------------------------------------------------------------
    def _shared(self, what):
        if self.data_members:
            raise ValueError(f"{what}: this model has per-member data; call it on model.for_member(m)")

    def loss_grad_numpy(self, theta, mh, key, t):
        self._shared("loss_grad_numpy")
        n, d = self.X.shape
        batch = int(mh[0])
        if 0 < batch < n:
            u = np.empty(batch)
            rng.fill_uniform(key[0], key[1], np.uint64(t), np.uint64(rng.STREAM_BATCH), np.uint64(0), u)
            idx = np.minimum((u * n).astype(np.int64), n - 1)
        else:
            idx = np.arange(n)
        a, b = theta[:d], theta[d:]
        r = self.X[idx] @ (a * b) - self.y[idx]
        g = self.X[idx].T @ r / len(idx)
        return 0.5 * float(r @ r) / len(idx), np.concatenate([b * g, a * g])

    def metrics_numpy(self, theta, mh):
        self._shared("metrics_numpy")
        d = self.d
        beta = theta[:d] * theta[d:]
        r = self.X @ beta - self.y
        return np.array([0.5 * float(r @ r) / len(r), float(np.abs(beta).sum())])
