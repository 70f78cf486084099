"""One-shot probe of a lent GPU machine: versions, the real-GPU RNG test, whether numba-cuda
specialises kernels on device functions passed as arguments (the CPU engine's model dispatch),
compile_ptx for sm_90, and the time of a fused whole-trajectory kernel (GD on a diagonal quadratic).
Not part of the package or CI; run through the device tool."""
import json, os, sys, time, platform
import numpy as np
if not hasattr(np, "row_stack"):
    np.row_stack = np.vstack

out = {"python": platform.python_version(), "numpy": np.__version__}
import numba
out["numba"] = numba.__version__
try:
    import importlib.metadata as md
    out["numba_cuda"] = md.version("numba-cuda")
except Exception as e:  # noqa
    out["numba_cuda"] = repr(e)
out["np_has_row_stack"] = hasattr(np, "row_stack")
from numba import cuda
out["cuda_available"] = cuda.is_available()
dev = cuda.get_current_device()
out["device"] = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
out["cc"] = dev.compute_capability
out["sms"] = dev.MULTIPROCESSOR_COUNT

# 1) device functions passed as kernel arguments
@cuda.jit(device=True)
def sq(x):
    return x * x

@cuda.jit(device=True)
def cube(x):
    return x * x * x

try:
    @cuda.jit
    def apply(f, a, o):
        i = cuda.grid(1)
        if i < a.size:
            o[i] = f(a[i])
    a = cuda.to_device(np.arange(8.0)); o = cuda.device_array(8)
    apply[1, 8](sq, a, o); r1 = o.copy_to_host()
    apply[1, 8](cube, a, o); r2 = o.copy_to_host()
    out["fn_arg"] = bool(np.allclose(r1, np.arange(8.0) ** 2) and np.allclose(r2, np.arange(8.0) ** 3))
except Exception as e:
    out["fn_arg"] = "error: " + repr(e)[:300]

# 1b) device function called via a closure-free global chosen at compile time (fallback pattern)
# 2) compile_ptx
try:
    def k(x):
        i = cuda.grid(1)
        if i < x.size:
            x[i] = x[i] * 2.0
    ptx, _ = cuda.compile_ptx(k, (numba.float64[:],), cc=(9, 0))
    out["compile_ptx_sm90"] = len(ptx)
except Exception as e:
    out["compile_ptx_sm90"] = "error: " + repr(e)[:300]

# 3) fused trajectory: GD on f = 0.5 sum h_i x_i^2, one member per thread, d = 32
@cuda.jit
def gd_quad(x, h, lr, steps, loss):
    m = cuda.grid(1)
    if m < x.shape[0]:
        for t in range(steps):
            for i in range(x.shape[1]):
                x[m, i] -= lr[m] * h[i] * x[m, i]
        s = 0.0
        for i in range(x.shape[1]):
            s += 0.5 * h[i] * x[m, i] * x[m, i]
        loss[m] = s

@cuda.jit
def gd_quad_t(x, h, lr, steps, loss):
    m = cuda.grid(1)
    if m < x.shape[1]:
        for t in range(steps):
            for i in range(x.shape[0]):
                x[i, m] -= lr[m] * h[i] * x[i, m]
        s = 0.0
        for i in range(x.shape[0]):
            s += 0.5 * h[i] * x[i, m] * x[i, m]
        loss[m] = s

def time_kernel(kernel, label, member_fastest):
    for E, d, T in ((4096, 32, 10000), (65536, 32, 2000)):
        x0 = np.ones((d, E) if member_fastest else (E, d))
        h = np.linspace(0.1, 1.0, d); lr = np.full(E, 0.5)
        dh, dl, dloss = cuda.to_device(h), cuda.to_device(lr), cuda.device_array(E)
        kernel[(E + 127) // 128, 128](cuda.to_device(x0), dh, dl, 1, dloss); cuda.synchronize()  # compile
        dx = cuda.to_device(x0)
        t0 = time.perf_counter(); kernel[(E + 127) // 128, 128](dx, dh, dl, T, dloss); cuda.synchronize()
        dt = time.perf_counter() - t0
        out[f"{label} E={E} d={d} T={T} s"] = dt
        out[f"{label} E={E} flops/s"] = 4.0 * E * d * T / dt


time_kernel(gd_quad_t, "gd_quad_coalesced", True)
time_kernel(gd_quad, "gd_quad", False)
print(json.dumps(out, indent=1, default=str))
with open(os.path.join(os.environ.get("OUT", "."), "probe.json"), "w") as f:
    json.dump(out, f, indent=1, default=str)
