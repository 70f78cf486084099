"""Linear self-attention (LSA) for in-context regression, in Ahn et al.'s form (2023, eq. 3-4).

Tokens are the columns of Z in R^{(d+1) x (N+1)}: z_i = (x_i, y_i) for the N context pairs and
z_q = (x_q, 0) last. One layer:

    Z <- Z + (1/N) P Z M (Z^T Q Z),   M = diag(I_N, 0)   (the query is neither key nor value)

and the prediction is minus the query's y-entry after the last layer, y_hat = -[Z_L]_{d+1, N+1}
(the sign convention of von Oswald et al. and Ahn et al.: learned Q blocks are then negative
for positive step sizes). Here: a numpy forward pass and the weight constructions; the Numba
kernel with hand-written gradients for pretraining builds on the same definitions.
"""
from __future__ import annotations

import numpy as np


def tokens(X: np.ndarray, y: np.ndarray, xq: np.ndarray) -> np.ndarray:
    """Z [B, d+1, N+1] from contexts X [B, N, d], labels y [B, N], queries xq [B, d]."""
    B, N, d = X.shape
    Z = np.zeros((B, d + 1, N + 1))
    Z[:, :d, :N] = np.swapaxes(X, 1, 2)
    Z[:, d, :N] = y
    Z[:, :d, N] = xq
    return Z


def forward(Z: np.ndarray, Ps, Qs, token_clip: float = 0.0) -> np.ndarray:
    """Apply the layers (lists of (d+1, d+1) matrices) and return the final Z."""
    N = Z.shape[2] - 1
    for P, Q in zip(Ps, Qs):
        ctx = Z[:, :, :N]
        G = ctx @ np.swapaxes(ctx, 1, 2)  # Z M Z^T, [B, d+1, d+1]
        Z = Z + (P @ G @ Q) @ Z / N
        if token_clip > 0:
            Z = np.clip(Z, -token_clip, token_clip)
    return Z


def predict(X, y, xq, Ps, Qs, token_clip: float = 0.0) -> np.ndarray:
    """y_hat = -(query y-entry after the last layer)."""
    return -forward(tokens(X, y, xq), Ps, Qs, token_clip)[:, -1, -1]


def preconditioned_gd_weights(gammas, d: int):
    """P = [[0, 0], [0, 1]], Q = -[[Gamma^T, 0], [0, 0]] per layer: layer k is one step
    w <- w - Gamma_k grad L(w) (Ahn et al. 2023, eq. 8; von Oswald et al. 2023, A.1 eq. 8 with
    Gamma = eta I)."""
    Ps, Qs = [], []
    for g in gammas:
        G = g * np.eye(d) if np.ndim(g) == 0 else np.asarray(g, dtype=np.float64)
        P = np.zeros((d + 1, d + 1))
        P[d, d] = 1.0
        Q = np.zeros((d + 1, d + 1))
        Q[:d, :d] = -G.T
        Ps.append(P)
        Qs.append(Q)
    return Ps, Qs


def gdpp_weights(etas, gammas, d: int, n_context: int):
    """von Oswald's GD++ layer (A.10 eq. 23) in this form: P = diag(-N gamma I, -eta),
    Q = [[I, 0], [0, 0]] (their W_V = [[I, 0], [0, -I]], P = diag(-gamma I, eta/N), W_K = W_Q)."""
    Ps, Qs = [], []
    for eta, gamma in zip(etas, gammas):
        P = np.zeros((d + 1, d + 1))
        P[:d, :d] = -n_context * gamma * np.eye(d)
        P[d, d] = -eta
        Q = np.zeros((d + 1, d + 1))
        Q[:d, :d] = np.eye(d)
        Ps.append(P)
        Qs.append(Q)
    return Ps, Qs


# =============================================================================================
# The trainable model: Numba kernels with hand-written gradients, prompts drawn in the kernel.
import math  # noqa: E402

from theorysim.core.config import jit  # noqa: E402
from theorysim.core import rng  # noqa: E402
from theorysim.core.data import farray1, farray2, iarray1, pack  # noqa: E402
from theorysim.core.layout import Layout  # noqa: E402
from theorysim.models.base import Model  # noqa: E402
from theorysim.setups.icl import task  # noqa: E402
from theorysim.core.bounds import NONNEG  # noqa: E402

# data entries: 0 sqrt(Sigma), 1 sqrt(Sigma_w), 2 ints (d, N, L, batch, x_dist 0 gaussian / 1 uniform,
# response 0 linear / 1 tanh / 2 relu, eval prompts, Sx is I, Sw is I), 3 eval X [Be, (N+1) d], 4 eval y [Be, N+1],
# 5 scalars (uniform_a, noise_std)
from theorysim.setups.icl.task import STREAM_NOISE, STREAM_W, STREAM_X  # noqa: E402  (the prompt streams)


# The small matrix products below compute four output entries per pass over the shared index, in
# four independent accumulators: each entry is still summed over that index in order from 0.0, so
# the values are those of one entry at a time, but four chains run at once instead of one.


@jit
def _mm(A, B, out, ncols):
    """out[:, :ncols] = A @ B[:, :ncols]."""
    K = A.shape[1]
    for i in range(A.shape[0]):
        ai = A[i]
        t = 0
        while t + 4 <= ncols:
            s0 = s1 = s2 = s3 = 0.0
            for k in range(K):
                a = ai[k]
                bk = B[k]
                s0 += a * bk[t]
                s1 += a * bk[t + 1]
                s2 += a * bk[t + 2]
                s3 += a * bk[t + 3]
            out[i, t], out[i, t + 1], out[i, t + 2], out[i, t + 3] = s0, s1, s2, s3
            t += 4
        while t < ncols:
            s = 0.0
            for k in range(K):
                s += ai[k] * B[k, t]
            out[i, t] = s
            t += 1


@jit
def _mm_nt(A, B, out, ncols):
    """out = A[:, :ncols] @ B[:, :ncols]^T."""
    nb = B.shape[0]
    for i in range(A.shape[0]):
        ai = A[i]
        j = 0
        while j + 4 <= nb:
            b0, b1, b2, b3 = B[j], B[j + 1], B[j + 2], B[j + 3]
            s0 = s1 = s2 = s3 = 0.0
            for t in range(ncols):
                x = ai[t]
                s0 += x * b0[t]
                s1 += x * b1[t]
                s2 += x * b2[t]
                s3 += x * b3[t]
            out[i, j], out[i, j + 1], out[i, j + 2], out[i, j + 3] = s0, s1, s2, s3
            j += 4
        while j < nb:
            bj = B[j]
            s = 0.0
            for t in range(ncols):
                s += ai[t] * bj[t]
            out[i, j] = s
            j += 1


@jit
def _mm_tn(A, B, out):
    """out = A^T @ B."""
    K, ncols = A.shape[0], B.shape[1]
    for i in range(A.shape[1]):
        t = 0
        while t + 4 <= ncols:
            s0 = s1 = s2 = s3 = 0.0
            for k in range(K):
                a = A[k, i]
                bk = B[k]
                s0 += a * bk[t]
                s1 += a * bk[t + 1]
                s2 += a * bk[t + 2]
                s3 += a * bk[t + 3]
            out[i, t], out[i, t + 1], out[i, t + 2], out[i, t + 3] = s0, s1, s2, s3
            t += 4
        while t < ncols:
            s = 0.0
            for k in range(K):
                s += A[k, i] * B[k, t]
            out[i, t] = s
            t += 1


@jit
def _mm_acc(A, B, out, scale, tmp):
    """out += scale * A @ B (square blocks), through ``tmp`` (at least as large as out)."""
    n = B.shape[1]
    _mm(A, B, tmp, n)
    for i in range(A.shape[0]):
        for j in range(n):
            out[i, j] += scale * tmp[i, j]


@jit
def _layer_forward(Z, P, Q, A, R, out, N, S, clip):
    """out = Z + (1/N) (P A) R with A = Z M Z^T and R = Q Z, kept for the backward pass
    (S: a (d+1)^2 scratch), then clipped to [-clip, clip] when clip > 0 (von Oswald et al.'s
    token clipping for deep models). Cost O((d+1)^2 (N+1) + (d+1)^3) per prompt."""
    D, T = Z.shape
    _gram_context(Z, A, N)
    _mm(Q, Z, R, T)
    _mm(P, A, S, D)
    _mm(S, R, out, T)
    for i in range(D):
        for t in range(T):
            v = Z[i, t] + out[i, t] / N
            if clip > 0.0:
                v = min(max(v, -clip), clip)
            out[i, t] = v


@jit
def _layer_backward(Z, P, Q, A, R, Gbar, dP, dQ, Zbar, U, V, N, S, W):
    """Adjoints of out = Z + (1/N) P A R, A = Z M Z^T, R = Q Z, given Gbar = d loss / d out:
    dP += (1/N) (Gbar R^T) A;  dQ += (1/N) A (U Z^T) with U = P^T Gbar;
    Zbar = Gbar + (1/N) [(U R^T + R U^T) Z M + (Q^T A) U]."""
    D, T = Z.shape
    _mm_tn(P, Gbar, U)
    _mm_nt(U, R, V, T)
    for i in range(D):  # V <- U R^T + R U^T
        for j in range(i, D):
            v = V[i, j] + V[j, i]
            V[i, j] = v
            V[j, i] = v
    _mm_nt(Gbar, R, S, T)
    _mm_acc(S, A, dP, 1.0 / N, W)  # W: scratch until the last product below
    _mm_nt(U, Z, S, T)
    _mm_acc(A, S, dQ, 1.0 / N, W)
    _mm(V, Z, Zbar, N)  # V Z M: context columns only
    for i in range(D):
        Zbar[i, N] = 0.0
    _mm_tn(Q, A, S)
    _mm(S, U, W, T)
    for i in range(D):
        for t in range(T):
            Zbar[i, t] = Gbar[i, t] + (Zbar[i, t] + W[i, t]) / N


@jit
def _gram_context(Z, A, N):
    """A = Z M Z^T over the N context columns (symmetric: half computed, mirrored)."""
    D = Z.shape[0]
    for i in range(D):
        for j in range(i, D):
            acc = 0.0
            for t in range(N):
                acc += Z[i, t] * Z[j, t]
            A[i, j] = acc
            A[j, i] = acc


@jit
def _last_layer_query(Z, P, Q, A, v, u, N, clip):
    """The loss reads only the query's y-entry after the last layer, so that layer needs only
    out[d, N] = Z[d, N] + (1/N) P[d, :] A Q Z[:, N] (clipped when clip > 0): O((d+1)^2 N)
    instead of O((d+1)^3 + (d+1)^2 (N+1)). Leaves A, v = Q z_q and u = A v for the backward pass."""
    D = Z.shape[0]
    d = D - 1
    _gram_context(Z, A, N)
    for i in range(D):
        acc = 0.0
        for k in range(D):
            acc += Q[i, k] * Z[k, N]
        v[i] = acc
    out = 0.0
    for i in range(D):
        acc = 0.0
        for k in range(D):
            acc += A[i, k] * v[k]
        u[i] = acc
        out += P[d, i] * acc
    y = Z[d, N] + out / N
    if clip > 0.0:
        y = min(max(y, -clip), clip)
    return y


@jit
def _last_layer_query_backward(Z, P, Q, A, v, u, g, dP, dQ, Zbar, a, N, need_zbar):
    """Adjoints of y = Z[d, N] + (1/N) p^T A Q z_q, p = P[d, :]^T, for dy = g:
    dP[d, :] += (g/N) u;  dQ += (g/N) (A p) z_q^T;  and, when earlier layers need it,
    Zbar[:, N] = g (e_d + (1/N) Q^T A p), Zbar[:, i<N] = (g/N) (p (v . z_i) + v (p . z_i))."""
    D, T = Z.shape
    d = D - 1
    c = g / N
    for i in range(D):
        dP[d, i] += c * u[i]
        acc = 0.0
        for k in range(D):
            acc += A[i, k] * P[d, k]
        a[i] = acc
    for i in range(D):
        for k in range(D):
            dQ[i, k] += c * a[i] * Z[k, N]
    if not need_zbar:
        return
    for i in range(D):
        acc = 0.0
        for k in range(D):
            acc += Q[k, i] * a[k]
        Zbar[i, N] = c * acc + (g if i == d else 0.0)
    for t in range(N):
        vz = 0.0
        pz = 0.0
        for k in range(D):
            vz += v[k] * Z[k, t]
            pz += P[d, k] * Z[k, t]
        for i in range(D):
            Zbar[i, t] = c * (P[d, i] * vz + v[i] * pz)


@jit
def _draw_prompt(Z, Sx, Sw, cfg, sc, k0, k1, step, b, buf):
    """Prompt b of training step ``step`` into Z (columns: tokens; query y-entry 0); returns y_q.
    Same numbers as theorysim.setups.icl.task.sample(seed, batch, ..., step=step)[b]. ``Sx``,
    ``Sw``, ``cfg``, ``sc``: data entries 0, 1, 2, 5, viewed once per step by the caller (a
    reshaped view costs ~13 ns, a dozen of them per prompt)."""
    d, N, xdist, resp = cfg[0], cfg[1], cfg[4], cfg[5]
    n = N + 1
    raw = buf[: n * d]
    wr = buf[n * d : n * d + d]
    w = buf[n * d + d : n * d + 2 * d]
    eps = buf[n * d + 2 * d : n * d + 2 * d + n]
    if xdist == 0:
        rng.fill_normal_zig_at(k0, k1, step, STREAM_X, 0, b * n * d, raw)
    else:
        rng.fill_uniform_at(k0, k1, step, STREAM_X, 0, b * n * d, raw)
        for i in range(n * d):
            raw[i] = sc[0] * (2.0 * raw[i] - 1.0)
    rng.fill_normal_zig_at(k0, k1, step, STREAM_W, 0, b * d, wr)
    sx_identity, sw_identity = cfg[7] == 1, cfg[8] == 1  # skip the d^2 products for identity covariances
    for i in range(d):
        if sw_identity:
            w[i] = wr[i]
            continue
        s = 0.0
        for j in range(d):
            s += wr[j] * Sw[j, i]
        w[i] = s
    if sc[1] > 0.0:
        rng.fill_normal_zig_at(k0, k1, step, STREAM_NOISE, 0, b * n, eps)
    yq = 0.0
    for t in range(n):
        lin = 0.0
        for i in range(d):
            x = raw[t * d + i]
            if xdist == 0 and not sx_identity:
                x = 0.0
                for j in range(d):
                    x += raw[t * d + j] * Sx[j, i]
            Z[i, t] = x
            lin += x * w[i]
        if resp == 1:
            lin = math.tanh(lin)
        elif resp == 2:
            lin = max(lin, 0.0)
        yv = lin + (sc[1] * eps[t] if sc[1] > 0.0 else 0.0)
        if t < N:
            Z[d, t] = yv
        else:
            Z[d, t] = 0.0
            yq = yv
    return yq


@jit
def lsa_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work):
    """0.5 mean over a fresh batch of (y_hat - y_q)^2 and its gradient by backpropagation: the
    batch's sum (:func:`lsa_partial_loss_grad` over every prompt) divided by the batch size."""
    for i in range(grad.shape[0]):
        grad[i] = 0.0
    return lsa_partial_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work, 0, 1) / lsa_prompts(fdata, idata)


@jit
def lsa_prompts(fdata, idata):
    """The training batch size B (the loss is a mean over B prompts)."""
    return iarray1(idata, 2)[3]


@jit
def lsa_partial_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work, first, stride):
    """Prompts b = first, first + stride, ... < B of step t's batch: adds their terms of the
    gradient of the batch mean (each scaled 1/B) to ``grad`` and returns the sum of their losses
    0.5 (y_hat - y_q)^2. The GPU engine gives each of a block's threads one residue class of b
    (``Model.sample_kernels``); the CPU runs them all in one call."""
    cfg = iarray1(idata, 2)
    d, N, L, B = cfg[0], cfg[1], cfg[2], cfg[3]
    clip = farray1(fdata, idata, 5)[2]
    D, T = d + 1, N + 1
    DD, DT = D * D, D * T
    o = 0
    Zs = work[o : o + (L + 1) * DT].reshape((L + 1, D, T))
    o += (L + 1) * DT
    As = work[o : o + L * DD].reshape((L, D, D))
    o += L * DD
    Rs = work[o : o + L * DT].reshape((L, D, T))
    o += L * DT
    Gb = work[o : o + DT].reshape((D, T))
    o += DT
    Zb = work[o : o + DT].reshape((D, T))
    o += DT
    U = work[o : o + DT].reshape((D, T))
    o += DT
    V = work[o : o + DD].reshape((D, D))
    o += DD
    S = work[o : o + DD].reshape((D, D))
    o += DD
    buf = work[o:]
    vq = buf[buf.shape[0] - 3 * D : buf.shape[0] - 2 * D]
    uq = buf[buf.shape[0] - 2 * D : buf.shape[0] - D]
    aq = buf[buf.shape[0] - D :]
    Wt = buf[:DT].reshape((D, T))  # backward scratch: the prompt's raw draws are spent by then
    # every view the prompt loop needs, made once here: layer l's P, Q are PQ[l, 0], PQ[l, 1]
    # (indexing a 4-d view is address arithmetic; a reshape inside the loop is a library call)
    PQ = theta[: 2 * L * DD].reshape((L, 2, D, D))
    dPQ = grad[: 2 * L * DD].reshape((L, 2, D, D))
    Sx = farray2(fdata, idata, 0)
    Sw = farray2(fdata, idata, 1)
    sc = farray1(fdata, idata, 5)
    last = L - 1
    PL, QL, dPL, dQL = PQ[last, 0], PQ[last, 1], dPQ[last, 0], dPQ[last, 1]
    total = 0.0
    for b in range(first, B, stride):
        yq = _draw_prompt(Zs[0], Sx, Sw, cfg, sc, k0, k1, t, b, buf)
        for l in range(last):
            _layer_forward(Zs[l], PQ[l, 0], PQ[l, 1], As[l], Rs[l], Zs[l + 1], N, S, clip)
        y_out = _last_layer_query(Zs[last], PL, QL, As[last], vq, uq, N, clip)
        r = -y_out - yq
        total += 0.5 * r * r
        g = -r / B
        if clip > 0.0 and abs(y_out) >= clip:  # a clipped output passes no gradient
            g = 0.0
        _last_layer_query_backward(Zs[last], PL, QL, As[last], vq, uq, g, dPL, dQL, Gb, aq, N, last > 0)
        for l in range(last - 1, -1, -1):
            if clip > 0.0:  # clipped tokens pass no gradient (they sit exactly at +-clip)
                for i in range(D):
                    for j in range(T):
                        if abs(Zs[l + 1][i, j]) >= clip:
                            Gb[i, j] = 0.0
            _layer_backward(Zs[l], PQ[l, 0], PQ[l, 1], As[l], Rs[l], Gb, dPQ[l, 0], dPQ[l, 1], Zb, U, V, N, S, Wt)
            for i in range(D):
                for j in range(T):
                    Gb[i, j] = Zb[i, j]
    return total


@jit
def lsa_metrics(theta, fdata, idata, mh, out, work):
    """out = (eval loss 0.5 mean (y_hat - y_q)^2 on the fixed evaluation prompts,)."""
    out[0] = 0.0
    lsa_partial_metrics(theta, fdata, idata, mh, out, work, 0, 1)
    lsa_finish_metrics(out, fdata, idata)
    return 0.0


@jit
def lsa_finish_metrics(out, fdata, idata):
    """The evaluation prompts' summed loss -> their mean."""
    out[0] = out[0] / iarray1(idata, 2)[6]


@jit
def lsa_partial_metrics(theta, fdata, idata, mh, out, work, first, stride):
    """Adds to out[0] the summed loss 0.5 (y_hat - y_q)^2 of evaluation prompts first,
    first + stride, ... (:func:`lsa_finish_metrics` divides the total by their count)."""
    cfg = iarray1(idata, 2)
    d, N, L, Be = cfg[0], cfg[1], cfg[2], cfg[6]
    clip = farray1(fdata, idata, 5)[2]
    D, T = d + 1, N + 1
    DD = D * D
    Xe = farray2(fdata, idata, 3)
    Ye = farray2(fdata, idata, 4)
    DT = D * T
    Za = work[:DT].reshape((D, T))  # scratch from the member's work buffer (work_size covers it)
    Zn = work[DT : 2 * DT].reshape((D, T))
    R = work[2 * DT : 3 * DT].reshape((D, T))
    A = work[3 * DT : 3 * DT + DD].reshape((D, D))
    S = work[3 * DT + DD : 3 * DT + 2 * DD].reshape((D, D))
    v = work[3 * DT + 2 * DD : 3 * DT + 2 * DD + D]
    u = work[3 * DT + 2 * DD + D : 3 * DT + 2 * DD + 2 * D]
    last = L - 1
    PQ = theta[: 2 * L * DD].reshape((L, 2, D, D))  # views made once (see lsa_loss_grad)
    PL, QL = PQ[last, 0], PQ[last, 1]
    total = 0.0
    for b in range(first, Be, stride):
        for t in range(T):
            for i in range(d):
                Za[i, t] = Xe[b, t * d + i]
            Za[d, t] = Ye[b, t] if t < N else 0.0
        for l in range(last):
            _layer_forward(Za, PQ[l, 0], PQ[l, 1], A, R, Zn, N, S, clip)
            for i in range(D):
                for t in range(T):
                    Za[i, t] = Zn[i, t]
        r = -_last_layer_query(Za, PL, QL, A, v, u, N, clip) - Ye[b, N]
        total += 0.5 * r * r
    out[0] += total


class LinearSelfAttention(Model):
    """L-layer LSA (Ahn et al. form, no 1/N inside P) trained on fresh in-context regression
    prompts each step: ``batch`` prompts of ``n_context`` pairs, drawn in the kernel exactly as
    :func:`theorysim.setups.icl.task.sample` draws them for that step. Blocks P0, Q0, P1, Q1, ...
    of shape (d+1, d+1). Per-member ``init_scale``: entries ~ N(0, init_scale^2).
    Metric: the loss on ``eval_prompts`` fixed prompts (drawn with ``eval_seed``). ``token_clip``
    > 0 clips every token entry to [-token_clip, token_clip] after each layer (deep models)."""

    name = "lsa"
    metric_names = ("eval_loss",)
    hyper_spec = {"init_scale": (0.02, NONNEG)}
    kernels = (lsa_loss_grad, lsa_metrics)
    sample_kernels = (lsa_partial_loss_grad, lsa_prompts, lsa_partial_metrics, lsa_finish_metrics)
    contiguous_members = True  # the kernels view slices of theta, grad and work as (d+1) x (d+1) matrices

    def __init__(self, d: int, n_context: int, layers: int = 1, batch: int = 256, x_dist: str = "gaussian",
                 sigma=None, sigma_w=None, uniform_a: float = 0.5, noise_std: float = 0.0, response: str = "linear",
                 eval_prompts: int = 2048, eval_seed: int = 10_000, token_clip: float = 0.0):

        for name, v in (("d", d), ("n_context", n_context), ("layers", layers), ("batch", batch),
                        ("eval_prompts", eval_prompts)):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name}={v!r}: expected a positive integer")
        Sx = np.eye(d) if sigma is None else task.matrix_sqrt(sigma, "sigma", d)  # shapes first: clear errors
        Sw = np.eye(d) if sigma_w is None else task.matrix_sqrt(sigma_w, "sigma_w", d)
        self.task_kwargs = dict(x_dist=x_dist, sigma=sigma, sigma_w=sigma_w, uniform_a=uniform_a,
                                noise_std=noise_std, response=response)
        ev = task.sample(eval_seed, eval_prompts, d, n_context, step=0, **self.task_kwargs)
        self.eval = ev
        self.d, self.n_context, self.layers, self.batch = d, n_context, layers, batch
        X_all = np.concatenate([ev.X, ev.xq[:, None, :]], axis=1).reshape(eval_prompts, -1)
        Y_all = np.concatenate([ev.y, ev.yq[:, None]], axis=1)
        ints = np.array([d, n_context, layers, batch, task.X_DISTS.index(x_dist), task.RESPONSES.index(response),
                         eval_prompts, int(np.array_equal(Sx, np.eye(d))), int(np.array_equal(Sw, np.eye(d)))],
                        dtype=np.int64)
        if not (token_clip >= 0.0):
            raise ValueError(f"token_clip={token_clip!r}: expected 0 (off) or a positive bound")
        self.token_clip = float(token_clip)
        self._data = pack(Sx, Sw, ints, X_all, Y_all, np.array([uniform_a, noise_std, token_clip]))
        D = d + 1
        self.layout = Layout.of({f"{kind}{l}": (D, D) for l in range(layers) for kind in ("P", "Q")})
        T = n_context + 1
        self.work_size = ((layers + 1) * D * T + layers * D * D + layers * D * T + 3 * D * T + 2 * D * D
                          + T * d + 2 * d + T + 3 * D)

    def data(self):
        return self._data

    def init(self, seeds, mh):
        P = self.layout.size
        return np.stack([mh[m, 0] * rng.normal(int(s), (P,), stream=rng.STREAM_INIT) for m, s in enumerate(seeds)])

    def weights(self, theta):
        """(Ps, Qs) lists of one member's flat parameters."""
        blocks = self.layout.unpack(theta)
        return [blocks[f"P{l}"] for l in range(self.layers)], [blocks[f"Q{l}"] for l in range(self.layers)]

    def prompts(self, seed: int, step: int):

        return task.sample(seed, self.batch, self.d, self.n_context, step=step, **self.task_kwargs)

    def loss_grad_numpy(self, theta, mh, key, t):
        raise NotImplementedError("use loss_numpy with explicit prompts (the kernel is checked by finite differences)")

    def metrics_numpy(self, theta, mh):
        Ps, Qs = self.weights(theta)
        ev = self.eval
        return np.array([0.5 * np.mean((predict(ev.X, ev.y, ev.xq, Ps, Qs, self.token_clip) - ev.yq) ** 2)])
