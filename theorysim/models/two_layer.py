"""Two-layer ReLU network without biases, second layer fixed, first layer trained on the mean
logistic loss (Xu, Wang, Frei, Vardi, Hu 2023, sec. 2.3):

    f(x; W) = sum_j a_j ReLU(<w_j, x>),  a_j = +-1/sqrt(m) fixed,
    L(W) = (1/n) sum_i log(1 + exp(-y_i f(x_i; W))),
    grad_{w_j} L = -(1/n) sum_i g_i y_i a_j 1[<w_j, x_i> > 0] x_i,  g_i = (1 + exp(y_i f(x_i)))^(-1).

The n x p by p x m products go through BLAS (``np.dot`` with preallocated outputs inside the
kernel); everything else is scalar loops over n x m. Init (per-member hyperparameter
``omega_init``): W_0 entries ~ N(0, omega_init^2) from the counter RNG.

Recorded: ``loss``, ``train_acc`` (against the noisy training labels, flipped ones included),
``flipped_acc`` (on the flipped subset), ``test_acc`` (clean test points), ``linear_agreement``
(share of test points where sign f(x) = sign <sum_i y_i x_i, x>, eq. 4.3), ``alignment_ratio``
(over a_j > 0: mean |<w_j, mu_1>| / mean |<w_j, mu_2>|) and ``aligned_mu1`` (mean |<w_j, mu_1>|
over positive neurons more aligned with +-mu_1 than with +-mu_2, Lemma 4.7).
"""
from __future__ import annotations

import math

import numpy as np

from theorysim.config import jit
from theorysim.core import rng
from theorysim.core.data import farray1, farray2, pack
from theorysim.core.layout import Layout
from theorysim.models.base import Model
from theorysim.optim.registry import NONNEG

# fdata: X[n, p], y[n], a[m], Xtest[nt, p], ytest[nt], mu1[p], mu2[p], v[p] (= sum y_i x_i), flipped[n]


@jit
def _softplus(z):
    """log(1 + e^z), stable for any z."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


@jit
def _sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@jit
def two_layer_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work):
    X = farray2(fdata, idata, 0)
    y = farray1(fdata, idata, 1)
    a = farray1(fdata, idata, 2)
    n, p = X.shape
    m = a.shape[0]
    W = theta.reshape((m, p))
    G = grad.reshape((m, p))
    H = work[: n * m].reshape((n, m))
    D = work[n * m : 2 * n * m].reshape((n, m))
    np.dot(X, W.T, H)
    loss = 0.0
    for i in range(n):
        f = 0.0
        for j in range(m):
            if H[i, j] > 0.0:
                f += a[j] * H[i, j]
        z = y[i] * f
        loss += _softplus(-z)
        c = -_sigmoid(-z) * y[i] / n  # dL/df_i
        for j in range(m):
            D[i, j] = c * a[j] if H[i, j] > 0.0 else 0.0
    np.dot(D.T, X, G)
    return loss / n


@jit
def _outputs(W, a, X, H, out):
    np.dot(X, W.T, H)
    for i in range(X.shape[0]):
        f = 0.0
        for j in range(a.shape[0]):
            if H[i, j] > 0.0:
                f += a[j] * H[i, j]
        out[i] = f


@jit
def two_layer_metrics(theta, fdata, idata, mh, out):
    X = farray2(fdata, idata, 0)
    y = farray1(fdata, idata, 1)
    a = farray1(fdata, idata, 2)
    Xt = farray2(fdata, idata, 3)
    yt = farray1(fdata, idata, 4)
    mu1 = farray1(fdata, idata, 5)
    mu2 = farray1(fdata, idata, 6)
    v = farray1(fdata, idata, 7)
    flipped = farray1(fdata, idata, 8)
    n, p = X.shape
    nt = Xt.shape[0]
    m = a.shape[0]
    W = theta.reshape((m, p))
    f = np.empty(max(n, nt))
    H = np.empty((max(n, nt), m))
    _outputs(W, a, X, H[:n], f[:n])
    loss, correct, fl_correct, fl_count = 0.0, 0.0, 0.0, 0.0
    for i in range(n):
        z = y[i] * f[i]
        loss += _softplus(-z)
        if z > 0:
            correct += 1.0
        if flipped[i] > 0.5:
            fl_count += 1.0
            if z > 0:
                fl_correct += 1.0
    out[0] = loss / n
    out[1] = correct / n
    out[2] = fl_correct / fl_count if fl_count > 0 else math.nan
    _outputs(W, a, Xt, H[:nt], f[:nt])
    test, agree = 0.0, 0.0
    for i in range(nt):
        if yt[i] * f[i] > 0:
            test += 1.0
        lin = 0.0
        for k in range(p):
            lin += v[k] * Xt[i, k]
        if (f[i] > 0) == (lin > 0):
            agree += 1.0
    out[3] = test / nt
    out[4] = agree / nt
    s1, s2, cnt, al, al_cnt = 0.0, 0.0, 0.0, 0.0, 0.0
    for j in range(m):
        if a[j] <= 0:
            continue
        d1, d2 = 0.0, 0.0
        for k in range(p):
            d1 += W[j, k] * mu1[k]
            d2 += W[j, k] * mu2[k]
        s1 += abs(d1)
        s2 += abs(d2)
        cnt += 1.0
        if abs(d1) > abs(d2):
            al += abs(d1)
            al_cnt += 1.0
    out[5] = s1 / s2 if s2 > 0 else math.nan
    out[6] = al / al_cnt if al_cnt > 0 else math.nan
    return 0.0


class TwoLayerReLU(Model):
    """f(x) = sum_j a_j ReLU(<w_j, x>) with a fixed, trained by any optimizer on the mean
    logistic loss of (X, y). ``a``: the m fixed second-layer weights; ``X_test, y_test``: clean
    test points; ``mu1, mu2``: the cluster means (for the alignment metrics); ``flipped``: the
    training points whose label was flipped."""

    name = "two_layer_relu"
    metric_names = ("loss", "train_acc", "flipped_acc", "test_acc", "linear_agreement", "alignment_ratio",
                    "aligned_mu1")
    hyper_spec = {"omega_init": (1e-15, NONNEG)}
    kernels = (two_layer_loss_grad, two_layer_metrics)

    def __init__(self, X, y, a, X_test, y_test, mu1, mu2, flipped=None):
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or min(X.shape) < 1:
            raise ValueError(f"X: expected a non-empty (n, p) matrix, got shape {X.shape}")
        n, p = X.shape
        y = np.asarray(y, dtype=np.float64)
        a = np.asarray(a, dtype=np.float64)
        X_test = np.ascontiguousarray(X_test, dtype=np.float64)
        y_test = np.asarray(y_test, dtype=np.float64)
        for name, arr, shape in (("y", y, (n,)), ("X_test", X_test, (X_test.shape[0], p)),
                                 ("y_test", y_test, (X_test.shape[0],)), ("mu1", np.asarray(mu1), (p,)),
                                 ("mu2", np.asarray(mu2), (p,))):
            if arr.shape != shape:
                raise ValueError(f"{name}: expected shape {shape}, got {arr.shape}")
        if a.ndim != 1 or len(a) < 1:
            raise ValueError(f"a: expected the m second-layer weights as a vector, got shape {a.shape}")
        for name, lab in (("y", y), ("y_test", y_test)):
            if not np.all(np.isin(lab, (-1.0, 1.0))):
                raise ValueError(f"{name}: expected labels in {{-1, +1}}")
        flipped = np.zeros(n) if flipped is None else np.asarray(flipped, dtype=np.float64)
        self.n, self.p, self.m = n, p, len(a)
        self.X, self.y, self.a, self.X_test, self.y_test = X, y, a, X_test, y_test
        self.mu1, self.mu2, self.flipped = np.asarray(mu1, float), np.asarray(mu2, float), flipped
        self._data = pack(X, y, a, X_test, y_test, self.mu1, self.mu2, y @ X, flipped)
        self.layout = Layout.of({"W": (self.m, p)})
        self.work_size = 2 * n * self.m

    def data(self):
        return self._data

    def init(self, seeds, mh):
        P = self.layout.size
        return np.stack([mh[e, 0] * rng.normal(int(s), (P,), stream=rng.STREAM_INIT) for e, s in enumerate(seeds)])

    def config(self):
        return {**super().config(), "n": self.n, "p": self.p, "m": self.m, "test_points": len(self.y_test)}

    # ---- numpy oracle -------------------------------------------------------------------------
    def outputs(self, theta, X):
        W = np.asarray(theta).reshape(self.m, self.p)
        return np.maximum(X @ W.T, 0.0) @ self.a

    def loss_grad_numpy(self, theta, mh, key, t):
        W = theta.reshape(self.m, self.p)
        H = self.X @ W.T
        z = self.y * (np.maximum(H, 0.0) @ self.a)
        c = -np.exp(-np.logaddexp(0.0, z)) * self.y / self.n
        D = (H > 0) * c[:, None] * self.a[None, :]
        return float(np.mean(np.logaddexp(0.0, -z))), (D.T @ self.X).ravel()

    def metrics_numpy(self, theta, mh):
        W = theta.reshape(self.m, self.p)
        f = self.outputs(theta, self.X)
        z = self.y * f
        fl = self.flipped > 0.5
        ft = self.outputs(theta, self.X_test)
        lin = self.X_test @ (self.y @ self.X)
        pos = self.a > 0
        d1, d2 = np.abs(W[pos] @ self.mu1), np.abs(W[pos] @ self.mu2)
        return np.array([float(np.mean(np.logaddexp(0.0, -z))), float(np.mean(z > 0)),
                         float(np.mean(z[fl] > 0)) if fl.any() else np.nan, float(np.mean(self.y_test * ft > 0)),
                         float(np.mean((ft > 0) == (lin > 0))), float(d1.sum() / d2.sum()),
                         float(d1[d1 > d2].mean()) if (d1 > d2).any() else np.nan])
