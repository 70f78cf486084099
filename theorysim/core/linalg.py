"""Dense products inside model kernels: BLAS on the CPU, loops on the GPU.

A kernel calls :func:`matmul` / :func:`matvec` with preallocated outputs; the CPU compiles them to
``np.dot`` (BLAS, so such a model sets ``Model.uses_blas``), and :mod:`theorysim.cuda.retarget`
swaps in the loop versions registered here, since device code has no BLAS.
"""
from __future__ import annotations

import numpy as np

from theorysim.core.config import gpu_version, jit


@jit
def matmul(A, B, out):
    """out = A B (BLAS on the CPU; A and B may be transposed views)."""
    np.dot(A, B, out)


@jit
def matvec(A, x, out):
    """out = A x (BLAS on the CPU)."""
    np.dot(A, x, out)


@jit
def matmul_share(A, B, out, j, nt):
    """Thread ``j`` of a block's ``nt``: its share of out = A B, the entries whose flat index
    (row-major) is j, j + nt, ... (in a block kernel, :mod:`theorysim.core.block`; the caller
    places the barrier before ``out`` is read). On the CPU the kernel runs as one thread (j = 0,
    nt = 1): one BLAS call, as :func:`matmul`."""
    np.dot(A, B, out)


@jit
def dots(u, Rows, n, b0, b1, out):
    """out[b] = <u[:n], Rows[b, :n]> for b0 <= b < b1, four at a time: four independent accumulation
    chains per pass over u (each still summed in index order from 0.0, so the values are those of
    one dot product at a time; a lone dot product is a serial chain of adds). Loops, not BLAS:
    for the short products of the models' scalar kernels, on both targets."""
    b = b0
    while b + 4 <= b1:
        r0, r1, r2, r3 = Rows[b], Rows[b + 1], Rows[b + 2], Rows[b + 3]
        a0 = a1 = a2 = a3 = 0.0
        for i in range(n):
            ui = u[i]
            a0 += ui * r0[i]
            a1 += ui * r1[i]
            a2 += ui * r2[i]
            a3 += ui * r3[i]
        out[b], out[b + 1], out[b + 2], out[b + 3] = a0, a1, a2, a3
        b += 4
    while b < b1:
        rb = Rows[b]
        acc = 0.0
        for i in range(n):
            acc += u[i] * rb[i]
        out[b] = acc
        b += 1


def matmul_loops(A, B, out):
    """out = A B by loops: the GPU's version of :func:`matmul` (no BLAS in device code)."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            s = 0.0
            for k in range(A.shape[1]):
                s += A[i, k] * B[k, j]
            out[i, j] = s


def matvec_loops(A, x, out):
    """out = A x by loops: the GPU's version of :func:`matvec`."""
    for i in range(out.shape[0]):
        s = 0.0
        for k in range(A.shape[1]):
            s += A[i, k] * x[k]
        out[i] = s


def matmul_share_loops(A, B, out, j, nt):
    """The GPU's version of :func:`matmul_share`: thread j's entries by loops, each summed in
    the order of :func:`matmul_loops` (consecutive threads take consecutive columns)."""
    cols = out.shape[1]
    for e in range(j, out.shape[0] * cols, nt):
        r = e // cols
        c = e - r * cols
        s = 0.0
        for k in range(A.shape[1]):
            s += A[r, k] * B[k, c]
        out[r, c] = s


gpu_version(matmul, matmul_loops)
gpu_version(matmul_share, matmul_share_loops)
gpu_version(matvec, matvec_loops)
