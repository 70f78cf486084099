"""Model kernels that the threads of a GPU block run together (``Model.block_loss_grad``).

Such a kernel takes the thread's index ``j`` and the block's thread count ``S``, splits each phase
of its work over the threads (``for item in range(j, n_items, S)``) and calls :func:`barrier`
between a phase and the next that reads its results. On the CPU the engine calls it once with
``j = 0, S = 1``: the same statements, each item computed in the same order, so the CPU's
numbers are those of a serial kernel.
"""
from __future__ import annotations

from theorysim.core.config import jit


@jit
def barrier():
    """Wait until every thread of the block has arrived (CUDA ``__syncthreads``; the GPU build
    compiles :func:`theorysim.cuda.device_only.barrier` in its place). On the CPU one thread runs
    the whole kernel: nothing to wait for."""
    return
