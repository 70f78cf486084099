"""The 8-bit requantisation as the GPU runs it (the CPU kernel's source retargeted to numba.cuda),
in the CUDA simulator: both rounding rules equal their numpy oracles bit for bit on blocks of 4096
entries (the engine's parity cases use models below bitsandbytes' 4096-element threshold, where the
state stays float64)."""
import os
import subprocess
import sys

SCRIPT = r"""
import numpy as np
from theorysim.cuda import cuda, retarget
from theorysim.optim import quantize

requantize = retarget.device(quantize.requantize)

@cuda.jit
def kernel(x, signed, rounding):
    requantize(x, 0, x.shape[0], signed, 256, rounding)

g = np.random.default_rng(5)
for signed in (True, False):
    x = g.normal(size=4096) * np.logspace(-7, 0, 4096)
    if not signed:
        x = np.abs(x)
    for rounding, name in ((quantize.NEAREST, "nearest"), (quantize.CPU_LUT, "cpu_lut")):
        d = cuda.to_device(x.copy())
        kernel[1, 1](d, signed, rounding)
        assert np.array_equal(d.copy_to_host(), quantize.requantize_numpy(x, signed, 256, name)), (signed, name)
print("ok")
"""


def test_gpu_requantize_equals_the_numpy_oracles_in_the_simulator():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]
