"""The GPU RNG against numpy's Philox (an independent implementation, not the CPU source the GPU
kernel is compiled from): in the CUDA simulator on any machine (NUMBA_ENABLE_CUDASIM=1, set here
before numba.cuda is imported in a subprocess), and on a real GPU when one is present."""
import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import numpy as np
from theorysim.cuda import rng as gpu
r = np.random.default_rng(0)
counters = r.integers(1, 2**63, size=(N, 4), dtype=np.uint64)  # c0 >= 1: no borrow in numpy's pre-increment
key = np.array([0x0123456789ABCDEF, 0xFEDCBA9876543210], dtype=np.uint64)
words = gpu.philox_blocks(counters, key)
# the reference: numpy's own Philox4x64-10 (an independent implementation), which increments the
# counter before each block, so it starts one below
ref = np.array([np.random.Philox(key=key, counter=np.array([c[0] - np.uint64(1), *c[1:]], dtype=np.uint64))
                .random_raw(4) for c in counters], dtype=np.uint64)
assert np.array_equal(words, ref), "philox words differ from numpy's Philox"
# Box-Muller written out in numpy from those words: u1 in (0, 1], u2 in [0, 1)
u1 = ((ref >> np.uint64(11)).astype(np.float64) + 1.0) * 2.0**-53
u2 = (ref >> np.uint64(11)).astype(np.float64) * 2.0**-53
rad = np.sqrt(-2.0 * np.log(u1[:, 0::2]))
ang = 2.0 * np.pi * u2[:, 1::2]
ref_n = np.empty((len(counters), 4))
ref_n[:, 0::2], ref_n[:, 1::2] = rad * np.cos(ang), rad * np.sin(ang)
normals = gpu.normal_blocks(counters, key)
err = float(np.max(np.abs(normals - ref_n) / np.maximum(np.abs(ref_n), 1e-300)))
print("max relative difference of normals", err, "bitwise equal words", N)
assert err < 1e-12, err
# the ziggurat against the plain-Python one on numpy's Philox words (tests/test_rng.py)
from tests.test_rng import zig_oracle
from theorysim.core.rng import key_from_seed
zig = gpu.zig_normals(16, min(N, 2048), key_from_seed(9), 2, 5).ravel()  # the oracle is plain Python
ref_z = zig_oracle(9, zig.size, 2, 5)
err = float(np.max(np.abs(zig - ref_z) / np.abs(ref_z)))
print("ziggurat: max relative difference", err, "of", zig.size)
assert err < 1e-15, err
"""


def _run(env_extra, n):
    env = {**os.environ, **env_extra}
    code = SCRIPT.replace("N", str(n))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=root)


def test_cuda_rng_matches_cpu_in_the_simulator():
    pytest.importorskip("numba.cuda")
    proc = _run({"NUMBA_ENABLE_CUDASIM": "1"}, 64)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.gpu
def test_cuda_rng_matches_cpu_on_a_gpu():
    cuda = pytest.importorskip("numba.cuda")
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or not cuda.is_available():
        pytest.skip("no CUDA GPU here")
    proc = _run({}, 100_000)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
