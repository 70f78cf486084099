"""8-bit block-wise dynamic quantisation of optimizer state (Dettmers et al. 2022,
"8-bit Optimizers via Block-wise Quantization", arXiv 2110.02861; bitsandbytes).

Maps: ``create_dynamic_map`` as in current bitsandbytes (``functional.py``): for exponent
i = 0..6, the midpoints of ``linspace(0.1, 1, n_i + 1)`` scaled by 10^(i-6), with
n_i = 2^i (signed, mirrored to negative values) or 2^(i+1) (unsigned), then 0 and 1.0, sorted:
256 values in [-1, 1] (signed, for the first moment) or [0, 1] (unsigned, for the second).
Values are computed in float32 as bitsandbytes does (torch.linspace may differ from numpy's in
the last float32 ulp; an emulation, not a bitwise port).

Emulation: the state keeps the *dequantised* values in float64. After each update, every block
of ``block`` consecutive entries is re-quantised: absmax in float32, each entry to the nearest
code value of x / absmax, stored back as code * absmax. The block size is the rules'
``state_block``: 256 (default), what bitsandbytes 0.50's blockwise 8-bit optimizers use
(``blocksize = 256`` in its CPU and CUDA kernels), or 2048, the paper's (and older releases'). Parameter blocks with fewer than ``MIN_8BIT_SIZE`` = 4096 elements keep full
precision state, as bitsandbytes' ``min_8bit_size``.

Rounding (``state_rounding``): ``"nearest"`` (default) stores the code value nearest to x / absmax,
the rule of the paper and of bitsandbytes' CUDA kernels. ``"cpu_lut"`` is bitsandbytes' CPU backend
(0.50, ``csrc/cpu_ops.cpp``: ``build_quantize_lut`` / ``norm_to_lut_index``): x / absmax (float32,
as x times the float32 reciprocal of absmax) is rounded to one of 65536 equispaced bins of
[-1, 1], and each bin holds the code whose float32 midpoints enclose the bin's left value. Near a
midpoint (within half a bin, 1.5e-5 of x / absmax) the two rules pick different codes: about 0.1%
of the values of a normal block, and, for a small-gap code region (|x / absmax| < ~3e-5), every
value goes to one of the region's codes. Through Adam's division by sqrt(v) those picks move 10-20%
of 8192 parameters by more than 1e-4 within 10 steps. ``"cpu_lut"`` computes the bin and the
comparison table-free (a binary search over the 255 float32 midpoints for the bin's left value)
and stores the dequantised value rounded to float32, as bitsandbytes' float32 state does.
"""
from __future__ import annotations

import numpy as np

from theorysim.core.config import CACHE, jit

BLOCK = 256  # bitsandbytes 0.50
PAPER_BLOCK = 2048  # Dettmers et al. 2022
MIN_8BIT_SIZE = 4096


def create_dynamic_map(signed: bool = True, max_exponent_bits: int = 7, total_bits: int = 8) -> np.ndarray:
    non_sign_bits = total_bits - 1
    data: list[float] = []
    for i in range(max_exponent_bits):
        n = 2 ** (i + non_sign_bits - max_exponent_bits) + 1 if signed else 2 ** (i + non_sign_bits - max_exponent_bits + 1) + 1
        boundaries = np.linspace(0.1, 1.0, n).astype(np.float32)
        means = (boundaries[:-1] + boundaries[1:]) / np.float32(2.0)
        scale = np.float32(10.0 ** (-(max_exponent_bits - 1) + i))
        data += (scale * means).tolist()
        if signed:
            data += (-scale * means).tolist()
    data += [0.0, 1.0]
    if len(data) != 2**total_bits:
        raise AssertionError(f"dynamic map has {len(data)} values, expected {2 ** total_bits}")
    return np.sort(np.array(data, dtype=np.float32)).astype(np.float64)


SIGNED_MAP = create_dynamic_map(True)
UNSIGNED_MAP = create_dynamic_map(False)
NEAREST, CPU_LUT = 0, 1  # state_rounding codes
LUT_BINS = 65536  # bitsandbytes' kLUTSize


def midpoints(code: np.ndarray) -> np.ndarray:
    """bitsandbytes' float32 midpoints 0.5f * (c[i] + c[i + 1]) (exact in float64)."""
    c = code.astype(np.float32)
    return (np.float32(0.5) * (c[:-1] + c[1:])).astype(np.float32).astype(np.float64)


SIGNED_MIDS = midpoints(SIGNED_MAP)
UNSIGNED_MIDS = midpoints(UNSIGNED_MAP)


@jit(cache=CACHE)
def lut_code(mids, xn):
    """The code index bitsandbytes' CPU LUT gives to the normalised float32 value ``xn``: its bin
    (float32 (clamp(xn) + 1) * 0.5 * 65535 + 0.5, truncated), the bin's left value (float32
    -1 + 2 bin / 65535) and the number of midpoints below that value (the LUT's entry)."""
    one = np.float32(1.0)
    if not (xn == xn):  # NaN (0 times the infinite reciprocal of a subnormal absmax): bin 0, as x86's
        return lut_code_of_bin(mids, 0)  # conversion of NaN gives in bitsandbytes' C++
    if xn < -one:
        xn = -one
    if xn > one:
        xn = one
    t = np.float32(np.float32(np.float32(xn + one) * np.float32(0.5)) * np.float32(65535.0))
    return lut_code_of_bin(mids, int(np.float32(t + np.float32(0.5))))


@jit(cache=CACHE)
def lut_code_of_bin(mids, b):
    """The LUT's entry for bin ``b``: the number of midpoints below the bin's left value."""
    one = np.float32(1.0)
    val = np.float32(-one + np.float32(np.float32(np.float32(2.0) * np.float32(b)) / np.float32(65535.0)))
    lo = 0
    hi = mids.shape[0]
    while lo < hi:  # the number of midpoints < val
        mid = (lo + hi) // 2
        if mids[mid] < val:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit(cache=CACHE)
def nearest_code(code, x):
    """Index of the code value nearest to x (code sorted ascending); ties go to the lower one."""
    lo = 0
    hi = code.shape[0] - 1
    if x <= code[lo]:
        return lo
    if x >= code[hi]:
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if code[mid] <= x:
            lo = mid
        else:
            hi = mid
    return lo if x - code[lo] <= code[hi] - x else hi


@jit(cache=CACHE)
def requantize(x, start, size, signed, block, rounding):
    """Quantise-dequantise x[start:start+size] in place, block by block of ``block`` entries, with
    ``rounding`` NEAREST or CPU_LUT (module docstring)."""
    if rounding == CPU_LUT:
        requantize_lut(x, start, size, signed, block)
        return
    code = SIGNED_MAP if signed else UNSIGNED_MAP
    b0 = start
    end = start + size
    while b0 < end:
        b1 = min(b0 + block, end)
        absmax = 0.0
        for i in range(b0, b1):
            a = abs(x[i])
            if a > absmax:
                absmax = a
        absmax = float(np.float32(absmax))
        if absmax > 0.0:
            for i in range(b0, b1):
                x[i] = code[nearest_code(code, x[i] / absmax)] * absmax
        b0 = b1


@jit(cache=CACHE)
def requantize_lut(x, start, size, signed, block):
    """bitsandbytes' CPU rounding, in float32 as there: absmax of the float32 values, x times the
    float32 reciprocal, the LUT's code (:func:`lut_code`), stored as float32 code * absmax."""
    code = SIGNED_MAP if signed else UNSIGNED_MAP
    mids = SIGNED_MIDS if signed else UNSIGNED_MIDS
    b0 = start
    end = start + size
    while b0 < end:
        b1 = min(b0 + block, end)
        absmax = np.float32(0.0)
        for i in range(b0, b1):
            a = abs(np.float32(x[i]))
            if a > absmax:
                absmax = a
        if absmax == np.float32(0.0):
            for i in range(b0, b1):
                x[i] = 0.0
        else:
            inv = np.float32(np.float32(1.0) / absmax)
            for i in range(b0, b1):
                k = lut_code(mids, np.float32(np.float32(x[i]) * inv))
                x[i] = float(np.float32(np.float32(code[k]) * absmax))
        b0 = b1


def requantize_numpy(x: np.ndarray, signed: bool, block: int = BLOCK, rounding: str = "nearest") -> np.ndarray:
    """The same, in numpy, for one flat array (the reference's version); ``rounding`` "nearest" or
    "cpu_lut" (module docstring)."""
    code = SIGNED_MAP if signed else UNSIGNED_MAP
    if rounding == "cpu_lut":
        return _requantize_lut_numpy(x, code, SIGNED_MIDS if signed else UNSIGNED_MIDS, block)
    out = np.array(x, dtype=np.float64, copy=True)
    for b0 in range(0, out.size, block):
        blk = out[b0 : b0 + block]
        absmax = float(np.float32(np.max(np.abs(blk))))
        if absmax > 0:
            y = blk / absmax
            hi = np.clip(np.searchsorted(code, y, side="right"), 1, code.size - 1)
            lo = hi - 1
            pick = np.where(y - code[lo] <= code[hi] - y, lo, hi)
            pick = np.where(y <= code[0], 0, np.where(y >= code[-1], code.size - 1, pick))
            out[b0 : b0 + block] = code[pick] * absmax
    return out


def _requantize_lut_numpy(x, code, mids, block):
    """bitsandbytes' CPU LUT rounding written as the LUT itself (65536 entries built as
    ``build_quantize_lut`` does), the numpy oracle of :func:`requantize_lut`."""
    f32 = np.float32
    bins = np.arange(LUT_BINS).astype(np.float32)
    left = (f32(-1.0) + (f32(2.0) * bins) / f32(LUT_BINS - 1)).astype(np.float32)
    lut = np.searchsorted(mids, left.astype(np.float64), side="left")
    out = np.array(x, dtype=np.float32)
    for b0 in range(0, out.size, block):
        blk = out[b0 : b0 + block]
        absmax = np.max(np.abs(blk)) if blk.size else f32(0.0)
        if absmax == 0:
            out[b0 : b0 + block] = 0.0
            continue
        with np.errstate(over="ignore", invalid="ignore"):  # a subnormal absmax: an infinite reciprocal
            inv = f32(1.0) / absmax
            xn = np.clip((blk * inv).astype(np.float32), f32(-1.0), f32(1.0))
            t = ((((xn + f32(1.0)) * f32(0.5)).astype(np.float32) * f32(LUT_BINS - 1)).astype(np.float32) + f32(0.5))
        bins = np.where(np.isnan(t), 0, np.nan_to_num(t)).astype(np.float32).astype(np.int64)
        k = lut[bins]
        out[b0 : b0 + block] = (code[k].astype(np.float32) * absmax).astype(np.float32)
    return out.astype(np.float64)
