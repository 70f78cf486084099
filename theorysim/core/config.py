"""Numerical and compilation policy, decided in one place.

Every Numba kernel in theorysim is built through :func:`jit` (parallel ones with
``jit(parallel=True)``), so that fastmath, caching, the error model and threading are chosen here
and nowhere else. Environment overrides:

``THEORYSIM_FASTMATH``
    ``1`` turns on LLVM fastmath (default off: results must be reproducible to the bit and IEEE
    semantics are part of the contract).
``THEORYSIM_CACHE``
    ``0`` turns off Numba's on-disk cache of compiled kernels (CPU and GPU).
``THEORYSIM_THREADS``
    Numba threads used by the engine (default: Numba's own default, one per core): in ``check``,
    ``bench``, the serial sweep executor and each local sweep worker; validated before work (at
    most the cores Numba sees).
"""
from __future__ import annotations

import os

import numba
import numpy as np

DTYPE = np.float64


#: what was wrong with the environment variables read at import (raised by :func:`check_environment`:
#: an import cannot say it in one line, the CLI and the API's entry points can)
ENV_ERRORS: list[str] = []


def _env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    shown = raw if len(raw) <= 200 else raw[:197] + "..."
    ENV_ERRORS.append(f"environment variable {name}={shown!r}: expected one of 1/0, true/false, yes/no, on/off")
    return default


def check_environment() -> None:
    """Raise ValueError (one line) if an environment variable read at import was malformed."""
    if ENV_ERRORS:
        raise ValueError(ENV_ERRORS[0])


FASTMATH: bool = _env_flag("THEORYSIM_FASTMATH", False)
CACHE: bool = _env_flag("THEORYSIM_CACHE", True)


if CACHE:  # a cached kernel is stale when a jitted function it depends on changes (kernel_stamp)
    from theorysim.core import kernel_stamp as _kernel_stamp

    _kernel_stamp.install()


#: Numba's error model for every kernel. ``"numpy"``: a float division by zero gives inf or nan
#: (IEEE 754), as numpy does, and an integer one 0. Numba's default (``"python"``) tests every
#: divisor and raises ZeroDivisionError, and that branch keeps LLVM from vectorising any loop
#: that divides (Adam's ``m / (sqrt(v) + eps)``, every normalisation): measured on Adam's update
#: over 128 coordinates, 5.35 ns per coordinate with the test, 1.43 without, bitwise the same
#: iterates (vector and scalar division and square root are both correctly rounded). A division
#: by zero inside a run is a non-finite loss, which the engine records as divergence.
ERROR_MODEL = "numpy"


def jit(fn=None, **options):
    """``numba.njit`` with the project's policy: fastmath per config, :data:`ERROR_MODEL`, on-disk
    cache on.

    A cached kernel is reused until the source of a jitted function it depends on (its own, and
    those it calls, transitively) or a constant it reads changes
    (:mod:`theorysim.core.kernel_stamp`): editing a claim, a docstring elsewhere or a plot
    recompiles nothing; editing a jitted helper recompiles exactly the kernels that call it. A
    plugin's kernels built through this function follow the same rule.
    """
    options.setdefault("fastmath", FASTMATH)
    options.setdefault("cache", CACHE)
    options.setdefault("error_model", ERROR_MODEL)

    def build(f):
        if options["cache"]:
            from theorysim.core import kernel_stamp

            kernel_stamp.stamp(f)
        return numba.njit(f, **options)

    if fn is None:
        return build
    return build(fn)


def one_blas_thread():
    """A context in which BLAS (numpy's linear algebra) runs on one thread.

    Multithreaded BLAS splits some reductions across its threads (OpenBLAS' dot and symv, the
    LAPACK drivers built on them) and adds the partial sums, so the last bits of ``eigh``,
    ``solve`` or a long dot product depend on the thread count, i.e. on the machine. Claims and
    BLAS-calling models compute inside this context; their parallelism comes from the engine's
    threads and from checking setups side by side (:mod:`theorysim.claims.runner`)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


BACKENDS = ("cpu", "cuda")
_backend = {"name": "cpu"}


def set_backend(name: str) -> str:
    """The engine an :class:`~theorysim.engine.experiment.Experiment` uses when it names none
    (``theorysim check --backend``, ``theorysim sweep --backend``): ``"cpu"`` or ``"cuda"``."""
    if name not in BACKENDS:
        raise ValueError(f"backend={name!r}: expected one of {', '.join(map(repr, BACKENDS))}")
    _backend["name"] = name
    return name


def default_backend() -> str:
    return _backend["name"]


def threads_from_env() -> int | None:
    """``THEORYSIM_THREADS`` as a thread count (None when unset), validated like ``--threads``;
    the error names the variable."""
    raw = os.environ.get("THEORYSIM_THREADS")
    if not raw:
        return None
    try:
        n = int(raw)
    except ValueError:
        raise ValueError(f"THEORYSIM_THREADS={raw!r}: expected a positive integer") from None
    return _checked_threads(n, f"THEORYSIM_THREADS={raw}")


def _checked_threads(n, name: str) -> int:
    cap = numba.config.NUMBA_NUM_THREADS
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 or n > cap:
        raise ValueError(f"{name}: expected an integer in [1, {cap}] (this machine's cores; NUMBA_NUM_THREADS "
                         "caps it)")
    return int(n)


#: kernels that return a view of an argument (a slice, a reshape); see :func:`returns_view`
RETURNS_VIEW: set = set()


def returns_view(fn):
    """Mark a kernel that returns a view of one of its arguments. A CUDA device function may
    return only an argument itself, so the GPU build (:mod:`theorysim.cuda.retarget`) inlines
    such a function into its caller; the CPU build is unchanged."""
    RETURNS_VIEW.add(getattr(fn, "py_func", fn))
    return fn


#: CPU kernel (Python function) -> the plain-Python function the GPU build compiles instead
GPU_VERSIONS: dict = {}


def gpu_version(cpu_kernel, replacement):
    """Have the GPU build compile ``replacement`` (plain scalar Python, same arguments, same
    result) where ``cpu_kernel`` calls a library the device lacks (BLAS through ``np.dot``)."""
    GPU_VERSIONS[getattr(cpu_kernel, "py_func", cpu_kernel)] = replacement
    return cpu_kernel


def set_threads(n: int | None = None) -> int:
    """Set the number of Numba threads (``None``: ``THEORYSIM_THREADS`` or Numba's default).

    Results never depend on this number: members of an ensemble are independent and each is
    computed by one thread in a fixed order.
    """
    if n is None:
        n = threads_from_env()
        if n is None:
            return numba.get_num_threads()
    else:
        n = _checked_threads(n, f"threads={n!r}")
    numba.set_num_threads(int(n))
    return int(n)


def machine_memory() -> int | None:
    """Physical memory in bytes (None where the platform does not say): the limit the sweep's
    validation and :class:`~theorysim.engine.experiment.Experiment` check an allocation against."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def gib(n: float) -> str:
    """Bytes as GiB (or KiB below a MiB), three digits: for memory messages."""
    return f"{n / 2**30:.3g} GiB" if n >= 2**20 else f"{n / 2**10:.3g} KiB"
