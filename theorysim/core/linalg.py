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


gpu_version(matmul, matmul_loops)
gpu_version(matvec, matvec_loops)
