"""The CUDA engine (issue 17): parity with the CPU engine in Numba's CUDA simulator for every
rule on at least two models (tests/cuda_parity.py; the same script runs on a real GPU through
tools/gpu_check.py), the clear errors of a CPU-only install, and that ``import theorysim``
never imports numba.cuda."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from theorysim.engine.experiment import Experiment
from theorysim.models import Quadratic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **env})


def test_parity_with_the_cpu_engine_in_the_simulator():
    pytest.importorskip("numba.cuda")
    parts = 2  # CI's cores: the cases run in two processes side by side
    procs = [subprocess.Popen([sys.executable, "-m", "tests.cuda_parity", "--steps", "12", "--part", f"{k}/{parts}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                              env={**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}) for k in range(parts)]
    rows = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, out[-3000:] + err[-3000:]
        rows += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    from theorysim.optim import registry
    from tests import cuda_parity

    assert sorted(r["case"] for r in rows) == sorted(c[0] for c in cuda_parity.cases())

    covered = {}
    for r in rows:
        covered.setdefault(r["case"].split("/")[0], set()).add(r["case"].split("/")[1])
        assert r["same_divergence"] and r["same_shape"], r
        assert r["records"] <= 1e-12 and r["theta"] <= 1e-12, r
    assert all(len(covered.get(name, ())) >= 2 for name in registry.names()), covered
    assert any(r["diverged_step"][0] != [-1, -1, -1] for r in rows), "some case must diverge"


def test_one_member_per_block_with_fewer_threads_than_samples():
    """Linear self-attention trains one member per block (its prompts shared by the threads):
    7 prompts on 3 threads (3, 2, 2 each), partial gradients summed across threads; the CPU
    sums the prompts in order, so the two agree to rounding (the default parity run gives each
    prompt its own thread). Every lsa_b7 case: updates split over the threads or by thread 0,
    members that clip next to members that do not, members that diverge."""
    pytest.importorskip("numba.cuda")
    proc = subprocess.run([sys.executable, "-m", "tests.cuda_parity", "--steps", "12", "--model", "lsa_b7",
                           "--sample-threads", "3"], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == 5 and all(r["records"] <= 1e-12 and r["theta"] <= 1e-12 and r["same_divergence"]
                                  for r in rows), rows  # incl. LAMB by thread 0, clipped members, divergence
    assert not any(r["bitwise"] for r in rows), "3 threads sum the prompts in another order than the CPU: rounding must show"


BLOCK_SCRIPT = r"""
import numpy as np
from theorysim.cuda import engine
from tests import cuda_parity

def run(name, **changes):
    saved = {k: getattr(engine, k) for k in changes}
    for k, v in changes.items():
        setattr(engine, k, v)
    try:
        res = cuda_parity.run(next(c for c in cuda_parity.cases() if c[0] == name), "cuda", 8, 4)
    finally:
        for k, v in saved.items():
            setattr(engine, k, v)
    return np.concatenate([res.theta.ravel(), res.records.ravel()])

print(int(engine._split_rule(cuda_parity.prepared("adam/lsa_b7"))[0].sum()))
split, thread0 = run("adam/lsa_b7"), run("adam/lsa_b7", _split_rule=lambda exp: [np.zeros(exp.n_members, np.int64)])
same = lambda a, b: np.array_equal(a, b, equal_nan=True)  # (the span's flipped_acc is NaN: no flips)
print(same(split, thread0), same(split, run("sgd/lsa_b7")))
print(same(run("sgd/relu_span"), run("sgd/relu_span", SAMPLE_THREADS=3)))
on_cpu = lambda name: (lambda r: np.concatenate([r.theta.ravel(), r.records.ravel()]))(
    cuda_parity.run(next(c for c in cuda_parity.cases() if c[0] == name), "cpu", 8, 4))
print(same(run("muon/sensing_low_rank", COOPERATIVE_THREADS=3), on_cpu("muon/sensing_low_rank"))
      and same(run("muon/sensing_measured", COOPERATIVE_THREADS=3), on_cpu("muon/sensing_measured")))
print(same(run("sgd/mlp"), run("sgd/mlp", COOPERATIVE_THREADS=3)),
      same(run("adam/relu_direct"), run("adam/relu_direct", COOPERATIVE_THREADS=5)),
      same(run("sgd/readout_net"), run("sgd/readout_net", COOPERATIVE_THREADS=3)))
"""


def test_one_member_per_block_splits_the_update_and_owns_rows_whatever_the_thread_count():
    """In the simulator: (1) a coordinate-wise rule (Adam) updated by all the block's threads,
    each its interleaved share, gives the numbers of thread 0 updating everything, bit for bit
    (every member of the case is split; another case's numbers differ, so the comparison can
    tell); (2) XOR's span form, whose training points own disjoint rows of the gradient, gives
    the same numbers on 3 threads per member as on one thread per point, bit for bit (no partial
    gradients are re-summed); (3) matrix sensing's block kernel on 3 threads (low-rank path: 6 rows
    of X, 3 of S; measured path: rows of M, the measurements, ranges of E's entries; barriers
    between) gives the CPU's numbers bit for bit (the simulator does not fuse multiply-adds), with
    Muon applied by thread 0; (4) the block kernels of the MLP, XOR's direct
    form and the frozen-readout net (every product split by entries, the elementwise steps by rows) give the same numbers
    on 3 or 5 threads as on 32, bit for bit."""
    pytest.importorskip("numba.cuda")
    proc = _python(BLOCK_SCRIPT, NUMBA_ENABLE_CUDASIM="1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    split_members, same_update, other_case, same_span, same_sensing, same_mlp, same_direct, same_readout = \
        proc.stdout.split()
    assert split_members == "3" and same_update == "True" and other_case == "False" and same_span == "True"
    assert same_sensing == "True" and same_mlp == "True" and same_direct == "True" and same_readout == "True"


USED_RULES_SCRIPT = r"""
import json
import numpy as np
from theorysim.cuda import engine
from theorysim.engine.experiment import Experiment
from tests import cuda_parity
from tests.cuda_parity import relative_difference
engine.KERNEL_RULES = "used"
out = []
for model, optimizers, kw in (("quadratic", ["sgd", "adam", "lion"], {"lr": [0.05, 0.01, 0.001]}),
                              ("lsa_b7", ["adam", "lamb", "adam"], {"lr": [1e-3, 3e-3, 1e-2], "init_scale": 0.2})):
    runs = [Experiment(cuda_parity.models()[model], optimizers, steps=12, record_every=4, seeds=[0, 1, 2],
                       progress=False, backend=b, **kw).run() for b in ("cpu", "cuda")]
    out.append([model, relative_difference(runs[0].theta, runs[1].theta),
                relative_difference(runs[0].records, runs[1].records),
                runs[0].records.shape == runs[1].records.shape])
out.append(sorted(str(k[-2]) for k in engine._KERNELS))
from theorysim.cuda import retarget
from theorysim.optim import dispatch
out.append(retarget.OVERRIDES[dispatch.dispatch.py_func] in retarget._DEVICE)  # the switch over all 22 rules
print(json.dumps(out))
"""


def test_a_kernel_with_only_the_members_rules_gives_the_same_run():
    """``engine.KERNEL_RULES = "used"`` (a kernel compiling only its members' rules: faster to
    build, tools/ptxas_report.py) in the simulator: mixed rules in one ensemble, one member per
    thread and one per block (Adam split over the threads, LAMB by thread 0), match the CPU
    within 1e-12, the kernels compiled exactly those rule ids, and the switch over every rule
    was never built."""
    pytest.importorskip("numba.cuda")
    proc = _python(USED_RULES_SCRIPT, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    *models, kernels, all_rules_built = json.loads(proc.stdout.splitlines()[-1])
    assert all_rules_built is False
    for name, theta, records, same_shape in models:
        assert theta <= 1e-12 and records <= 1e-12 and same_shape, (name, theta, records)
    from theorysim.optim.family import SPECS

    ids = [str(tuple(sorted({SPECS[n].rule_id for n in names}))) for names in (("sgd", "adam", "lion"), ("adam", "lamb"))]
    assert kernels == sorted(ids)


def test_the_progress_bar_says_while_the_gpu_kernel_is_built():
    """A first GPU run spends minutes building its kernel before step 1: the progress bar says so."""
    pytest.importorskip("numba.cuda")
    proc = _python("import numpy as np\n"
                   "from theorysim.models import Quadratic\n"
                   "from theorysim.engine.experiment import Experiment\n"
                   "Experiment(Quadratic(np.eye(2)), 'sgd', lr=0.1, steps=3, seeds=[0], backend='cuda', progress=True).run()\n",
                   NUMBA_ENABLE_CUDASIM="1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    from theorysim.cuda import engine

    assert engine.BUILDING in proc.stderr, proc.stderr[-2000:]


NULL_LOSS_SCRIPT = r"""
import sys
sys.path.insert(0, "tools")
import numpy as np
import gpu_check
from theorysim.cuda import engine
from tests import cuda_parity
gpu_check._null_loss(engine)
for name in ("adabelief/quadratic+noise", "sgd/sensing_low_rank", "adam/lsa_b7", "sgd/relu_span"):
    r = cuda_parity.prepared(name, "cuda", steps=3, record_every=3).run()
    print(name, np.array_equal(r.records[:, 0], r.records[:, -1], equal_nan=True), engine.CACHE)
"""


def test_the_profile_variant_of_gpu_check_drops_the_loss_and_is_never_cached():
    """``tools/gpu_check.py bench:W+nullloss`` (the profile at the next lease: the loop without the
    model's loss and gradient) in the simulator: in every mapping (one member per thread, a block
    kernel, samples with partial and with disjoint gradients) the parameters do not move, and
    such kernels stay off the disk cache (they would carry the real build's name)."""
    pytest.importorskip("numba.cuda")
    proc = _python(NULL_LOSS_SCRIPT, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert len(rows) == 4 and all(row[1:] == ["True", "False"] for row in rows), rows


def test_the_gpu_memory_is_checked_before_any_allocation(monkeypatch):
    """An ensemble larger than the GPU's free memory is refused up front, with the sizes."""
    pytest.importorskip("numba.cuda")
    from theorysim.cuda import engine

    class Context:
        def get_memory_info(self):
            return 2 * 2**30, 80 * 2**30

    monkeypatch.setattr(engine, "_simulated", lambda: False)
    monkeypatch.setattr(engine.cuda, "current_context", lambda: Context())
    engine.check_memory(2**30, 1024, True)  # fits
    with pytest.raises(MemoryError, match=r"1024 members need 3\.00 GiB of GPU memory \(one member per block keeps "
                                          r"a partial gradient per thread\), 2\.00 GiB of 80\.00 GiB are free; run fewer"):
        engine.check_memory(3 * 2**30, 1024, True)


def test_the_launches_run_inside_the_launch_guard():
    """tools/gpu_check.py times workloads one at a time through ``engine.LAUNCH_GUARD``: every
    launch and copy back happens inside it, and the run's seconds are counted apart from compiling."""
    pytest.importorskip("numba.cuda")
    code = ("import contextlib\n"
            "import numpy as np\n"
            "from theorysim.cuda import engine\n"
            "from theorysim.engine.experiment import Experiment\n"
            "from theorysim.models import Quadratic\n"
            "inside, seen = [False], []\n"
            "real = engine.cuda.to_device\n"
            "@contextlib.contextmanager\n"
            "def guard():\n"
            "    inside[0] = True\n"
            "    yield\n"
            "    inside[0] = False\n"
            "engine.LAUNCH_GUARD = guard\n"
            "kernel_for = engine.kernel_for\n"
            "class Watch:\n"
            "    def __init__(self, k): self.k = k\n"
            "    def compile(self, sig): return self.k.compile(sig)\n"
            "    def __getitem__(self, cfg):\n"
            "        seen.append(inside[0])\n"
            "        return self.k[cfg]\n"
            "engine.kernel_for = lambda model, rules=None: Watch(kernel_for(model, rules))\n"
            "Experiment(Quadratic(np.eye(2)), 'sgd', lr=0.1, steps=6, seeds=[0, 1], backend='cuda', progress=False).run()\n"
            "print(all(seen), len(seen), engine.SECONDS['execute'] > 0.0, inside[0])\n")
    proc = _python(code, NUMBA_ENABLE_CUDASIM="1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    all_inside, launches, timed, still_inside = proc.stdout.split()
    assert all_inside == "True" and int(launches) >= 1 and timed == "True" and still_inside == "False"


def test_the_member_mapping_by_model():
    """Which kernel each model gets: LSA and XOR's span form one member per block (their threads:
    one per prompt or training point up to SAMPLE_THREADS); small models' scratch in thread-local
    memory, sized by powers of two so that nearby sizes share a kernel."""
    pytest.importorskip("numba.cuda")
    from theorysim.cuda import engine
    from theorysim.setups.icl.model import LinearSelfAttention
    from theorysim.setups.matrix_sensing.bench import w1_model
    from theorysim.setups.xor_grokking.bench import w3_model

    assert [engine._bucket(n) for n in (1, 8, 9, 16, 17, 6130)] == [8, 8, 16, 16, 32, 8192]
    lsa = LinearSelfAttention(10, 10, batch=1024, eval_prompts=8)
    assert engine.per_block(lsa) and engine.sample_threads(lsa, *lsa.data()) == engine.SAMPLE_THREADS
    small = LinearSelfAttention(2, 4, batch=3, eval_prompts=5)
    assert engine.sample_threads(small, *small.data()) == 3
    sensing, span = w1_model(), w3_model().span_form()
    # the span form (280,401 parameters at W3's size): one member per block, 128 threads sharing
    # its 200 training points, no thread-local gradient (disjoint rows), 200 doubles of scratch each
    assert engine.per_block(span) and engine.sample_threads(span, *span.data()) == engine.SAMPLE_THREADS
    assert engine._block_constants(span) == {"COOPERATIVE": False, "DISJOINT": True, "GRAD_LOCAL": 1, "WORK_LOCAL": 256,
                                             "SAMPLE_WORK": 200}
    # matrix sensing's low-rank path: one warp per member running the model's block kernel; the
    # dense path (no block kernel) one member per thread
    assert engine.per_block(sensing) and engine.sample_threads(sensing, *sensing.data()) == 32
    assert engine._block_constants(sensing)["COOPERATIVE"]
    dense = w1_model(low_rank=False)
    assert not engine.per_block(dense) and engine._local_scratch(dense)
    from tests import cuda_parity

    assert engine._block_constants(cuda_parity.models()["sensing_measured"])["COOPERATIVE"]  # measurements
    # the MLP and XOR's direct form: block kernels (products shared by entries, rows by rows)
    for name in ("mlp", "relu_direct", "readout_net"):
        assert engine._block_constants(cuda_parity.models()[name])["COOPERATIVE"], name
    assert engine._key(LinearSelfAttention(3, 5, batch=4)) == engine._key(LinearSelfAttention(3, 5, batch=9))
    assert engine._key(LinearSelfAttention(3, 5)) != engine._key(LinearSelfAttention(3, 5, layers=3))


_CACHE_NAMES = ("import json\n"
                "from tests import cuda_parity\n"
                "from theorysim.cuda import engine\n"
                "out = {}\n"
                "for name, model in cuda_parity.models().items():\n"
                "    key, kernel = engine._key(model), engine.kernel_for(model)\n"
                "    index = getattr(getattr(kernel._cache, '_cache_file', None), '_index_path', None)\n"
                "    out[name] = [repr(key), kernel.py_func.__name__, type(kernel._cache).__name__, index]\n"
                "print(json.dumps(out))\n")


def test_each_gpu_kernel_build_has_its_own_disk_cache():
    """On a GPU the chunk kernels are cached on disk, one index file per build: numba names a
    cache after the Python function, which is the same loop for every model, so two models'
    kernels must not share one (a race between two processes saving into one index could pair
    one model's key with the other's kernel). Checked without a GPU: the dispatchers are built,
    nothing compiles. The names are the same in another process (else nothing would be found)."""
    pytest.importorskip("numba.cuda")
    env = {"NUMBA_ENABLE_CUDASIM": "0", "PYTHONPATH": ROOT}
    runs = [_python(_CACHE_NAMES, **env) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr[-2000:]
    first, second = (json.loads(r.stdout) for r in runs)
    assert {n: v[1:] for n, v in first.items()} == {n: v[1:] for n, v in second.items()}  # stable across processes
    builds = {}
    for name, (key, build, cache, index) in first.items():
        assert cache == "KernelCache" and build and build in index, (name, build, cache, index)
        builds.setdefault(build, set()).add(key)
        builds.setdefault(index, set()).add(key)
    assert all(len(keys) == 1 for keys in builds.values()), builds  # one build per key, one index per build
    assert len({b for b in builds if not b.endswith(".nbi")}) >= 10  # the parity models' distinct kernels
    off = json.loads(_python(_CACHE_NAMES, THEORYSIM_CACHE="0", **env).stdout)
    assert {cache for _, _, cache, _ in off.values()} == {"NullCache"}
    # a numba-cuda whose internals the cache does not know: no disk cache, no error
    broken = _python("from theorysim.cuda import engine, kernel_cache\n"
                     "from tests import cuda_parity\n"
                     "def enable(d, functions=()): raise AttributeError('no _linking_files here')\n"
                     "kernel_cache.enable = enable\n"
                     "k = engine.kernel_for(cuda_parity.models()['quadratic'])\n"
                     "print(type(k._cache).__name__, list(engine.NO_DISK_CACHE.values()))\n", **env)
    assert broken.returncode == 0, broken.stderr[-2000:]
    assert broken.stdout.split(maxsplit=1) == ["NullCache", "['AttributeError: no _linking_files here']\n"]
    from theorysim.cuda import engine

    def factory():
        def loss(x):
            return x
        return loss

    assert engine.build_name((factory(), None), "_chunk") is None  # no stable name: not cached
    assert engine.build_name((engine._one_sample, 3, (("A", True),)), "_chunk") == engine.build_name(
        (engine._one_sample, 3, (("A", True),)), "_chunk")
    # the rules compiled in and the register cap are part of the build
    from tests import cuda_parity

    model = cuda_parity.models()["quadratic"]
    names = {engine.build_name(engine._key(model, rules), "_chunk") for rules in (None, (0,), (0, 3))}
    engine.MAX_REGISTERS = 128
    try:
        names.add(engine.build_name(engine._key(model), "_chunk"))
    finally:
        engine.MAX_REGISTERS = None
    assert len(names) == 4


def test_import_theorysim_never_imports_numba_cuda():
    proc = _python("import sys, numpy as np, theorysim as ts\n"
                   "ts.Experiment(ts.models.Quadratic(np.eye(2)), 'sgd', steps=3).run()\n"
                   "assert 'numba.cuda' not in sys.modules and 'theorysim.cuda' not in sys.modules\n")
    assert proc.returncode == 0, proc.stderr


def test_a_cpu_only_install_says_what_to_install():
    block = ("import sys, importlib.abc\n"
             "class Block(importlib.abc.MetaPathFinder):\n"
             "    def find_spec(self, name, path, target=None):\n"
             "        if name == 'numba.cuda' or name.startswith('numba.cuda.'):\n"
             "            raise ImportError('No module named ' + repr(name))\n"
             "sys.meta_path.insert(0, Block())\n"
             "import numpy as np, theorysim as ts\n"
             "try:\n"
             "    ts.Experiment(ts.models.Quadratic(np.eye(2)), 'sgd', steps=3, backend='cuda')\n"
             "except ImportError as err:\n"
             "    print(err)\n")
    proc = _python(block)
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'theorysim[cuda]'" in proc.stdout and len(proc.stdout.strip().splitlines()) == 1


def test_no_gpu_is_one_clear_error():
    proc = _python("import numpy as np, theorysim as ts\n"
                   "from numba import cuda\n"
                   "if cuda.is_available(): print('GPU'); raise SystemExit\n"
                   "try:\n"
                   "    ts.Experiment(ts.models.Quadratic(np.eye(2)), 'sgd', steps=3, backend='cuda')\n"
                   "except RuntimeError as err:\n"
                   "    print(err)\n", NUMBA_ENABLE_CUDASIM="0")
    if proc.stdout.strip() == "GPU":
        pytest.skip("a GPU is present: the error does not apply")
    assert "no CUDA GPU is visible" in proc.stdout and "NUMBA_ENABLE_CUDASIM=1" in proc.stdout, proc.stdout + proc.stderr


def test_every_engine_workload_runs_on_the_backend_it_is_given(monkeypatch):
    """``bench W --backend cuda`` reaches the GPU engine for every workload that trains through the
    engine: the engine's device check is replaced by a marker, so this holds with or without a GPU
    (a workload that dropped its backend, as W3 once did, would time the CPU and return instead)."""
    from theorysim.bench import run_workload, workloads
    from theorysim.engine.experiment import backend_module

    class Reached(Exception):
        pass

    def reached():
        raise Reached

    monkeypatch.setattr(backend_module("cuda"), "require_device", reached)
    names = sorted(name for name, w in workloads().items() if "cuda" in w.backends)
    assert {"W1", "W1-4096", "W2", "W2-1024", "W3", "W3-256", "W3-direct"} <= set(names)
    for name in names:
        with pytest.raises(Reached):
            run_workload(name, "cuda", 1)


def test_backend_is_validated_before_work():
    with pytest.raises(ValueError, match=r"backend='tpu': expected one of 'cpu', 'cuda'"):
        Experiment(Quadratic(np.eye(2)), "sgd", steps=3, backend="tpu")


def test_the_session_backend_keeps_blas_models_on_the_cpu():
    from theorysim.core import config
    from theorysim.setups.xor_grokking import data

    net = data.build({"n": 4, "p": 6, "m": 2, "test": 3, "eta": 0.0, "mu_scale": 2.5}, 0)
    config.set_backend("cuda")
    try:
        assert Experiment(net, "sgd", steps=3).backend == "cpu"       # BLAS products: faster on the CPU
    finally:
        config.set_backend("cpu")


PTX_SCRIPT = r"""
import sys
from theorysim.engine.experiment import Experiment
from theorysim.cuda import engine
from tests import cuda_parity
part, parts = int(sys.argv[1]), int(sys.argv[2])
seen, distinct = set(), []
for name, model in cuda_parity.models().items():
    key = engine._key(model)
    if key not in seen:  # one kernel per distinct (kernels, layout, mapping)
        seen.add(key)
        distinct.append((name, model))
for name, model in distinct[part::parts]:  # this process's share
    exp = Experiment(model, "sgd", steps=4, seeds=[0, 1, 2], lr=0.01, backend="cpu", progress=False)
    ptx = engine.compile_ptx(exp, cc=(9, 0))
    assert ".target sm_90" in ptx and ".entry" in ptx, name
    print(name, len(ptx))
"""


def test_every_kernel_compiles_to_ptx_for_sm_90(nvvm):
    """The simulator runs the Python source; this builds every model's kernel (all 22 rules
    inlined) for the real target, with NVVM from numba-cuda's [cu13] extra and no GPU: one
    member per thread, per block with samples (partial or disjoint gradients) and with block
    kernels."""
    parts = 2  # CI's cores: the kernels compile in two processes side by side
    procs = [subprocess.Popen([sys.executable, "-c", PTX_SCRIPT, str(k), str(parts)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "NUMBA_ENABLE_CUDASIM": "0"})
             for k in range(parts)]
    names = []
    for proc in procs:
        out, err = proc.communicate()
        assert proc.returncode == 0, err[-3000:]
        names += [line.split()[0] for line in out.splitlines()]
    assert len(names) == len(set(names))
    assert {"quadratic", "scale_invariant", "least_squares", "lsa", "mlp", "readout_net", "patch_lcn_members",
            "diagonal_net", "sensing_low_rank", "relu_direct", "relu_span"} <= set(names), names  # (sensing's
    # measured path shares the low-rank path's kernel: one block kernel, the path chosen by the data)


def test_the_gpu_loop_is_the_cpu_loop():
    """The training loop exists twice (the CPU loop takes the model's kernels as first-class
    function arguments and is cached on disk; a CUDA kernel cannot take functions, so the GPU
    binds them as globals): the per-step loop and the end-of-run test must stay identical."""
    import ast
    import inspect

    from theorysim.engine import loop

    src = os.path.join(ROOT, "theorysim", "cuda", "engine.py")
    with open(src) as f:
        tree = ast.parse(f.read())
    gpu = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_chunk")
    gpu_blocks = [ast.dump(n) for n in ast.walk(gpu)
                  if (isinstance(n, ast.For) and ast.unparse(n.target) == "t")
                  or (isinstance(n, ast.If) and "n_steps" in ast.unparse(n.test))]
    cpu_tree = ast.parse(inspect.getsource(loop))
    cpu = next(n for n in cpu_tree.body if isinstance(n, ast.FunctionDef) and n.name == "run_chunk")
    cpu_blocks = [ast.dump(n) for n in ast.walk(cpu)
                  if (isinstance(n, ast.For) and ast.unparse(n.target) == "t")
                  or (isinstance(n, ast.If) and "n_steps" in ast.unparse(n.test))]
    assert len(gpu_blocks) == 2 and gpu_blocks == cpu_blocks


def test_a_claim_gives_the_same_verdict_on_the_gpu_engine():
    """`theorysim check --backend cuda` in the simulator: the claim's ensemble runs on the CUDA
    engine (engine.RUNS counts it) and the verdict is the CPU's (PASS)."""
    code = ("import warnings; warnings.simplefilter('ignore')\n"
            "from theorysim.core import config\n"
            "from theorysim.claims import registry\n"
            "config.set_backend('cuda')\n"
            "from theorysim.cuda import engine\n"
            "v = registry.select(claim='quadratic/gd-exact-trajectory')[0].check('quick')\n"
            "print(v.status, engine.RUNS[0])\n")
    proc = _python(code, NUMBA_ENABLE_CUDASIM="1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    status, runs = proc.stdout.split()
    assert status == "PASS" and int(runs) >= 1


def test_a_model_with_a_known_gpu_defect_stays_off_a_real_gpu(monkeypatch):
    """A model that carries a ``gpu_defect`` (LinearSelfAttention did from 2026-11-30 until its
    kernel was seen computing on an H200 on 2026-11-30's fourth session): the session default keeps
    it on the CPU, an explicit backend="cuda" is refused on a real GPU, the simulator runs it."""
    pytest.importorskip("numba.cuda")
    import theorysim.cuda as package
    from theorysim.core import config
    from theorysim.cuda import engine as gpu_engine

    class Defective(Quadratic):
        gpu_defect = "returns 0 on some GPU"

    model = Defective(np.eye(2))
    monkeypatch.setattr(package, "SIMULATOR", False)
    with pytest.raises(ValueError, match="model 'quadratic' is not run on a GPU: returns 0 on some GPU"):
        gpu_engine.check_model(model)
    gpu_engine.check_model(Quadratic(np.eye(2)))  # no known defect: accepted
    monkeypatch.setattr(package, "SIMULATOR", True)
    gpu_engine.check_model(model)
    before = config.default_backend()
    try:
        config.set_backend("cuda")
        assert Experiment(model, "adam", steps=2, lr=1e-3).backend == "cpu"
        assert Experiment(Quadratic(np.eye(2)), "adam", steps=2, lr=1e-3).backend == "cuda"
    finally:
        config.set_backend(before)
