"""theorysim.claims.runner: claims grouped by setup, checked in worker processes with the same
verdicts as in this process, a dying worker reported as its claims' error."""
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
