"""Sorting inside kernels, in one place so that the GPU build can swap in its own (numpy's sort
does not exist in CUDA device code; :mod:`theorysim.cuda.device_only` has a heapsort, which
yields the same sorted values)."""
from theorysim.core.config import jit


@jit
def sort_in_place(a):
    """Sort the 1-d array ``a`` ascending, in place."""
    a.sort()
