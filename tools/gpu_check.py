"""The GPU checks of issue 17, as one script for a lent GPU (run through the device tool):

1. the CUDA RNG against numpy's Philox on the real GPU (tests/test_cuda_rng.py);
2. CPU engine vs CUDA engine parity, every rule on two or more models (tests/cuda_parity.py);
3. `theorysim bench` W1-4096, W1, W2-1024, W2 and W3-256 with --backend cuda.

Writes $OUT/gpu_check.json with the device, versions, parity rows and bench records.
"""
import json
import os
import subprocess
import sys
import time

OUT = os.environ.get("OUT", ".")
record = {"started": time.strftime("%Y-%m-%d %H:%M:%S")}


def step(name, fn):
    t0 = time.perf_counter()
    try:
        record[name] = fn()
    except Exception as err:  # keep going: each check reports on its own
        record[name] = {"error": f"{type(err).__name__}: {err}"[:2000]}
    record[name + "_seconds"] = round(time.perf_counter() - t0, 1)
    print(name, json.dumps(record[name])[:3000], flush=True)
    with open(os.path.join(OUT, "gpu_check.json"), "w") as f:
        json.dump(record, f, indent=1, default=str)


def env():
    import importlib.metadata as md

    import numba
    import numpy as np

    from theorysim.cuda import cuda

    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    return {"device": name, "cc": list(dev.compute_capability), "numpy": np.__version__, "numba": numba.__version__,
            "numba_cuda": md.version("numba-cuda"), "python": sys.version.split()[0]}


def rng_test():
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", "tests/test_cuda_rng.py", "-rA"],
                       capture_output=True, text=True)
    return {"rc": p.returncode, "tail": p.stdout[-600:]}


def parity():
    """One process per model, all at once: each compiles its model's fused kernel (~70 s on the
    device's CPU, single-threaded), so run serially the cases did not fit a lease."""
    from tests.cuda_parity import cases

    names = sorted({case[1] for case in cases()})
    tmp = os.environ.get("TMPDIR", "/tmp")
    procs = {m: subprocess.Popen([sys.executable, "-m", "tests.cuda_parity", "--model", m,
                                  "--json", os.path.join(tmp, f"parity_{m}.json")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for m in names}
    rows, errors = [], {}
    for m, proc in procs.items():
        _, err = proc.communicate()
        path = os.path.join(tmp, f"parity_{m}.json")
        if os.path.exists(path):
            rows += json.load(open(path))
        if proc.returncode != 0:
            errors[m] = err[-400:]
    with open(os.path.join(OUT, "parity.json"), "w") as f:
        json.dump(rows, f, indent=1)
    p = subprocess.CompletedProcess([], 1 if errors else 0, "", json.dumps(errors))
    worst = max(rows, key=lambda r: max(r["records"], r["theta"])) if rows else None
    return {"rc": p.returncode, "cases": len(rows), "bitwise": sum(r["bitwise"] for r in rows),
            "all_divergence_equal": all(r["same_divergence"] for r in rows), "worst": worst,
            "stderr": p.stderr[-800:]}


def bench(name, repeats=3):
    from theorysim.bench import run_workload

    return run_workload(name, "cuda", repeats=repeats)


step("env", env)
step("rng", rng_test)
step("parity", parity)
step("bench_W1-4096", lambda: bench("W1-4096"))
step("bench_W1", lambda: bench("W1"))
step("bench_W2-1024", lambda: bench("W2-1024", 1))
step("bench_W2", lambda: bench("W2", 1))
step("bench_W3-256", lambda: bench("W3-256", 1))  # CPU baseline 17.5 s on 2 cores (2026-11-30)
