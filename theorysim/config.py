"""Numerical and compilation policy, decided in one place.

Every Numba kernel in theorysim is built through :func:`jit` or :func:`jit_parallel`, so that
fastmath, caching and threading are chosen here and nowhere else. Environment overrides:

``THEORYSIM_FASTMATH``  ``1`` turns on LLVM fastmath (default off: results must be reproducible
                        to the bit and IEEE semantics are part of the contract).
``THEORYSIM_CACHE``     ``0`` turns off Numba's on-disk cache of the generated engine kernels.
``THEORYSIM_CACHE_DIR`` where generated engine sources and their compiled cache live
                        (default ``$XDG_CACHE_HOME/theorysim`` or ``~/.cache/theorysim``).
``THEORYSIM_THREADS``   Numba threads used by the engine (default: Numba's own default).
"""
from __future__ import annotations

import os
from pathlib import Path

import numba
import numpy as np

DTYPE = np.float64


def _env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"environment variable {name}={raw!r}: expected one of 1/0, true/false, yes/no, on/off")


FASTMATH: bool = _env_flag("THEORYSIM_FASTMATH", False)
CACHE: bool = _env_flag("THEORYSIM_CACHE", True)


def cache_dir() -> Path:
    """Directory for generated engine modules and Numba's cache of them."""
    raw = os.environ.get("THEORYSIM_CACHE_DIR")
    if raw:
        return Path(raw)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "theorysim"


def jit(fn=None, **options):
    """``numba.njit`` with the project's policy (fastmath per config, no per-function cache).

    Helper kernels are not cached on their own (except leaf modules such as rng.py, whose
    functions call nothing outside their file, and so pass ``cache=CACHE``): Numba's cache does not notice edits in *other*
    files a function calls, so only the generated engine kernels are cached, under a name that
    hashes the source of everything they call (see :mod:`theorysim.core.engine`).
    """
    options.setdefault("fastmath", FASTMATH)
    options.setdefault("cache", False)
    if fn is None:
        return lambda f: numba.njit(f, **options)
    return numba.njit(fn, **options)


def set_threads(n: int | None = None) -> int:
    """Set the number of Numba threads (``None``: ``THEORYSIM_THREADS`` or Numba's default).

    Results never depend on this number: members of an ensemble are independent and each is
    computed by one thread in a fixed order.
    """
    if n is None:
        raw = os.environ.get("THEORYSIM_THREADS")
        if not raw:
            return numba.get_num_threads()
        try:
            n = int(raw)
        except ValueError:
            raise ValueError(f"THEORYSIM_THREADS={raw!r}: expected a positive integer") from None
    if not isinstance(n, (int, np.integer)) or n < 1 or n > numba.config.NUMBA_NUM_THREADS:
        raise ValueError(
            f"threads={n!r}: expected an integer in [1, {numba.config.NUMBA_NUM_THREADS}] "
            "(NUMBA_NUM_THREADS caps it)"
        )
    numba.set_num_threads(int(n))
    return int(n)
