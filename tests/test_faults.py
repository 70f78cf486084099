"""Faults (issue 16): what survives a killed coordinator, a killed worker, Ctrl-C in `check`, a
full disk and a figure that cannot be saved. Each test provokes the fault for real (signals to
real processes) or, for the disk, makes SQLite's own size limit the full disk."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from theorysim import cli, sweep
from theorysim.claims import registry
from theorysim.sweep import store as store_module
from tests.test_claims import toy_claim
from tests.test_sweep import assert_same, table, write_spec

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")


def _children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (zombies excluded), from /proc."""
    parent = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            parent[int(entry.name)] = int(fields[1])
    out, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - out
        out |= frontier
    return out


def _alive(pids) -> set[int]:
    out = set()
    for p in pids:
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] != "Z":
            out.add(p)
    return out


def _start_sweep(tmp_path, store, seeds=24, steps=40000, workers=2):
    path = write_spec(tmp_path, seeds=seeds, steps=steps)
    cmd = [sys.executable, "-m", "theorysim.cli", "sweep", str(path), "--executor", "local", "--workers",
           str(workers), "--store", str(store), "--group-size", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return path, proc


def _wait_for_points(proc, store, at_least=1, timeout=240) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if store.exists():
            try:
                n = sqlite3.connect(store, timeout=1).execute("SELECT COUNT(*) FROM points").fetchone()[0]
            except sqlite3.Error:
                continue
            if n >= at_least:
                return n
    raise AssertionError(f"the sweep stored no point in {timeout} s (exit {proc.poll()})")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_workers_die_with_their_coordinator_and_the_resume_is_identical(tmp_path, sig):
    store = tmp_path / "k.sqlite"
    path, proc = _start_sweep(tmp_path, store)
    _wait_for_points(proc, store)
    workers = _children(proc.pid)
    assert len(workers) >= 2, "expected the pool's worker processes"
    proc.send_signal(sig)
    proc.wait(30)
    deadline = time.time() + 10
    while _alive(workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not _alive(workers), f"workers {_alive(workers)} outlived their coordinator ({sig.name})"
    spec = sweep.load_spec(path)
    total = len(spec.points())
    partial = sqlite3.connect(store).execute("SELECT COUNT(*) FROM points").fetchone()[0]
    assert 0 < partial < total
    counts = sweep.run_sweep(spec, store, executor="serial", progress=False)
    assert counts["skipped"] == partial and counts["done"] + counts["diverged"] == total - partial
    keys = [k for (k,) in sqlite3.connect(store).execute("SELECT key FROM points")]
    assert len(keys) == len(set(keys)) == total
    sweep.run_sweep(spec, tmp_path / "clean.sqlite", executor="serial", progress=False)
    assert_same(table(store), table(tmp_path / "clean.sqlite"))


def test_a_killed_worker_does_not_abort_the_sweep(tmp_path):
    store = tmp_path / "w.sqlite"
    path, proc = _start_sweep(tmp_path, store, seeds=16, steps=40000)
    _wait_for_points(proc, store)
    workers = [p for p in _children(proc.pid)
               if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert workers
    os.kill(workers[0], signal.SIGKILL)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err and "BrokenProcessPool" not in err
    total = len(sweep.load_spec(path).points())
    rows = sqlite3.connect(store).execute("SELECT status, COUNT(*) FROM points GROUP BY status").fetchall()
    assert sum(n for _, n in rows) == total and "failed" not in dict(rows), rows
    assert f"{store}: " in out


_KILLED_SENDING_SWEEP = """
import sys
from theorysim import sweep
from theorysim.sweep import runner
from tests.killed_mid_send import run_group_then_die_sending
runner.run_group = run_group_then_die_sending
print(runner.run_sweep(sweep.load_spec(sys.argv[1]), sys.argv[2], executor="local", workers=2, group_size=2,
                       progress=False))
"""

_KILLED_SENDING_CHECK = """
import tests.killed_mid_send as dies, tests.runner_claims as ok
from theorysim.claims import runner
verdicts, stopped = runner.run_claims(dies.CLAIMS + ok.CLAIMS, "quick", jobs=2, threads=2)
print(sorted((v.claim.id, v.status) for v in verdicts), stopped)
"""


def _run_killing_a_worker_mid_send(tmp_path, script, *args):
    """``script`` in a fresh interpreter whose first worker to send a result dies after the first
    write() of it (tests.killed_mid_send); a hang fails at the timeout, not the CI run."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "THEORYSIM_TEST_DIE_MARKER": str(tmp_path / "died")}
    try:
        proc = subprocess.run([sys.executable, "-c", script, *map(str, args)], cwd=root, env=env,
                              capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"hung after the worker died mid-send; stderr: {e.stderr or ''}") from None
    assert (tmp_path / "died").exists(), "no worker died: the test did not test anything"
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_a_worker_killed_while_sending_its_result_does_not_hang_the_sweep(tmp_path):
    """CI hung here once: the killed worker had written the 4-byte header of a 32 KB result and the
    pool's reader waited for the body for ever. Results now travel by file (core.handoff)."""
    import pickle

    from theorysim.sweep.execute import run_group

    path = write_spec(tmp_path, seeds=2, steps=40000)
    spec = sweep.load_spec(path)
    # long enough that multiprocessing would send it in two writes (over 16 KiB), the fault's condition
    assert len(pickle.dumps(run_group(spec.points()[:2]))) > 16 * 1024
    store = tmp_path / "m.sqlite"
    proc = _run_killing_a_worker_mid_send(tmp_path, _KILLED_SENDING_SWEEP, path, store)
    assert "a worker process died" in proc.stderr
    rows = dict(sqlite3.connect(store).execute("SELECT status, COUNT(*) FROM points GROUP BY status").fetchall())
    assert sum(rows.values()) == len(spec.points()) and "failed" not in rows, rows  # lr 2.5 diverges: data


def test_a_worker_killed_while_sending_a_verdict_does_not_hang_check(tmp_path):
    proc = _run_killing_a_worker_mid_send(tmp_path, _KILLED_SENDING_CHECK)
    assert proc.stdout.split("\n")[0] == ("[('runnertest/dies-sending-its-verdict', 'PASS'), "
                                          "('runnertest/mean-square-10000', 'PASS'), "
                                          "('runnertest/mean-square-20000', 'PASS')] False"), proc.stdout


def test_a_group_that_kills_its_worker_every_time_is_stored_as_failed(tmp_path, monkeypatch):
    """A group whose worker always dies (out of memory, say) ends as failed; the others finish."""
    from theorysim.sweep import runner

    path = write_spec(tmp_path, seeds=2, steps=50)
    spec = sweep.load_spec(path)
    monkeypatch.setattr(runner, "run_group", _die_on_lr_2_5)
    counts = runner.run_sweep(spec, tmp_path / "f.sqlite", executor="local", workers=2, group_size=2, progress=False)
    assert counts["failed"] == 2 and counts["done"] + counts["diverged"] == len(spec.points()) - 2
    errors = {e for (e,) in sqlite3.connect(tmp_path / "f.sqlite").execute(
        "SELECT error FROM points WHERE status = 'failed'")}
    assert len(errors) == 1 and "died" in errors.pop()


def _die_on_lr_2_5(group, backend="cpu"):
    from theorysim.sweep.execute import run_group

    if any(cfg["lr"] == 2.5 and cfg["momentum"] == 0.5 for cfg in group):
        os.kill(os.getpid(), signal.SIGKILL)
    return run_group(group, backend)


def test_ctrl_c_in_check_keeps_the_finished_verdicts(tmp_path):
    out = tmp_path / "v.json"
    cmd = [sys.executable, "-m", "theorysim.cli", "check", "--paper", "quadratic", "--json", str(out)]
    # a shell's background job ignores SIGINT and children inherit that: restore the default, so
    # the test means the same run from a terminal, a background job or CI
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    for line in proc.stderr:  # one line per finished claim (stderr is not a terminal)
        lines.append(line)
        if line.split()[:1] and line.split()[0] in ("PASS", "FAIL", "XFAIL", "XPASS", "ERROR"):
            break
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    payload = json.loads(out.read_text())
    assert len(payload) >= 1 and all(p["interrupted"] for p in payload)
    assert payload[0]["id"] == lines[-1].split()[1]
    assert "interrupted:" in stdout and "not run:" in stdout


def test_ctrl_c_between_claims_writes_json_and_report(tmp_path, monkeypatch, capsys):
    ok, stop = toy_claim(1.0, short="ok"), toy_claim(1.0, short="stop")

    def interrupt(cfg):
        raise KeyboardInterrupt

    object.__setattr__(stop, "simulate", interrupt)
    registry.all_claims()
    monkeypatch.setattr(registry, "REGISTERED", {**registry.REGISTERED, ok.id: ok, stop.id: stop})
    rc = cli.main(["check", "--paper", "toy", "--json", str(tmp_path / "v.json"), "--report", str(tmp_path / "r")])
    assert rc == 130
    payload = json.loads((tmp_path / "v.json").read_text())
    assert [p["id"] for p in payload] == ["toy/ok"] and payload[0]["interrupted"] is True
    report = (tmp_path / "r" / "report.md").read_text()
    assert "**Interrupted** after 1 of 2 claims; not run: toy/stop." in report


def test_a_figure_that_cannot_be_saved_never_changes_a_verdict(tmp_path, monkeypatch, capsys):
    def broken_plot(cfg, results, verdict):
        raise OSError(28, "No space left on device")

    claim = toy_claim(1.0, short="fig", plot=broken_plot)
    registry.all_claims()
    monkeypatch.setattr(registry, "REGISTERED", {**registry.REGISTERED, claim.id: claim})
    rc = cli.main(["check", "--claim", "toy/fig", "--json", str(tmp_path / "v.json"), "--report", str(tmp_path / "r")])
    assert rc == 0
    payload = json.loads((tmp_path / "v.json").read_text())
    assert payload[0]["status"] == "PASS" and "No space left" in payload[0]["figure_error"]
    assert "figure not saved" in capsys.readouterr().err


def test_a_full_disk_stops_the_sweep_cleanly_and_the_store_stays_intact(tmp_path, monkeypatch, capsys):
    path = write_spec(tmp_path, seeds=6, steps=400)
    spec = sweep.load_spec(path)
    store = tmp_path / "full.sqlite"
    opened = store_module.Store.__init__

    def small_disk(self, *args, **kwargs):  # SQLite's page limit is the disk filling up
        opened(self, *args, **kwargs)
        if not self.read_only:
            pages = self.db.execute("PRAGMA page_count").fetchone()[0]
            self.db.execute(f"PRAGMA max_page_count = {pages + 12}")

    monkeypatch.setattr(store_module.Store, "__init__", small_disk)
    rc = cli.main(["sweep", str(path), "--executor", "serial", "--store", str(store), "--group-size", "4"])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("theorysim sweep: error")]
    assert rc == 1 and len(lines) == 1 and "disk full" in lines[0], err
    assert "Traceback" not in err
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    kept = db.execute("SELECT COUNT(*) FROM points").fetchone()[0]
    db.close()
    assert 0 < kept < len(spec.points())
    monkeypatch.setattr(store_module.Store, "__init__", opened)  # space freed: the rerun resumes
    counts = sweep.run_sweep(spec, store, executor="serial", progress=False)
    assert counts["skipped"] == kept
    sweep.run_sweep(spec, tmp_path / "clean.sqlite", executor="serial", progress=False)
    assert_same(table(store), table(tmp_path / "clean.sqlite"))


def test_a_sweep_logs_one_line_per_group_when_not_on_a_terminal(tmp_path):
    path = write_spec(tmp_path, seeds=2, steps=50)
    proc = subprocess.run([sys.executable, "-m", "theorysim.cli", "sweep", str(path), "--executor", "serial",
                           "--store", str(tmp_path / "p.sqlite"), "--group-size", "3"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    progress = [ln for ln in proc.stderr.splitlines() if ln.startswith("sweep: ")]
    assert len(progress) == 4 and progress[-1].startswith("sweep: 12/12 points"), proc.stderr
