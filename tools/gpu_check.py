"""The GPU checks of issue 17, as one script for a lent GPU (run through the device tool).

Each task runs in its own process, all started at once (a fused kernel compiles for ~60-80 s on
the device's CPU, single-threaded; 16 cores compile side by side); the engine calls a guard
around each ensemble's launches (``engine.LAUNCH_GUARD``) which waits until the bench tasks named
before it have ended, so that they compile in parallel but run one at a time, in the order
given, on the one GPU: each is run once, its GPU seconds the engine's launch-to-copy-back time.
Put a long workload last: a task that times out is killed and the next one goes on.

Tasks (default: :data:`DEFAULT`: parity and the three 20x workloads; then a second call with
``variants`` (:data:`VARIANTS`): W1-4096 again, its kernel loaded from the disk cache, and the
build variants that ``tools/ptxas_report.py`` cannot time: fewer rules, a register cap, more
threads per member):

  env                 device, compute capability, versions
  rng                 tests/test_cuda_rng.py on the GPU (against numpy's Philox)
  parity              CPU engine vs CUDA engine, every case of tests/cuda_parity.py (one task per model)
  parity:MODEL        the cases on one model (a key of ``tests.cuda_parity.models()``)
  variants            the tasks of VARIANTS
  trace               tools/gpu_lsa_trace.py (the LSA loss kernel, traced; its own files in $OUT)
  bench:W[@T][+OPT...] workload W once on the GPU, T threads per block for one member per thread,
                      T threads per member for one member per block (default: the engine's);
                      +global: scratch in global memory (engine.LOCAL_SCRATCH_DOUBLES = 0);
                      +used: the kernel compiles the members' rules only (engine.KERNEL_RULES);
                      +regsN: at most N registers per thread (engine.MAX_REGISTERS);
                      +nullloss: the model's loss and gradient replaced by nothing (the profile:
                      the difference to the real run is their share of the time)

Compiled kernels are cached on disk (``theorysim/cuda/__pycache__``, kept while the lease stays
warm): a second call loads them (each bench result says how many it loaded and compiled).

``--defective``: run models that carry a ``gpu_defect`` anyway (to check whether it is still there).
``--timeout S``: each task's limit (default 300 s). Writes $OUT/gpu_check.json (and parity.json).

    python tools/gpu_check.py
    python tools/gpu_check.py --defective trace parity:lsa bench:W2-1024 bench:W3-256
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository: tests.cuda_parity
OUT = os.environ.get("OUT", ".")
TMP = os.environ.get("TMPDIR", "/tmp")
#: the next lease's first call: correctness on the GPU, then the three 20x workloads
DEFAULT = ["env", "parity", "bench:W1-4096", "bench:W2-1024", "bench:W3-256"]
#: its second call (task ``variants``): W1-4096 again (its kernel now loaded from the disk cache),
#: then the build variants
VARIANTS = ["env", "bench:W1-4096", "bench:W1-4096+nullloss", "bench:W1-4096+used", "bench:W1-4096+regs128",
            "bench:W1-4096@64", "bench:W2-1024+nullloss", "bench:W2-1024+used", "bench:W2-1024+regs128",
            "bench:W3-256+nullloss", "bench:W3-256+used"]


class _InTurn:
    """Held around an ensemble's GPU launches: waits until every bench task before this one (in
    the command line's order) has ended, so that timed runs never share the GPU; a task's end is
    a file its process (or, if it is killed, the parent) writes."""

    def __enter__(self):
        for k in range(int(os.environ["GPU_CHECK_TURN"])):
            while not os.path.exists(_done(k)):
                time.sleep(0.2)
        return self

    def __exit__(self, *exc):
        return False


def _done(k: int) -> str:
    return os.path.join(TMP, f"gpu_check_done_{os.environ['GPU_CHECK_RUN']}_{k}")


def _clear_defects():
    from theorysim.models.base import Model

    def walk(cls):
        for sub in cls.__subclasses__():
            sub.gpu_defect = ""
            walk(sub)

    import theorysim.setups  # noqa: F401 (registers every model class)

    theorysim.setups.workloads()
    walk(Model)


def env():
    import importlib.metadata as md

    import numba
    import numpy as np

    from theorysim.cuda import cuda

    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    return {"device": name, "cc": list(dev.compute_capability), "sms": dev.MULTIPROCESSOR_COUNT,
            "numpy": np.__version__, "numba": numba.__version__, "numba_cuda": md.version("numba-cuda"),
            "python": sys.version.split()[0],
            # kernels on disk from an earlier call (the second call of a lease should find the first's)
            "cached_kernel_files": len([f for f in os.listdir(os.path.join("theorysim", "cuda", "__pycache__"))
                                        if f.endswith(".nbc")]) if os.path.isdir("theorysim/cuda/__pycache__") else 0}


def rng():
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow",
                        "tests/test_cuda_rng.py", "-rA"], capture_output=True, text=True)
    return {"rc": p.returncode, "tail": p.stdout[-600:]}


def parity(model):
    from tests import cuda_parity

    path = os.path.join(TMP, f"parity_{model}.json")
    rc = cuda_parity.main(["--model", model, "--json", path])
    return {"rc": rc, "rows": json.load(open(path)) if os.path.exists(path) else []}


def trace():
    p = subprocess.run([sys.executable, "tools/gpu_lsa_trace.py"], capture_output=True, text=True)
    return {"rc": p.returncode, "tail": p.stdout[-3000:] + p.stderr[-1000:]}


def bench(spec):
    """One run of workload W (no warm-up: the engine compiles before it launches and times the two
    apart), its GPU launches under the timing lock; ``W@T``: T threads per block."""
    from theorysim.bench.runner import validate
    from theorysim.cuda import engine

    spec, *options = spec.split("+")
    for option in options:
        if option == "global":  # scratch in global memory, member-major (the engine before local scratch)
            engine.LOCAL_SCRATCH_DOUBLES = 0
        elif option == "used":  # the kernel compiles the members' rules only
            engine.KERNEL_RULES = "used"
        elif option.startswith("regs"):  # at most N registers per thread
            engine.MAX_REGISTERS = int(option[4:])
        elif option == "nullloss":  # the loop without the model's loss and gradient
            _null_loss(engine)
        else:
            raise ValueError(f"bench option +{option}: expected +global, +used, +regsN or +nullloss")
    name, _, threads = spec.partition("@")
    if threads:  # one member per thread: threads per block; one member per block: threads per member
        engine.THREADS_PER_BLOCK = engine.SAMPLE_THREADS = engine.COOPERATIVE_THREADS = int(threads)
    engine.LAUNCH_GUARD = _InTurn
    t0 = time.perf_counter()
    result, flops = validate(name, "cuda", 1).run("cuda")
    wall = time.perf_counter() - t0
    gpu = engine.SECONDS["execute"]
    return {"workload": name, "gpu_seconds": gpu, "compile_seconds": engine.SECONDS["compile"], "wall_seconds": wall,
            "gflops": flops / gpu / 1e9, "result": result, "threads_per_block": engine.THREADS_PER_BLOCK,
            "sample_threads": engine.SAMPLE_THREADS, "cooperative_threads": engine.COOPERATIVE_THREADS,
            "local_scratch_doubles": engine.LOCAL_SCRATCH_DOUBLES, "kernel_rules": engine.KERNEL_RULES,
            "max_registers": engine.MAX_REGISTERS, **_disk_cache(engine)}


def _disk_cache(engine) -> dict:
    """Kernels this process loaded from the on-disk cache and compiled (a second call of this
    script in the same lease should load every kernel: compile_seconds near zero)."""
    if engine._simulated():  # no compiled kernels, no cache
        return {}
    from theorysim.cuda import kernel_cache

    hits = sum(sum(getattr(k, "_cache_hits", {}).values()) for k in engine._KERNELS.values())
    misses = sum(sum(getattr(k, "_cache_misses", {}).values()) for k in engine._KERNELS.values())
    return {"kernels_loaded_from_disk": hits, "kernels_compiled": misses, "not_cached": kernel_cache.NOT_CACHED}


def null_loss(theta, fdata, idata, mh, k0, k1, t, grad, work):
    """A model's ``loss_grad`` that computes nothing: gradient 0, loss 1."""
    for i in range(grad.shape[0]):
        grad[i] = 0.0
    return 1.0


def null_partial(theta, fdata, idata, mh, k0, k1, t, grad, work, first, stride):
    """A block's share of a loss that computes nothing (``block_loss_grad`` or a sample kernel)."""
    for i in range(first, grad.shape[0], stride):
        grad[i] = 0.0
    return 1.0


def _null_loss(engine):
    """Build every kernel of this process with the model's loss-and-gradient kernel replaced by
    :func:`null_loss` / :func:`null_partial`: timed against the real kernel, the difference is
    the loss and gradient's share of a step (the rest: the update, the divergence test, the
    loop). Such kernels are never cached on disk (they would carry the real build's name)."""
    import copy

    bound = engine._bound
    engine.CACHE = False

    def nulled(model, rules=None):
        model = copy.copy(model)
        if engine._cooperative(model):
            model.block_loss_grad = null_partial
        elif model.sample_kernels:
            model.sample_kernels = (null_partial,) + tuple(model.sample_kernels[1:])
        else:
            model.kernels = (null_loss,) + tuple(model.kernels[1:])
        return bound(model, rules)

    engine._bound = nulled


def child(task, defective):
    try:
        if defective:
            _clear_defects()
        kind, _, arg = task.partition(":")
        fn = {"env": env, "rng": rng, "trace": trace}.get(kind)
        result = fn() if fn else parity(arg) if kind == "parity" else bench(arg)
        print("RESULT " + json.dumps(result, default=str), flush=True)
    finally:
        if "GPU_CHECK_TURN" in os.environ:
            open(_done(int(os.environ["GPU_CHECK_TURN"])), "w").close()


def expand(tasks):
    out = []
    for t in tasks:
        if t == "variants":
            out += VARIANTS
        elif t == "parity":
            from tests.cuda_parity import cases

            out += [f"parity:{m}" for m in sorted({c[1] for c in cases()})]
        else:
            out.append(t)
    return out


def main(argv):
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("tasks", nargs="*")
    ap.add_argument("--defective", action="store_true")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--child", default=None)
    args = ap.parse_args(argv[1:])
    if args.child:
        child(args.child, args.defective)
        return 0
    defective, timeout = args.defective, args.timeout
    tasks = expand(args.tasks or DEFAULT)
    flags = ["--defective"] if defective else []
    t0 = time.perf_counter()
    run_id = str(os.getpid())
    turns = {t: k for k, t in enumerate(t for t in tasks if t.startswith("bench:"))}
    procs = {}
    for t in tasks:
        env_t = {**os.environ, "GPU_CHECK_RUN": run_id}
        if t in turns:
            env_t["GPU_CHECK_TURN"] = str(turns[t])
        procs[t] = (subprocess.Popen([sys.executable, __file__, "--child", t, *flags], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env_t), time.perf_counter())
    record = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "defective": defective, "tasks": {}}
    for t, (p, start) in procs.items():
        try:
            out, err = p.communicate(timeout=max(1.0, timeout - (time.perf_counter() - start)))
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            err = f"timed out after {timeout} s\n" + err
            if t in turns:  # let the next bench task run
                os.environ["GPU_CHECK_RUN"] = run_id
                open(_done(turns[t]), "w").close()
        lines = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
        result = json.loads(lines[-1][7:]) if lines else {"error": err[-1500:], "stdout": out[-500:]}
        result["seconds"] = round(time.perf_counter() - t0, 1)
        record["tasks"][t] = result
        print(t, json.dumps(result, default=str)[:2500], flush=True)
        with open(os.path.join(OUT, "gpu_check.json"), "w") as f:
            json.dump(record, f, indent=1, default=str)
    rows = [r for t, res in record["tasks"].items() if t.startswith("parity:") for r in res.get("rows", [])]
    if rows:
        with open(os.path.join(OUT, "parity.json"), "w") as f:
            json.dump(rows, f, indent=1)
        bad = [r["case"] for r in rows if not (r["same_divergence"] and r["same_shape"] and r["records"] <= 1e-12
                                               and r["theta"] <= 1e-12)]
        print(f"parity: {len(rows)} cases, {sum(r['bitwise'] for r in rows)} bitwise, outside 1e-12: {bad}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
