"""numba.cuda versions of the kernels; imported lazily, never by ``import theorysim``.

The device functions are compiled from the very same Python source as the CPU ones (rules,
models, the RNG), re-bound so that their calls resolve to device functions
(:mod:`theorysim.cuda.retarget`): one algorithm, two targets. :mod:`theorysim.cuda.engine` is
the GPU training loop behind ``Experiment(..., backend="cuda")``.

``NUMBA_ENABLE_CUDASIM=1`` (set before this package is imported) runs everything in Numba's
CUDA simulator, on any machine: that is how CI tests the GPU code without a GPU.
"""
import os

import numpy as _np

# numba-cuda 0.30 registers an overload for ``np.row_stack`` at import time; numpy 2.4+ removed
# that alias (it was deprecated in 2.0 as a synonym of ``vstack``). Restoring the alias before
# numba.cuda is first imported lets such an image's numba-cuda load; it changes nothing else.
if not hasattr(_np, "row_stack"):
    _np.row_stack = _np.vstack

try:
    from numba import cuda
except ImportError as err:  # pragma: no cover - numba without its CUDA target
    raise ImportError("backend='cuda' needs numba's CUDA target: pip install 'theorysim[cuda]' "
                      f"(numba-cuda with NVVM from PyPI; no system CUDA toolkit needed); import failed: {err}") from None

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def require_device() -> None:
    """Raise a one-line error unless a CUDA GPU (or the simulator) is there to run on."""
    if SIMULATOR:
        return
    try:
        ok = cuda.is_available()
    except Exception as err:  # pragma: no cover - a broken driver install
        raise RuntimeError(f"backend='cuda': the CUDA driver could not be loaded ({err})") from None
    if not ok:
        raise RuntimeError("backend='cuda': no CUDA GPU is visible (numba.cuda.is_available() is False); "
                           "run on a machine with an NVIDIA GPU and driver, or set NUMBA_ENABLE_CUDASIM=1 "
                           "before importing theorysim to use Numba's (slow) CUDA simulator")
