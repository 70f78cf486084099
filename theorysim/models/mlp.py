"""A fully connected network trained on the squared loss: ``MLP(widths, activation, parameterization, W_std, b_std)``.

``widths = (n_0, n_1, ..., n_L, n_out)``: input dimension, L hidden widths, output dimension; L + 1
Dense layers, the activation after each hidden one. With a^0 = x (Jacot et al. 2018, sec. 2, and
neural-tangents' ``stax.Dense``)::

    h^{l+1} = s_l W^l a^l + beta_l b^l,   a^{l+1} = sigma(h^{l+1}),   f(x) = h^{L+1}

* ``parameterization="ntk"``: s_l = W_std / sqrt(n_l), beta_l = b_std, every entry of W^l and b^l
  drawn N(0, 1) at init (Jacot's beta is b_std; his experiments use W_std = 1, b_std = 0.1);
* ``parameterization="standard"``: s_l = beta_l = 1, W^l ~ N(0, W_std^2 / n_l), b^l ~ N(0, b_std^2).

The two give the same function at init; they differ in the gradient (hence the NTK and the useful
learning rates). ``activation``: ``"relu"`` (derivative 0 at 0) or ``"erf"``.

Loss on the training set (X [N, n_0], Y [N, n_out]): ``L = 1/(2N) sum_i ||f(x_i) - y_i||^2``, the
empirical-measure cost of Jacot's sec. 5 (footnote 2), so GD with step eta on the training outputs
is f <- f - (eta / N) Theta (f - y) in the linearised regime. Backprop, for all N inputs at once
(one BLAS product per layer and pass on the CPU, loops on the GPU)::

    D^{L+1} = (F - Y) / N;   grad W^l = s_l D^{l+1 T} A^l;   grad b^l = beta_l sum_i D^{l+1}_i;
    D^l = sigma'(H^l) * (s_l D^{l+1} W^l)

Recorded: ``loss`` and, for each probe input p and output o, the network output ``f[p]`` (or
``f[p,o]`` when n_out > 1): the function-space trajectory at chosen points.

Per-member data: X of shape [E, N, n_0] and Y of shape [E, N, n_out] give member e its own training
set (probe inputs stay shared).
"""
from __future__ import annotations

import math

import numpy as np

from theorysim.core import rng
from theorysim.core.config import jit
from theorysim.core.data import farray2, iarray1, pack, pack_members
from theorysim.core.layout import Layout
from theorysim.core.block import barrier
from theorysim.core.linalg import matmul, matmul_share
from theorysim.models.base import Model

ACTIVATIONS = ("relu", "erf")
PARAMETERIZATIONS = ("ntk", "standard")
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# fdata: X[N, n0], Y[N, n_out], probes[Np, n0], coef[2, L+1] (row 0: s_l, row 1: beta_l)
# idata: widths[L+2], meta (activation id, 1 when the probes are the training inputs)
# work (loss_grad): H^1, A^1, ..., H^L, A^L, F (each [N, n_l]), then two [N, max n_l] buffers


@jit
def _act(h, kind):
    if kind == 0:
        return h if h > 0.0 else 0.0
    return math.erf(h)


@jit
def _dact(h, kind):
    if kind == 0:
        return 1.0 if h > 0.0 else 0.0
    return _TWO_OVER_SQRT_PI * math.exp(-h * h)


@jit
def _param_offset(widths, layer):
    """Where Dense layer ``layer``'s W (then b) starts in theta."""
    o = 0
    for j in range(layer):
        o += widths[j + 1] * widths[j] + widths[j + 1]
    return o


@jit
def _stored_offset(widths, N, layer):
    """Where H^layer (then A^layer) starts in the loss kernel's work (layer >= 1)."""
    o = 0
    for j in range(1, layer):
        o += 2 * N * widths[j]
    return o


@jit
def _affine(H, b, s, beta, j, nt):
    """H <- s H + beta b (b broadcast over rows); rows j, j + nt, ... (a block kernel's share)."""
    for i in range(j, H.shape[0], nt):
        for c in range(H.shape[1]):
            H[i, c] = s * H[i, c] + beta * b[c]


@jit
def _activate(H, A, kind, j, nt):
    """A = sigma(H) on rows j, j + nt, ..."""
    for i in range(j, H.shape[0], nt):
        for c in range(H.shape[1]):
            A[i, c] = _act(H[i, c], kind)


@jit
def mlp_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work):
    """The loss and its gradient by backpropagation (module docstring): the block kernel run as
    one thread."""
    return mlp_block_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work, 0, 1)


@jit
def mlp_block_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work, j, nt):
    """``Model.block_loss_grad``: thread j of nt computes its share of every product
    (:func:`~theorysim.core.linalg.matmul_share`) and rows j, j + nt, ... of every elementwise
    step, with a barrier wherever a step reads what other threads wrote; thread 0 returns the
    loss (summed in order)."""
    X = farray2(fdata, idata, 0)
    Y = farray2(fdata, idata, 1)
    coef = farray2(fdata, idata, 3)
    widths = iarray1(idata, 4)
    kind = iarray1(idata, 5)[0]
    N = X.shape[0]
    L1 = widths.shape[0] - 1  # Dense layers
    # forward, keeping every layer's pre-activations and activations
    src = X
    for layer in range(L1):
        n_in, n_o = widths[layer], widths[layer + 1]
        o = _param_offset(widths, layer)
        W = theta[o : o + n_o * n_in].reshape((n_o, n_in))
        h0 = _stored_offset(widths, N, layer + 1)
        H = work[h0 : h0 + N * n_o].reshape((N, n_o))
        matmul_share(src, W.T, H, j, nt)
        barrier(nt)
        _affine(H, theta[o + n_o * n_in : o + n_o * n_in + n_o], coef[0, layer], coef[1, layer], j, nt)
        if layer < L1 - 1:
            A = work[h0 + N * n_o : h0 + 2 * N * n_o].reshape((N, n_o))
            _activate(H, A, kind, j, nt)
            src = A
        barrier(nt)
    # output residual D = (F - Y) / N and the loss
    n_out = widths[L1]
    F = work[_stored_offset(widths, N, L1) : _stored_offset(widths, N, L1) + N * n_out].reshape((N, n_out))
    widest = 0
    for layer in range(1, L1 + 1):
        widest = max(widest, widths[layer])
    base = _stored_offset(widths, N, L1) + N * n_out
    D = work[base : base + N * n_out].reshape((N, n_out))
    for i in range(j, N, nt):
        for c in range(n_out):
            D[i, c] = (F[i, c] - Y[i, c]) / N
    barrier(nt)
    # backward: D holds dL/dH^{layer+1}
    flip = 0
    for layer in range(L1 - 1, -1, -1):
        n_in, n_o = widths[layer], widths[layer + 1]
        o = _param_offset(widths, layer)
        s, beta = coef[0, layer], coef[1, layer]
        W = theta[o : o + n_o * n_in].reshape((n_o, n_in))
        GW = grad[o : o + n_o * n_in].reshape((n_o, n_in))
        gb = grad[o + n_o * n_in : o + n_o * n_in + n_o]
        if layer == 0:
            matmul_share(D.T, X, GW, j, nt)
        else:
            a0 = _stored_offset(widths, N, layer) + N * n_in
            matmul_share(D.T, work[a0 : a0 + N * n_in].reshape((N, n_in)), GW, j, nt)
        barrier(nt)
        for o_ in range(j, n_o, nt):
            acc = 0.0
            for i in range(N):
                acc += D[i, o_]
            gb[o_] = beta * acc
            for c in range(n_in):
                GW[o_, c] *= s
        if layer > 0:
            flip = 1 - flip
            start = base + flip * N * widest
            Dn = work[start : start + N * n_in].reshape((N, n_in))
            matmul_share(D, W, Dn, j, nt)
            barrier(nt)
            h0 = _stored_offset(widths, N, layer)
            H = work[h0 : h0 + N * n_in].reshape((N, n_in))
            for i in range(j, N, nt):
                for c in range(n_in):
                    Dn[i, c] *= s * _dact(H[i, c], kind)
            barrier(nt)
            D = Dn
    if j != 0:
        return 0.0
    loss = 0.0
    for i in range(N):
        for c in range(n_out):
            r = F[i, c] - Y[i, c]
            loss += r * r
    return 0.5 * loss / N


@jit
def _forward(theta, Xin, widths, coef, kind, buf, out):
    """out[Nin, n_out] = f(Xin), through two ping-pong buffers of Nin * max(n_l) floats in ``buf``."""
    Nin = Xin.shape[0]
    L1 = widths.shape[0] - 1
    half = buf.shape[0] // 2
    src = Xin
    for layer in range(L1):
        n_in, n_o = widths[layer], widths[layer + 1]
        o = _param_offset(widths, layer)
        W = theta[o : o + n_o * n_in].reshape((n_o, n_in))
        if layer == L1 - 1:
            dst = out
        else:
            start = (layer % 2) * half
            dst = buf[start : start + Nin * n_o].reshape((Nin, n_o))
        matmul(src, W.T, dst)
        _affine(dst, theta[o + n_o * n_in : o + n_o * n_in + n_o], coef[0, layer], coef[1, layer], 0, 1)
        if layer < L1 - 1:
            _activate(dst, dst, kind, 0, 1)
        src = dst


@jit
def mlp_metrics(theta, fdata, idata, mh, out, work):
    """out = (training loss, f(probe_0), ..., f(probe_{Np-1})) (outputs flattened probe-major)."""
    X = farray2(fdata, idata, 0)
    Y = farray2(fdata, idata, 1)
    probes = farray2(fdata, idata, 2)
    coef = farray2(fdata, idata, 3)
    widths = iarray1(idata, 4)
    meta = iarray1(idata, 5)
    kind, probes_are_inputs = meta[0], meta[1] == 1
    N, Np = X.shape[0], probes.shape[0]
    n_out = widths[widths.shape[0] - 1]
    widest = 0
    for layer in range(1, widths.shape[0]):
        widest = max(widest, widths[layer])
    rows = max(N, Np)
    buf = work[: 2 * rows * widest]
    F = work[2 * rows * widest : 2 * rows * widest + N * n_out].reshape((N, n_out))
    _forward(theta, X, widths, coef, kind, buf[: 2 * N * widest], F)
    loss = 0.0
    for i in range(N):
        for j in range(n_out):
            r = F[i, j] - Y[i, j]
            loss += r * r
    out[0] = 0.5 * loss / N
    if out.shape[0] > 1:
        Fp = F  # probes that are the training inputs: their outputs are F (the same forward pass)
        if not probes_are_inputs:
            Fp = work[2 * rows * widest : 2 * rows * widest + Np * n_out].reshape((Np, n_out))
            _forward(theta, probes, widths, coef, kind, buf[: 2 * Np * widest], Fp)
        for p in range(Np):
            for j in range(n_out):
                out[1 + p * n_out + j] = Fp[p, j]
    return 0.0


def _choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name}={value!r}: expected one of {', '.join(map(repr, allowed))}")
    return value


def _finite_array(name, a, ndim):
    a = np.ascontiguousarray(a, dtype=np.float64)
    if a.ndim not in ndim:
        raise ValueError(f"{name}: expected {' or '.join(f'{d}-d' for d in ndim)} array, got shape {a.shape}")
    if a.size == 0 or not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected a non-empty array of finite values")
    return a


class MLP(Model):
    """Fully connected network on the squared loss (see the module docstring for the equations).

    ``widths`` (n_0, n_1, ..., n_L, n_out), ``activation`` ("relu" or "erf"), ``parameterization``
    ("ntk" or "standard"), ``W_std``, ``b_std``; training inputs ``X`` [N, n_0] and targets ``Y``
    [N, n_out] (or [N] when n_out = 1), or per member [E, N, n_0] and [E, N, n_out]; ``probes``
    [Np, n_0]: inputs whose outputs are recorded as metrics ``f[p]``.
    """

    name = "mlp"
    metric_names = ("loss",)
    hyper_spec = {}
    kernels = (mlp_loss_grad, mlp_metrics)
    #: the GPU trains one member per block, its threads sharing every product and elementwise step
    block_loss_grad = staticmethod(mlp_block_loss_grad)  # (a Numba function binds as a method)
    uses_blas = True
    contiguous_members = True  # the kernels view slices of theta, grad and work as matrices

    def __init__(self, widths, X, Y, activation: str = "relu", parameterization: str = "ntk", W_std: float = 1.0,
                 b_std: float = 0.0, probes=None):
        widths = tuple(widths)
        if len(widths) < 2 or any(isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1
                                  for w in widths):
            raise ValueError(f"widths={widths!r}: expected (n_0, hidden widths..., n_out), positive integers")
        self.widths = tuple(int(w) for w in widths)
        self.activation = _choice("activation", activation, ACTIVATIONS)
        self.parameterization = _choice("parameterization", parameterization, PARAMETERIZATIONS)
        for key, v in (("W_std", W_std), ("b_std", b_std)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{key}={v!r}: expected a finite number >= 0")
        self.W_std, self.b_std = float(W_std), float(b_std)
        n0, n_out = self.widths[0], self.widths[-1]
        X = _finite_array("X", X, (2, 3))
        Y = _finite_array("Y", Y, (1, 2, 3))
        if Y.ndim == X.ndim - 1 and n_out == 1:
            Y = Y[..., None]
        if X.shape[-1] != n0:
            raise ValueError(f"X: inputs of dimension {X.shape[-1]}, widths[0] = {n0}")
        if Y.shape != X.shape[:-1] + (n_out,):
            raise ValueError(f"Y: expected shape {X.shape[:-1] + (n_out,)}, got {Y.shape}")
        self.X, self.Y = X, Y
        self.data_members = X.shape[0] if X.ndim == 3 else 0
        probes = None if probes is None else _finite_array("probes", probes, (2,))
        if probes is not None and probes.shape[1] != n0:
            raise ValueError(f"probes: inputs of dimension {probes.shape[1]}, widths[0] = {n0}")
        self.probes = probes
        L1 = len(self.widths) - 1
        blocks = {}
        for layer in range(L1):
            blocks[f"W{layer}"] = (self.widths[layer + 1], self.widths[layer])
            blocks[f"b{layer}"] = (self.widths[layer + 1],)
        self.layout = Layout.of(blocks)
        if self.parameterization == "ntk":
            self.scales = np.array([self.W_std / math.sqrt(n) for n in self.widths[:-1]])
            self.betas = np.full(L1, self.b_std)
        else:
            self.scales, self.betas = np.ones(L1), np.ones(L1)
        names = ["loss"]
        if probes is not None:
            names += [f"f[{p}]" if n_out == 1 else f"f[{p},{o}]" for p in range(len(probes)) for o in range(n_out)]
        self.metric_names = tuple(names)
        N = X.shape[-2]
        widest = max(self.widths[1:])
        Np = 0 if probes is None else len(probes)
        rows = max(N, Np)
        stored = 2 * N * sum(self.widths[1:-1]) + N * n_out
        self.work_size = max(stored + 2 * N * widest, 2 * rows * widest + rows * n_out)

    # ---- engine data -----------------------------------------------------------------------
    def _pack_args(self, X, Y):
        probes = self.probes if self.probes is not None else np.zeros((1, self.widths[0]))
        same = int(self.probes is not None and np.array_equal(probes, X))  # recorded f(probes) = training outputs
        return (X, Y, probes, np.stack([self.scales, self.betas]), np.array(self.widths, dtype=np.int64),
                np.array([ACTIVATIONS.index(self.activation), same], dtype=np.int64))

    def data(self):
        if self.data_members:
            return pack_members([self._pack_args(self.X[e], self.Y[e]) for e in range(self.data_members)])
        return pack(*self._pack_args(self.X, self.Y))

    def for_member(self, m: int) -> "MLP":
        if not self.data_members:
            return self
        return MLP(self.widths, self.X[m], self.Y[m], self.activation, self.parameterization, self.W_std,
                   self.b_std, self.probes)

    def init(self, seeds, mh):
        """theta_0 from each member's seed: N(0, 1) entries (ntk) or N(0, W_std^2 / n_l) and
        N(0, b_std^2) (standard), drawn from the counter RNG (stream INIT) in layout order."""
        P = self.layout.size
        out = np.empty((len(seeds), P))
        std = np.ones(P)
        if self.parameterization == "standard":
            for layer in range(len(self.widths) - 1):
                for name, value in ((f"W{layer}", self.W_std / math.sqrt(self.widths[layer])),
                                    (f"b{layer}", self.b_std)):
                    block = self.layout[name]
                    std[block.offset : block.offset + block.size] = value
        for e, seed in enumerate(seeds):
            out[e] = std * rng.normal(int(seed), (P,), stream=rng.STREAM_INIT)
        return out

    def config(self):
        cfg = {**super().config(), "widths": list(self.widths), "activation": self.activation,
               "parameterization": self.parameterization, "W_std": self.W_std, "b_std": self.b_std,
               "train_size": int(self.X.shape[-2]), "probes": 0 if self.probes is None else len(self.probes)}
        cfg.pop("layout")  # one block per layer: the widths say it
        if self.data_members:
            cfg["data_members"] = self.data_members
        return cfg

    # ---- numpy oracle ----------------------------------------------------------------------
    def _shared(self, what: str) -> None:
        if self.data_members:
            raise ValueError(f"{what}: this model has per-member data; call it on model.for_member(m)")

    def weights(self, theta) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(W^l, b^l)] of one parameter vector."""
        blocks = self.layout.unpack(np.asarray(theta, dtype=np.float64))
        return [(blocks[f"W{layer}"], blocks[f"b{layer}"]) for layer in range(len(self.widths) - 1)]

    def forward_numpy(self, theta, X) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(pre-activations [H^1, ..., H^{L+1}], layer inputs [A^0 = X, A^1, ..., A^L]), by numpy."""
        A, Hs, As = np.asarray(X, dtype=np.float64), [], []
        act = numpy_activation(self.activation)[0]
        for layer, (W, b) in enumerate(self.weights(theta)):
            As.append(A)
            H = self.scales[layer] * (A @ W.T) + self.betas[layer] * b
            Hs.append(H)
            A = act(H)
        return Hs, As

    def outputs(self, theta, X) -> np.ndarray:
        """f(X) [N, n_out]."""
        return self.forward_numpy(theta, X)[0][-1]

    def backprop_numpy(self, theta, X) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(layer inputs A^l [N, n_l], output sensitivities Delta^l = d f / d h^{l+1} [N, n_out, n_{l+1}])
        for every Dense layer l: the factors of the exact Jacobian, d f_o / d W^l = s_l Delta^l_o (x) A^l
        and d f_o / d b^l = beta_l Delta^l_o."""
        Hs, As = self.forward_numpy(theta, X)
        dact = numpy_activation(self.activation)[1]
        N, n_out = len(As[0]), self.widths[-1]
        delta = np.broadcast_to(np.eye(n_out), (N, n_out, n_out)).copy()
        deltas = [delta]
        weights = self.weights(theta)
        for layer in range(len(weights) - 1, 0, -1):
            W = weights[layer][0]
            back = (delta.reshape(-1, W.shape[0]) @ W).reshape(N, n_out, W.shape[1])  # one BLAS product
            delta = self.scales[layer] * back * dact(Hs[layer - 1])[:, None, :]
            deltas.append(delta)
        return As, deltas[::-1]

    def loss_grad_numpy(self, theta, mh, key, t):
        self._shared("loss_grad_numpy")
        N = len(self.X)
        As, deltas = self.backprop_numpy(theta, self.X)
        R = self.outputs(theta, self.X) - self.Y
        grads = []
        for layer, (A, delta) in enumerate(zip(As, deltas)):
            D = np.einsum("no,noj->nj", R, delta) / N  # dL/dh^{l+1}
            grads += [self.scales[layer] * (D.T @ A), self.betas[layer] * D.sum(0)]
        return 0.5 * float(np.sum(R * R)) / N, np.concatenate([g.ravel() for g in grads])

    def metrics_numpy(self, theta, mh):
        self._shared("metrics_numpy")
        R = self.outputs(theta, self.X) - self.Y
        out = [0.5 * float(np.sum(R * R)) / len(self.X)]
        if self.probes is not None:
            out += list(self.outputs(theta, self.probes).ravel())
        return np.array(out)


def numpy_activation(name: str):
    """(sigma, sigma') of ``"relu"`` or ``"erf"`` as numpy functions, the kernels' conventions
    (ReLU'(0) = 0)."""
    from scipy import special

    if name == "relu":
        return (lambda h: np.maximum(h, 0.0)), (lambda h: (h > 0.0).astype(np.float64))
    if name == "erf":
        return special.erf, (lambda h: _TWO_OVER_SQRT_PI * np.exp(-h * h))
    raise ValueError(f"activation={name!r}: expected one of {', '.join(map(repr, ACTIVATIONS))}")
