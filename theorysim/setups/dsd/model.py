"""The three one-hidden-layer architectures of Lahoti et al. (2024, sec. 4; spec B2) on DSD inputs
x = (x_1, ..., x_k), x_j in R^d, with the fixed readout and the LSA activation
phi_b(z) = ReLU(z - b) - ReLU(-z - b) (soft thresholding: sign(z) max(|z| - b, 0)):

* CNN: f(x) = sum_j phi_b(w . x_j),     one w in R^d shared by every patch (weight sharing);
* LCN: f(x) = sum_j phi_b(w_j . x_j),   w_j in R^d, one per patch (locality without sharing);
* FCN: f(x) = sum_j phi_b(w_j . x),     w_j in R^{kd}, k units that see the whole input.

Every architecture is k units u = 1..k, unit j reading input block ``x[xo_j : xo_j + n_in]`` with
weights ``theta[wo_j : wo_j + n_in]`` (CNN: wo_j = 0, xo_j = j d, n_in = d; LCN: wo_j = xo_j = j d;
FCN: wo_j = j k d, xo_j = 0, n_in = k d), so one scalar-loop kernel serves all three.

Training loss (the paper's squared risk): L = 1/(2n) sum_i (f(x_i) - y_i)^2 over the member's n used
rows (per-member data: one training set per (m, seed) member, padded to the largest m), with
dL/dw_j = (1/n) sum_i r_i phi_b'(w_j . x_i[j]) x_i[j], phi_b'(z) = 1{|z| >= b} (at b = 0 phi is the
identity, so its derivative is 1 everywhere, also at a zero init). Recorded: the loss and
the training error (the fraction with y f(x) <= 0 or f(x) not finite). Hyperparameters per member: ``b`` and
``init_scale`` (w ~ init_scale N(0, I / n_in), from the member's seed, stream INIT).
"""
from __future__ import annotations

import numpy as np

from theorysim.core import rng
from theorysim.core.bounds import NONNEG
from theorysim.core.config import jit
from theorysim.core.data import farray1, farray2, iarray1, pack, pack_members
from theorysim.core.layout import Layout
from theorysim.models.base import Model

ARCHITECTURES = ("cnn", "lcn", "fcn")

# fdata: X[m_max, k d], y[m_max]; idata: meta (arch id, k, d, n used)


@jit
def unit_geometry(arch, j, k, d):
    """(weight offset, input offset, fan-in) of unit j."""
    if arch == 0:
        return 0, j * d, d
    if arch == 1:
        return j * d, j * d, d
    return j * k * d, 0, k * d


@jit
def lsa(z, b):
    """phi_b(z) = ReLU(z - b) - ReLU(-z - b)."""
    if z > b:
        return z - b
    if z < -b:
        return z + b
    return 0.0


@jit
def forward(theta, x, arch, k, d, b):
    """f(x) for one input row."""
    f = 0.0
    for j in range(k):
        wo, xo, n_in = unit_geometry(arch, j, k, d)
        z = 0.0
        for c in range(n_in):
            z += theta[wo + c] * x[xo + c]
        f += lsa(z, b)
    return f


@jit
def preactivations(theta, x, arch, k, d, z):
    """z[j] = w_j . x[block j] for every unit, four units per pass over the fan-in (four
    independent accumulation chains; each still summed in index order from 0.0, so the values are
    those of one unit at a time)."""
    j = 0
    while j + 4 <= k:
        wo0, xo0, n_in = unit_geometry(arch, j, k, d)
        wo1, xo1, _ = unit_geometry(arch, j + 1, k, d)
        wo2, xo2, _ = unit_geometry(arch, j + 2, k, d)
        wo3, xo3, _ = unit_geometry(arch, j + 3, k, d)
        w0, w1, w2, w3 = theta[wo0 : wo0 + n_in], theta[wo1 : wo1 + n_in], theta[wo2 : wo2 + n_in], theta[wo3 : wo3 + n_in]
        x0, x1, x2, x3 = x[xo0 : xo0 + n_in], x[xo1 : xo1 + n_in], x[xo2 : xo2 + n_in], x[xo3 : xo3 + n_in]
        z0 = z1 = z2 = z3 = 0.0
        for c in range(n_in):  # (views: indices from 0, no negative-index wrapping in the loop)
            z0 += w0[c] * x0[c]
            z1 += w1[c] * x1[c]
            z2 += w2[c] * x2[c]
            z3 += w3[c] * x3[c]
        z[j], z[j + 1], z[j + 2], z[j + 3] = z0, z1, z2, z3
        j += 4
    while j < k:
        wo, xo, n_in = unit_geometry(arch, j, k, d)
        w, xj = theta[wo : wo + n_in], x[xo : xo + n_in]
        acc = 0.0
        for c in range(n_in):
            acc += w[c] * xj[c]
        z[j] = acc
        j += 1


@jit
def patch_net_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work):
    X = farray2(fdata, idata, 0)
    y = farray1(fdata, idata, 1)
    meta = iarray1(idata, 2)
    arch, k, d, n = meta[0], meta[1], meta[2], meta[3]
    b = mh[0]
    for p in range(grad.shape[0]):
        grad[p] = 0.0
    loss = 0.0
    for i in range(n):
        x = X[i]
        # the k pre-activations once (work[:k]), then the output and the active units' gradients
        preactivations(theta, x, arch, k, d, work)
        f = 0.0
        for j in range(k):
            f += lsa(work[j], b)
        r = f - y[i]
        loss += r * r
        for j in range(k):
            if work[j] >= b or work[j] <= -b:
                wo, xo, n_in = unit_geometry(arch, j, k, d)
                g = grad[wo : wo + n_in]  # views: indices from 0, so the loop vectorises
                xj = x[xo : xo + n_in]
                for c in range(n_in):
                    g[c] += r * xj[c]
    inv = 1.0 / n
    for p in range(grad.shape[0]):
        grad[p] *= inv
    return 0.5 * loss * inv


@jit
def patch_net_metrics(theta, fdata, idata, mh, out, work):
    """out = (training loss, training error)."""
    X = farray2(fdata, idata, 0)
    y = farray1(fdata, idata, 1)
    meta = iarray1(idata, 2)
    arch, k, d, n = meta[0], meta[1], meta[2], meta[3]
    loss, wrong = 0.0, 0.0
    for i in range(n):
        f = forward(theta, X[i], arch, k, d, mh[0])
        loss += (f - y[i]) * (f - y[i])
        if not y[i] * f > 0.0:  # also a non-finite output (a diverged member)
            wrong += 1.0
    out[0] = 0.5 * loss / n
    out[1] = wrong / n
    return 0.0


def n_params(arch: str, k: int, d: int) -> int:
    return {"cnn": d, "lcn": k * d, "fcn": k * k * d}[arch]


def outputs(arch: str, theta, X, k: int, d: int, b: float) -> np.ndarray:
    """f(X) for parameters theta [E, P] (or [P]) and inputs X [n, k d]: [E, n] (or [n]), by numpy."""
    theta = np.asarray(theta, dtype=np.float64)
    single = theta.ndim == 1
    theta = np.atleast_2d(theta)
    Xp = np.asarray(X, dtype=np.float64).reshape(len(X), k, d)
    if arch == "cnn":
        Z = np.einsum("njd,ed->enj", Xp, theta)
    elif arch == "lcn":
        Z = np.einsum("njd,ejd->enj", Xp, theta.reshape(-1, k, d))
    else:
        Z = np.einsum("nc,ejc->enj", np.asarray(X, dtype=np.float64), theta.reshape(-1, k, k * d))
    f = (np.maximum(Z - b, 0.0) - np.maximum(-Z - b, 0.0)).sum(axis=2)
    return f[0] if single else f


def test_error(arch: str, theta, X, y, k: int, d: int, b) -> np.ndarray:
    """Fraction of (X, y) with y f(x) <= 0 or f(x) not finite, per parameter row; ``b`` a scalar or one per row."""
    theta = np.atleast_2d(np.asarray(theta, dtype=np.float64))
    b = np.broadcast_to(np.asarray(b, dtype=np.float64), (len(theta),))
    out = np.empty(len(theta))
    for value in np.unique(b):  # rows sharing a threshold in one product
        rows = np.flatnonzero(b == value)
        # not (y f > 0): a zero output and a non-finite one (diverged weights) are both errors
        out[rows] = np.mean(~(y[None, :] * outputs(arch, theta[rows], X, k, d, float(value)) > 0.0), axis=1)
    return out


class PatchNet(Model):
    """A CNN, LCN or FCN (module docstring) on DSD data: ``X`` [n, k d] and ``y`` [n], or per member
    [E, n_max, k d] and [E, n_max] with ``n_used`` [E] (member e trains on its first n_used[e] rows)."""

    metric_names = ("loss", "train_error")
    hyper_spec = {"b": (0.0, NONNEG), "init_scale": (1.0, NONNEG)}
    kernels = (patch_net_loss_grad, patch_net_metrics)

    def __init__(self, arch: str, k: int, d: int, X, y, n_used=None, init_offset: int = 0):
        if arch not in ARCHITECTURES:
            raise ValueError(f"arch={arch!r}: expected one of {', '.join(map(repr, ARCHITECTURES))}")
        X = np.ascontiguousarray(X, dtype=np.float64)
        y = np.ascontiguousarray(y, dtype=np.float64)
        if X.ndim not in (2, 3) or X.shape[-1] != k * d or X.shape[-2] < 1:
            raise ValueError(f"X: expected shape (n, k d = {k * d}) or (E, n, {k * d}), got {X.shape}")
        if y.shape != X.shape[:-1]:
            raise ValueError(f"y: expected shape {X.shape[:-1]}, got {y.shape}")
        n_max = X.shape[-2]
        if X.ndim == 3:
            raw = np.full(X.shape[0], n_max) if n_used is None else np.asarray(n_used)
            if (raw.shape != (X.shape[0],) or not np.issubdtype(raw.dtype, np.integer) or np.any(raw < 1)
                    or np.any(raw > n_max)):
                raise ValueError(f"n_used={n_used!r}: expected {X.shape[0]} integers in [1, {n_max}]")
            n_used = raw.astype(np.int64)
        elif n_used is not None:
            raise ValueError("n_used: only with per-member data (X of shape (E, n, k d))")
        self.arch, self.k, self.d = arch, int(k), int(d)
        self.init_offset = int(init_offset)  # member seed s draws its init from seed s + init_offset
        self.name = f"{arch}_patch_net"
        self.X, self.y, self.n_used = X, y, n_used
        self.data_members = X.shape[0] if X.ndim == 3 else 0
        self.layout = Layout.of({"w": (n_params(arch, k, d),)})
        self.work_size = self.k  # the pre-activations of one input

    def _pack_args(self, X, y, n):
        meta = np.array([ARCHITECTURES.index(self.arch), self.k, self.d, n], dtype=np.int64)
        return X, y, meta

    def data(self):
        if self.data_members:
            return pack_members([self._pack_args(self.X[e], self.y[e], self.n_used[e]) for e in range(self.data_members)])
        return pack(*self._pack_args(self.X, self.y, len(self.X)))

    def for_member(self, m: int) -> "PatchNet":
        if not self.data_members:
            return self
        n = int(self.n_used[m])
        return PatchNet(self.arch, self.k, self.d, self.X[m, :n], self.y[m, :n], init_offset=self.init_offset)

    def init(self, seeds, mh):
        P = self.layout.size
        fan_in = self.d if self.arch != "fcn" else self.k * self.d
        return np.stack([mh[e, 1] / np.sqrt(fan_in) * rng.normal(int(s) + self.init_offset, (P,), stream=rng.STREAM_INIT)
                         for e, s in enumerate(seeds)])

    def config(self):
        cfg = {"name": self.name, "arch": self.arch, "k": self.k, "d": self.d, "n_max": int(self.X.shape[-2])}
        if self.init_offset:
            cfg["init_offset"] = self.init_offset
        if self.data_members:
            cfg["data_members"] = self.data_members
            cfg["n_used"] = self.n_used.tolist()
        return cfg

    # ---- numpy oracle --------------------------------------------------------------------------
    def _shared(self, what):
        if self.data_members:
            raise ValueError(f"{what}: this model has per-member data; call it on model.for_member(m)")

    def _pre(self, theta):
        Xp = self.X.reshape(len(self.X), self.k, self.d)
        if self.arch == "cnn":
            return np.einsum("njd,d->nj", Xp, theta)
        if self.arch == "lcn":
            return np.einsum("njd,jd->nj", Xp, theta.reshape(self.k, self.d))
        return self.X @ theta.reshape(self.k, -1).T

    def loss_grad_numpy(self, theta, mh, key, t):
        self._shared("loss_grad_numpy")
        b = float(mh[0])
        Z = self._pre(theta)
        r = (np.maximum(Z - b, 0) - np.maximum(-Z - b, 0)).sum(1) - self.y
        G = r[:, None] * (np.abs(Z) >= b)  # [n, k]: dL/dz per unit, times n
        n = len(self.y)
        if self.arch == "cnn":
            g = np.einsum("nj,njd->d", G, self.X.reshape(n, self.k, self.d))
        elif self.arch == "lcn":
            g = np.einsum("nj,njd->jd", G, self.X.reshape(n, self.k, self.d)).ravel()
        else:
            g = (G.T @ self.X).ravel()
        return 0.5 * float(r @ r) / n, g / n

    def metrics_numpy(self, theta, mh):
        self._shared("metrics_numpy")
        f = outputs(self.arch, theta, self.X, self.k, self.d, float(mh[0]))
        return np.array([0.5 * np.mean((f - self.y) ** 2), np.mean(~(self.y * f > 0.0))])
