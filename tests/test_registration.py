"""Rules registered once: ids come from registration, the dispatch is built from the table; the
cache that claims share simulations through."""
import inspect

import numpy as np
import pytest

from theorysim.core.layout import Layout
from theorysim.engine.cache import RunCache
from theorysim.optim import dispatch, family, registry, rules

SIGNATURE = ["theta", "grad", "state", "hyper", "lr", "t", "offsets", "rows", "cols", "k0", "k1", "work", "hess"]


def test_rule_ids_are_positions_in_the_kernel_table():
    specs = registry.specs()
    assert len(specs) == 22
    ids = sorted({s.rule_id for s in specs.values()})
    assert ids == list(range(len(dispatch.KERNELS)))
    for spec in specs.values():
        assert dispatch.KERNELS[spec.rule_id] is spec.kernel
    # AdamW and AMSGrad are Adam's kernel with fixed slots, not kernels of their own
    assert specs["adam"].rule_id == specs["adamw"].rule_id == specs["amsgrad"].rule_id
    assert len(dispatch.KERNELS) == 20


def test_every_kernel_has_the_one_rule_signature():
    for kernel in dispatch.KERNELS:
        assert list(inspect.signature(kernel.py_func).parameters) == SIGNATURE, kernel.__name__


def test_scratch_needs_come_from_registration():
    uses = {n for n, s in registry.specs().items() if s.uses_scratch}
    assert uses == {"adamp", "sgdp", "lars", "lamb", "muon", "newton"}
    lay = Layout.of({"W": (3, 4), "b": 5})
    _, rows, cols = lay.arrays()
    assert dispatch.work_size(lay.size, rows, cols, ["sgd", "adam"], clipping=False) == 1
    assert dispatch.work_size(lay.size, rows, cols, ["sgd", "muon"], clipping=False) > 3 * lay.size


@pytest.mark.parametrize("name", sorted(registry.names()))
def test_dispatch_runs_exactly_the_registered_kernel(name):
    """apply_rule by id == calling the registered kernel directly, bit for bit, three steps."""
    spec = registry.get(name)
    lay = Layout.of({"W": (3, 4), "b": 5})
    offsets, rows, cols = lay.arrays()
    g = np.random.default_rng(7)
    P = lay.size
    row = spec.hyper_row(spec.resolve({"lr": 1e-2} if name != "newton" else {"lr": 0.5}))
    A = g.normal(size=(P, P))
    hess = A @ A.T + P * np.eye(P) if spec.needs_hessian else np.zeros((0, 0))
    work = np.zeros(dispatch.work_size(P, rows, cols))
    th_a, th_b = g.normal(size=P), None
    th_b = th_a.copy()
    st_a = np.zeros((max(spec.state_rows, 1), P))
    st_b = st_a.copy()
    for t in range(1, 4):
        grad = g.normal(size=P)
        with dispatch.quiet_compile():
            dispatch.apply_rule(spec.rule_id, th_a, grad.copy(), st_a, row, row[0], t, offsets, rows, cols,
                                np.uint64(1), np.uint64(2), work, hess.copy())
        spec.kernel(th_b, grad.copy(), st_b, row, row[0], t, offsets, rows, cols, np.uint64(1), np.uint64(2),
                    np.zeros_like(work), hess.copy())  # Newton factorises hess in place
        np.testing.assert_array_equal(th_a, th_b)
        np.testing.assert_array_equal(st_a, st_b)
    assert not np.array_equal(th_a, g.normal(size=P))


def test_family_and_registry_agree():
    assert registry.names() == sorted(family.SPECS)
    assert all(callable(getattr(rules, s.kernel.__name__)) for s in family.SPECS.values())


def test_run_cache_computes_once_per_configuration():
    cache = RunCache("test")
    calls = []

    def compute(v):
        calls.append(v)
        return {"v": v}

    a = cache.get({"x": 1, "y": [1, 2]}, lambda: compute(1))
    b = cache.get({"y": [1, 2], "x": 1}, lambda: compute(2))  # same configuration, other key order
    c = cache.get({"x": 2, "y": [1, 2]}, lambda: compute(3))
    assert a is b and c == {"v": 3} and calls == [1, 3]
    assert (cache.hits, cache.misses, len(cache)) == (1, 2, 2)
    assert {"x": 1, "y": [1, 2]} in cache
    cache.clear()
    assert len(cache) == 0 and cache.get({"x": 1, "y": [1, 2]}, lambda: compute(4)) == {"v": 4}
