"""The few scalar routines the GPU needs in place of a CPU library call (see
:data:`theorysim.cuda.retarget.OVERRIDES`); plain Python, compiled as CUDA device functions."""
from theorysim.cuda import cuda


def heapsort(a):
    """Sort the 1-d array ``a`` ascending, in place, in O(n log n) with no scratch (replaces
    numpy's sort: the sorted values are the same)."""
    n = a.shape[0]
    start = n // 2 - 1
    while start >= 0:  # heapify
        _sift(a, start, n)
        start -= 1
    end = n - 1
    while end > 0:
        tmp = a[0]
        a[0] = a[end]
        a[end] = tmp
        _sift(a, 0, end)
        end -= 1


def _sift(a, root, n):
    while True:
        child = 2 * root + 1
        if child >= n:
            return
        if child + 1 < n and a[child] < a[child + 1]:
            child += 1
        if a[root] < a[child]:
            tmp = a[root]
            a[root] = a[child]
            a[child] = tmp
            root = child
        else:
            return


def barrier(nt):
    """:func:`theorysim.core.block.barrier` on the GPU: the block's threads wait for each other
    (``nt`` is the same on all of them, so they all call it or none does)."""
    if nt > 1:
        cuda.syncthreads()
