"""theorysim.claims.runner: claims grouped by setup, checked in worker processes with the same
verdicts as in this process, a dying worker reported as its claims' error."""
from pathlib import Path

import numpy as np
import pytest

from theorysim.claims import claim as claim_module
from theorysim.claims import registry, runner


@pytest.fixture
def runner_claims():
    """The test claims, registered for one test only (their modules register on import)."""
    import tests.runner_claims as ok
    import tests.runner_claims_dying as dying

    added = {}
    for module in (ok, dying):
        for c in module.CLAIMS:
            claim_module.REGISTERED[c.id] = c
            claim_module.REGISTERED_BY[c.id] = module.__name__
            added[c.id] = c
    yield added
    for cid in added:
        claim_module.REGISTERED.pop(cid, None)
        claim_module.REGISTERED_BY.pop(cid, None)


def _values(verdicts):
    out = []
    for v in verdicts:
        row = v.to_json()
        row.pop("seconds")
        out.append(row)
    return out


def test_claims_group_by_setup_larger_groups_first():
    claims = registry.all_claims()
    groups = runner.groups_of(claims)
    setups = [registry.setup_of(g[0]) for g in groups]
    assert len(setups) == len(set(setups)) and "icl" in setups and "quadratic" in setups
    assert all(registry.setup_of(c) == registry.setup_of(g[0]) for g in groups for c in g)
    assert [len(g) for g in groups] == sorted((len(g) for g in groups), reverse=True)
    assert sum(len(g) for g in groups) == len(claims)
    icl = next(g for g in groups if registry.setup_of(g[0]) == "icl")
    assert [c.id for c in icl] == sorted(c.id for c in icl)  # registry order kept inside a setup
    assert runner.default_jobs(claims, 2) == 2 and runner.default_jobs(claims, 64) == len(groups)
    assert runner.default_jobs(icl, 8) == 1


def test_a_claims_numbers_do_not_depend_on_blas_threads():
    """Multithreaded BLAS adds per-thread partial sums (OpenBLAS' dsymv in eigh, its dot), so the
    last bits of this claim's linear algebra changed with the thread count before Claim.check ran
    it on one BLAS thread (its CI bound moved by 2e-16 between 2 threads and 1)."""
    from threadpoolctl import threadpool_limits

    claim = registry.get_claim("advani2017/early-stopping")
    with threadpool_limits(limits=2, user_api="blas"):
        two = claim.check("quick")
    with threadpool_limits(limits=1, user_api="blas"):
        one = claim.check("quick")
    assert _values([two]) == _values([one])


def test_workers_give_the_same_verdicts_as_this_process():
    """Real claims of two setups, in this process and on two single-threaded workers."""
    claims = registry.select(paper="tyurin2024") + [registry.get_claim("advani2017/early-stopping"),
                                                    registry.get_claim("advani2017/init-never-forgotten")]
    serial, stopped = runner.run_claims(claims, "quick", jobs=1)
    seen = []
    parallel, stopped2 = runner.run_claims(claims, "quick", jobs=2, threads=2, on_verdict=seen.append)
    assert not stopped and not stopped2
    assert [v.claim.id for v in parallel] == [c.id for c in claims]  # the given order, however they arrive
    assert sorted(v.claim.id for v in seen) == sorted(c.id for c in claims)
    assert _values(parallel) == _values(serial)
    assert all(v.claim is c for v, c in zip(parallel, claims))


def test_a_dying_worker_fails_only_its_own_claim(runner_claims):
    ids = sorted(runner_claims)
    claims = [registry.get_claim(i) for i in ids]
    verdicts, stopped = runner.run_claims(claims, "quick", jobs=2, threads=2)
    assert not stopped
    status = {v.claim.id: v.status for v in verdicts}
    assert status == {"runnertest/kills-its-process": "ERROR", "runnertest/mean-square-10000": "PASS",
                      "runnertest/mean-square-20000": "PASS"}
    dead = next(v for v in verdicts if v.status == "ERROR")
    assert "worker process" in dead.error and "died" in dead.error
    ok = next(v for v in verdicts if v.claim.id.endswith("10000"))
    x = np.random.default_rng(10000).standard_normal(10000)
    assert ok.checks[0].measured.value == float(np.mean(x**2))  # computed in the worker, bit for bit


_INTERRUPTED_RUN = """
import sys
import tests.runner_claims as ok, tests.runner_claims_slow as slow
from theorysim.claims import runner
claims = ok.CLAIMS + slow.CLAIMS
done, stopped = runner.run_claims(claims, "quick", jobs=2, threads=2,
                                  on_verdict=lambda v: print("verdict", v.claim.id, v.status, flush=True))
print("finished", sorted(v.claim.id for v in done), "interrupted", stopped, flush=True)
"""


def test_ctrl_c_keeps_the_finished_claims_and_stops_the_workers():
    """Ctrl-C reaches the whole process group (as from a terminal): the coordinator returns the
    verdicts finished so far at once, and no worker is left running the sleeping claim."""
    import os
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-c", _INTERRUPTED_RUN], cwd=root, stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: (signal.signal(signal.SIGINT, signal.SIG_DFL), os.setsid()))
    try:
        lines = []
        while len(lines) < 2:  # both cheap claims reported; the sleeping one runs in the other worker
            line = proc.stdout.readline()
            assert line, f"the run ended early: {lines}"
            lines.append(line.split())
        assert {tuple(x[1:]) for x in lines} == {("runnertest/mean-square-10000", "PASS"),
                                                 ("runnertest/mean-square-20000", "PASS")}
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=120)  # a guard against a hang; the sleeping claim takes 300 s
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0
    assert ("finished ['runnertest/mean-square-10000', 'runnertest/mean-square-20000'] interrupted True"
            in out)
    # the workers were terminated and reaped before run_claims returned; multiprocessing's resource
    # tracker (same process group, not a worker) exits on its own once its pipe closes
    assert not _running_workers(proc.pid), "workers still running after the coordinator returned"


def _running_workers(pgid: int) -> list:
    out = []
    for p in Path("/proc").iterdir():
        try:
            fields = (p / "stat").read_text().rsplit(")", 1)[1].split()  # state, ppid, pgrp, ...
            cmdline = (p / "cmdline").read_bytes()
        except (OSError, IndexError):  # not a process, or gone meanwhile
            continue
        if int(fields[2]) == pgid and fields[0] != "Z" and b"spawn_main" in cmdline:
            out.append(p.name)
    return out
