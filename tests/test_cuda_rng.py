"""The GPU RNG against the CPU one: in the CUDA simulator on any machine (NUMBA_ENABLE_CUDASIM=1,
set here before numba.cuda is imported in a subprocess), and on a real GPU when one is present."""
import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import numpy as np
from theorysim.core import rng
from theorysim.cuda import rng as gpu
r = np.random.default_rng(0)
counters = r.integers(0, 2**63, size=(N, 4), dtype=np.uint64)
key = np.array([0x0123456789ABCDEF, 0xFEDCBA9876543210], dtype=np.uint64)
words = gpu.philox_blocks(counters, key)
cpu = np.array([rng.philox4x64(*c, key[0], key[1]) for c in counters], dtype=np.uint64)
assert np.array_equal(words, cpu), "philox words differ"
normals = gpu.normal_blocks(counters, key)
cpu_n = np.empty_like(normals)
for i, c in enumerate(counters):
    w = [np.uint64(x) for x in rng.philox4x64(*c, key[0], key[1])]
    cpu_n[i, :2] = rng.box_muller(w[0], w[1])
    cpu_n[i, 2:] = rng.box_muller(w[2], w[3])
err = float(np.max(np.abs(normals - cpu_n) / np.maximum(np.abs(cpu_n), 1e-300)))
print("max relative difference of normals", err, "bitwise equal words", N)
assert err < 1e-14
"""


def _run(env_extra, n):
    env = {**os.environ, **env_extra}
    code = SCRIPT.replace("N", str(n))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_cuda_rng_matches_cpu_in_the_simulator():
    pytest.importorskip("numba.cuda")
    proc = _run({"NUMBA_ENABLE_CUDASIM": "1"}, 64)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cuda_rng_matches_cpu_on_a_gpu():
    cuda = pytest.importorskip("numba.cuda")
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or not cuda.is_available():
        pytest.skip("no CUDA GPU here")
    proc = _run({}, 100_000)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
