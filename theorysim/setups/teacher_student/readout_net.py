"""Kumar et al.'s network as an engine model: ``FrozenReadoutNet`` (arXiv 2310.06110, sec. 3, Fig. 1 and 3).

f(x) = alpha (1/H) sum_i phi(w_i . x),  phi(z) = z + (eps / 2) z^2,  readouts frozen at 1,

trained on the first-layer weights W [H, D] with the mean squared error of the authors' code (no 1/2)::

    L(W) = (1/P) sum_p (alpha (g(x_p) - g0_p) - y_p)^2,   g(x) = (1/H) sum_i phi(w_i . x)
    dL/dw_i = (2 alpha / (P H)) sum_p r_p phi'(w_i . x_p) x_p,   phi'(z) = 1 + eps z

where g0_p = g_{W0}(x_p) for the centred loss (the network minus itself at init, so f - f0 = 0 at
step 0) and g0 = 0 for the uncentred one. With learning rate eta = c H / alpha^2 the linearised
dynamics do not depend on alpha (the NTK is O(alpha^2 / H)), so alpha alone sets laziness.

Recorded: ``loss`` (the training MSE above), ``test_loss`` (the exact population MSE over
x ~ N(0, I/D) from the sufficient statistics, :func:`theorysim.setups.teacher_student.grokking.test_loss`,
O(H D^2) with no test set) and ``movement`` = ||W - W0||^2 / ||W0||^2 (the paper's Fig. 3c).

Everything per member is data, so one ensemble covers an alpha x width x seed grid: the training
inputs X [P, D], the teacher beta [D] (y = (beta . x)^2 / 2), the initial weights W0, and the width H
(members narrower than the widest carry zero rows that get zero gradient, so they never move).
``alpha`` and ``eps`` are per-member model hyperparameters (pass them in ``model_hyper``: Adam's
``eps`` and RMSprop's ``alpha`` have the same names). The initial weights are data too: ``init``
returns W0, drawn by :func:`theorysim.setups.teacher_student.grokking.draw` from the member's seed.
"""
from __future__ import annotations

import numpy as np

from theorysim.core.bounds import NONNEG, POSITIVE
from theorysim.core.config import jit
from theorysim.core.data import farray1, farray2, iarray1, pack, pack_members
from theorysim.core.layout import Layout
from theorysim.core.block import barrier
from theorysim.core.linalg import matmul, matmul_share
from theorysim.models.base import Model
from theorysim.setups.teacher_student import grokking

# fdata: X[P, D], y[P], G0[2, P] (rows: mean_i z_pi and mean_i z_pi^2 / 2 at init, so g0 = row 0 +
#        eps row 1 for any eps; zero when uncentred), beta[D], M0[D, D], wbar0[D], W0[Hmax, D], norm0[1]
# idata: meta (H, centred)
# work: Z[P, Hmax] then r[P] (loss_grad); Z, then M[D, D] and wbar[D] (metrics)


@jit
def _residuals(Z, y, G0, alpha, eps, r, j, nt):
    """r_p = alpha (g(x_p) - g0_p) - y_p from Z = X W^T, g0_p = G0[0, p] + eps G0[1, p], for the
    inputs p = j, j + nt, ... (a block kernel's share; all of them with j = 0, nt = 1)."""
    H = Z.shape[1]
    for p in range(j, Z.shape[0], nt):
        g = 0.0
        for i in range(H):
            z = Z[p, i]
            g += z + 0.5 * eps * z * z
        r[p] = alpha * (g / H - G0[0, p] - eps * G0[1, p]) - y[p]


@jit
def _sum_of_squares(r):
    total = 0.0
    for p in range(r.shape[0]):
        total += r[p] * r[p]
    return total


@jit
def readout_net_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work):
    """The training MSE and its gradient: the block kernel run as one thread."""
    return readout_net_block_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work, 0, 1)


@jit
def readout_net_block_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work, j, nt):
    """``Model.block_loss_grad``: thread j of nt computes its share of Z = X W^T
    (:func:`~theorysim.core.linalg.matmul_share`), after a barrier the residuals r_p and the
    backward factors coef r_p phi'(z_pi) of inputs p = j, j + nt, ..., after another its share of
    the gradient Z^T X; thread 0 returns the MSE (squares summed in order)."""
    X = farray2(fdata, idata, 0)
    y = farray1(fdata, idata, 1)
    G0 = farray2(fdata, idata, 2)
    H = iarray1(idata, 8)[0]
    P, D = X.shape[0], X.shape[1]
    alpha, eps = mh[0], mh[1]
    W = theta[: H * D].reshape((H, D))
    Z = work[: P * H].reshape((P, H))
    r = work[P * H : P * H + P]
    matmul_share(X, W.T, Z, j, nt)
    barrier(nt)
    _residuals(Z, y, G0, alpha, eps, r, j, nt)
    coef = 2.0 * alpha / (P * H)
    for p in range(j, P, nt):  # the rows this thread's residuals came from: no barrier needed
        for i in range(H):
            Z[p, i] = coef * r[p] * (1.0 + eps * Z[p, i])
    barrier(nt)
    matmul_share(Z.T, X, grad[: H * D].reshape((H, D)), j, nt)
    for q in range(H * D + j, grad.shape[0], nt):
        grad[q] = 0.0  # the padding rows of a narrower member
    if j != 0:
        return 0.0
    return _sum_of_squares(r) / P


@jit
def readout_net_metrics(theta, fdata, idata, mh, out, work):
    """out = (training MSE, exact test MSE, ||W - W0||^2 / ||W0||^2)."""
    X = farray2(fdata, idata, 0)
    y = farray1(fdata, idata, 1)
    G0 = farray2(fdata, idata, 2)
    beta = farray1(fdata, idata, 3)
    M0 = farray2(fdata, idata, 4)
    wbar0 = farray1(fdata, idata, 5)
    W0 = farray2(fdata, idata, 6)
    norm0 = farray1(fdata, idata, 7)[0]
    H = iarray1(idata, 8)[0]
    P, D = X.shape[0], X.shape[1]
    alpha, eps = mh[0], mh[1]
    W = theta[: H * D].reshape((H, D))
    Z, r = work[: P * H].reshape((P, H)), work[P * H : P * H + P]
    matmul(X, W.T, Z)
    _residuals(Z, y, G0, alpha, eps, r, 0, 1)
    out[0] = _sum_of_squares(r) / P
    # test MSE (grokking.test_loss): A = alpha eps (M - M0) - beta beta^T, v = w_bar - w_bar0
    M = work[: D * D].reshape((D, D))
    matmul(W.T, W, M)
    trace, frob = 0.0, 0.0
    for a in range(D):
        for b in range(D):
            A = alpha * eps * (M[a, b] / H - M0[a, b]) - beta[a] * beta[b]
            frob += A * A
            if a == b:
                trace += A
    lin = 0.0
    for a in range(D):
        v = -wbar0[a]
        for i in range(H):
            v += W[i, a] / H
        lin += v * v
    out[1] = (trace / (2 * D)) ** 2 + 0.5 * frob / (D * D) + alpha * alpha * lin / D
    moved = 0.0
    for i in range(H):
        for a in range(D):
            d = W[i, a] - W0[i, a]
            moved += d * d
    out[2] = moved / norm0
    return 0.0


def _member_axis(name, a, ndim):
    a = np.ascontiguousarray(a, dtype=np.float64)
    if a.ndim not in (ndim, ndim + 1) or a.size == 0 or not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected a non-empty finite {ndim}-d array, or {ndim + 1}-d with one per member; "
                         f"got shape {a.shape}")
    return a


class FrozenReadoutNet(Model):
    """Kumar et al.'s two-layer network with frozen readouts (module docstring for the equations).

    ``X`` [P, D] training inputs, ``beta`` [D] the teacher (y = (beta . x)^2 / 2), ``W0`` [H, D] the
    initial weights; each may carry a leading member axis E (the others are then shared).
    ``widths`` [E] (each <= H): member m uses the first ``widths[m]`` rows of its W0. ``centred``:
    train f - f0 (the paper's default) instead of f.
    """

    name = "frozen_readout_net"
    metric_names = ("loss", "test_loss", "movement")
    hyper_spec = {"alpha": (1.0, POSITIVE), "eps": (0.25, NONNEG)}
    kernels = (readout_net_loss_grad, readout_net_metrics)
    #: the GPU trains one member per block, its threads sharing the products and the inputs
    block_loss_grad = staticmethod(readout_net_block_loss_grad)  # (a Numba function binds as a method)
    uses_blas = True
    contiguous_members = True  # the kernels view slices of theta, grad and work as matrices

    def __init__(self, X, beta, W0, widths=None, centred: bool = True):
        X = _member_axis("X", X, 2)
        beta = _member_axis("beta", beta, 1)
        W0 = _member_axis("W0", W0, 2)
        sizes = {a.shape[0] for a, nd in ((X, 2), (beta, 1), (W0, 2)) if a.ndim == nd + 1}
        if len(sizes) > 1:
            raise ValueError(f"X, beta, W0: member axes of different lengths {sorted(sizes)}")
        E = sizes.pop() if sizes else 0
        D = X.shape[-1]
        if beta.shape[-1] != D or W0.shape[-1] != D:
            raise ValueError(f"beta, W0: expected last dimension D = {D} (from X), got {beta.shape} and {W0.shape}")
        if not isinstance(centred, (bool, np.bool_)):
            raise ValueError(f"centred={centred!r}: expected True or False")
        H_max = W0.shape[-2]
        if widths is not None:
            raw = np.asarray(widths)
            if (raw.ndim != 1 or not np.issubdtype(raw.dtype, np.integer) or np.any(raw < 1)
                    or np.any(raw > H_max) or (E and len(raw) != E)):
                raise ValueError(f"widths={widths!r}: expected one integer in [1, {H_max}] per member")
            E = E or len(raw)
            widths = raw.astype(np.int64)
        self.data_members = E
        self.X, self.beta, self.W0, self.centred = X, beta, W0, bool(centred)
        self.widths = widths if widths is not None else (np.full(E, H_max, dtype=np.int64) if E else None)
        self.D, self.H_max, self.P = D, H_max, X.shape[-2]
        self.layout = Layout.of({"W": (H_max, D)})
        self.work_size = max(self.P * H_max + self.P, D * D + 1)

    # ---- per-member views ----------------------------------------------------------------------
    def _member(self, a, nd, m):
        return a[m] if a.ndim == nd + 1 else a

    def _width(self, m) -> int:
        return int(self.widths[m]) if self.widths is not None else self.H_max

    def member_arrays(self, m: int):
        """(X, beta, W0 [width, D]) of member ``m`` (any m for a model with shared data)."""
        m = m if self.data_members else 0
        return (self._member(self.X, 2, m), self._member(self.beta, 1, m),
                self._member(self.W0, 2, m)[: self._width(m)])

    def _pack_args(self, m):
        X, beta, W0 = self.member_arrays(m)
        H = len(W0)
        if self.centred:
            Z = X @ W0.T
            G0 = np.stack([Z.mean(axis=1), 0.5 * (Z * Z).mean(axis=1)])
            M0, wbar0 = W0.T @ W0 / H, W0.mean(axis=0)
        else:
            G0, M0, wbar0 = np.zeros((2, len(X))), np.zeros((self.D, self.D)), np.zeros(self.D)
        padded = np.zeros((self.H_max, self.D))
        padded[:H] = W0
        return (X, grokking.target(X, beta), G0, beta, M0, wbar0, padded, np.array([np.sum(W0 * W0)]),
                np.array([H, int(self.centred)], dtype=np.int64))

    def data(self):
        if self.data_members:
            return pack_members([self._pack_args(m) for m in range(self.data_members)])
        return pack(*self._pack_args(0))

    def for_member(self, m: int) -> "FrozenReadoutNet":
        if not self.data_members:
            return self
        return FrozenReadoutNet(*self.member_arrays(m), centred=self.centred)

    def init(self, seeds, mh):
        """W0 of each member (zero rows beyond its width): the initialisation is part of the data,
        drawn from the member's seed by :func:`~theorysim.setups.teacher_student.grokking.draw`."""
        out = np.zeros((len(seeds), self.layout.size))
        for m in range(len(seeds)):
            W0 = self.member_arrays(m)[2]
            out[m, : W0.size] = W0.ravel()
        return out

    def config(self):
        cfg = {"name": self.name, "D": self.D, "H": self.H_max, "P": self.P, "centred": self.centred}
        if self.data_members:
            cfg["data_members"] = self.data_members
            cfg["widths"] = self.widths.tolist()
        return cfg

    # ---- numpy oracle --------------------------------------------------------------------------
    def _shared(self, what: str) -> None:
        if self.data_members:
            raise ValueError(f"{what}: this model has per-member data; call it on model.for_member(m)")

    def weights(self, theta) -> np.ndarray:
        return np.asarray(theta, dtype=np.float64).reshape(self.H_max, self.D)

    def loss_grad_numpy(self, theta, mh, key, t):
        self._shared("loss_grad_numpy")
        alpha, eps = float(mh[0]), float(mh[1])
        W, W0 = self.weights(theta), self.W0 if self.centred else None
        r = grokking.outputs(W, self.X, alpha, eps) - self.target()
        if W0 is not None:
            r -= grokking.outputs(W0, self.X, alpha, eps)
        Z = self.X @ W.T
        G = (2 * alpha / (self.P * self.H_max)) * (r[:, None] * (1 + eps * Z)).T @ self.X
        return float(r @ r) / self.P, G.ravel()

    def metrics_numpy(self, theta, mh):
        self._shared("metrics_numpy")
        alpha, eps = float(mh[0]), float(mh[1])
        W = self.weights(theta)
        loss = self.loss_grad_numpy(theta, mh, None, 0)[0]
        test = grokking.test_loss(W, self.beta, alpha, eps, self.W0 if self.centred else None)
        return np.array([loss, test, np.sum((W - self.W0) ** 2) / np.sum(self.W0 ** 2)])

    def target(self) -> np.ndarray:
        """y_p = (beta . x_p)^2 / 2 on the training inputs (shared data)."""
        self._shared("target")
        return grokking.target(self.X, self.beta)
