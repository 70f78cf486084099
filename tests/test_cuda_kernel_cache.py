"""The GPU kernels' on-disk cache (theorysim.cuda.kernel_cache), without a GPU: a kernel that
links numba-cuda's reshape helper (as nearly every theorysim kernel does) is saved and loaded
back with the same PTX, cubin and linked files, whatever the source file's mtime, and not after
an edit of what the build is compiled from; what cannot be saved or loaded is compiled instead, never an error. The GPU's description (compute capability, runtime version) is faked
where numba-cuda would ask the driver; the cubin is a stand-in (building one needs a GPU)."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = r'''
import json, os, pickle
import numba
from numba.cuda import codegen
from numba.cuda.descriptor import cuda_target
from numba.cuda.dispatcher import _Kernel
from theorysim.cuda import engine, kernel_cache

codegen.CUDACodeLibrary._ensure_cc = lambda self, cc: cc or (9, 0)  # no GPU to ask
codegen.JITCUDACodegen.magic_tuple = lambda self: ("runtime", (9, 0))


def reshaping(a, out):
    b = a.reshape((2, 2))
    out[0] = b[1, 0]


sig = (numba.float64[::1], numba.float64[::1])
kernel_cache.STAMPS["reshaping"] = kernel_cache.stamp_of([reshaping])  # what enable() records
with engine._target_device((9, 0)):
    kernel = _Kernel(reshaping, sig)
lib = kernel._codelibrary
files = sorted(lib._linking_files)
out = {"helper_linked": [os.path.basename(f) for f in files]}
try:
    kernel_cache.library_state(lib)
    out["saved_without_cubin"] = True
except RuntimeError:
    out["saved_without_cubin"] = False
lib._cubin_cache[(9, 0)] = b"stand-in cubin"
kernel_cache.KernelCache(reshaping).save_overload(sig, kernel)
out["files_kept"] = sorted(lib._linking_files) == files
os.utime(__file__, (1e9, 1e9))  # a copied tree: new mtimes, the same sources
loaded = kernel_cache.KernelCache(reshaping).load_overload(sig, cuda_target.target_context)
back = loaded._codelibrary
out["loaded"] = [type(loaded).__name__, loaded.entry_name == kernel.entry_name, back._ptx_cache == lib._ptx_cache,
                 back._cubin_cache == lib._cubin_cache, sorted(back._linking_files) == files]
# a race between two processes saving two signatures: an index entry pointing at the other's data
cache_file = kernel_cache.KernelCache(reshaping)._cache_file
index = cache_file._load_index()
sig2 = (numba.float64[:], numba.float64[::1])
(saved_name,) = index.values()
index[kernel_cache.KernelCache(reshaping)._index_key(sig2, cuda_target.target_context.codegen())] = saved_name
cache_file._save_index(index)
out["loaded_for_other_types"] = kernel_cache.KernelCache(reshaping).load_overload(sig2, cuda_target.target_context)
stamp = kernel_cache.STAMPS["reshaping"]
kernel_cache.STAMPS["reshaping"] = "the stamp after an edit of what the build is compiled from"
out["loaded_after_an_edit"] = kernel_cache.KernelCache(reshaping).load_overload(sig, cuda_target.target_context)
kernel_cache.STAMPS["reshaping"] = stamp
# another linked file: not saved (numba-cuda's own refusal), recorded, no error
lib._linking_files.add("/elsewhere/other.cu")
kernel_cache.KernelCache(reshaping).save_overload((numba.float64[::1],), kernel)
# an unreadable entry: not loaded, recorded, no error (the kernel is compiled instead)
index = kernel_cache.KernelCache(reshaping)._cache_file
for name in os.listdir(os.path.dirname(index._index_path)):
    if name.endswith(".nbc"):
        open(os.path.join(os.path.dirname(index._index_path), name), "wb").write(b"garbage")
out["after_garbage"] = kernel_cache.KernelCache(reshaping).load_overload(sig, cuda_target.target_context)
out["not_cached"] = kernel_cache.NOT_CACHED
print(json.dumps(out))
'''


def test_a_kernel_with_numbas_reshape_helper_is_saved_and_loaded_back(tmp_path, nvvm):
    pytest.importorskip("numba.cuda")
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "0", "PYTHONPATH": ROOT}
    script = tmp_path / "cached_kernel.py"  # numba caches next to the function's source file
    script.write_text(SCRIPT)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["helper_linked"] == ["reshape_funcs.cu"]
    assert out["saved_without_cubin"] is False  # a loaded library could not link a cubin
    assert out["files_kept"]  # saving leaves the live kernel's library as it was
    assert out["loaded"] == ["_Kernel", True, True, True, True]  # the helper back among the linked files
    assert out["loaded_after_an_edit"] is None  # dated by what the build is compiled from, not by mtimes
    assert out["after_garbage"] is None
    assert out["loaded_for_other_types"] is None
    other_types, saved, loaded = out["not_cached"]["reshaping"]
    assert other_types.startswith("not loaded: saved for other argument types"), other_types
    assert saved.startswith("not saved:") and "linking files" in saved, saved
    assert loaded.startswith("not loaded:"), loaded
    assert len(os.listdir(tmp_path / "__pycache__")) >= 2  # index and data file were written
