"""Counter-based random numbers: Philox4x64-10 (Salmon et al., SC'11, "Parallel random numbers:
as easy as 1, 2, 3"), the same bit generator as ``numpy.random.Philox`` and Random123.

Why counter-based: a draw is a pure function ``philox(counter, key)``, so any member, step or
stream can be drawn on its own, in any order, on any thread or on the GPU, and the numbers never
depend on how work was scheduled. The functions here are plain scalar code on uint64 words, so
the same source compiles with ``numba.njit`` and ``numba.cuda.jit(device=True)``.

Keys and counters (the theorysim convention)
-------------------------------------------
* key ``(k0, k1)``: two uint64 words derived from one member's integer seed with
  ``numpy.random.SeedSequence(seed).generate_state(2, np.uint64)`` (:func:`key_from_seed`).
  Members with equal seeds draw equal numbers (common random numbers across hyperparameters),
  which is also why permuting members only permutes results.
* counter ``(c0, c1, c2, c3)``: ``c0`` is the index of a 4-word block inside one draw, ``c1`` the
  training step, ``c2`` the stream (``STREAM_*`` below: initialisation, batches, noise, ...),
  ``c3`` a free sub-index (e.g. which task inside a batch). Distinct counters give independent
  words under the same key, which is what the Philox construction is designed and tested for
  (it passes BigCrush with 10 rounds).

Conversions
-----------
* uniform on [0, 1): ``(w >> 11) * 2**-53`` (53 random bits, exactly representable).
* normal: Box-Muller on two uniforms, ``u1 = ((w >> 11) + 1) * 2**-53`` in (0, 1] so the log is
  finite: ``sqrt(-2 log u1) * (cos, sin)(2 pi u2)``; one 4-word block gives 4 normals. On the
  GPU ``log/cos/sin`` may differ from the CPU's in the last ulp, so cross-backend agreement of
  stochastic runs is to rounding, not to the bit.
* fast normal (:func:`fill_normal_zig_at`, :func:`normal_zig`): the ziggurat of Marsaglia and Tsang
  (2000, J. Stat. Softw. 5(8)) with 256 layers, one Philox word per normal, its layer index (low 8
  bits) independent of its value (top 53 bits) as Doornik (2005, "An improved ziggurat method to
  generate normal random samples") requires. 98.5% of draws are one multiply and one compare;
  the rest (wedges, and the tail beyond R = 3.654 by Marsaglia's 1964 method) draw fresh words
  from a retry counter of their own, so normal j is still a function of (key, step, stream, sub,
  j) alone. About 4x cheaper than Box-Muller; used where normals dominate the run (the ICL prompt
  sampler). The two generators give different (equally distributed) numbers.
"""
from __future__ import annotations

import math

import numba
from llvmlite import ir
from numba import types as nb_types
from numba.extending import intrinsic

import numpy as np

from theorysim.core.config import CACHE, jit

# Philox4x64 constants (Random123 philox.h).
PHILOX_M0 = np.uint64(0xD2E7470EE14C6C93)
PHILOX_M1 = np.uint64(0xCA5A826395121157)
PHILOX_W0 = np.uint64(0x9E3779B97F4A7C15)
PHILOX_W1 = np.uint64(0xBB67AE8584CAA73B)
_MASK32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53
_TWO_PI = 2.0 * math.pi

# Named streams (counter word c2). Models may use any value >= STREAM_USER for their own.
STREAM_INIT = 1
STREAM_BATCH = 2
STREAM_NOISE = 3
STREAM_EVAL = 4
#: a member's own data, drawn from its seed (``SweepSetup.build_members``; a claim that draws its members'
#: data with ``normal(seed, shape, stream=STREAM_DATA)`` gets the sweep's data bit for bit)
STREAM_DATA = 5
STREAM_USER = 16


@intrinsic
def _umul128(typingctx, a, b):
    """(hi, lo) of the 128-bit product of two uint64 as one LLVM i128 multiply (x86-64: a single
    ``mul``); the portable 32-bit-halves version below is what the GPU build compiles."""
    if not (isinstance(a, nb_types.Integer) and isinstance(b, nb_types.Integer)):
        return None
    sig = nb_types.UniTuple(nb_types.uint64, 2)(a, b)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        x = builder.zext(context.cast(builder, args[0], signature.args[0], nb_types.uint64), i128)
        y = builder.zext(context.cast(builder, args[1], signature.args[1], nb_types.uint64), i128)
        prod = builder.mul(x, y)
        hi = builder.trunc(builder.lshr(prod, ir.Constant(i128, 64)), ir.IntType(64))
        lo = builder.trunc(prod, ir.IntType(64))
        return context.make_tuple(builder, signature.return_type, (hi, lo))

    return sig, codegen


@jit(cache=CACHE)
def mulhilo64(a, b):
    """(hi, lo) words of the 128-bit product a * b of two uint64 (CPU: one i128 multiply)."""
    return _umul128(a, b)


@jit(cache=CACHE)
def mulhilo64_portable(a, b):
    """(hi, lo) words of the 128-bit product a * b of two uint64, from 32-bit halves."""
    a_lo = a & _MASK32
    a_hi = a >> _S32
    b_lo = b & _MASK32
    b_hi = b >> _S32
    lo_lo = a_lo * b_lo
    hi_lo = a_hi * b_lo
    lo_hi = a_lo * b_hi
    hi_hi = a_hi * b_hi
    cross = (lo_lo >> _S32) + (hi_lo & _MASK32) + lo_hi
    hi = hi_hi + (hi_lo >> _S32) + (cross >> _S32)
    lo = (cross << _S32) | (lo_lo & _MASK32)
    return hi, lo


@jit(cache=CACHE)
def philox4x64(c0, c1, c2, c3, k0, k1):
    """Philox4x64-10 block function: 4 uint64 counter words and 2 key words -> 4 uint64 words."""
    c0 = np.uint64(c0)
    c1 = np.uint64(c1)
    c2 = np.uint64(c2)
    c3 = np.uint64(c3)
    k0 = np.uint64(k0)
    k1 = np.uint64(k1)
    for r in range(10):
        if r > 0:
            k0 = k0 + PHILOX_W0
            k1 = k1 + PHILOX_W1
        hi0, lo0 = mulhilo64(PHILOX_M0, c0)
        hi1, lo1 = mulhilo64(PHILOX_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


@jit(cache=CACHE)
def word_to_uniform(w):
    """uint64 -> float64 uniform on [0, 1) (top 53 bits)."""
    return float(w >> _S11) * _TWO_M53


@jit(cache=CACHE)
def word_to_open_uniform(w):
    """uint64 -> float64 uniform on (0, 1] (safe inside a log)."""
    return float((w >> _S11) + _ONE) * _TWO_M53


@jit(cache=CACHE)
def fill_uniform(k0, k1, step, stream, sub, out):
    """Fill ``out`` (1-d float64) with U[0, 1) draws for counter (block, step, stream, sub)."""
    fill_uniform_at(k0, k1, step, stream, sub, 0, out)


@jit(cache=CACHE)
def box_muller(wa, wb):
    """Two uint64 words -> two independent standard normals."""
    r = math.sqrt(-2.0 * math.log(word_to_open_uniform(wa)))
    phi = _TWO_PI * word_to_uniform(wb)
    return r * math.cos(phi), r * math.sin(phi)


@jit(cache=CACHE)
def fill_normal(k0, k1, step, stream, sub, out):
    """Fill ``out`` (1-d float64) with N(0, 1) draws for counter (block, step, stream, sub)."""
    n = out.shape[0]
    nblocks = (n + 3) // 4
    for b in range(nblocks):
        w0, w1, w2, w3 = philox4x64(b, step, stream, sub, k0, k1)
        z0, z1 = box_muller(w0, w1)
        z2, z3 = box_muller(w2, w3)
        i = 4 * b
        out[i] = z0
        if i + 1 < n:
            out[i + 1] = z1
        if i + 2 < n:
            out[i + 2] = z2
        if i + 3 < n:
            out[i + 3] = z3


@jit(cache=CACHE)
def fill_normal_at(k0, k1, step, stream, sub, start, out):
    """``out[j]`` = the (start + j)-th normal of the stream (block, step, stream, sub): the slice
    of a longer :func:`fill_normal` draw that begins at flat index ``start`` (block by block:
    one Philox call and two Box-Muller pairs per 4 normals, no per-element division)."""
    n = out.shape[0]
    j = 0
    b = start // 4
    r = start - 4 * b
    while j < n:
        w0, w1, w2, w3 = philox4x64(b, step, stream, sub, k0, k1)
        z0, z1 = box_muller(w0, w1)
        z2, z3 = box_muller(w2, w3)
        if r == 0 and j + 4 <= n:
            out[j] = z0
            out[j + 1] = z1
            out[j + 2] = z2
            out[j + 3] = z3
            j += 4
        else:
            for q in range(r, 4):
                if j >= n:
                    break
                out[j] = z0 if q == 0 else (z1 if q == 1 else (z2 if q == 2 else z3))
                j += 1
        r = 0
        b += 1


@jit(cache=CACHE)
def fill_uniform_at(k0, k1, step, stream, sub, start, out):
    """``out[j]`` = the (start + j)-th uniform of the stream: word q % 4 of Philox block q // 4."""
    _fill_words_at(False, k0, k1, step, stream, sub, start, out)


# ---- ziggurat (256 layers) ----------------------------------------------------------------------
ZIG_LAYERS = 256
ZIG_R = 3.6541528853610088  # right edge of the base layer (Marsaglia and Tsang 2000, 256 layers)


def _zig_tables():
    """x_0 .. x_256 and x_{i+1} / x_i for f(x) = exp(-x^2 / 2): every layer has area V, the base layer
    (layer 0) the rectangle [0, R] x [0, f(R)] plus the tail beyond R, whose width as a rectangle of
    height f(R) is x_0 = V / f(R); x_1 = R, x_{i+1} = f^-1(f(x_i) + V / x_i), x_256 = 0 (the top
    layer's area then equals V to 1.4e-13 relative)."""
    f = lambda x: math.exp(-0.5 * x * x)  # noqa: E731
    V = ZIG_R * f(ZIG_R) + math.sqrt(math.pi / 2) * math.erfc(ZIG_R / math.sqrt(2.0))
    x = np.zeros(ZIG_LAYERS + 1)
    x[0], x[1] = V / f(ZIG_R), ZIG_R
    for i in range(1, ZIG_LAYERS - 1):
        x[i + 1] = math.sqrt(-2.0 * math.log(V / x[i] + f(x[i])))
    return x, x[1:] / x[:-1]


ZIG_X, ZIG_RATIO = _zig_tables()
_LOW8 = np.uint64(0xFF)
_RETRY = np.uint64(1) << np.uint64(63)  # counter word c3 of retry draws: sub | _RETRY | attempt << 40
_S40 = np.uint64(40)


@jit(cache=CACHE)
def zig_normal(w, k0, k1, step, stream, sub, j):
    """The normal of word ``w``, the j-th of stream (step, stream, sub): layer i = low 8 bits, signed
    uniform u = top 53 bits scaled to [-1, 1); x = u x_i is returned at once when |u| < x_{i+1} / x_i
    (under the curve). Otherwise retry words come from counter (j, step, stream, sub | 2^63 |
    attempt 2^40): the base layer samples the tail R + e (e = -log(U1) / R, accepted when
    -2 log(U2) >= e^2), a wedge accepts x when a uniform height under f(x_i) .. f(x_{i+1}) is below
    f(x), and a rejected x draws a new layer and u."""
    i = np.int64(w & _LOW8)
    u = 2.0 * word_to_uniform(w) - 1.0
    if abs(u) < ZIG_RATIO[i]:
        return u * ZIG_X[i]
    return _zig_retry(i, u, k0, k1, step, stream, sub, j)


@jit(cache=CACHE)
def _zig_retry(i, u, k0, k1, step, stream, sub, j):
    """The 1.5% of :func:`zig_normal` that is not under a layer's rectangle (kept out of line, so
    the fast path stays small enough to inline)."""
    attempt = np.uint64(1)
    while True:
        c3 = np.uint64(sub) | _RETRY | (attempt << _S40)
        a, b, c, e = philox4x64(j, step, stream, c3, k0, k1)
        attempt += np.uint64(1)
        if i == 0:
            t = -math.log(word_to_open_uniform(a)) / ZIG_R
            if -2.0 * math.log(word_to_open_uniform(b)) >= t * t:
                return ZIG_R + t if u > 0.0 else -(ZIG_R + t)
        else:
            x = u * ZIG_X[i]
            f0 = math.exp(-0.5 * (ZIG_X[i] * ZIG_X[i] - x * x))      # f(x_i) / f(x) <= 1
            f1 = math.exp(-0.5 * (ZIG_X[i + 1] * ZIG_X[i + 1] - x * x))  # f(x_{i+1}) / f(x)
            if f1 + word_to_uniform(a) * (f0 - f1) < 1.0:
                return x
            i = np.int64(c & _LOW8)
            u = 2.0 * word_to_uniform(e) - 1.0
            if abs(u) < ZIG_RATIO[i]:
                return u * ZIG_X[i]


@jit(cache=CACHE)
def fill_normal_zig_at(k0, k1, step, stream, sub, start, out):
    """``out[j]`` = the (start + j)-th ziggurat normal of stream (step, stream, sub): normal q is
    word q % 4 of Philox block q // 4 (one block per 4 normals)."""
    _fill_words_at(True, k0, k1, step, stream, sub, start, out)


@jit(cache=CACHE)
def _draw_word(normal, w, k0, k1, step, stream, sub, q):
    return zig_normal(w, k0, k1, step, stream, sub, q) if normal else word_to_uniform(w)


@jit(cache=CACHE)
def _fill_words_at(normal, k0, k1, step, stream, sub, start, out):
    """Draw q of the stream from word q % 4 of Philox block q // 4, for q = start .. start + n - 1:
    a ziggurat normal (``normal``) or a uniform. One Philox call per block of 4."""
    n = out.shape[0]
    j = 0
    b = start // 4
    r = start - 4 * b
    while j < n:
        w0, w1, w2, w3 = philox4x64(b, step, stream, sub, k0, k1)
        if r == 0 and j + 4 <= n:  # a whole block, straight-line
            out[j] = _draw_word(normal, w0, k0, k1, step, stream, sub, 4 * b)
            out[j + 1] = _draw_word(normal, w1, k0, k1, step, stream, sub, 4 * b + 1)
            out[j + 2] = _draw_word(normal, w2, k0, k1, step, stream, sub, 4 * b + 2)
            out[j + 3] = _draw_word(normal, w3, k0, k1, step, stream, sub, 4 * b + 3)
            j += 4
        else:
            for q in range(r, 4):
                if j >= n:
                    break
                w = w0 if q == 0 else (w1 if q == 1 else (w2 if q == 2 else w3))
                out[j] = _draw_word(normal, w, k0, k1, step, stream, sub, 4 * b + q)
                j += 1
        r = 0
        b += 1


def key_from_seed(seed: int) -> np.ndarray:
    """The Philox key (2 uint64 words) of one integer seed, via ``numpy.random.SeedSequence``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= 2**63 - 1:
        raise ValueError(f"seed={seed!r}: expected an integer in [0, 2^63 - 1]")
    return np.random.SeedSequence(int(seed)).generate_state(2, np.uint64)


def keys_from_seeds(seeds) -> np.ndarray:
    """``[E, 2]`` uint64 keys, one row per member seed."""
    return np.stack([key_from_seed(s) for s in seeds]).astype(np.uint64)


#: draws per parallel piece of a host-side fill (a multiple of 4: pieces start on Philox blocks)
HOST_PIECE = 1 << 16

_NORMAL_BM, _NORMAL_ZIG, _UNIFORM = 0, 1, 2


@jit(parallel=True)
def _fill_pieces(kind, k0, k1, step, stream, sub, out, piece):
    """``out`` = the first ``out.size`` draws of one stream, filled in pieces of ``piece`` draws on
    all threads: each piece is the ``*_at`` slice starting at its flat index, so the values do not
    depend on the thread count or the piece size (the generator is counter-based)."""
    n = out.shape[0]
    for c in numba.prange((n + piece - 1) // piece):
        start = c * piece
        part = out[start : min(n, start + piece)]
        if kind == _NORMAL_BM:
            fill_normal_at(k0, k1, step, stream, sub, start, part)
        elif kind == _NORMAL_ZIG:
            fill_normal_zig_at(k0, k1, step, stream, sub, start, part)
        else:
            fill_uniform_at(k0, k1, step, stream, sub, start, part)


def _host_draws(kind: int, seed: int, shape, step: int, stream: int, sub: int) -> np.ndarray:
    key = key_from_seed(seed)
    out = np.empty(int(np.prod(shape, dtype=np.int64)), dtype=np.float64)
    # one piece below HOST_PIECE draws; a large draw (xu2023's W_0: 4e7 normals) on every core
    _fill_pieces(kind, key[0], key[1], np.uint64(step), np.uint64(stream), np.uint64(sub), out, HOST_PIECE)
    return out.reshape(shape)


def normal(seed: int, shape, *, step: int = 0, stream: int = STREAM_INIT, sub: int = 0) -> np.ndarray:
    """Normal draws from Python, identical to what a kernel gets for the same counter."""
    return _host_draws(_NORMAL_BM, seed, shape, step, stream, sub)


def normal_zig(seed: int, shape, *, step: int = 0, stream: int = STREAM_INIT, sub: int = 0) -> np.ndarray:
    """Ziggurat normal draws from Python, identical to what :func:`fill_normal_zig_at` gives a kernel."""
    return _host_draws(_NORMAL_ZIG, seed, shape, step, stream, sub)


def uniform(seed: int, shape, *, step: int = 0, stream: int = STREAM_INIT, sub: int = 0) -> np.ndarray:
    """Uniform [0, 1) draws from Python, identical to what a kernel gets for the same counter."""
    return _host_draws(_UNIFORM, seed, shape, step, stream, sub)


def random_orthogonal(dim: int, seed: int) -> np.ndarray:
    """Haar-random orthogonal matrix: QR of a Gaussian matrix with the signs of diag(R) fixed."""
    G = normal(seed, (dim, dim), stream=STREAM_USER)
    Q, R = np.linalg.qr(G)
    return Q * np.sign(np.diag(R))
