"""Model kernels that the threads of a GPU block run together (``Model.block_loss_grad``).

Such a kernel takes the thread's index ``j`` and the block's thread count ``S``, splits each phase
of its work over the threads (``for item in range(j, n_items, S)``) and calls ``barrier(S)``
between a phase and the next that reads its results. On the CPU the engine calls it once with
``j = 0, S = 1``: the same statements, each item computed in the same order, so the CPU's
numbers are those of a serial kernel.
"""
from __future__ import annotations

from theorysim.core.config import jit


@jit
def barrier(nt):
    """Wait until the block's ``nt`` threads have all arrived (CUDA ``__syncthreads``; the GPU
    build compiles :func:`theorysim.cuda.device_only.barrier` in its place). With nt = 1 (the CPU,
    or a GPU thread running a block kernel alone, as thread 0 computing the metrics does) there is
    nothing to wait for, and nothing is done: a lone thread never waits for threads that are not
    coming."""
    return
