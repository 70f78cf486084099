"""Philox4x64-10 on the GPU, compiled from the CPU source of :mod:`theorysim.core.rng`.

Each scalar function's Python code object is re-bound to a globals dict in which the other RNG
functions are their device versions, then compiled with ``cuda.jit(device=True)``
(:func:`theorysim.cuda.retarget.device`). Integer
arithmetic is identical on both targets, so the uint64 words agree to the bit; uniforms too
(a shift and a multiply by 2^-53); normals go through log/cos/sin, whose last ulp may differ.
"""
from __future__ import annotations

import numpy as np

from theorysim.core import rng as cpu
from theorysim.cuda import cuda
from theorysim.cuda.retarget import device

# the CPU mulhilo64 is an LLVM i128 intrinsic; the GPU compiles the portable version (retarget.OVERRIDES)
mulhilo64 = device(cpu.mulhilo64)
philox4x64 = device(cpu.philox4x64)
word_to_uniform = device(cpu.word_to_uniform)
box_muller = device(cpu.box_muller)
fill_normal_zig_at = device(cpu.fill_normal_zig_at)  # its tables (ZIG_X, ZIG_RATIO) become constant arrays


@cuda.jit
def _philox_kernel(counters, key, out):
    i = cuda.grid(1)
    if i < counters.shape[0]:
        w0, w1, w2, w3 = philox4x64(counters[i, 0], counters[i, 1], counters[i, 2], counters[i, 3], key[0], key[1])
        out[i, 0] = w0
        out[i, 1] = w1
        out[i, 2] = w2
        out[i, 3] = w3


@cuda.jit
def _normal_kernel(counters, key, out):
    i = cuda.grid(1)
    if i < counters.shape[0]:
        w0, w1, w2, w3 = philox4x64(counters[i, 0], counters[i, 1], counters[i, 2], counters[i, 3], key[0], key[1])
        z0, z1 = box_muller(w0, w1)
        z2, z3 = box_muller(w2, w3)
        out[i, 0] = z0
        out[i, 1] = z1
        out[i, 2] = z2
        out[i, 3] = z3


@cuda.jit
def _zig_kernel(key, step, stream, sub, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        fill_normal_zig_at(key[0], key[1], step, stream, sub, i * out.shape[1], out[i])


def zig_normals(count_per_thread: int, threads: int, key, step: int, stream: int, sub: int = 0) -> np.ndarray:
    """Ziggurat normals 0 .. threads x count_per_thread - 1 of stream (step, stream, sub), thread i
    drawing normals i c .. (i + 1) c - 1 on the device (row i of the result)."""
    out = np.zeros((threads, count_per_thread), dtype=np.float64)
    per_block = 64
    _zig_kernel[(threads + per_block - 1) // per_block, per_block](
        np.asarray(key, dtype=np.uint64), np.uint64(step), np.uint64(stream), np.uint64(sub), out)
    return out


def _launch(kernel, counters, key, dtype) -> np.ndarray:
    counters = np.ascontiguousarray(counters, dtype=np.uint64)
    out = np.zeros((counters.shape[0], 4), dtype=dtype)
    threads = 128
    blocks = (counters.shape[0] + threads - 1) // threads
    kernel[blocks, threads](counters, np.asarray(key, dtype=np.uint64), out)
    return out


def philox_blocks(counters: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Philox words for each counter row ``[N, 4]`` (uint64), computed on the device."""
    return _launch(_philox_kernel, counters, key, np.uint64)


def normal_blocks(counters: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Four normals per counter row, computed on the device (Box-Muller as on the CPU)."""
    return _launch(_normal_kernel, counters, key, np.float64)
