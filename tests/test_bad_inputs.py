"""Every bad input is refused before any work: exit 2 with one line on stderr that names the
flag, file, key or path and the value, no traceback, and no file created or modified (issue 16).
The Python API raises ValueError with the same kind of message.

Each CLI case runs ``theorysim.cli.main`` in-process in a scratch directory holding a few
fixtures (a good spec, a good store, a text file, another program's SQLite database, a
truncated store); the directory's listing and every file's bytes are compared before and after.
"""
import hashlib
import os
import sqlite3

import numpy as np
import pytest

from theorysim import cli, sweep

GOOD_SPEC = "seeds = 2\n[experiment]\nsetup = 'quadratic'\ndim = 4\nsteps = 20\n[grid]\nlr = [0.1, 0.2]\n"
BASE = "[experiment]\nsetup = '{setup}'\nsteps = 10\n"
Q = BASE.format(setup="quadratic")
MS = BASE.format(setup="matrix_sensing")

# (id, spec body, regex the error line must match): specs refused by `theorysim sweep SPEC`
SPECS = [
    ("dim-negative", Q + "dim = -5\n", r"experiment\.dim=-5: expected an integer in \[2, inf\]"),
    ("dim-zero", Q + "dim = 0\n", r"experiment\.dim=0"),
    ("dim-float", Q + "dim = 4.5\n", r"experiment\.dim=4\.5"),
    ("kappa-negative", Q + "kappa = -3\n", r"experiment\.kappa=-3: expected a finite number in \[1, inf\]"),
    ("kappa-string", Q + "kappa = 'big'\n", r"experiment\.kappa='big'"),
    ("kappa-bool", Q + "kappa = true\n", r"experiment\.kappa=True"),
    ("noise-negative", Q + "noise_std = -1\n", r"experiment\.noise_std=-1"),
    ("init-scale-nan", Q + "init_scale = nan\n", r"experiment\.init_scale=nan"),
    ("schedule-unknown", Q + "schedule = 'zigzag'\n", r"experiment\.schedule='zigzag'.*constant"),
    ("schedule-bad-gamma", Q + "schedule = {kind = 'step', step_size = 2, gamma = 5.0}\n", r"experiment\.schedule=.*gamma=5\.0"),
    ("schedule-wrong-length", Q + "schedule = [1.0, 0.5]\n", r"experiment\.schedule: an explicit list must have steps=10"),
    ("schedule-warmup-too-long", Q + "schedule = {kind = 'warmup_cosine', warmup = 50}\n", r"warmup=50"),
    ("rank-above-n", MS + "n = 3\nr = 5\n", r"experiment\.r=5: expected a rank in \[1, n=3\]"),
    ("k-below-rank-axis", MS + "[grid]\nk = [1]\n", r"grid\.k=1: below the truth's rank r=2"),
    ("m-negative", MS + "m = -1\n", r"experiment\.m=-1"),
    ("factorization", MS + "factorization = 'XY'\n", r"experiment\.factorization='XY'"),
    ("divergence-negative", Q + "divergence_factor = -1\n", r"experiment\.divergence_factor=-1"),
    ("divergence-one", Q + "divergence_factor = 1.0\n", r"experiment\.divergence_factor=1\.0"),
    ("optimizer-number", Q + "optimizer = 3\n", r"experiment\.optimizer=3: expected one of"),
    ("optimizer-unknown", Q + "optimizer = 'adamx'\n", r"experiment\.optimizer='adamx'"),
    ("lr-negative-axis", Q + "[grid]\nlr = [0.1, -1.0]\n", r"grid\.lr=-1\.0: expected a finite number"),
    ("nested-list-axis", Q + "[grid]\nlr = [[0.1, 0.2]]\n", r"grid\.lr: value \[0\.1, 0\.2\] is a list"),
    ("grid-zip-overlap", Q + "[grid]\nlr = [0.1]\n[zip]\nlr = [0.2]\n", r"zip\.lr: also a \[grid\] axis"),
    ("steps-huge", "[experiment]\nsetup = 'quadratic'\nsteps = 100000000000000\n", r"needs about .* GiB of memory"),
    ("steps-float", "[experiment]\nsetup = 'quadratic'\nsteps = 1e14\n", r"experiment\.steps=100000000000000\.0: expected a positive integer"),
    ("dim-huge", Q + "dim = 100000000\n", r"needs about .* GiB of memory \(100000000 parameters"),
    ("duplicate-seeds", "seeds = [0, 0]\n" + Q, r"seeds: seed 0 appears twice"),
    ("duplicate-seed-late", "seeds = " + str(list(range(40000)) + [39999]) + "\n" + Q, r"seeds: seed 39999 appears twice"),
    ("seed-beyond-int64", "seeds = [9223372036854775808]\n" + Q, r"seeds: expected .*\[0, 2\^63 - 1\]"),
    ("lr-given-twice", Q + "lr = 0.1\noptim.lr = 0.2\n", r"lr.*given twice"),
    ("experiment-lr-and-grid-lr", Q + "lr = 0.2\n[grid]\nlr = [0.1]\n", r"grid\.lr.*given twice: also fixed in \[experiment\] \(lr = 0\.2\)"),
    ("experiment-dim-and-zip-dim", Q + "dim = 6\n[zip]\ndim = [4, 8]\nlr = [0.1, 0.2]\n", r"zip\.dim.*given twice"),
    ("grid-lr-and-optim-lr", Q + "optim.lr = 0.2\n[grid]\nlr = [0.1]\n", r"lr.*given twice"),
    ("init-scale-given-twice", Q + "init_scale = 1.0\nmodel.init_scale = 2.0\n", r"init_scale.*given twice"),
    ("newton-without-hessian", MS + "optimizer = 'newton'\n",
     r"optimizer='newton': needs the model's Hessian.*setups with one: quadratic"),
    ("state-bits-integral-float", Q + "optimizer = 'adam'\nstate_bits = 8.0\n", r"experiment\.state_bits=8\.0: expected an integer"),
    ("seeds-count-huge", "seeds = 1000000000\n" + Q, r"seeds: 1000000000 seeds; a spec expands to at most 10000000 points"),
    ("axes-too-many-points", "seeds = 1001\n" + Q + "[grid]\nlr = " + str([0.001 * i for i in range(1, 10001)]) + "\n",
     r"grid: the axes expand to 10010000 points; a spec holds at most 10000000"),
    ("long-axis-late-duplicate", Q + "[grid]\nlr = " + str([0.001 * i for i in range(1, 50001)] + [0.001]) + "\n",
     r"grid\.lr: value 0\.001 appears twice"),
    ("dim-integral-float", Q + "dim = 4.0\n", r"experiment\.dim=4\.0: expected an integer \(write 4"),
    ("grid-integral-float", MS + "[grid]\nk = [3, 4.0]\n", r"grid\.k=4\.0: expected an integer"),
    ("duplicate-grid-values", Q + "[grid]\nlr = [0.1, 0.1]\n", r"grid\.lr: value 0\.1 appears twice"),
    ("duplicate-zip-combination", Q + "[zip]\nlr = [0.1, 0.1]\nmomentum = [0.5, 0.5]\n", r"zip\.lr: value 0\.1|zip: a combination"),
    ("seed-in-grid", Q + "[grid]\nseed = [0.5]\n", r"grid\.seed: `seed` is set by the top-level `seeds`"),
    ("seed-in-experiment", Q + "seed = 3\n", r"experiment\.seed: `seed` is set by the top-level"),
    ("list-in-experiment", Q + "lr = [0.1, 0.2]\n", r"experiment\.lr: a list"),
    ("setup-missing", "[experiment]\nsteps = 10\n[grid]\nlr = [0.1]\n", r"experiment\.setup: missing; expected one of"),
    ("setup-unknown", BASE.format(setup="nosuch"), r"experiment\.setup='nosuch'"),
    ("steps-missing", "[experiment]\nsetup = 'quadratic'\n", r"experiment\.steps=None"),
    ("record-every-above-steps", Q + "record_every = 20\n", r"experiment\.record_every=20"),
    ("unknown-key", Q + "foo = 1\n", r"foo: unknown key"),
    ("unknown-table", Q + "[other]\nx = 1\n", r"other: unknown top-level key"),
    ("not-toml", "[experiment\n", r"not valid TOML"),
    ("zip-unequal", Q + "[zip]\nlr = [0.1]\nmomentum = [0.1, 0.2]\n", r"zip: axes must have equal lengths"),
    ("grid-scalar", Q + "[grid]\nlr = 0.1\n", r"grid\.lr: expected a non-empty list"),
    ("seeds-negative", "seeds = -2\n" + Q, r"seeds: expected"),
    ("record-arrays-string", Q + "[record]\narrays = 'yes'\n", r"record\.arrays: expected true or false"),
    ("variant-axis-overlap", Q + "[grid]\nlr = [0.1]\n[[variant]]\nlr = [0.2]\n", r"variant\[0\]\.lr: also a \[grid\]"),
    ("variant-unknown-key", Q + "[[variant]]\noptimizer = 'adam'\nmomentum = 0.9\n", r"variant\[0\]\.momentum=0\.9"),
    ("variant-duplicates", Q + "[[variant]]\noptimizer = 'sgd'\n[[variant]]\noptimizer = 'sgd'\n", r"appears twice"),
    ("model-prefix-unknown", Q + "model.nosuch = 1.0\n", r"experiment\.model\.nosuch"),
    ("optim-prefix-unknown", Q + "optim.nosuch = 1.0\n", r"experiment\.optim\.nosuch"),
    ("ambiguous-alpha", MS + "optimizer = 'rmsprop'\nalpha = 0.5\n", r"experiment\.alpha: ambiguous"),
    ("betas-wrong", Q + "optimizer = 'adam'\nbetas = [0.9, 1.5]\n", r"betas"),
    ("lsa-x-dist", BASE.format(setup="icl_lsa") + "x_dist = 'cauchy'\n", r"experiment\.x_dist='cauchy'"),
    ("xor-flip-rate", BASE.format(setup="xor_grokking") + "model.eta = 0.7\n", r"eta=0\.7: expected a finite number in \[0, 0\.5\)"),
]

# (id, argv with {placeholders}, regex): the other commands and flags
ARGS = [
    ("no-command", [], r"theorysim: error: a command is required"),
    ("unknown-flag", ["--nosuch"], r"unrecognized arguments: --nosuch"),
    ("unknown-command", ["frobnicate"], r"invalid choice: 'frobnicate'"),
    ("check-unknown-flag", ["check", "--nosuch"], r"unrecognized arguments: --nosuch"),
    ("check-paper", ["check", "--paper", "nosuch"], r"nosuch"),
    ("check-claim", ["check", "--claim", "nosuch/x"], r"nosuch/x"),
    ("check-threads-zero", ["check", "--threads", "0"], r"--threads: '0': expected a positive integer"),
    ("check-threads-word", ["check", "--threads", "abc"], r"--threads: 'abc'"),
    ("check-jobs-zero", ["check", "--jobs", "0"], r"--jobs: '0': expected a positive integer"),
    ("check-jobs-word", ["check", "--jobs", "two"], r"--jobs: 'two'"),
    ("check-threads-above-cores", ["check", "--claim", "quadratic/gd-rate", "--threads", "100000"],
     r"threads=100000: expected an integer in \[1, \d+\]"),
    ("check-report-under-file", ["check", "--report", "{text}/x"], r"--report .*text\.md/x: cannot write there"),
    ("check-report-is-file", ["check", "--report", "{text}"], r"--report .*text\.md: is a file"),
    ("check-json-no-dir", ["check", "--claim", "quadratic/gd-rate", "--json", "nodir/v.json"],
     r"--json nodir/v\.json: directory nodir does not exist"),
    ("check-json-is-dir", ["check", "--json", "{dir}"], r"--json .*: is a directory"),
    ("check-quick-full", ["check", "--quick", "--full"], r"not allowed with argument"),
    ("sweep-no-spec", ["sweep"], r"the following arguments are required: spec"),
    ("sweep-spec-missing", ["sweep", "nosuch.toml"], r"nosuch\.toml: no such file"),
    ("sweep-spec-is-dir", ["sweep", "{dir}"], r"is a directory; expected a TOML sweep spec"),
    ("sweep-spec-is-text", ["sweep", "{text}"], r"text\.md: experiment: missing table \[experiment\]"),
    ("sweep-workers-zero", ["sweep", "{spec}", "--workers", "0"], r"--workers: '0': expected a positive integer"),
    ("sweep-group-size-zero", ["sweep", "{spec}", "--group-size", "0"], r"--group-size: '0'"),
    ("sweep-executor", ["sweep", "{spec}", "--executor", "threads"], r"invalid choice: 'threads'"),
    ("sweep-store-root", ["sweep", "{spec}", "--store", "/"], r"store /: is a directory"),
    ("sweep-store-dir", ["sweep", "{spec}", "--store", "{dir}"], r"store .*sub: is a directory"),
    ("sweep-store-text", ["sweep", "{spec}", "--store", "{text}"], r"store .*text\.md: not a SQLite file"),
    ("sweep-store-no-dir", ["sweep", "{spec}", "--store", "nodir/s.sqlite"], r"store nodir/s\.sqlite: directory nodir does not exist"),
    ("sweep-store-other-db", ["sweep", "{spec}", "--store", "{other}"], r"another program \(tables: people\)"),
    ("sweep-store-truncated", ["sweep", "{spec}", "--store", "{truncated}"], r"store .*truncated\.sqlite: damaged or truncated"),
    ("sweep-store-empty-file", ["sweep", "{spec}", "--store", "{empty}"], r"store .*empty\.sqlite: an empty file"),
    ("sweep-scheduler-unreachable", ["sweep", "{spec}", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"],
     r"--scheduler tcp://127\.0\.0\.1:1: no Dask scheduler answers there"),
    ("results-dot", ["results", "."], r"store \.: is a directory"),
    ("results-missing", ["results", "nosuch.sqlite"], r"store nosuch\.sqlite: no such file"),
    ("results-text", ["results", "{text}"], r"not a SQLite file"),
    ("results-other-db", ["results", "{other}"], r"another program"),
    ("results-csv-no-dir", ["results", "{store}", "--csv", "ro/x.csv"], r"--csv ro/x\.csv: directory ro does not exist"),
    ("results-csv-is-dir", ["results", "{store}", "--csv", "{dir}"], r"--csv .*: is a directory"),
    ("results-csv-onto-store", ["results", "{store}", "--csv", "{store}"], r"--csv store\.sqlite: is the store being read"),
    ("results-parquet-onto-store", ["results", "{store}", "--parquet", "{store}"], r"--parquet store\.sqlite: is the store"),
    ("results-csv-onto-wal", ["results", "{store}", "--csv", "store.sqlite-wal"], r"--csv store\.sqlite-wal: is the store"),
    ("results-csv-onto-other-db", ["results", "{store}", "--csv", "{other}"], r"--csv other\.sqlite: is a SQLite database"),
    ("sweep-spec-dev-zero", ["sweep", "/dev/zero"], r"/dev/zero: not a regular file"),
    ("sweep-spec-under-a-file", ["sweep", "{text}/x.toml"], r"text\.md/x\.toml: (cannot be read|no such file)"),
    ("sweep-spec-symlink-loop", ["sweep", "{loop}"], r"loop\.toml: cannot be read"),
    ("sweep-spec-name-too-long", ["sweep", "x" * 300 + ".toml"], r"^theorysim sweep: error: \.\.\.x{192}\.toml: cannot be read \(File name too long\)$"),
    ("sweep-store-dangling-link", ["sweep", "{spec}", "--store", "{dangling}"],
     r"store dangling\.sqlite: a symbolic link to nowhere/s\.sqlite, which does not exist"),
    ("sweep-store-proc", ["sweep", "{spec}", "--store", "/proc/self/status"], r"store /proc/self/status: "),
    ("results-damaged-row", ["results", "{damaged}"], r"store damaged\.sqlite: the row of point .* is damaged"),
    ("check-report-onto-json", ["check", "--claim", "quadratic/gd-rate", "--report", "v.json", "--json", "v.json"],
     r"--report v\.json: is the --json file's path"),
    ("check-json-as-the-report", ["check", "--claim", "quadratic/gd-rate", "--report", "{dir}", "--json", "{dir}/report.md"],
     r"--report sub: is the --json file's path or holds it as report\.md"),
    ("results-store-loop", ["results", "loop.sqlite"], r"store loop\.sqlite: "),
    ("results-csv-name-too-long", ["results", "{store}", "--csv", "y" * 300 + ".csv"], r"--csv y+: cannot be used"),
    ("check-report-md-is-dir", ["check", "--claim", "quadratic/gd-rate", "--report", "{rep}"],
     r"--report rep: rep/report\.md is a directory"),
    ("bench-unknown", ["bench", "W9"], r"W9"),
    ("bench-repeats-zero", ["bench", "W1", "--repeats", "0"], r"--repeats: '0'"),
    ("bench-backend", ["bench", "W1", "--backend", "tpu"], r"invalid choice: 'tpu'"),
    ("bench-cpu-only-workload", ["bench", "W4", "--backend", "cuda"], r"backend='cuda': workload W4 runs on 'cpu' only"),
    ("bench-no-gpu", ["bench", "W3", "--backend", "cuda"], r"backend='cuda': no CUDA GPU is visible"),
    ("check-backend-no-gpu", ["check", "--claim", "quadratic/gd-rate", "--backend", "cuda"],
     r"backend='cuda': no CUDA GPU is visible"),
    ("list-unknown", ["list", "--nosuch"], r"unrecognized arguments: --nosuch"),
    ("list-two", ["list", "--papers", "--claims"], r"not allowed with argument"),
]

# environment variables read before work
ENV = [
    ("threads-env-word", {"THEORYSIM_THREADS": "many"}, ["check", "--claim", "quadratic/gd-rate"],
     r"THEORYSIM_THREADS='many': expected a positive integer"),
    ("threads-env-above-cores", {"THEORYSIM_THREADS": "100000"}, ["check", "--claim", "quadratic/gd-rate"],
     r"THEORYSIM_THREADS=100000: expected an integer in \[1, \d+\]"),
    ("threads-env-sweep", {"THEORYSIM_THREADS": "100000"}, ["sweep", "{spec}", "--executor", "serial"],
     r"THEORYSIM_THREADS=100000"),
]


def _gpu_visible() -> bool:
    import subprocess
    import sys

    code = "from numba import cuda; print(cuda.is_available())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "NUMBA_ENABLE_CUDASIM": "0"})
    return out.stdout.strip() == "True"


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A working directory with fixtures; returns the placeholder map."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "text.md").write_text("# not a store\n")
    (tmp_path / "good.toml").write_text(GOOD_SPEC)
    other = sqlite3.connect(tmp_path / "other.sqlite")
    other.execute("CREATE TABLE people (name TEXT)")
    other.commit()
    other.close()
    store = tmp_path / "store.sqlite"
    sweep.run_sweep(sweep.load_spec(tmp_path / "good.toml"), store, executor="serial", progress=False)
    (tmp_path / "truncated.sqlite").write_bytes(store.read_bytes()[:150])
    (tmp_path / "damaged.sqlite").write_bytes(store.read_bytes())
    damaged = sqlite3.connect(tmp_path / "damaged.sqlite")
    damaged.execute("UPDATE points SET config = '{\"dim\": 4,' WHERE rowid = (SELECT min(rowid) FROM points)")
    damaged.commit()
    damaged.close()
    os.symlink("nowhere/s.sqlite", tmp_path / "dangling.sqlite")
    os.symlink("loop.toml", tmp_path / "loop.toml")
    os.symlink("loop.sqlite", tmp_path / "loop.sqlite")
    (tmp_path / "rep" / "report.md").mkdir(parents=True)
    (tmp_path / "empty.sqlite").write_bytes(b"")
    return {"dir": "sub", "text": "text.md", "spec": "good.toml", "other": "other.sqlite", "store": "store.sqlite",
            "truncated": "truncated.sqlite", "empty": "empty.sqlite", "damaged": "damaged.sqlite",
            "dangling": "dangling.sqlite", "loop": "loop.toml", "rep": "rep"}


def _snapshot(root) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            out[os.path.relpath(p, root)] = (hashlib.sha256(open(p, "rb").read()).hexdigest()
                                             if os.path.isfile(p) else "dir")
    return out


def _refused(argv, match, capsys, root):
    before = _snapshot(root)
    rc = cli.main(argv)
    captured = capsys.readouterr()
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert rc == 2, (rc, captured.err[-2000:])
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    import re

    assert re.search(match, lines[0]), lines[0]
    assert _snapshot(root) == before, "a refused input created or modified a file"
    return lines[0]


@pytest.mark.parametrize("name,body,match", SPECS, ids=[c[0] for c in SPECS])
def test_bad_spec_is_refused_before_work(scratch, tmp_path, capsys, name, body, match):
    (tmp_path / "bad.toml").write_text(body)
    line = _refused(["sweep", "bad.toml"], match, capsys, tmp_path)
    assert "bad.toml" in line


@pytest.mark.parametrize("name,argv,match", ARGS, ids=[c[0] for c in ARGS])
def test_bad_arguments_are_refused_before_work(scratch, tmp_path, capsys, name, argv, match):
    if name.endswith("no-gpu") and _gpu_visible():
        pytest.skip("a GPU is visible here: the case does not apply")
    _refused([a.format(**scratch) for a in argv], match, capsys, tmp_path)


@pytest.mark.parametrize("name,env,argv,match", ENV, ids=[c[0] for c in ENV])
def test_bad_environment_is_refused_before_work(scratch, tmp_path, capsys, monkeypatch, name, env, argv, match):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    _refused([a.format(**scratch) for a in argv], match, capsys, tmp_path)


def test_the_table_is_large():
    assert len(SPECS) + len(ARGS) + len(ENV) + len(API) >= 60


def test_results_reads_a_store_without_writing_it(scratch, tmp_path, capsys):
    store = tmp_path / "store.sqlite"
    store.chmod(0o444)
    before = _snapshot(tmp_path)
    assert cli.main(["results", "store.sqlite"]) == 0
    assert "quadratic" in capsys.readouterr().out
    assert _snapshot(tmp_path) == before


# ---- the Python API: ValueError naming the field ---------------------------------------------
def _experiment(**kw):
    from theorysim.engine.experiment import Experiment
    from theorysim.models.linear import Quadratic

    return Experiment(Quadratic(np.eye(2)), **{"steps": 5, **kw})


def _lsa(**kw):
    from theorysim.setups.icl.model import LinearSelfAttention

    return LinearSelfAttention(3, 5, **kw)


def _sensing(A):
    from theorysim.setups.matrix_sensing.model import FactorizedSensing

    return FactorizedSensing(np.diag([1.0, 0.0, 0.0]), 2, A=A)


def _nan_sensing():
    A = np.ones((4, 3, 3))
    A[1, 0, 0] = np.nan
    return A


API = [
    ("steps-zero", lambda: _experiment(steps=0), r"steps=0"),
    ("optimizer-unknown", lambda: _experiment(optimizer="adamx"), r"adamx"),
    ("lr-negative", lambda: _experiment(lr=-1.0), r"lr=-1\.0"),
    ("divergence-factor", lambda: _experiment(divergence_factor=0.5), r"divergence_factor=0\.5"),
    ("seed-negative", lambda: _experiment(seeds=-1), r"-1"),
    ("lsa-sigma-shape", lambda: _lsa(sigma=np.eye(4)), r"sigma: expected a symmetric matrix of shape \(3, 3\), got shape \(4, 4\)"),
    ("lsa-sigma-nan", lambda: _lsa(sigma=np.full((3, 3), np.nan)), r"sigma: expected a finite symmetric matrix"),
    ("sensing-nan", lambda: _sensing(_nan_sensing()), r"A: expected finite sensing matrices; 1 entries"),
    ("sensing-shape", lambda: _sensing(np.ones((4, 2, 3))), r"A: expected sensing matrices of shape \(m, 3, 3\)"),
    ("store-text", lambda: sweep.Store(os.path.abspath(__file__)), r"not a SQLite file"),
    ("spec-dir", lambda: sweep.load_spec(os.path.dirname(__file__)), r"is a directory"),
    ("run-sweep-workers", lambda: sweep.run_sweep(None, "x.sqlite", workers=0), r"workers=0"),
    ("run-sweep-executor", lambda: sweep.run_sweep(None, "x.sqlite", executor="gpu"), r"executor='gpu'"),
]


@pytest.mark.parametrize("name,call,match", API, ids=[c[0] for c in API])
def test_bad_api_input_raises_value_error(name, call, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert "\n" not in str(info.value).strip()
    assert not list(tmp_path.iterdir())


def test_a_spec_larger_than_the_limit_is_refused_unread(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from theorysim.sweep.spec import MAX_SPEC_BYTES

    with open(tmp_path / "big.toml", "wb") as f:  # sparse: nothing is written but the size
        f.truncate(MAX_SPEC_BYTES + 1)
    _refused(["sweep", "big.toml"], r"big\.toml: 16\.0 MiB; a sweep spec is at most 16 MiB", capsys, tmp_path)


def test_a_non_integer_batch_size_is_refused():
    from theorysim.models import LeastSquares

    bound = LeastSquares.hyper_spec["batch_size"][1]
    with pytest.raises(ValueError, match=r"batch_size=2\.5: expected an integer"):
        bound.check("batch_size", 2.5)
    assert bound.check("batch_size", 4) == 4.0


@pytest.mark.parametrize("schedule,match", [
    ({"kind": "linear", "end_factor": -5}, r"end_factor=-5: expected a finite number >= 0"),
    ({"kind": "cosine", "alpha": float("nan")}, r"alpha=nan: expected a finite number >= 0"),
    ({"kind": "cosine", "alpha": float("inf")}, r"alpha=inf"),
    ({"kind": "warmup_cosine", "warmup": 2, "alpha": float("nan")}, r"alpha=nan"),
    ([1 + 2j] * 10, r"schedule: an explicit array must be real"),
])
def test_schedule_options_are_checked(schedule, match):
    from theorysim.optim import schedules

    with pytest.raises(ValueError, match=match):
        schedules.build(schedule, 10)


def test_complex_and_non_finite_arrays_are_refused_not_cast():
    import warnings

    from theorysim import grid
    from theorysim.engine.experiment import Experiment
    from theorysim.models import LeastSquares, Quadratic

    X = np.random.default_rng(0).normal(size=(10, 3))
    y = X.sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning on the way to the error
        with pytest.raises(ValueError, match=r"^X: complex values"):
            LeastSquares(X.astype(complex), y)
        with pytest.raises(ValueError, match=r"^A: complex values"):
            Quadratic(np.eye(2) * (1 + 1j))
    exp = Experiment(LeastSquares(X, y), "sgd", lr=0.1, steps=3, seeds=[0, 1])
    with pytest.raises(ValueError, match=r"^theta0: nan at index \(1, 2\); expected finite values"):
        exp.run(np.array([[0.0, 0.0, 0.0], [0.0, 0.0, np.nan]]))
    with pytest.raises(ValueError, match=r"grid axis lr=\{0\.1: 1\}: a mapping"):
        grid(lr={0.1: 1})


def _size_keys(b):
    """A setup's keys that set a size: the integer ones, seeds aside."""
    return [k for k, v in b.keys.items() if isinstance(v, int) and not isinstance(v, bool) and "seed" not in k]


@pytest.mark.parametrize("setup", sorted(__import__("theorysim.setups", fromlist=["x"]).sweep_setups()))
def test_every_size_key_moves_the_estimates(setup):
    """Issue 37, item 4: --dry-run's memory and work and the memory check know every key that sets a
    size (the DSD pool, the LSA batch, ...): doubling any of them moves one of the estimates."""
    from theorysim.setups import sweep_setups
    from theorysim.sweep import builders

    b = sweep_setups()[setup]
    base = {"setup": setup, "steps": 10, **b.keys}
    if setup == "dsd":
        base["m"] = 10  # below the pool at every doubling
    estimate = lambda cfg: (builders.memory_bytes(cfg), builders.work(cfg))  # noqa: E731
    keys = _size_keys(b)
    assert keys, setup
    for key in keys:
        doubled = {**base, key: 2 * base[key] if base[key] else 2}
        assert estimate(doubled) != estimate(base), f"{setup}: doubling {key} moves neither memory nor work"


def test_the_api_refuses_a_run_beyond_the_machine_memory():
    from theorysim.engine.experiment import Experiment
    from theorysim.models import Quadratic

    with pytest.raises(ValueError, match=r"^steps=10000000000000, record_every=1, 1 member\(s\) of 3 parameters: "
                                         r"the run needs about .* GiB of memory.*this machine has"):
        Experiment(Quadratic(np.eye(3)), "sgd", lr=0.1, steps=10**13, seeds=[0])


def test_a_late_write_failure_keeps_the_verdicts(tmp_path, capsys, monkeypatch):
    """--json onto a device that refuses the write (/dev/full): the table is printed, the error is
    one line, exit 2."""
    monkeypatch.chdir(tmp_path)
    rc = cli.main(["check", "--claim", "quadratic/gd-rate", "--json", "/dev/full"])
    captured = capsys.readouterr()
    assert rc == 2
    assert "quadratic/gd-rate" in captured.out and "PASS" in captured.out
    lines = [ln for ln in captured.err.splitlines() if "error" in ln]
    assert len(lines) == 1 and "--json /dev/full: cannot be written" in lines[0], captured.err


def test_a_malformed_environment_variable_read_at_import_is_one_line(tmp_path):
    import subprocess
    import sys

    env = {**os.environ, "THEORYSIM_CACHE": "maybe"}
    out = subprocess.run([sys.executable, "-m", "theorysim.cli", "list", "--papers"], capture_output=True,
                         text=True, env=env, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [
        "theorysim list: error: environment variable THEORYSIM_CACHE='maybe': expected one of 1/0, true/false, "
        "yes/no, on/off"]
    api = subprocess.run([sys.executable, "-c", "import numpy as np\nfrom theorysim import Experiment\n"
                          "from theorysim.models import Quadratic\n"
                          "Experiment(Quadratic(np.eye(2)), 'sgd', lr=0.1, steps=2)"],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert "ValueError: environment variable THEORYSIM_CACHE='maybe'" in api.stderr


def test_a_disk_full_when_the_store_is_created_leaves_nothing(scratch, tmp_path, capsys, monkeypatch):
    """The store's first write fails (disk full): one line, exit 2, and no empty store left behind to
    block the rerun."""
    from theorysim.sweep import store as store_module

    real = sqlite3.connect

    def full(database, *args, **kwargs):
        if str(database).endswith("new.sqlite"):
            open(database, "wb").close()  # SQLite has created the file when the disk fills
            raise sqlite3.OperationalError("database or disk is full")
        return real(database, *args, **kwargs)

    monkeypatch.setattr(store_module.sqlite3, "connect", full)
    _refused(["sweep", "good.toml", "--executor", "serial", "--store", "new.sqlite"],
             r"store new\.sqlite: disk full while creating the store", capsys, tmp_path)
    assert not (tmp_path / "new.sqlite").exists()


def test_work_counts_the_data_when_a_setup_declares_no_work_per_step(monkeypatch):
    """Issue 39: a size of (parameters, data bytes) reads as every parameter and every number of the data
    touched once per step, so --dry-run's work grows with the data."""
    from theorysim import setups
    from theorysim.models import Quadratic
    from theorysim.setups import SweepSetup
    from theorysim.sweep import builders

    decl = SweepSetup("two_tuple", {"n": 100, "d": 2}, lambda k: Quadratic(np.eye(2)), Quadratic,
                      size=lambda k: (int(k["d"]), 8 * int(k["n"]) * int(k["d"])))
    real = setups.sweep_setups
    monkeypatch.setattr(setups, "sweep_setups", lambda: {**real(), "two_tuple": decl})
    cfg = {"setup": "two_tuple", "steps": 10, "n": 100, "d": 2}
    assert builders.work(cfg) == 10 * 200
    assert builders.work({**cfg, "n": 1}) == 10 * 2  # the parameters when the data is smaller
