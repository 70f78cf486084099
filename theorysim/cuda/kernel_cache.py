"""The on-disk cache of the GPU chunk kernels: numba-cuda's kernel cache, with one obstacle removed
and failures made harmless.

A compiled kernel is saved with its PTX and its cubin (the machine code for the GPU it was built
on) and loaded by a later process on the same GPU model and software versions (numba-cuda's index
key: signature, CUDA runtime version, compute capability, numba-cuda version, bytecode) and the
same code (the index is dated by :func:`stamp_of`, not by a file's mtime), so that process skips the 58-200 s compile (benchmarks/RESULTS.md, issue 17).

The obstacle: numba-cuda refuses to save a kernel whose code library links extra files, and it
links its own array-reshape helper (``reshape_funcs.cu``) into every kernel that reshapes an
array, which is nearly all of theorysim's (the rules' matrix views, the models' weight views; 12
of the 13 parity models' kernels in the sm_90 PTX build). That file only matters when the cubin is
linked from the PTX; the saved cubin already contains it. So :class:`KernelCache` saves the code
library's state without the helper (only when the cubin is there), records that the helper was
linked, and adds it back when it loads the kernel: the loaded kernel is the saved one.

Failures are harmless: a kernel that cannot be saved is not cached, one that cannot be loaded (or
that was saved for other argument types: numba's index can pair an entry with another process's
data file when two save at once) is compiled; :data:`NOT_CACHED` says which and why
(``tools/gpu_check.py`` reports it).
"""
from __future__ import annotations

import os

from numba.cuda.core import sigutils
from numba.cuda.dispatcher import CUDACache, CUDACacheImpl, _Kernel

#: numba-cuda's helper sources that the saved state may leave out (the cubin has them linked in)
HELPERS = ("reshape_funcs.cu",)
#: build name -> why its kernel was not saved or not loaded (each time), in this process
NOT_CACHED: dict = {}


class LibraryState:
    """A code library's saved state (``CUDACodeLibrary._reduce_states`` with the helper files left
    out) and the helper files' paths, to put back on load."""

    def __init__(self, states: dict, helpers: list[str]):
        self.states, self.helpers = states, helpers

    def rebuild(self):
        from numba.cuda.codegen import CUDACodeLibrary

        library = CUDACodeLibrary._rebuild(**self.states)
        library._linking_files.update(self.helpers)
        return library


def library_state(library) -> LibraryState:
    """``library``'s state for the cache; raises when it links any file other than the helpers,
    or when the helpers are linked and no cubin was built (a loaded library could not relink)."""
    files = set(library._linking_files)
    helpers = sorted(f for f in files if isinstance(f, str) and os.path.basename(f) in HELPERS)
    if helpers and not library._cubin_cache:
        raise RuntimeError("no cubin built yet: the helper files would be needed to link one")
    library._linking_files = files - set(helpers)
    try:
        states = library._reduce_states()  # numba-cuda's own check of the remaining files
    finally:
        library._linking_files = files
    return LibraryState(states, helpers)


#: build name -> its stamp (:func:`stamp_of`), set by :func:`enable` before numba-cuda makes the cache
STAMPS: dict = {}


def stamp_of(functions) -> str:
    """The stamp of a GPU build: what the chunk kernel is compiled from. The model's kernels (each by its
    dependency stamp, :func:`theorysim.core.kernel_stamp.digest`: their source and the jitted functions
    they call) and the sources of the machinery every build shares (the engine loop, the rules, the RNG,
    the retargeting: ``theorysim/core``, ``engine``, ``optim``, ``cuda``, ``models/base.py``). numba dates
    a cache by its file's mtime, which a copied tree changes for the same code and which an edit of a
    called helper in another file does not change; this stamp is neither: editing a claim, a plot or a
    setup's other modules keeps every GPU kernel, editing a model's kernel drops that model's."""
    import hashlib
    from pathlib import Path

    from theorysim.core import kernel_stamp

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted([*root.glob("core/*.py"), *root.glob("engine/*.py"), *root.glob("optim/*.py"),
                        *root.glob("cuda/*.py"), root / "models" / "base.py"]):
        h.update(str(path.relative_to(root)).encode() + b"\n" + path.read_bytes())
    for fn in functions:
        h.update(kernel_stamp.digest(fn).encode())
    return h.hexdigest()


class _Impl(CUDACacheImpl):
    def __init__(self, py_func):
        super().__init__(py_func)
        stamp = STAMPS[py_func.__qualname__]
        self._locator.get_source_stamp = lambda: stamp

    def reduce(self, kernel):
        payload = kernel._reduce_states()
        payload["codelibrary"] = library_state(payload["codelibrary"])
        return payload

    def rebuild(self, target_context, payload):
        payload = dict(payload, codelibrary=payload["codelibrary"].rebuild())
        return _Kernel._rebuild(**payload)


class KernelCache(CUDACache):
    """numba-cuda's kernel cache through :class:`_Impl`; a failed save or load is recorded in
    :data:`NOT_CACHED` and otherwise ignored (the kernel is then compiled, as without a cache)."""

    _impl_class = _Impl

    def load_overload(self, sig, target_context):
        try:
            kernel = super().load_overload(sig, target_context)
        except Exception as err:  # a stale or unreadable entry: compile instead
            _record(self, f"not loaded: {type(err).__name__}: {err}")
            return None
        argtypes = tuple(sigutils.normalize_signature(sig)[0])
        if kernel is not None and tuple(kernel.argument_types) != argtypes:
            # two processes saving two signatures of one build at once can pair one's index entry
            # with the other's data file (numba writes data, then the whole index): compile instead
            _record(self, f"not loaded: saved for other argument types than {argtypes}")
            return None
        return kernel

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except Exception as err:  # not cacheable: the next process compiles it again
            _record(self, f"not saved: {type(err).__name__}: {err}")


def _record(cache, why: str) -> None:
    NOT_CACHED.setdefault(cache._py_func.__qualname__, []).append(why)


def enable(dispatcher, functions=()):
    """Cache ``dispatcher``'s kernels on disk (what ``cuda.jit(cache=True)`` does, with
    :class:`KernelCache`), dated by :func:`stamp_of` ``functions`` (the model's kernels)."""
    STAMPS[dispatcher.py_func.__qualname__] = stamp_of(functions)
    dispatcher._cache = KernelCache(dispatcher.py_func)
    return dispatcher
