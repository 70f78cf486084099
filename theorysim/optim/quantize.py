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
def requantize(x, start, size, signed, block):
    """Quantise-dequantise x[start:start+size] in place, block by block of ``block`` entries."""
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


def requantize_numpy(x: np.ndarray, signed: bool, block: int = BLOCK) -> np.ndarray:
    """The same, in numpy, for one flat array (the reference's version)."""
    code = SIGNED_MAP if signed else UNSIGNED_MAP
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
