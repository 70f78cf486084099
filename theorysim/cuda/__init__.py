"""numba.cuda versions of the kernels; imported lazily, never by ``import theorysim``.

The device functions are compiled from the very same Python source as the CPU ones (the scalar
functions of :mod:`theorysim.core.rng`), re-bound so that their calls resolve to device
functions: one algorithm, two targets.
"""
