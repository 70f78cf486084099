"""Quadratics and least squares: the setups with exact closed forms.

* :class:`Quadratic`: f(x) = 1/2 (x - x*)^T A (x - x*), A symmetric positive semi-definite,
  with optional additive gradient noise g = A (x - x*) + sigma xi, xi ~ N(0, I) drawn from the
  counter RNG (stream NOISE, counter (block, t, NOISE, 0)).
* :class:`LeastSquares`: f(w) = 1/(2n) ||X w - y||^2, full batch or a minibatch of
  ``batch_size`` rows drawn uniformly with replacement each step (stream BATCH).
"""
from __future__ import annotations

import math

import numpy as np

from theorysim.core import rng
from theorysim.core.config import jit
from theorysim.core.data import farray1, farray2, iarray1, pack, pack_members, real_array
from theorysim.core.layout import Layout
from theorysim.core.bounds import COUNT0, NONNEG
from theorysim.models.base import Model


# --------------------------------------------------------------------------------------------
# Quadratic kernels. data = (A[P, P], x_star[P]); mh = (noise_std, init_scale); work = 2P.
@jit
def quadratic_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work):
    A = farray2(fdata, idata, 0)
    x_star = farray1(fdata, idata, 1)
    P = theta.shape[0]
    e = work[:P]
    for i in range(P):
        e[i] = theta[i] - x_star[i]
    loss = 0.0
    for i in range(P):
        acc = 0.0
        for j in range(P):
            acc += A[i, j] * e[j]
        grad[i] = acc
        loss += e[i] * acc
    sigma = mh[0]
    if sigma != 0.0:
        xi = work[P : 2 * P]
        rng.fill_normal(k0, k1, t, rng.STREAM_NOISE, 0, xi)
        for i in range(P):
            grad[i] += sigma * xi[i]
    return 0.5 * loss


@jit
def quadratic_metrics(theta, fdata, idata, mh, out, work):
    """out = (loss 1/2 e^T A e, error norm ||x - x*||_2)."""
    A = farray2(fdata, idata, 0)
    x_star = farray1(fdata, idata, 1)
    P = theta.shape[0]
    loss = 0.0
    sq = 0.0
    for i in range(P):
        acc = 0.0
        for j in range(P):
            acc += A[i, j] * (theta[j] - x_star[j])
        ei = theta[i] - x_star[i]
        loss += ei * acc
        sq += ei * ei
    out[0] = 0.5 * loss
    out[1] = math.sqrt(sq)
    return 0.0


@jit
def quadratic_hessian(theta, fdata, idata, mh, out):
    A = farray2(fdata, idata, 0)
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            out[i, j] = A[i, j]
    return 0.0


class Quadratic(Model):
    """f(x) = 1/2 (x - x*)^T A (x - x*); gradient A (x - x*) (+ sigma xi if ``noise_std`` > 0).

    Per-member hyperparameters: ``noise_std`` (sigma, default 0) and ``init_scale`` (default 1):
    x_0 = x* + init_scale * z with z ~ N(0, I) from the member's seed (stream INIT), unless a
    fixed ``x0`` is given, in which case every member starts at ``x0``. ``layout`` (default one
    vector block ``x``) names blocks over x, e.g. ``{"W": (3, 4), "b": 5}``, for matrix-aware rules.
    """

    name = "quadratic"
    metric_names = ("loss", "error_norm")
    hyper_spec = {"noise_std": (0.0, NONNEG), "init_scale": (1.0, NONNEG)}
    kernels = (quadratic_loss_grad, quadratic_metrics, quadratic_hessian)

    def __init__(self, A, x_star=None, x0=None, layout=None):
        A = real_array("A", A)
        if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] < 1:
            raise ValueError(f"A: expected a square matrix, got shape {A.shape}")
        if not np.all(np.isfinite(A)) or not np.allclose(A, A.T, rtol=1e-12, atol=0.0):
            raise ValueError("A: expected a finite symmetric matrix")
        P = A.shape[0]
        x_star = np.zeros(P) if x_star is None else real_array("x_star", x_star)
        if x_star.shape != (P,) or not np.all(np.isfinite(x_star)):
            raise ValueError(f"x_star: expected a finite vector of shape ({P},), got shape {x_star.shape}")
        if x0 is not None:
            x0 = real_array("x0", x0)
            if x0.shape != (P,) or not np.all(np.isfinite(x0)):
                raise ValueError(f"x0: expected a finite vector of shape ({P},), got shape {x0.shape}")
        self.A = np.ascontiguousarray(A)
        self.x_star = x_star
        self.x0 = x0
        self.layout = Layout.of({"x": (P,)}) if layout is None else Layout.of(layout)
        if self.layout.size != P:
            raise ValueError(f"layout: blocks hold {self.layout.size} parameters, A is {P} x {P}")
        self.work_size = 2 * P

    def data(self):
        return pack(self.A, self.x_star)

    def init(self, seeds, mh):
        P = self.layout.size
        out = np.empty((len(seeds), P))
        for m, seed in enumerate(seeds):
            if self.x0 is not None:
                out[m] = self.x0
            else:
                out[m] = self.x_star + mh[m, 1] * rng.normal(int(seed), (P,), stream=rng.STREAM_INIT)
        return out

    def config(self):
        eig = np.linalg.eigvalsh(self.A)
        return {**super().config(), "eigenvalues_min_max": [float(eig[0]), float(eig[-1])]}

    def loss_grad_numpy(self, theta, mh, key, t):
        e = theta - self.x_star
        grad = self.A @ e
        loss = 0.5 * float(e @ grad)
        if mh[0] != 0.0:
            xi = np.empty(len(theta))
            rng.fill_normal(key[0], key[1], np.uint64(t), np.uint64(rng.STREAM_NOISE), np.uint64(0), xi)
            grad = grad + mh[0] * xi
        return loss, grad

    def hessian_numpy(self, theta, mh):
        return self.A.copy()

    def metrics_numpy(self, theta, mh):
        e = theta - self.x_star
        return np.array([0.5 * float(e @ self.A @ e), float(np.linalg.norm(e))])


# --------------------------------------------------------------------------------------------
# Least-squares kernels. data = (X[n_max, P], y[n_max], [n]): the first n rows are used (n < n_max
# when per-member data sets of different sizes are padded to one shape); mh = (batch_size,
# init_scale); work = n_max + P.
@jit
def _sample_row(b, count, n, u):
    """Row of the b-th sample: b itself for the full batch, else row floor(u_b n) of the draw."""
    return b if count == n else min(int(u[b] * n), n - 1)


@jit
def _four_samples(X, y, b, count, n, u):
    """(x rows, minus labels) of samples b .. b + 3: the start of their four residuals."""
    i0, i1 = _sample_row(b, count, n, u), _sample_row(b + 1, count, n, u)
    i2, i3 = _sample_row(b + 2, count, n, u), _sample_row(b + 3, count, n, u)
    return X[i0], X[i1], X[i2], X[i3], -y[i0], -y[i1], -y[i2], -y[i3]


@jit
def _add_sample(loss, r, x, grad):
    """grad += r x; returns loss + r^2."""
    for j in range(x.shape[0]):
        grad[j] += r * x[j]
    return loss + r * r


@jit
def least_squares_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work):
    X = farray2(fdata, idata, 0)
    y = farray1(fdata, idata, 1)
    n = iarray1(idata, 2)[0]
    P = X.shape[1]
    batch = int(mh[0])
    for j in range(P):
        grad[j] = 0.0
    loss = 0.0
    count = n
    u = work[:n]
    if 0 < batch < n:
        count = batch
        u = work[:batch]
        rng.fill_uniform(k0, k1, t, rng.STREAM_BATCH, 0, u)
    # Eight (then four) samples per pass: their residuals are independent dot products (each
    # summed in index order, as one at a time), then loss and gradient take them in sample order,
    # so the values are those of the one-sample loop; a lone length-P dot is a serial chain of P
    # adds, four chains still wait on the adder's latency, eight keep both adders busy.
    b = 0
    while b + 8 <= count:
        x0, x1, x2, x3, r0, r1, r2, r3 = _four_samples(X, y, b, count, n, u)
        x4, x5, x6, x7, r4, r5, r6, r7 = _four_samples(X, y, b + 4, count, n, u)
        for j in range(P):
            w = theta[j]
            r0 += x0[j] * w
            r1 += x1[j] * w
            r2 += x2[j] * w
            r3 += x3[j] * w
            r4 += x4[j] * w
            r5 += x5[j] * w
            r6 += x6[j] * w
            r7 += x7[j] * w
        # grad += r_s x_s in sample order, element by element in one pass (the same additions in
        # the same order as eight passes, one load and store of grad instead of eight)
        for j in range(P):
            g = grad[j] + r0 * x0[j]
            g = g + r1 * x1[j]
            g = g + r2 * x2[j]
            g = g + r3 * x3[j]
            g = g + r4 * x4[j]
            g = g + r5 * x5[j]
            g = g + r6 * x6[j]
            grad[j] = g + r7 * x7[j]
        loss = loss + r0 * r0 + r1 * r1 + r2 * r2 + r3 * r3 + r4 * r4 + r5 * r5 + r6 * r6 + r7 * r7
        b += 8
    while b + 4 <= count:
        x0, x1, x2, x3, r0, r1, r2, r3 = _four_samples(X, y, b, count, n, u)
        for j in range(P):
            w = theta[j]
            r0 += x0[j] * w
            r1 += x1[j] * w
            r2 += x2[j] * w
            r3 += x3[j] * w
        loss = _add_sample(loss, r0, x0, grad)
        loss = _add_sample(loss, r1, x1, grad)
        loss = _add_sample(loss, r2, x2, grad)
        loss = _add_sample(loss, r3, x3, grad)
        b += 4
    while b < count:
        i = _sample_row(b, count, n, u)
        x = X[i]
        r = -y[i]
        for j in range(P):
            r += x[j] * theta[j]
        loss = _add_sample(loss, r, x, grad)
        b += 1
    inv = 1.0 / count
    for j in range(P):
        grad[j] *= inv
    return 0.5 * loss * inv


@jit
def least_squares_metrics(theta, fdata, idata, mh, out, work):
    """out = (full-batch loss 1/(2n) ||X w - y||^2,)."""
    X = farray2(fdata, idata, 0)
    y = farray1(fdata, idata, 1)
    n = iarray1(idata, 2)[0]
    P = X.shape[1]
    loss = 0.0
    for i in range(n):
        r = -y[i]
        for j in range(P):
            r += X[i, j] * theta[j]
        loss += r * r
    out[0] = 0.5 * loss / n
    return 0.0


@jit
def least_squares_hessian(theta, fdata, idata, mh, out):
    """Full-batch Hessian X^T X / n (also used by minibatch members: Newton is full-batch here)."""
    X = farray2(fdata, idata, 0)
    n = iarray1(idata, 2)[0]
    P = X.shape[1]
    for i in range(P):
        for j in range(P):
            s = 0.0
            for k in range(n):
                s += X[k, i] * X[k, j]
            out[i, j] = s / n
    return 0.0


class LeastSquares(Model):
    """f(w) = 1/(2n) ||X w - y||^2, gradient X^T (X w - y) / n.

    Per-member hyperparameters: ``batch_size`` (0 = full batch; else rows drawn uniformly with
    replacement each step) and ``init_scale`` (w_0 = init_scale * z, z ~ N(0, I)). As a quadratic,
    A = X^T X / n and x* = the least-squares solution (:meth:`as_quadratic`).

    Per-member data: ``X`` of shape ``[E, n, P]`` and ``y`` of shape ``[E, n]`` train member e on
    ``(X[e], y[e])``; ``n_used`` (shape ``[E]``, each in [1, n]) then uses only the first
    ``n_used[e]`` rows of member e (padding plus a count: one shape for every member, so a
    sample-complexity search runs its training-set sizes as members of one ensemble).
    """

    name = "least_squares"
    metric_names = ("loss",)
    hyper_spec = {"batch_size": (0.0, COUNT0), "init_scale": (1.0, NONNEG)}
    kernels = (least_squares_loss_grad, least_squares_metrics, least_squares_hessian)

    def __init__(self, X, y, n_used=None):
        X = np.ascontiguousarray(real_array("X", X))
        y = np.ascontiguousarray(real_array("y", y))
        if X.ndim not in (2, 3) or min(X.shape, default=0) < 1:
            raise ValueError(f"X: expected (n, P) or, per member, (E, n, P) with every size >= 1; got shape {X.shape}")
        if y.shape != X.shape[:-1]:
            raise ValueError(f"y: expected shape {X.shape[:-1]}, got {y.shape}")
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
            raise ValueError("X, y: expected finite values")
        n_max = X.shape[-2]
        if n_used is None:
            n_used = np.full(X.shape[0], n_max, dtype=np.int64) if X.ndim == 3 else None
        else:
            if X.ndim != 3:
                raise ValueError("n_used: only with per-member data (X of shape (E, n, P))")
            raw = np.asarray(n_used)
            if (raw.shape != (X.shape[0],) or not np.issubdtype(raw.dtype, np.integer)
                    or np.any(raw < 1) or np.any(raw > n_max)):
                raise ValueError(f"n_used={n_used!r}: expected {X.shape[0]} integers in [1, {n_max}]")
            n_used = raw.astype(np.int64)
        self.X, self.y, self.n_used = X, y, n_used
        self.data_members = X.shape[0] if X.ndim == 3 else 0
        self.layout = Layout.of({"w": (X.shape[-1],)})
        self.work_size = n_max + X.shape[-1]

    def data(self):
        if self.data_members:
            return pack_members([(self.X[e], self.y[e], np.array([self.n_used[e]])) for e in range(self.data_members)])
        return pack(self.X, self.y, np.array([self.X.shape[0]]))

    def for_member(self, m: int) -> "LeastSquares":
        if not self.data_members:
            return self
        n = int(self.n_used[m])
        return LeastSquares(self.X[m, :n], self.y[m, :n])

    def config(self):
        cfg = super().config()
        if self.data_members:
            cfg["data_members"] = self.data_members
            cfg["n_used"] = self.n_used.tolist()
        return cfg

    def init(self, seeds, mh):
        P = self.layout.size
        return np.stack([mh[m, 1] * rng.normal(int(s), (P,), stream=rng.STREAM_INIT) for m, s in enumerate(seeds)])

    def _shared(self, what: str) -> None:
        if self.data_members:
            raise ValueError(f"{what}: this model has per-member data; call it on model.for_member(m)")

    def as_quadratic(self) -> Quadratic:
        self._shared("as_quadratic")
        n = self.X.shape[0]
        w_star = np.linalg.lstsq(self.X, self.y, rcond=None)[0]
        return Quadratic(self.X.T @ self.X / n, w_star)

    def loss_grad_numpy(self, theta, mh, key, t):
        self._shared("loss_grad_numpy")
        n = self.X.shape[0]
        batch = int(mh[0])
        if 0 < batch < n:
            u = np.empty(batch)
            rng.fill_uniform(key[0], key[1], np.uint64(t), np.uint64(rng.STREAM_BATCH), np.uint64(0), u)
            idx = np.minimum((u * n).astype(np.int64), n - 1)
        else:
            idx = np.arange(n)
        r = self.X[idx] @ theta - self.y[idx]
        return 0.5 * float(r @ r) / len(idx), self.X[idx].T @ r / len(idx)

    def hessian_numpy(self, theta, mh):
        self._shared("hessian_numpy")
        return self.X.T @ self.X / self.X.shape[0]

    def metrics_numpy(self, theta, mh):
        self._shared("metrics_numpy")
        r = self.X @ theta - self.y
        return np.array([0.5 * float(r @ r) / len(r)])
