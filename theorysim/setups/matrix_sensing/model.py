"""Factorized low-rank models for matrix sensing (Xiong, Ding, Du 2023).

* symmetric: M(theta) = X X^T, X in R^{n x k}; asymmetric: M(theta) = F G^T, F in R^{n1 x k},
  G in R^{n2 x k}.
* loss with m measurements y_i = <A_i, M*>: f = (c/m) sum_i (<A_i, M(theta)> - y_i)^2, c = 1/2 by
  default (the spec's (1/2m) sum); the population loss (m -> infinity, E <A, D>^2 = ||D||_F^2 for
  the sensing ensembles used here) is the exact fast path f = c ||M(theta) - M*||_F^2.
* gradient through E = df/dM: E = (2c/m) sum_i r_i A_i (sensing) or 2c (M - M*) (population);
  grad_X = (E + E^T) X, grad_F = E G, grad_G = E^T F.
* init (per-member hyperparameter ``alpha``): X_0 entries ~ N(0, alpha^2 / n); F_0 ~ N(0, alpha^2 / n1),
  G_0 ~ N(0, (alpha / 3)^2 / n2) (the paper's alpha and alpha/3, spec A1), from the counter RNG.

Recorded: ``error`` ||M - M*||_F, ``loss``, ``imbalance`` ||F^T F - G^T G||_F (0 for X X^T) and
``skew_error`` ||skew(M - M*)||_F for square problems (the part symmetric sensing never sees).
"""
from __future__ import annotations

import math

import numpy as np

from theorysim.core.block import barrier
from theorysim.core.config import jit
from theorysim.core.linalg import dots
from theorysim.core import rng
from theorysim.core.data import farray1, farray2, iarray1, pack
from theorysim.core.layout import Layout
from theorysim.models.base import Model
from theorysim.core.bounds import NONNEG

# fdata: M*[n1, n2], A[m, n1 n2], y[m], (c,), meta (int: symmetric, population, n1, n2, k, m, r_low),
# V^T[r_low, n], w[r_low], (||M*||_F^2,): M* = V diag(w) V^T for the low-rank path (r_low > 0)


@jit
def _product(theta, sym, n1, n2, k, out, jt, nt):
    """out[n1, n2] (flat) = X X^T or F G^T from the flat parameters; rows jt, jt + nt, ... (a
    block kernel's share; all rows with jt = 0, nt = 1)."""
    g0 = 0 if sym else n1 * k  # where G (= X when symmetric) starts
    for i in range(jt, n1, nt):
        for j in range(n2):
            acc = 0.0
            for c in range(k):
                acc += theta[i * k + c] * theta[g0 + j * k + c]
            out[i * n2 + j] = acc


@jit
def _residuals_and_loss(theta, fdata, idata, Mflat, E, R, jt, nt):
    """Fills Mflat = M(theta), E = dloss/dM (both flat [n1 n2]) and, with measurements, R = the
    residuals r_s = <A_s, M> - y_s [m]; returns the loss. Thread jt of nt does its share of each
    phase (rows of M and of E, measurements s = jt, jt + nt, ..., a contiguous range of E's entries,
    each summed over s in order), with ``barrier(nt)`` between; thread 0 returns the loss (the
    squares summed in order), the others 0."""
    meta = iarray1(idata, 4)
    sym, population, n1, n2, k, m = meta[0], meta[1], meta[2], meta[3], meta[4], meta[5]
    Mstar = farray2(fdata, idata, 0)
    A = farray2(fdata, idata, 1)
    y = farray1(fdata, idata, 2)
    c = farray1(fdata, idata, 3)[0]
    _product(theta, sym, n1, n2, k, Mflat, jt, nt)
    barrier(nt)
    nn = n1 * n2
    loss = 0.0
    if population == 1:
        for i in range(jt, n1, nt):
            for j in range(n2):
                E[i * n2 + j] = 2.0 * c * (Mflat[i * n2 + j] - Mstar[i, j])
        barrier(nt)
        if jt != 0:
            return 0.0
        for i in range(n1):
            for j in range(n2):
                d = Mflat[i * n2 + j] - Mstar[i, j]
                loss += d * d
        return c * loss
    for s in range(jt, m, nt):
        r = -y[s]
        for q in range(nn):
            r += A[s, q] * Mflat[q]
        R[s] = r
    barrier(nt)
    scale = 2.0 * c / m
    chunk = (nn + nt - 1) // nt
    lo = min(nn, jt * chunk)
    hi = min(nn, lo + chunk)
    for q in range(lo, hi):
        E[q] = 0.0
    for s in range(m):
        r = R[s]
        for q in range(lo, hi):
            E[q] += scale * r * A[s, q]
    barrier(nt)
    if jt != 0:
        return 0.0
    for s in range(m):
        loss += R[s] * R[s]
    return c * loss / m


@jit
def _symmetric_population(theta, fdata, idata, grad, work, n, k):
    """Fast path for X X^T with the population loss: loops ordered so that the innermost runs
    over n contiguous entries (SIMD-friendly), with X^T kept in scratch. M = X X^T (full: computing
    one triangle and mirroring measured 1.3x slower at n = 50), E = 2c (M - M*), grad = (E + E^T) X
    = 2 E X (E symmetric)."""
    Mstar = farray2(fdata, idata, 0)
    c = farray1(fdata, idata, 3)[0]
    nn = n * n
    M = work[:nn]
    Xt = work[nn : nn + k * n].reshape((k, n))
    Gt = work[nn + k * n : nn + 2 * k * n].reshape((k, n))
    for i in range(n):
        for a in range(k):
            Xt[a, i] = theta[i * k + a]
    loss = 0.0
    for i in range(n):
        row = M[i * n : (i + 1) * n]
        for j in range(n):
            row[j] = 0.0
        for a in range(k):
            x = Xt[a, i]
            xa = Xt[a]
            for j in range(n):
                row[j] += x * xa[j]
        for j in range(n):
            dlt = row[j] - Mstar[i, j]
            loss += dlt * dlt
            row[j] = 4.0 * c * dlt  # 2 E
    for a in range(k):
        g = Gt[a]
        for i in range(n):
            g[i] = 0.0
        xa = Xt[a]
        for j in range(n):
            x = xa[j]
            row = M[j * n : (j + 1) * n]
            for i in range(n):
                g[i] += x * row[i]
    for i in range(n):
        for a in range(k):
            grad[i * k + a] = Gt[a, i]
    return c * loss


@jit
def _symmetric_population_low_rank(theta, fdata, idata, grad, work, n, k, r, j, nt):
    """Fast path for X X^T, population loss and M* = V diag(w) V^T of rank r (eigenvectors V):
    grad = 4c (X X^T - M*) X = 4c (X S - V diag(w) P) with S = X^T X (k x k) and P = V^T X (r x k),
    and loss = c (||S||_F^2 - 2 sum_q w_q ||P_q||^2 + ||M*||_F^2). n (1.5 k^2 + 2 r k) multiply-adds
    instead of 2 n^2 k; the n x n residual is never formed. The loss is a difference of O(||M*||^2)
    terms (absolute error ~ 1e-16 ||M*||^2: the divergence test only reads it; the ``loss`` and
    ``error`` metrics are computed from the residual).

    A block kernel (:mod:`theorysim.core.block`): thread ``j`` of ``nt`` transposes rows
    i = j, j + nt, ... of X, computes entries e = j, j + nt, ... of S (upper triangle) and P, then
    of the gradient, and thread 0 the loss; ``work`` is shared. Each entry is summed in the same
    order as the serial kernel (j = 0, nt = 1), which runs by rows (contiguous inner loops): the
    same numbers whatever the thread count."""
    Vt = farray2(fdata, idata, 5)
    w = farray1(fdata, idata, 6)
    msq = farray1(fdata, idata, 7)[0]
    c = farray1(fdata, idata, 3)[0]
    Xt = work[: k * n].reshape((k, n))
    Gt = work[k * n : 2 * k * n].reshape((k, n))
    S = work[2 * k * n : 2 * k * n + k * k].reshape((k, k))
    P = work[2 * k * n + k * k : 2 * k * n + k * k + r * k].reshape((r, k))
    for i in range(j, n, nt):
        for a in range(k):
            Xt[a, i] = theta[i * k + a]
    barrier(nt)
    if nt == 1:  # by rows: the inner loops run over contiguous memory (vectorised on the CPU)
        for a in range(k):
            dots(Xt[a], Xt, n, a, k, S[a])
        for q in range(r):
            dots(Vt[q], Xt, n, 0, k, P[q])
    else:  # by entries: k (k + 1) / 2 + r k dot products shared evenly (by rows, 10 of 32 threads work)
        upper = k * (k + 1) // 2
        for e in range(j, upper + r * k, nt):
            if e < upper:
                a, b = _upper_pair(e, k)
                dots(Xt[a], Xt, n, b, b + 1, S[a])
            else:
                q = (e - upper) // k
                b = e - upper - q * k
                dots(Vt[q], Xt, n, b, b + 1, P[q])
    barrier(nt)
    for a in range(j, k, nt):  # reads the upper triangle, writes the lower one
        for b in range(a + 1, k):
            S[b, a] = S[a, b]
    barrier(nt)
    scale = 4.0 * c
    if nt == 1:
        for a in range(k):
            g = Gt[a]
            for i in range(n):
                g[i] = 0.0
            for b in range(k):
                s = S[b, a]
                xb = Xt[b]
                for i in range(n):
                    g[i] += s * xb[i]
            for q in range(r):
                s = -w[q] * P[q, a]
                vq = Vt[q]
                for i in range(n):
                    g[i] += s * vq[i]
        for i in range(n):
            for a in range(k):
                grad[i * k + a] = scale * Gt[a, i]
    else:  # entry (i, a) of the gradient: the same terms in the same order as row a above
        for e in range(j, n * k, nt):
            i = e // k
            a = e - i * k
            g = 0.0
            for b in range(k):
                g += S[b, a] * Xt[b, i]
            for q in range(r):
                s = -w[q] * P[q, a]
                g += s * Vt[q, i]
            grad[e] = scale * g
    if j != 0:
        return 0.0
    ss = 0.0
    for a in range(k):
        for b in range(k):
            ss += S[a, b] * S[a, b]
    pw = 0.0
    for q in range(r):
        for a in range(k):
            pw += w[q] * P[q, a] * P[q, a]
    return c * (ss - 2.0 * pw + msq)


@jit
def _upper_pair(e, k):
    """The e-th entry (a, b), b >= a, of a k x k upper triangle in row-major order."""
    a = 0
    while e >= k - a:
        e -= k - a
        a += 1
    return a, a + e


@jit
def factorized_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work):
    """The loss and its gradient (module docstring): the block kernel run as one thread."""
    return factorized_block_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work, 0, 1)


@jit
def factorized_block_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work, jt, nt):
    """``Model.block_loss_grad``: thread jt of nt does its share of every phase (the low-rank path:
    :func:`_symmetric_population_low_rank`; the measured and the asymmetric population paths:
    :func:`_residuals_and_loss`, then rows jt, jt + nt, ... of the gradient); the dense symmetric
    population path runs on thread 0 alone (the model declares no block kernel for it)."""
    meta = iarray1(idata, 4)
    sym, n1, n2, k = meta[0], meta[2], meta[3], meta[4]
    if sym == 1 and meta[1] == 1:
        if meta[6] > 0:
            return _symmetric_population_low_rank(theta, fdata, idata, grad, work, n1, k, meta[6], jt, nt)
        if jt == 0:
            return _symmetric_population(theta, fdata, idata, grad, work, n1, k)
        return 0.0
    nn = n1 * n2
    Mflat = work[:nn]
    E = work[nn : 2 * nn]
    loss = _residuals_and_loss(theta, fdata, idata, Mflat, E, work[2 * nn : 2 * nn + meta[5]], jt, nt)
    if sym == 1:
        for i in range(jt, n1, nt):
            for c in range(k):
                acc = 0.0
                for j in range(n1):
                    acc += (E[i * n1 + j] + E[j * n1 + i]) * theta[j * k + c]
                grad[i * k + c] = acc
        return loss
    g0 = n1 * k
    for i in range(jt, n1, nt):
        for c in range(k):
            acc = 0.0
            for j in range(n2):
                acc += E[i * n2 + j] * theta[g0 + j * k + c]
            grad[i * k + c] = acc
    for j in range(jt, n2, nt):
        for c in range(k):
            acc = 0.0
            for i in range(n1):
                acc += E[i * n2 + j] * theta[i * k + c]
            grad[g0 + j * k + c] = acc
    return loss


@jit
def factorized_metrics(theta, fdata, idata, mh, out, work):
    """out = (error ||M - M*||_F, loss, imbalance ||F^T F - G^T G||_F, skew_error)."""
    meta = iarray1(idata, 4)
    sym, n1, n2, k = meta[0], meta[2], meta[3], meta[4]
    Mstar = farray2(fdata, idata, 0)
    nn = n1 * n2
    buf = work[: 2 * nn]  # the model's work_size covers it
    loss = _residuals_and_loss(theta, fdata, idata, buf[:nn], buf[nn:], work[2 * nn : 2 * nn + meta[5]], 0, 1)
    sq = 0.0
    for i in range(n1):
        for j in range(n2):
            d = buf[i * n2 + j] - Mstar[i, j]
            sq += d * d
    imb = 0.0
    if sym == 0:
        g0 = n1 * k
        for a in range(k):
            for b in range(k):
                ff = 0.0
                for i in range(n1):
                    ff += theta[i * k + a] * theta[i * k + b]
                gg = 0.0
                for j in range(n2):
                    gg += theta[g0 + j * k + a] * theta[g0 + j * k + b]
                imb += (ff - gg) ** 2
    skew = math.nan
    if n1 == n2:
        skew = 0.0
        for i in range(n1):
            for j in range(n1):
                s = 0.5 * ((buf[i * n1 + j] - Mstar[i, j]) - (buf[j * n1 + i] - Mstar[j, i]))
                skew += s * s
        skew = math.sqrt(skew)
    out[0] = math.sqrt(sq)
    out[1] = loss
    out[2] = math.sqrt(imb)
    out[3] = skew
    return 0.0


def _positive_int(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{name}={v!r}: expected a positive integer")
    return int(v)


class FactorizedSensing(Model):
    """Matrix sensing with a factorized model: X X^T (``symmetric=True``) or F G^T.

    ``M_star``: the ground truth (n x n PSD for X X^T; n1 x n2 otherwise); ``k``: the factor
    width (k >= rank(M*) is required: below it M* cannot be reached); ``A``: the sensing
    matrices ``[m, n1, n2]`` (measurements y_i = <A_i, M*>), or ``None`` for the population
    loss; ``loss_scale`` c in f = (c/m) sum r_i^2 (default 1/2). ``low_rank`` (X X^T with the
    population loss only): train through M* = V diag(w) V^T, its eigenvectors of nonzero
    eigenvalue (numerical rank: |w| > n eps max|w|, as ``numpy.linalg.matrix_rank`` counts), so
    the n x n residual is never formed; ``None`` (default) when that is cheaper (1.5 k + 2 r <
    2 n), ``False`` always the dense residual. Both give the same iterates up to rounding.
    """

    name = "factorized_sensing"
    metric_names = ("error", "loss", "imbalance", "skew_error")
    hyper_spec = {"alpha": (0.1, NONNEG)}
    kernels = (factorized_loss_grad, factorized_metrics)
    contiguous_members = True  # the population kernels view slices of work as k x n matrices

    def __init__(self, M_star, k: int, A=None, symmetric: bool = True, loss_scale: float = 0.5,
                 rank_tol: float = 1e-9, low_rank: bool | None = None):
        M = np.asarray(M_star, dtype=np.float64)
        if M.ndim != 2 or min(M.shape) < 1 or not np.all(np.isfinite(M)):
            raise ValueError(f"M_star: expected a finite 2-d matrix, got shape {M.shape}")
        n1, n2 = M.shape
        k = _positive_int("k", k)
        if symmetric:
            if n1 != n2 or not np.allclose(M, M.T, rtol=0, atol=1e-12 * max(1.0, np.abs(M).max())):
                raise ValueError(f"M_star: the symmetric model X X^T needs a symmetric square matrix, got shape {M.shape}")
            if np.linalg.eigvalsh(M)[0] < -rank_tol * max(1.0, np.abs(M).max()):
                raise ValueError("M_star: the symmetric model X X^T needs a positive semi-definite matrix")
        sv = np.linalg.svd(M, compute_uv=False)
        r = int(np.sum(sv > rank_tol * max(sv[0], 1e-300)))
        if k < r:
            raise ValueError(f"k={k}: below rank(M_star) = {r}; the model cannot reach M_star (need k >= {r})")
        if not (isinstance(loss_scale, (int, float)) and math.isfinite(loss_scale) and loss_scale > 0):
            raise ValueError(f"loss_scale={loss_scale!r}: expected a finite number > 0")
        if A is None:
            population, Aflat, y = 1, np.zeros((1, 1)), np.zeros(1)
        else:
            A = np.asarray(A, dtype=np.float64)
            if A.ndim != 3 or A.shape[1:] != (n1, n2) or A.shape[0] < 1:
                raise ValueError(f"A: expected sensing matrices of shape (m, {n1}, {n2}), got {A.shape}")
            if not np.all(np.isfinite(A)):
                raise ValueError(f"A: expected finite sensing matrices; {int(np.sum(~np.isfinite(A)))} entries are "
                                 "NaN or infinite")
            population, Aflat = 0, np.ascontiguousarray(A.reshape(A.shape[0], -1))
            y = Aflat @ M.ravel()
        self.M_star, self.k, self.symmetric, self.rank = M, k, bool(symmetric), r
        self.A, self.loss_scale = A, float(loss_scale)
        self.n1, self.n2, self.m = n1, n2, (0 if A is None else A.shape[0])
        if low_rank not in (None, True, False):
            raise ValueError(f"low_rank={low_rank!r}: expected None (automatic), True or False")
        Vt, w, r_low = np.zeros((1, 1)), np.zeros(1), 0
        if symmetric and population and low_rank is not False:
            evals, evecs = np.linalg.eigh(M)
            keep = np.abs(evals) > n1 * np.finfo(float).eps * max(np.abs(evals).max(), 1e-300)
            if low_rank or 1.5 * k + 2 * keep.sum() < 2 * n1:
                Vt, w, r_low = np.ascontiguousarray(evecs[:, keep].T), evals[keep], int(keep.sum())
                if r_low == 0:  # M* = 0: one zero direction keeps the kernel's shapes non-empty
                    Vt, w, r_low = np.zeros((1, n1)), np.zeros(1), 1
        self.low_rank = r_low > 0
        if self.low_rank or not (symmetric and population):
            # the GPU trains one member per block, its threads sharing the rows and measurements
            # (the dense symmetric population path stays one member per thread)
            self.block_loss_grad = factorized_block_loss_grad
        meta = np.array([int(symmetric), population, n1, n2, k, max(self.m, 1), r_low], dtype=np.int64)
        self._data = pack(M, Aflat, y, np.array([self.loss_scale]), meta, Vt, w, np.array([float(np.sum(M * M))]))
        self.layout = Layout.of({"X": (n1, k)} if symmetric else {"F": (n1, k), "G": (n2, k)})
        self.work_size = 2 * n1 * n2 + max(2 * k * max(n1, n2) + k * k + r_low * k, self.m)  # m: the residuals

    def data(self):
        return self._data

    def init(self, seeds, mh):
        P = self.layout.size
        out = np.empty((len(seeds), P))
        for e, seed in enumerate(seeds):
            z = rng.normal(int(seed), (P,), stream=rng.STREAM_INIT)
            alpha = mh[e, 0]
            if self.symmetric:
                out[e] = alpha / math.sqrt(self.n1) * z
            else:
                nF = self.n1 * self.k
                out[e, :nF] = alpha / math.sqrt(self.n1) * z[:nF]
                out[e, nF:] = alpha / 3.0 / math.sqrt(self.n2) * z[nF:]
        return out

    def config(self):
        return {**super().config(), "symmetric": self.symmetric, "rank": self.rank, "k": self.k,
                "measurements": self.m or "population", "loss_scale": self.loss_scale, "low_rank": self.low_rank}

    # ---- numpy oracle -------------------------------------------------------------------------
    def factors(self, theta):
        b = self.layout.unpack(np.asarray(theta))
        return (b["X"], b["X"]) if self.symmetric else (b["F"], b["G"])

    def product(self, theta):
        F, G = self.factors(theta)
        return F @ G.T

    def _loss_and_dM(self, theta):
        M = self.product(theta)
        c = self.loss_scale
        if self.A is None:
            D = M - self.M_star
            return c * float(np.sum(D * D)), 2 * c * D
        r = np.einsum("sij,ij->s", self.A, M) - np.einsum("sij,ij->s", self.A, self.M_star)
        return c * float(r @ r) / self.m, (2 * c / self.m) * np.einsum("s,sij->ij", r, self.A)

    def loss_grad_numpy(self, theta, mh, key, t):
        loss, E = self._loss_and_dM(theta)
        F, G = self.factors(theta)
        if self.symmetric:
            return loss, ((E + E.T) @ F).ravel()
        return loss, np.concatenate([(E @ G).ravel(), (E.T @ F).ravel()])

    def metrics_numpy(self, theta, mh):
        loss, _ = self._loss_and_dM(theta)
        D = self.product(theta) - self.M_star
        F, G = self.factors(theta)
        imb = 0.0 if self.symmetric else float(np.linalg.norm(F.T @ F - G.T @ G))
        skew = float(np.linalg.norm(0.5 * (D - D.T))) if self.n1 == self.n2 else math.nan
        return np.array([float(np.linalg.norm(D)), loss, imb, skew])
