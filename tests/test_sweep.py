"""Sweeps: specs, grouping, the store, resume after SIGKILL, failures, executors agree."""
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from theorysim import sweep
from theorysim.cli import main

SPEC = """
seeds = {seeds}

[experiment]
setup = "quadratic"
dim = 8
kappa = 10.0
optimizer = "sgd"
steps = {steps}
record_every = 50
noise_std = 0.1

[grid]
lr = [0.5, 1.0, 2.5]

[zip]
momentum = [0.0, 0.5]
dampening = [0.0, 0.1]
"""


def write_spec(tmp_path, seeds=3, steps=200, body=SPEC, name="s.toml"):
    path = tmp_path / name
    path.write_text(body.format(seeds=seeds, steps=steps))
    return path


def table(store):
    frame = sweep.load(store).drop(columns=["seconds"]).sort_values("key").reset_index(drop=True)
    arrays = {}
    st = sweep.Store(store, read_only=True)
    for row in st.rows():
        arrays[row["key"]] = sweep.unpack_arrays(row["arrays"])
    st.close()
    return frame, arrays


def assert_same(a, b):
    fa, xa = a
    fb, xb = b
    assert fa.equals(fb)
    assert xa.keys() == xb.keys()
    for k in xa:
        for name in xa[k]:
            np.testing.assert_array_equal(xa[k][name], xb[k][name])


def test_points_keys_and_groups(tmp_path):
    spec = sweep.load_spec(write_spec(tmp_path))
    points = spec.points()
    assert len(points) == 3 * 2 * 3
    keys = {sweep.point_key(p) for p in points}
    assert len(keys) == len(points)
    assert sweep.point_key(dict(reversed(list(points[0].items())))) == sweep.point_key(points[0])  # canonical
    groups = sweep.groups_of(points)
    assert len(groups) == 1 and len(groups[0]) == 18  # one model: every point is a member of one ensemble


def test_serial_store_and_statuses(tmp_path):
    spec = sweep.load_spec(write_spec(tmp_path))
    counts = sweep.run_sweep(spec, tmp_path / "a.sqlite", executor="serial", progress=False)
    # GD diverges for lr * lambda_max > 2; heavy ball only above 2 (1 + beta) = 3 (lambda_max = 1)
    assert counts == {"done": 15, "diverged": 3, "failed": 0, "skipped": 0}
    frame = sweep.load(tmp_path / "a.sqlite")
    assert set(frame.columns) >= {"key", "status", "lr", "momentum", "seed", "loss", "error_norm", "version"}
    assert (frame.loc[(frame.lr == 2.5) & (frame.momentum == 0.0), "status"] == "diverged").all()
    assert (frame.loc[(frame.lr < 2) | (frame.momentum == 0.5), "status"] == "done").all()
    db = sqlite3.connect(tmp_path / "a.sqlite")
    # WAL while the sweep writes; folded back when it closes: a finished store is one file
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not (tmp_path / "a.sqlite-wal").exists()
    again = sweep.run_sweep(spec, tmp_path / "a.sqlite", executor="serial", progress=False)
    assert again["skipped"] == 18 and again["done"] == 0


def test_a_failing_point_is_stored_with_its_traceback(tmp_path, monkeypatch):
    from theorysim.sweep import execute

    real = execute._ensemble

    def flaky(configs):
        if any(c["lr"] == 1.0 and c["seed"] == 1 and c["momentum"] == 0.5 for c in configs):
            raise RuntimeError("boom at lr=1.0 seed=1")
        return real(configs)

    monkeypatch.setattr(execute, "_ensemble", flaky)
    spec = sweep.load_spec(write_spec(tmp_path))
    counts = sweep.run_sweep(spec, tmp_path / "f.sqlite", executor="serial", progress=False)
    assert counts["failed"] == 1 and counts["done"] + counts["diverged"] == 17  # the others complete
    frame = sweep.load(tmp_path / "f.sqlite")
    failed = frame[frame.status == "failed"]
    assert len(failed) == 1 and "RuntimeError: boom" in failed.error.item()


def test_executors_give_identical_tables(tmp_path):
    spec = sweep.load_spec(write_spec(tmp_path))
    sweep.run_sweep(spec, tmp_path / "serial.sqlite", executor="serial", progress=False)
    sweep.run_sweep(spec, tmp_path / "local.sqlite", executor="local", workers=2, progress=False)
    assert_same(table(tmp_path / "serial.sqlite"), table(tmp_path / "local.sqlite"))


def test_dask_tasks_share_the_cores_of_a_local_cluster(tmp_path, monkeypatch):
    """A local cluster's tasks run with cores // workers engine threads (Numba's count is per thread, so
    the task sets it); a remote scheduler's workers keep theirs. run_group applies it in its thread."""
    import numba

    from theorysim.sweep import runner
    from theorysim.sweep.execute import run_group

    seen = {}
    monkeypatch.setattr(runner, "_run_dask", lambda groups, client, record, run: seen.update(run.keywords))
    monkeypatch.delenv("THEORYSIM_THREADS", raising=False)
    local, remote = type("Local", (), {"_theorysim_cluster": object()})(), type("Remote", (), {})()
    spec = sweep.load_spec(write_spec(tmp_path))
    runner._run(spec, tmp_path / "a.sqlite", "dask", 2, local, False, 64, 4, "cpu")
    assert seen["threads"] == 2
    runner._run(spec, tmp_path / "b.sqlite", "dask", 2, remote, False, 64, 4, "cpu")
    assert seen["threads"] is None
    before = numba.get_num_threads()
    try:
        assert run_group(spec.points()[:1], threads=1)[0]["status"] == "done"
        assert numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(before)


def test_dask_local_cluster_and_cli_scheduler(tmp_path):
    pytest.importorskip("dask.distributed")
    spec = sweep.load_spec(write_spec(tmp_path))
    sweep.run_sweep(spec, tmp_path / "serial.sqlite", executor="serial", progress=False)
    sweep.run_sweep(spec, tmp_path / "dask.sqlite", executor="dask", workers=2, progress=False)
    assert_same(table(tmp_path / "serial.sqlite"), table(tmp_path / "dask.sqlite"))
    # a scheduler and a worker started with the dask command line, on loopback
    bindir = Path(sys.executable).parent
    port = 18700 + os.getpid() % 1000
    sched = subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                              "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([str(bindir / "dask"), "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1",
                               "--no-dashboard", "--host", "127.0.0.1"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        sweep.run_sweep(spec, tmp_path / "cli.sqlite", executor="dask", scheduler=f"tcp://127.0.0.1:{port}",
                        progress=False)
    finally:
        worker.terminate()
        sched.terminate()
        worker.wait(30)
        sched.wait(30)
    assert_same(table(tmp_path / "serial.sqlite"), table(tmp_path / "cli.sqlite"))


@pytest.mark.parametrize("body,match", [
    ("[experiment]\nsetup='quadratic'\n", r"experiment.steps=None"),
    ("[experiment]\nsetup='nosuch'\nsteps=10\n", r"experiment.setup='nosuch'"),
    ("[experiment]\nsetup='quadratic'\nsteps=10\noptimizer='adamx'\n", r"experiment.optimizer='adamx'"),
    ("[experiment]\nsetup='quadratic'\nsteps='ten'\n", r"experiment.steps='ten'"),
    ("[experiment]\nsetup='quadratic'\nsteps=10\nrecord_every=20\n", r"experiment.record_every=20"),
    ("[experiment]\nsetup='quadratic'\nsteps=10\nfoo=1\n", r"foo: unknown key"),
    ("[experiment]\nsetup='quadratic'\nsteps=10\n[grid]\nlr=[0.1, -1.0]\n", r"grid.lr=-1.0: expected a finite number in \[0, inf\]"),
    ("[experiment]\nsetup='quadratic'\nsteps=10\n[zip]\nlr=[0.1]\nmomentum=[0.1, 0.2]\n", r"zip: axes must have equal"),
    ("[experiment]\nsetup='quadratic'\nsteps=10\n[grid]\nlr=0.1\n", r"grid.lr: expected a non-empty list"),
    ("[experiment]\nsetup='quadratic'\nsteps=10\n[other]\nx=1\n", r"other: unknown top-level key"),
    ("seeds=-2\n[experiment]\nsetup='quadratic'\nsteps=10\n", r"seeds: expected"),
    ("[experiment\n", r"not valid TOML"),
    ("[experiment]\nsetup='quadratic'\nsteps=10\n[[variant]]\noptimizer='adam'\nmomentum=0.9\n",
     r"variant\[0\].momentum=0.9: momentum: unknown key"),
    ("[experiment]\nsetup='quadratic'\nsteps=10\n[grid]\nlr=[0.1]\n[[variant]]\nlr=[0.2]\n", r"variant\[0\].lr: also"),
    ("[experiment]\nsetup='matrix_sensing'\nsteps=10\nfactorization='XY'\n", r"experiment.factorization='XY'"),
])
def test_bad_specs_name_file_and_key(tmp_path, body, match):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(sweep.SpecError, match=match) as info:
        sweep.load_spec(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value).strip()


def _summary(out: str, store) -> dict[str, int]:
    """The counts of the CLI's closing line `STORE: N done, N diverged, N failed, N already finished; ...`."""
    line = [ln for ln in out.splitlines() if ln.startswith(f"{store}: ")]
    assert len(line) == 1, out
    parts = line[0].split(": ", 1)[1].split(";")[0].split(", ")
    return {p.split(" ", 1)[1]: int(p.split(" ", 1)[0]) for p in parts}


def test_cli_sweep_and_results(tmp_path, capsys):
    path = write_spec(tmp_path, seeds=2)
    store = tmp_path / "c.sqlite"
    assert main(["sweep", str(path), "--executor", "serial", "--store", str(store)]) == 0
    counts = _summary(capsys.readouterr().out, store)
    assert counts["done"] + counts["diverged"] == 12 and counts["failed"] == 0 and counts["already finished"] == 0
    assert main(["sweep", str(path), "--executor", "serial", "--store", str(store)]) == 0  # resumes: nothing to do
    assert _summary(capsys.readouterr().out, store) == {"done": 0, "diverged": 0, "failed": 0, "already finished": 12}
    assert main(["results", str(store), "--csv", str(tmp_path / "c.csv")]) == 0
    assert (tmp_path / "c.csv").read_text().count("\n") == 12 + 1
    assert main(["sweep", str(tmp_path / "nosuch.toml")]) == 2
    assert main(["results", str(tmp_path / "nosuch.sqlite")]) == 2


def test_icl_spec_builds_and_runs_a_short_sweep(tmp_path):
    spec = sweep.load_spec(Path(__file__).resolve().parents[1] / "experiments" / "icl_one_layer_lsa.toml")
    assert len(spec.points()) == 16
    small = sweep.Spec(spec.path, {**spec.experiment, "steps": 20, "record_every": 10, "eval_prompts": 64, "batch": 8},
                       {"kappa": [1.0, 10.0]}, {}, [0], {})
    counts = sweep.run_sweep(small, tmp_path / "icl.sqlite", executor="serial", progress=False)
    assert counts["done"] == 2
    frame = sweep.load(tmp_path / "icl.sqlite")
    assert (frame.eval_loss > 0).all() and set(frame.kappa) == {1.0, 10.0}


def test_variants_give_each_optimizer_its_own_axes(tmp_path):
    path = tmp_path / "v.toml"
    path.write_text("""seeds = 2
[experiment]
setup = "quadratic"
steps = 20
[grid]
dim = [4, 6]
[[variant]]
optimizer = "sgd"
momentum = 0.9
lr = [0.1, 0.2, 0.3]
[[variant]]
optimizer = "adam"
lr = [0.001]
""")
    points = sweep.load_spec(path).points()
    assert len(points) == (3 + 1) * 2 * 2
    adam = [p for p in points if p["optimizer"] == "adam"]
    assert len(adam) == 4 and all("momentum" not in p and p["lr"] == 0.001 for p in adam)
    assert sorted({p["lr"] for p in points if p["optimizer"] == "sgd"}) == [0.1, 0.2, 0.3]


def test_matrix_sensing_optimizer_spec_builds_and_runs_a_short_sweep(tmp_path):
    spec = sweep.load_spec(Path(__file__).resolve().parents[1] / "experiments" / "matrix_sensing_optimizers.toml")
    names = {(p["optimizer"], p.get("momentum"), p.get("nesterov")) for p in spec.points()}
    assert len(names) == 9 and len(spec.points()) >= 100
    small = sweep.Spec(spec.path, {**spec.experiment, "steps": 40, "record_every": 20}, {}, {}, [0], {},
                       spec.variants[:2])
    counts = sweep.run_sweep(small, tmp_path / "ms.sqlite", executor="serial", progress=False)
    assert counts["done"] == len(small.points()) == 10
    frame = sweep.load(tmp_path / "ms.sqlite")
    assert (frame.error > 0).all() and (frame.error < 2).all()


def test_xor_specs_load_and_a_small_point_runs(tmp_path):
    root = Path(__file__).resolve().parents[1] / "experiments"
    paper = sweep.load_spec(root / "xor_paper.toml")
    assert len(paper.points()) == 100 and paper.points()[0]["p"] == 40000
    opt = sweep.load_spec(root / "xor_optimizers.toml")
    assert {p["optimizer"] for p in opt.points()} == {"sgd", "adam", "lion", "signsgd"}
    small = sweep.Spec(opt.path, {**opt.experiment, "n": 10, "p": 40, "m": 6, "test": 20, "steps": 4},
                       {"data_seed": [1, 2]}, {}, [0], {}, opt.variants[:1])
    counts = sweep.run_sweep(small, tmp_path / "x.sqlite", executor="serial", progress=False)
    assert counts["done"] == 2
    frame = sweep.load(tmp_path / "x.sqlite")
    assert frame.test_acc.between(0, 1).all() and set(frame.data_seed) == {1, 2}
