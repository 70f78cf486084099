"""Infinite-width NNGP and NTK of a fully connected network (Jacot, Gabriel, Hongler 2018, Prop. 1
and Thm. 1), in neural-tangents' conventions, closed form and by quadrature.

The network is ``depth`` hidden layers (Dense, then the activation) and a Dense readout, as
:class:`theorysim.models.mlp.MLP` with widths (n_0, n, ..., n, n_out). With the input kernel
Sigma^0(x, x') = x.x'/n_0 and Theta^0 = 0, each Dense layer maps

    ntk parameterization:      Sigma' = W_std^2 Sigma + b_std^2,   Theta' = Sigma' + W_std^2 Theta
    standard parameterization: Sigma' = W_std^2 Sigma + b_std^2,   Theta' = n_in Sigma + W_std^2 Theta + 1

(n_in: the layer's input width; the +1 is the bias's gradient, present for any b_std, as in
neural-tangents' ``Dense`` with a float ``b_std``), and each activation maps, with
(u, v) ~ N(0, [[q, c], [c, q']]), q = Sigma(x, x), q' = Sigma(x', x'), c = Sigma(x, x'):

    Sigma' = E[sigma(u) sigma(v)],   Theta' = Theta E[sigma'(u) sigma'(v)].

Closed forms (neural-tangents ``stax.ABRelu(0, 1)`` and ``stax.Erf()``):

* ReLU (the arc-cosine kernel): theta = arctan2(sqrt(q q' - c^2), c),
  E[sigma sigma] = (sqrt(q q' - c^2) + (pi - theta) c) / (2 pi), E[sigma' sigma'] = (pi - theta) / (2 pi);
* erf: E[sigma sigma] = (2/pi) arcsin(2c / sqrt((1 + 2q)(1 + 2q'))),
  E[sigma' sigma'] = (4/pi) / sqrt((1 + 2q)(1 + 2q') - 4c^2).

The result is the kernel of one output; the network's NTK is it times the identity over outputs.
:func:`nngp_ntk` evaluates the closed forms pair by pair in one fused, parallel Numba loop (no
temporaries: memory is the two output matrices), and :func:`nngp_ntk_quadrature` evaluates the
same recursion with the Gaussian expectations done numerically for any activation (the test of
the closed forms).
"""
from __future__ import annotations

import math

import numba
import numpy as np

from theorysim.core import config
from theorysim.models.mlp import numpy_activation

RELU, ERF = 0, 1
_KINDS = {"relu": RELU, "erf": ERF}


@config.jit(inline="always")
def _moments(q1, q2, c, kind):
    """(E[sigma(u) sigma(v)], E[sigma'(u) sigma'(v)]) in closed form."""
    if kind == RELU:
        s = math.sqrt(max(q1 * q2 - c * c, 0.0))
        theta = math.atan2(s, c)
        return (s + (math.pi - theta) * c) / (2.0 * math.pi), (math.pi - theta) / (2.0 * math.pi)
    a = (1.0 + 2.0 * q1) * (1.0 + 2.0 * q2)
    d = math.sqrt(max(a - 4.0 * c * c, 0.0))
    return (2.0 / math.pi) * math.atan2(2.0 * c, d), (4.0 / math.pi) / d


@config.jit(inline="always")
def _dense(nngp, ntk, standard, n_in, W2, b2):
    if standard:
        ntk = n_in * nngp + W2 * ntk + 1.0
    nngp = W2 * nngp + b2
    if not standard:
        ntk = nngp + W2 * ntk
    return nngp, ntk


@config.jit(inline="always")
def _pair(nngp, ntk, Q1, Q2, i, j, kind, standard, n0, width, W2, b2, same):
    k, t = _dense(nngp[i, j], 0.0, standard, n0, W2, b2)
    for layer in range(Q1.shape[0]):
        if same:
            k = Q1[layer, i]
        e, edot = _moments(Q1[layer, i], Q2[layer, j], k, kind)
        k, t = _dense(e, t * edot, standard, width, W2, b2)
    nngp[i, j] = k
    ntk[i, j] = t


@config.jit(parallel=True, fastmath=False)
def _closed_form(nngp, ntk, Q1, Q2, kind, standard, n0, width, W2, b2, diagonal):
    """On entry ``nngp`` holds x.x'/n_0; on exit the readout's NNGP and NTK (``ntk``). ``Q1[l, i]``
    and ``Q2[l, j]``: the inputs' variances before activation l.

    ``diagonal >= 0`` means the columns are the same inputs as the rows, column ``i + diagonal`` being
    row i's input: then only the pairs j >= i + diagonal are computed (the caller mirrors them), and
    a same-input pair takes its covariance from the variance exactly: from the Gram matrix it can
    differ in the last bit, and q q' - c^2 = +-eps q^2 puts sqrt(eps) ~ 1e-8 into the ReLU's angle,
    hence into E[sigma' sigma'], at every layer. Rows are taken in pairs (k, last - k) so that the
    threads share the triangle's work evenly."""
    rows = nngp.shape[0]
    if diagonal < 0:
        for i in numba.prange(rows):
            for j in range(nngp.shape[1]):
                _pair(nngp, ntk, Q1, Q2, i, j, kind, standard, n0, width, W2, b2, False)
        return
    for k in numba.prange((rows + 1) // 2):
        _upper_row(nngp, ntk, Q1, Q2, k, kind, standard, n0, width, W2, b2, diagonal)
        if rows - 1 - k != k:
            _upper_row(nngp, ntk, Q1, Q2, rows - 1 - k, kind, standard, n0, width, W2, b2, diagonal)


@config.jit(inline="always")
def _upper_row(nngp, ntk, Q1, Q2, i, kind, standard, n0, width, W2, b2, diagonal):
    for j in range(i + diagonal, nngp.shape[1]):
        _pair(nngp, ntk, Q1, Q2, i, j, kind, standard, n0, width, W2, b2, j == i + diagonal)


@config.jit(parallel=True)
def _mirror(a):
    """a[i, j] = a[j, i] for j < i (the lower triangle from the upper)."""
    for i in numba.prange(a.shape[0]):
        for j in range(i):
            a[i, j] = a[j, i]


def _diagonal_closed(q, kind):
    if kind == RELU:
        return 0.5 * q
    return (2.0 / math.pi) * np.arcsin(2.0 * q / (1.0 + 2.0 * q))


def _check(X1, X2, depth, W_std, b_std, parameterization, width):
    X1 = np.ascontiguousarray(X1, dtype=np.float64)
    X2 = X1 if X2 is None else np.ascontiguousarray(X2, dtype=np.float64)
    if X1.ndim != 2 or X2.ndim != 2 or X1.shape[1] != X2.shape[1] or X1.shape[1] < 1:
        raise ValueError(f"X1, X2: expected [N1, n_0] and [N2, n_0] inputs, got shapes {X1.shape} and {X2.shape}")
    if not (np.all(np.isfinite(X1)) and np.all(np.isfinite(X2))):
        raise ValueError("X1, X2: expected finite inputs")
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 0:
        raise ValueError(f"depth={depth!r}: expected the number of hidden layers, an integer >= 0")
    for name, v in (("W_std", W_std), ("b_std", b_std)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{name}={v!r}: expected a finite number >= 0")
    if parameterization not in ("ntk", "standard"):
        raise ValueError(f"parameterization={parameterization!r}: expected 'ntk' or 'standard'")
    if parameterization == "standard" and depth > 0 and (width is None or width < 1):
        raise ValueError(f"width={width!r}: the standard parameterization's NTK grows with the hidden width; "
                         "give it (a positive integer)")
    return X1, X2


def _diagonals(X, depth, W2, b2, moment):
    """[depth, N]: each input's variance before each activation."""
    q = np.einsum("ij,ij->i", X, X) / X.shape[1]
    out = np.empty((depth, len(X)))
    q = W2 * q + b2
    for layer in range(depth):
        out[layer] = q
        q = W2 * moment(q) + b2
    return out


def nngp_ntk(X1, X2=None, depth: int = 1, activation: str = "relu", W_std: float = 1.0, b_std: float = 0.0,
             parameterization: str = "ntk", width: int | None = None, tile: int = 2048):
    """(NNGP, NTK) ``[N1, N2]`` of the readout of ``depth`` hidden layers, closed form (module docstring).

    ``X2=None`` means ``X2 = X1`` (and the diagonal pairs are then computed from each input's own
    variance, exactly as a same-input pair should be). ``width``: the hidden width, needed by the standard
    parameterization only (its NTK scales with it). The Gram matrix x.x' is formed by BLAS in
    row tiles of ``tile`` rows, straight into the output, which the fused loop then updates in
    place: peak memory is the two [N1, N2] outputs plus O((N1 + N2) depth).
    """
    if activation not in _KINDS:
        raise ValueError(f"activation={activation!r}: expected one of {', '.join(map(repr, _KINDS))}")
    same = X2 is None
    X1, X2 = _check(X1, X2, depth, W_std, b_std, parameterization, width)
    kind, W2, b2 = _KINDS[activation], float(W_std) ** 2, float(b_std) ** 2
    n0 = X1.shape[1]
    Q1 = _diagonals(X1, depth, W2, b2, lambda q: _diagonal_closed(q, kind))
    Q2 = _diagonals(X2, depth, W2, b2, lambda q: _diagonal_closed(q, kind))
    nngp = np.empty((len(X1), len(X2)))
    ntk = np.empty_like(nngp)
    for start in range(0, len(X1), tile):
        rows = slice(start, start + tile)
        np.dot(X1[rows], X2.T, out=nngp[rows])
        nngp[rows] /= n0
        _closed_form(nngp[rows], ntk[rows], np.ascontiguousarray(Q1[:, rows]), Q2, kind,
                     parameterization == "standard", float(n0), float(width or 0), W2, b2, start if same else -1)
    if same:  # only the upper triangle was computed
        _mirror(nngp)
        _mirror(ntk)
    return nngp, ntk


# ---- quadrature ------------------------------------------------------------------------------
def activation_functions(name):
    """(sigma, sigma') for a named activation (the MLP's numpy versions), or the pair itself."""
    if isinstance(name, tuple) and len(name) == 2 and all(callable(f) for f in name):
        return name
    return numpy_activation(name)


def gaussian_expectation(g, q1, q2, c, n_angle: int = 48, n_radius: int = 160, radius: float = 12.0):
    """E[g(u, v)] for (u, v) ~ N(0, [[q1, c], [c, q2]]), vectorised over the arrays q1, q2, c.

    In polar coordinates of the whitened pair, u = r sqrt(q1) cos(phi), v = r sqrt(q2) (rho cos(phi)
    + sqrt(1 - rho^2) sin(phi)), E = (1/2pi) int dphi int r exp(-r^2/2) g dr. The angle integral is
    split at the four angles where u = 0 or v = 0 (where ReLU-like activations have their kinks),
    so Gauss-Legendre (``n_angle`` nodes per piece) sees a smooth integrand on each piece; the
    radial integral is Gauss-Legendre with ``n_radius`` nodes on [0, ``radius``] (the tail beyond
    is exp(-radius^2 / 2) ~ 5e-32 times a polynomial). Exact for ReLU up to rounding (the radial
    part is a polynomial times the Gaussian weight, the angular part a trigonometric polynomial).
    """
    q1, q2, c = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (q1, q2, c)))
    shape = q1.shape
    q1, q2, c = q1.ravel(), q2.ravel(), c.ravel()
    rho = np.clip(c / np.sqrt(q1 * q2), -1.0, 1.0)
    perp = np.sqrt(1.0 - rho * rho)
    v_zero = np.arctan2(-rho, perp) % np.pi
    cuts = np.sort(np.stack([np.full_like(rho, 0.5 * np.pi), np.full_like(rho, 1.5 * np.pi), v_zero,
                             v_zero + np.pi], axis=1) % (2.0 * np.pi), axis=1)
    ends = np.concatenate([cuts, cuts[:, :1] + 2.0 * np.pi], axis=1)
    ta, wa = np.polynomial.legendre.leggauss(n_angle)
    tr, wr = np.polynomial.legendre.leggauss(n_radius)
    r = 0.5 * radius * (tr + 1.0)
    radial_w = 0.5 * radius * wr * r * np.exp(-0.5 * r * r)
    total = np.zeros(len(rho))
    for piece in range(4):
        a, b = ends[:, piece], ends[:, piece + 1]
        phi = a[:, None] + 0.5 * (b - a)[:, None] * (ta + 1.0)  # [pairs, n_angle]
        w_phi = 0.5 * (b - a)[:, None] * wa
        cu = np.sqrt(q1)[:, None] * np.cos(phi)
        cv = np.sqrt(q2)[:, None] * (rho[:, None] * np.cos(phi) + perp[:, None] * np.sin(phi))
        vals = g(cu[:, :, None] * r, cv[:, :, None] * r)  # [pairs, n_angle, n_radius]
        total += np.einsum("pa,par,r->p", w_phi, vals, radial_w)
    return (total / (2.0 * np.pi)).reshape(shape)


def nngp_ntk_quadrature(X1, X2=None, depth: int = 1, activation="relu", W_std: float = 1.0, b_std: float = 0.0,
                        parameterization: str = "ntk", width: int | None = None, every_depth: bool = False,
                        **quadrature):
    """:func:`nngp_ntk` with every Gaussian expectation computed by :func:`gaussian_expectation`:
    for any activation, given by name or as a pair ``(sigma, sigma')`` of numpy functions. Slow
    (a 2-d quadrature per input pair and layer); for tests and for activations without a closed form.
    ``every_depth=True`` returns the list of (NNGP, NTK) for depths 0..depth (one recursion)."""
    sigma, dsigma = activation_functions(activation)
    same = X2 is None
    X1, X2 = _check(X1, X2, depth, W_std, b_std, parameterization, width)
    W2, b2, standard = float(W_std) ** 2, float(b_std) ** 2, parameterization == "standard"

    def second_moment(q):
        return gaussian_expectation(lambda u, v: sigma(u) * sigma(v), q, q, q, **quadrature)

    Q1 = _diagonals(X1, depth, W2, b2, second_moment)
    Q2 = _diagonals(X2, depth, W2, b2, second_moment)

    def dense(nngp, ntk, n_in):
        ntk_new = n_in * nngp + W2 * ntk + 1.0 if standard else None
        nngp = W2 * nngp + b2
        return nngp, (ntk_new if standard else nngp + W2 * ntk)

    nngp, ntk = dense(X1 @ X2.T / X1.shape[1], np.zeros((len(X1), len(X2))), X1.shape[1])
    kernels = [(nngp, ntk)]
    for layer in range(depth):
        q1, q2 = Q1[layer][:, None], Q2[layer][None, :]
        if same:  # a same-input pair's covariance is its variance, exactly (see _closed_form)
            np.fill_diagonal(nngp, Q1[layer])
        e = gaussian_expectation(lambda u, v: sigma(u) * sigma(v), q1, q2, nngp, **quadrature)
        edot = gaussian_expectation(lambda u, v: dsigma(u) * dsigma(v), q1, q2, nngp, **quadrature)
        nngp, ntk = dense(e, ntk * edot, width)
        kernels.append((nngp, ntk))
    return kernels if every_depth else kernels[-1]
