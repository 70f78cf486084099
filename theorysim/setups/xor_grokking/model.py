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

from theorysim.core.config import jit, returns_view
from theorysim.core.block import barrier
from theorysim.core.linalg import matmul as _matmul, matmul_share as _matmul_share, matvec as _matvec
from theorysim.core import rng
from theorysim.core.data import farray1, farray2, pack
from theorysim.core.layout import Layout
from theorysim.models.base import Model
from theorysim.core.bounds import NONNEG

# fdata: X[n, p], y[n], a[m], Xtest[nt, p], ytest[nt], mu1[p], mu2[p], lin[nt], flipped[n]
# (lin = Xtest sum_i y_i x_i: the linear classifier's test scores, eq. 4.3)


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
def _logistic_row(h, yi, a, d, n):
    """Training point i's share of the mean logistic loss over n points, from its pre-activations
    ``h`` [m]: writes d_j = dL/dH_ij = -sigmoid(-z_i) y_i a_j 1[h_j > 0] / n (z_i = y_i f_i,
    f_i = sum_j a_j ReLU(h_j)) and returns its loss term log(1 + e^{-z_i}) (not divided by n)."""
    f = 0.0
    for j in range(a.shape[0]):
        if h[j] > 0.0:
            f += a[j] * h[j]
    z = yi * f
    c = -_sigmoid(-z) * yi / n  # dL/df_i
    for j in range(a.shape[0]):
        d[j] = c * a[j] if h[j] > 0.0 else 0.0
    return _softplus(-z)


@jit
def _logistic_backward(H, y, a, D):
    """Mean logistic loss of f_i = sum_j a_j ReLU(H_ij) and D_ij = dL/dH_ij (written to ``D``)."""
    n = H.shape[0]
    loss = 0.0
    for i in range(n):
        loss += _logistic_row(H[i], y[i], a, D[i], n)
    return loss / n


@jit
def two_layer_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work):
    """The mean logistic loss and its gradient G = D^T X (H = X W^T, D = dL/dH): the block
    kernel run as one thread."""
    return two_layer_block_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work, 0, 1)


@jit
def two_layer_block_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work, j, nt):
    """``Model.block_loss_grad``: thread j of nt computes its share of H = X W^T, after a barrier
    the rows i = j, j + nt, ... of D and their loss terms (work), after another its share of
    G = D^T X; thread 0 returns the mean of the loss terms, summed in order."""
    X = farray2(fdata, idata, 0)
    y = farray1(fdata, idata, 1)
    a = farray1(fdata, idata, 2)
    n, p = X.shape
    m = a.shape[0]
    W = theta.reshape((m, p))
    G = grad.reshape((m, p))
    H = work[: n * m].reshape((n, m))
    D = work[n * m : 2 * n * m].reshape((n, m))
    terms = work[2 * n * m : 2 * n * m + n]
    _matmul_share(X, W.T, H, j, nt)
    barrier(nt)
    for i in range(j, n, nt):
        terms[i] = _logistic_row(H[i], y[i], a, D[i], n)
    barrier(nt)
    _matmul_share(D.T, X, G, j, nt)
    if j != 0:
        return 0.0
    loss = 0.0
    for i in range(n):
        loss += terms[i]
    return loss / n


@jit
def _relu_outputs(H, a, out):
    """out_i = sum_j a_j ReLU(H_ij)."""
    for i in range(H.shape[0]):
        f = 0.0
        for j in range(a.shape[0]):
            if H[i, j] > 0.0:
                f += a[j] * H[i, j]
        out[i] = f


@jit
def _outputs(W, a, X, H, out):
    _matmul(X, W.T, H)
    _relu_outputs(H, a, out)


@jit
def _summarise(f, y, flipped, ft, yt, lin, d1, d2, a, out):
    """The recorded metrics from the training outputs ``f``, the test outputs ``ft``, the linear
    classifier's test scores ``lin`` and the projections ``d1, d2`` of every w_j on mu_1, mu_2."""
    n, nt = y.shape[0], yt.shape[0]
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
    test, agree = 0.0, 0.0
    for i in range(nt):
        if yt[i] * ft[i] > 0:
            test += 1.0
        if (ft[i] > 0) == (lin[i] > 0):
            agree += 1.0
    out[3] = test / nt
    out[4] = agree / nt
    s1, s2, al, al_cnt = 0.0, 0.0, 0.0, 0.0
    for j in range(a.shape[0]):
        if a[j] <= 0:
            continue
        s1 += abs(d1[j])
        s2 += abs(d2[j])
        if abs(d1[j]) > abs(d2[j]):
            al += abs(d1[j])
            al_cnt += 1.0
    out[5] = s1 / s2 if s2 > 0 else math.nan
    out[6] = al / al_cnt if al_cnt > 0 else math.nan


def metric_work_size(n: int, nt: int, m: int) -> int:
    """Scratch floats the metrics take from the member's work buffer (:func:`_metric_scratch`)."""
    return n + nt + max(n, nt) * m + 2 * m


@returns_view
@jit
def _metric_scratch(work, n, nt, m):
    """Outputs on the training and test points, the hidden layer and the two projections
    W mu_1, W mu_2, as views into ``work``."""
    f = work[:n]
    ft = work[n : n + nt]
    o = n + nt + max(n, nt) * m
    H = work[n + nt : o].reshape((max(n, nt), m))
    return f, ft, H, work[o : o + m], work[o + m : o + 2 * m]


@jit
def two_layer_metrics(theta, fdata, idata, mh, out, work):
    X = farray2(fdata, idata, 0)
    y = farray1(fdata, idata, 1)
    a = farray1(fdata, idata, 2)
    Xt = farray2(fdata, idata, 3)
    yt = farray1(fdata, idata, 4)
    mu1 = farray1(fdata, idata, 5)
    mu2 = farray1(fdata, idata, 6)
    lin = farray1(fdata, idata, 7)
    flipped = farray1(fdata, idata, 8)
    n, p = X.shape
    nt = Xt.shape[0]
    m = a.shape[0]
    W = theta.reshape((m, p))
    f, ft, H, d1, d2 = _metric_scratch(work, n, nt, m)
    _outputs(W, a, X, H[:n], f)
    _outputs(W, a, Xt, H[:nt], ft)
    _matvec(W, mu1, d1)
    _matvec(W, mu2, d2)
    _summarise(f, y, flipped, ft, yt, lin, d1, d2, a, out)
    return 0.0


def initial_weights(seed: int, omega_init: float, m: int, p: int) -> np.ndarray:
    """W_0 [m, p] with entries omega_init * N(0, 1) from the member's counter RNG (init stream)."""
    W0 = rng.normal(seed, (m, p), stream=rng.STREAM_INIT)
    W0 *= omega_init  # in place: the same products as omega_init * W0, without a second m x p array
    return W0


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
    #: the GPU trains one member per block, its threads sharing the products and the rows
    block_loss_grad = staticmethod(two_layer_block_loss_grad)  # (a Numba function binds as a method)
    uses_blas = True
    contiguous_members = True  # the kernels view theta and grad as matrices

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
        self.lin = X_test @ (y @ X)
        self._data = None  # packed on first use: the span form, built from this net, never needs it
        self.layout = Layout.of({"W": (self.m, p)})
        self.work_size = max(2 * n * self.m + n, metric_work_size(n, X_test.shape[0], self.m))

    def data(self):
        if self._data is None:  # a copy of X and X_test (xu2023: ~100 MB), so only when trained directly
            self._data = pack(self.X, self.y, self.a, self.X_test, self.y_test, self.mu1, self.mu2, self.lin,
                              self.flipped)
        return self._data

    def init(self, seeds, mh):
        return np.stack([initial_weights(int(s), mh[e, 0], self.m, self.p).ravel() for e, s in enumerate(seeds)])

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
        return summarise_numpy(self, self.outputs(theta, self.X), self.outputs(theta, self.X_test),
                               W @ self.mu1, W @ self.mu2)

    def span_form(self) -> "TwoLayerReLUSpan":
        """The same network and data in the span form (exact for plain, momentum or Nesterov SGD)."""
        return TwoLayerReLUSpan(self.X, self.y, self.a, self.X_test, self.y_test, self.mu1, self.mu2, self.flipped)


def summarise_numpy(model, f, ft, d1, d2) -> np.ndarray:
    """numpy oracle of :func:`_summarise`."""
    z = model.y * f
    fl = model.flipped > 0.5
    pos = model.a > 0
    d1, d2 = np.abs(d1[pos]), np.abs(d2[pos])
    return np.array([float(np.mean(np.logaddexp(0.0, -z))), float(np.mean(z > 0)),
                         float(np.mean(z[fl] > 0)) if fl.any() else np.nan, float(np.mean(model.y_test * ft > 0)),
                         float(np.mean((ft > 0) == (model.lin > 0))), float(d1.sum() / d2.sum()),
                         float(d1[d1 > d2].mean()) if (d1 > d2).any() else np.nan])


# ---- span form ---------------------------------------------------------------------------------
# Every GD step adds a combination of the training points to each neuron:
#     w_j(t) = w_j(0) + sum_i C_ij(t) x_i,   i.e.  W(t) = W_0 + C(t)^T X,
# with C(t+1) = C(t) - lr D(t) where D_ij = dL/d<w_j, x_i> is the kernel's n x m backward matrix.
# The pre-activations then need only Gram matrices:  X W(t)^T = X W_0^T + K C(t),  K = X X^T,
# and on test points X_test W_0^T + K_test C(t), K_test = X_test X^T. One step costs 2 n^2 m
# flops instead of 4 n p m (p / n = 200 times fewer at the paper's p = 40000, n = 200). The
# products with W_0 are state (theta blocks with zero gradient), so any update linear in the
# parameters and gradients (SGD with momentum, Nesterov, weight decay, schedules) acts on W and
# on (C, X W_0^T, ...) alike; coordinate-wise nonlinear rules (Adam, sign, clipping) do not, and
# :meth:`TwoLayerReLUSpan.check_optimizer` refuses them.
# fdata: K[n, n], y[n], a[m], Ktest[nt, n], ytest[nt], X mu1[n], X mu2[n], lin[nt], flipped[n]


@jit
def _span_preactivations(K, C, H0, H):
    _matmul(K, C, H)
    for i in range(H.shape[0]):
        for j in range(H.shape[1]):
            H[i, j] += H0[i, j]


@returns_view
@jit
def _span_blocks(theta, fdata, idata):
    """(K [n, n], y [n], a [m], C [n, m], X W_0^T [n, m]): the data and parameter blocks every
    span-form kernel reads, as views."""
    K = farray2(fdata, idata, 0)
    a = farray1(fdata, idata, 2)
    n, m = K.shape[0], a.shape[0]
    return K, farray1(fdata, idata, 1), a, theta[: n * m].reshape((n, m)), theta[n * m : 2 * n * m].reshape((n, m))


@jit
def span_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work):
    K, y, a, C, H0 = _span_blocks(theta, fdata, idata)
    n, m = C.shape
    nm = n * m
    H = work[:nm].reshape((n, m))
    _span_preactivations(K, C, H0, H)
    loss = _logistic_backward(H, y, a, grad[:nm].reshape((n, m)))
    for k in range(nm, grad.shape[0]):
        grad[k] = 0.0
    return loss


@jit
def span_samples(fdata, idata):
    """The number of training points n (the loss is their mean)."""
    return farray2(fdata, idata, 0).shape[0]


@jit
def span_partial_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work, first, stride):
    """Training points i = first, first + stride, ... < n: their pre-activations
    H_i = K_i C + (X W_0^T)_i (work[:m]), their rows D_i of the coefficient gradient written to
    ``grad`` (row i is point i's alone: ``sample_grads_disjoint``; the other coordinates are left
    as they are) and the sum of their loss terms returned. Over all points (0, 1) and divided by n
    this is :func:`span_loss_grad`, whose K C is one BLAS product on the CPU (so equal to
    rounding); the GPU engine gives each of a block's threads one residue class of the points."""
    K, y, a, C, H0 = _span_blocks(theta, fdata, idata)
    n, m = C.shape
    D = grad[: n * m].reshape((n, m))
    h = work[:m]
    total = 0.0
    for i in range(first, n, stride):
        for j in range(m):
            h[j] = 0.0
        for k in range(n):  # row i of K C, each entry summed over k in order (as the GPU's matmul)
            kik = K[i, k]
            for j in range(m):
                h[j] += kik * C[k, j]
        for j in range(m):
            h[j] += H0[i, j]
        total += _logistic_row(h, y[i], a, D[i], n)
    return total


@jit
def span_metrics(theta, fdata, idata, mh, out, work):
    K, y, a, C, H0 = _span_blocks(theta, fdata, idata)
    Kt = farray2(fdata, idata, 3)
    yt = farray1(fdata, idata, 4)
    Xmu1 = farray1(fdata, idata, 5)
    Xmu2 = farray1(fdata, idata, 6)
    lin = farray1(fdata, idata, 7)
    flipped = farray1(fdata, idata, 8)
    n = K.shape[0]
    nt = Kt.shape[0]
    m = a.shape[0]
    nm = n * m
    Ht0 = theta[2 * nm : 2 * nm + nt * m].reshape((nt, m))
    P1 = theta[2 * nm + nt * m : 2 * nm + nt * m + m]
    P2 = theta[2 * nm + nt * m + m : 2 * nm + nt * m + 2 * m]
    f, ft, H, d1, d2 = _metric_scratch(work, n, nt, m)
    _span_preactivations(K, C, H0, H[:n])
    _relu_outputs(H[:n], a, f)
    _span_preactivations(Kt, C, Ht0, H[:nt])
    _relu_outputs(H[:nt], a, ft)
    _matvec(C.T, Xmu1, d1)
    _matvec(C.T, Xmu2, d2)
    for j in range(m):
        d1[j] += P1[j]
        d2[j] += P2[j]
    _summarise(f, y, flipped, ft, yt, lin, d1, d2, a, out)
    return 0.0


class TwoLayerReLUSpan(Model):
    """:class:`TwoLayerReLU` in the span form W(t) = W_0 + C(t)^T X (see the comment above the
    kernels): the same network, data, initial W_0 (same RNG counters) and metrics, trained
    through n x n Gram matrices. Parameters: C [n, m] and the fixed products X W_0^T [n, m],
    X_test W_0^T [nt, m], W_0 mu_1 [m], W_0 mu_2 [m]. Only ``sgd`` (with momentum, dampening,
    Nesterov, weight decay and any schedule; no clipping) is exact in this form. A last scalar
    s (from 1) tracks the factor weight decay applies to W_0, so W = s W_0 + C^T X."""

    name = "two_layer_relu_span"
    metric_names = TwoLayerReLU.metric_names
    hyper_spec = TwoLayerReLU.hyper_spec
    kernels = (span_loss_grad, span_metrics)
    #: the GPU trains one member per block, its threads sharing the training points
    sample_kernels = (span_partial_loss_grad, span_samples)
    sample_grads_disjoint = True
    uses_blas = True
    contiguous_members = True  # the kernels view theta and grad as matrices

    def __init__(self, X, y, a, X_test, y_test, mu1, mu2, flipped=None):
        net = TwoLayerReLU(X, y, a, X_test, y_test, mu1, mu2, flipped)  # validates
        self.net = net
        self.n, self.p, self.m = net.n, net.p, net.m
        self.y, self.a, self.y_test, self.flipped, self.lin = net.y, net.a, net.y_test, net.flipped, net.lin
        nt = len(net.y_test)
        self.K = net.X @ net.X.T
        self.K_test = net.X_test @ net.X.T
        self.X_mu1, self.X_mu2 = net.X @ net.mu1, net.X @ net.mu2
        self._data = pack(self.K, net.y, net.a, self.K_test, net.y_test, self.X_mu1, self.X_mu2, net.lin, net.flipped)
        self.layout = Layout.of({"C": (self.n, self.m), "XW0": (self.n, self.m), "XtestW0": (nt, self.m),
                                 "W0mu1": self.m, "W0mu2": self.m, "W0scale": 1})
        self.work_size = max(self.n * self.m, metric_work_size(self.n, nt, self.m))
        self.sample_work_size = self.m  # one point's pre-activations

    def data(self):
        return self._data

    @classmethod
    def check_optimizer(cls, spec, resolved, where=""):
        if spec.name != "sgd":
            raise ValueError(f"{where}optimizer={spec.name!r}: model {cls.name!r} (the span form) is exact only for "
                             f"'sgd' (momentum, Nesterov and weight decay included); use TwoLayerReLU for other rules")
        for key in ("max_grad_norm", "clip_fraction", "clip_value"):
            if resolved.get(key, 0.0) != 0.0:
                raise ValueError(f"{where}{key}={resolved[key]!r}: gradient clipping is not linear, so model "
                                 f"{cls.name!r} (the span form) needs it 0; use TwoLayerReLU")

    def init(self, seeds, mh):
        nm = self.n * self.m
        theta = np.zeros((len(seeds), self.layout.size))
        for e, s in enumerate(seeds):
            W0 = initial_weights(int(s), mh[e, 0], self.m, self.p)
            theta[e, nm:] = np.concatenate([(self.net.X @ W0.T).ravel(), (self.net.X_test @ W0.T).ravel(),
                                            W0 @ self.net.mu1, W0 @ self.net.mu2, [1.0]])
        return theta

    def weights(self, theta, seed: int, omega_init: float) -> np.ndarray:
        """W = s W_0 + C^T X [m, p] of one member (W_0 rebuilt from the member's seed and init
        scale; s, the last parameter, starts at 1 and shrinks only under weight decay)."""
        theta = np.asarray(theta)
        C = theta[: self.n * self.m].reshape(self.n, self.m)
        return theta[-1] * initial_weights(seed, omega_init, self.m, self.p) + C.T @ self.net.X

    def projections(self, theta) -> tuple[np.ndarray, np.ndarray]:
        """(<w_j, mu_1>, <w_j, mu_2>) for every neuron j of one member, without forming W."""
        C, _, _, P = self._blocks(np.asarray(theta))
        return P[0] + C.T @ self.X_mu1, P[1] + C.T @ self.X_mu2

    def config(self):
        return {**self.net.config(), "name": self.name, "form": "span",
                "layout": {b.name: list(b.shape) for b in self.layout.blocks}}

    # ---- numpy oracle -------------------------------------------------------------------------
    def _blocks(self, theta):
        n, m, nt = self.n, self.m, len(self.y_test)
        nm = n * m
        C = theta[:nm].reshape(n, m)
        H0 = theta[nm : 2 * nm].reshape(n, m)
        Ht0 = theta[2 * nm : 2 * nm + nt * m].reshape(nt, m)
        P = theta[2 * nm + nt * m : -1].reshape(2, m)
        return C, H0, Ht0, P

    def loss_grad_numpy(self, theta, mh, key, t):
        C, H0, _, _ = self._blocks(theta)
        H = self.K @ C + H0
        z = self.y * (np.maximum(H, 0.0) @ self.a)
        c = -np.exp(-np.logaddexp(0.0, z)) * self.y / self.n
        grad = np.zeros_like(theta)
        grad[: C.size] = ((H > 0) * c[:, None] * self.a[None, :]).ravel()
        return float(np.mean(np.logaddexp(0.0, -z))), grad

    def metrics_numpy(self, theta, mh):
        C, H0, Ht0, P = self._blocks(theta)
        f = np.maximum(self.K @ C + H0, 0.0) @ self.a
        ft = np.maximum(self.K_test @ C + Ht0, 0.0) @ self.a
        return summarise_numpy(self, f, ft, P[0] + C.T @ self.X_mu1, P[1] + C.T @ self.X_mu2)
