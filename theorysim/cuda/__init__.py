"""numba.cuda versions of the kernels; imported lazily, never by ``import theorysim``.

The device functions are compiled from the very same Python source as the CPU ones (the scalar
functions of :mod:`theorysim.core.rng`), re-bound so that their calls resolve to device
functions: one algorithm, two targets.
"""

import numpy as _np

# numba-cuda 0.30 registers an overload for ``np.row_stack`` at import time; numpy 2.4+ removed
# that alias (it was deprecated in 2.0 as a synonym of ``vstack``). Restoring the alias before
# numba.cuda is first imported lets such an image's numba-cuda load; it changes nothing else.
if not hasattr(_np, "row_stack"):
    _np.row_stack = _np.vstack
