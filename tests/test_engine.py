"""Engine parity with the naive oracle, determinism, divergence, permutation, bad input."""
import numpy as np
import numba
import pytest
from hypothesis import given, settings, strategies as st

import theorysim as ts
from theorysim.engine import loop as engine, naive


def _compare(res, ref, rtol):
    np.testing.assert_array_equal(res.diverged_step, ref["diverged_step"])
    np.testing.assert_allclose(res.records, ref["records"], rtol=rtol, atol=0, equal_nan=True)
    np.testing.assert_allclose(res.theta, ref["theta"], rtol=rtol, atol=0)


def test_bitwise_parity_with_oracle_when_operation_order_is_equal(diag_quadratic):
    exp = ts.Experiment(diag_quadratic, "sgd", steps=300, seeds=[0, 1, 2, 3], record_every=7,
                        lr=[0.1, 0.3, 0.45, 0.2], momentum=[0.0, 0.9, 0.5, 0.8], nesterov=[False, False, True, True],
                        dampening=[0.0, 0.1, 0.0, 0.0], weight_decay=[0.0, 0.01, 0.0, 0.001], noise_std=[0.0, 0.2, 0.0, 1.0],
                        record_params=True)
    res, ref = exp.run(), naive.run(exp)
    # iterates: bitwise; metrics: numpy's norm and matmul sum in another order, so to rounding
    np.testing.assert_array_equal(res.param_records, ref["param_records"])
    np.testing.assert_array_equal(res.theta, ref["theta"])
    np.testing.assert_allclose(res.records, ref["records"], rtol=1e-14, atol=0)


def test_parity_dense_quadratic_with_schedule(dense_quadratic):
    exp = ts.Experiment(dense_quadratic, "sgd", steps=500, seeds=range(4), record_every=10,
                        lr=[0.5, 1.0, 1.5, 1.9], momentum=0.3, noise_std=[0.0, 0.01, 0.1, 0.0],
                        schedule=["constant", "cosine", {"kind": "warmup_linear", "warmup": 50}, "linear"])
    _compare(exp.run(), naive.run(exp), rtol=1e-13)


def test_parity_least_squares_minibatch(least_squares):
    exp = ts.Experiment(least_squares, "sgd", steps=400, seeds=[5, 6, 7], record_every=4,
                        lr=0.05, momentum=0.9, batch_size=[0, 8, 1])
    _compare(exp.run(), naive.run(exp), rtol=1e-13)


def test_same_result_whatever_the_thread_count(dense_quadratic):
    exp = ts.Experiment(dense_quadratic, "sgd", steps=2000, seeds=range(7), lr=np.linspace(0.3, 1.8, 7),
                        momentum=0.5, noise_std=0.3, record_every=50)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = exp.run()
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = exp.run()
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one.records, many.records)
    np.testing.assert_array_equal(one.theta, many.theta)


def test_same_result_whatever_the_chunking(least_squares, monkeypatch):
    """Chunks double while they are fast (CHUNK_SECONDS): 1000 steps run as 10, 20, ..., 320, 370
    when every chunk counts as fast and as 100 chunks of 10 when none does; same numbers."""
    from theorysim.engine import experiment as experiment_module

    exp = ts.Experiment(least_squares, "sgd", steps=1000, seeds=range(5), lr=[0.01, 0.03, 0.1, 0.2, 50.0], momentum=0.5,
                        batch_size=4, record_every=30, record_params=True)
    calls = []
    real = engine.kernel()

    def counting(*args):
        calls.append((args[18], args[19]))
        return real(*args)

    monkeypatch.setattr(engine, "kernel", lambda: counting)
    out = {}
    for seconds in (0.0, 1e9):
        monkeypatch.setattr(experiment_module, "CHUNK_SECONDS", seconds)
        calls.clear()
        out[seconds] = (exp.run(), list(calls))
    (fixed, fixed_calls), (grown, grown_calls) = out[0.0], out[1e9]
    assert [e - b for b, e in fixed_calls] == [10] * 100
    assert [e - b for b, e in grown_calls] == [10, 20, 40, 80, 160, 320, 370]
    assert fixed.diverged[-1] and not fixed.diverged[:-1].any()  # a diverged member is data, same in both
    for name in ("records", "param_records", "theta", "diverged_step"):
        np.testing.assert_array_equal(getattr(fixed, name), getattr(grown, name))


@pytest.mark.parametrize("E, threads", [(1, 2), (7, 2), (12, 3), (5, 8)])
def test_member_order_deals_consecutive_members_to_different_threads(E, threads):
    """The parallel loop's visiting order is a permutation in which each thread's contiguous block
    (what prange gives it) holds every threads-th member, so a sweep listed by increasing cost is
    shared out evenly."""
    from theorysim.engine.loop import member_order

    order = member_order(E, threads)
    assert sorted(order.tolist()) == list(range(E)) and order.dtype == np.int64
    blocks = np.array_split(order, min(threads, E))
    for b in blocks:
        assert len(set(np.asarray(b) % min(threads, E))) == 1


def test_thread_count_in_fresh_processes(tmp_path):
    """NUMBA_NUM_THREADS=1 and =2 in separate interpreters give identical bytes."""
    import subprocess
    import sys

    script = (
        "import numpy as np, theorysim as ts, sys\n"
        "m = ts.models.Quadratic(np.diag([0.2, 1.0, 3.0]))\n"
        "r = ts.Experiment(m, 'sgd', steps=500, seeds=range(5), lr=[0.1, 0.2, 0.3, 0.4, 0.6], noise_std=0.5,"
        " momentum=0.5).run()\n"
        "np.save(sys.argv[1], np.concatenate([r.records.ravel(), r.theta.ravel()]))\n"
    )
    outs = []
    for n in (1, 2):
        path = tmp_path / f"t{n}.npy"
        env = {**__import__("os").environ, "NUMBA_NUM_THREADS": str(n)}
        subprocess.run([sys.executable, "-c", script, str(path)], check=True, env=env)
        outs.append(np.load(path))
    assert np.array_equal(outs[0], outs[1])


def test_divergence_step_is_exact_and_others_finish():
    lam = np.array([0.5, 1.0])
    model = ts.models.Quadratic(np.diag(lam), x0=np.array([1.0, 1.0]))
    lrs = np.array([0.5, 1.5, 2.2, 2.6, 50.0])
    res = ts.Experiment(model, "sgd", lr=lrs, steps=400, record_every=10).run()
    # closed form: loss_t = 1/2 sum lam (1 - eta lam)^(2t) e0^2; divergence at the first t with loss_t > 1e12 loss_0
    for m, eta in enumerate(lrs):
        t = np.arange(401)
        with np.errstate(over="ignore"):
            loss = 0.5 * np.sum(lam[None] * (1 - eta * lam[None]) ** (2 * t[:, None]), axis=1)
        over = np.nonzero(loss > 1e12 * loss[0])[0]
        expected = int(over[0]) if over.size else -1
        assert res.diverged_step[m] == expected
        assert res.diverged[m] == (expected >= 0)
    assert not res.diverged[:2].any() and res.diverged[2:].all()
    assert np.all(np.isfinite(res.records[:2]))
    d = res.diverged_step[2]
    assert np.all(np.isnan(res.records[2, d // 10 + 1:]))  # nothing recorded after the stop


def test_nonfinite_divergence_without_bound():
    model = ts.models.Quadratic(np.diag([1.0]), x0=np.array([1.0]))
    res = ts.Experiment(model, "sgd", lr=[1e200, 0.5], steps=50, divergence_factor=0).run()
    # x_1 = 1 - 1e200: its loss 0.5 * 1e400 overflows to inf, so the member stops at iterate 1
    assert res.diverged.tolist() == [True, False]
    assert res.diverged_step[0] == 1
    assert res.diverged_step[1] == -1


def test_nonfinite_parameters_after_the_last_step_count_as_divergence():
    """The last update can overflow the parameters without a later loss to notice: the run's end
    marks such a member DIVERGED at step n (finish_member), and a finite one DONE."""
    model = ts.models.Quadratic(np.diag([1.0]), x0=np.array([10.0]))  # x_1 = 10 - 1e308 * 10 = -inf
    res = ts.Experiment(model, "sgd", lr=[1e308, 0.5], steps=1,
                        divergence_factor=0).run()
    assert not np.isfinite(res.theta[0]).all() and np.isfinite(res.theta[1]).all()
    assert res.diverged.tolist() == [True, False]
    assert res.diverged_step.tolist() == [1, -1]


@settings(max_examples=8, deadline=None)
@given(st.permutations(list(range(6))))
def test_permuting_members_permutes_outputs(perm):
    model = ts.models.Quadratic(np.diag([0.3, 1.0, 2.0]))
    lrs = np.array([0.1, 0.3, 0.5, 0.7, 0.9, 1.1])
    seeds = np.array([0, 1, 2, 0, 1, 2])
    a = ts.Experiment(model, "sgd", lr=lrs, seeds=seeds, noise_std=0.1, momentum=0.2, steps=100).run()
    p = np.array(perm)
    b = ts.Experiment(model, "sgd", lr=lrs[p], seeds=seeds[p], noise_std=0.1, momentum=0.2, steps=100).run()
    np.testing.assert_array_equal(a.records[p], b.records)
    np.testing.assert_array_equal(a.theta[p], b.theta)


def test_equal_seeds_share_noise(diag_quadratic):
    res = ts.Experiment(diag_quadratic, "sgd", lr=0.1, seeds=[3, 3, 4], noise_std=0.5, steps=50).run()
    np.testing.assert_array_equal(res.theta[0], res.theta[1])
    assert not np.array_equal(res.theta[0], res.theta[2])


def test_one_compiled_loop_for_a_hyperparameter_sweep(dense_quadratic):
    kernel = engine.kernel()
    ts.Experiment(dense_quadratic, "sgd", lr=0.1, steps=10).run()
    n = len(kernel.signatures)
    ts.Experiment(dense_quadratic, "sgd", lr=[0.1, 0.2], momentum=[0.0, 0.9], nesterov=[False, True], steps=10,
                  noise_std=[0.0, 1.0], schedule="cosine", seeds=[4, 5]).run()
    opts = [ts.optim.make(name) for name in ts.optim.names()]  # every rule in one ensemble
    ts.Experiment(dense_quadratic, opts, steps=10, seeds=range(len(opts))).run()
    ts.Experiment(dense_quadratic, "adamw", lr=[1e-3, 1e-2], betas=[(0.9, 0.99), (0.8, 0.9)], weight_decay=[0.0, 0.1],
                  steps=10, seeds=[0, 1]).run()
    ts.Experiment(ts.models.LeastSquares(np.eye(3), np.ones(3)), "lion", lr=[0.1, 0.2], steps=10, seeds=[0, 1]).run()
    assert len(kernel.signatures) == n == 1  # one loop for every model, rule and hyperparameter


def test_model_kernels_compile_once_for_their_signature(dense_quadratic):
    ts.Experiment(dense_quadratic, "sgd", lr=0.1, steps=3).run()
    ts.Experiment(dense_quadratic, "adam", lr=0.1, steps=3).run()
    for fn in dense_quadratic.kernels:
        assert len(fn.signatures) == 1


def test_result_accessors_and_frame(diag_quadratic):
    res = ts.Experiment(diag_quadratic, "sgd", lr=[0.1, 0.2], steps=20, record_every=5, seeds=[1, 2]).run()
    assert res.steps.tolist() == [0, 5, 10, 15, 20]
    assert res.curve("loss").shape == (2, 5)
    assert res.params()["x"].shape == (2, 5)
    assert res.member_values("lr").tolist() == [0.1, 0.2]
    frame = pytest.importorskip("pandas") and res.to_frame()
    assert len(frame) == 2 * 5 * 2
    assert set(frame.columns) >= {"member", "step", "metric", "value", "seed", "lr", "diverged"}
    assert frame.query("member == 1 and step == 20 and metric == 'loss'")["value"].item() == res.curve("loss")[1, -1]
    with pytest.raises(ValueError, match="metric 'nope'"):
        res.curve("nope")


def test_theta0_override(diag_quadratic):
    theta0 = np.tile(diag_quadratic.x_star, (2, 1))
    res = ts.Experiment(diag_quadratic, "sgd", lr=0.1, steps=5, seeds=[0, 1]).run(theta0=theta0)
    np.testing.assert_array_equal(res.theta, theta0)  # started at the minimum: gradient exactly zero
    with pytest.raises(ValueError, match="theta0"):
        ts.Experiment(diag_quadratic, "sgd", lr=0.1, steps=5).run(theta0=np.zeros((3, 5)))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"lr": -1}, r"lr=-1"),
        ({"lr": float("nan")}, r"lr=nan"),
        ({"lr": [0.1, -0.2]}, r"member 1: lr=-0.2"),
        ({"momentum": 1.0}, r"momentum=1.0"),
        ({"nesterov": True}, r"nesterov"),
        ({"betas": (0.9, 0.99)}, r"'betas'"),
        ({"nosuch": 1}, r"'nosuch'.*valid"),
        ({"lr": [0.1, 0.2], "seeds": [1, 2, 3]}, r"common length"),
        ({"steps": 0}, r"steps=0"),
        ({"record_every": 0}, r"record_every=0"),
        ({"seeds": -3}, r"seed=-3"),
        ({"noise_std": -1.0}, r"noise_std=-1.0"),
        ({"divergence_factor": 0.5}, r"divergence_factor"),
        ({"schedule": "nosuch"}, r"schedule kind='nosuch'"),
        ({"schedule": np.ones(3)}, r"schedule"),
    ],
)
def test_bad_input_names_the_field(diag_quadratic, kwargs, match):
    args = {"steps": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        ts.Experiment(diag_quadratic, "sgd", **args)


def test_unknown_optimizer_lists_valid_names(diag_quadratic):
    with pytest.raises(ValueError, match=r"optimizer='nosuch'.*sgd"):
        ts.Experiment(diag_quadratic, "nosuch", steps=10)


def test_grid_is_a_cartesian_product():
    g = ts.grid(lr=[0.1, 0.2], seeds=range(3))
    assert g["lr"] == [0.1, 0.1, 0.1, 0.2, 0.2, 0.2] and g["seeds"] == [0, 1, 2, 0, 1, 2]
    with pytest.raises(ValueError, match="axis lr"):
        ts.grid(lr=0.1)


def _finite_difference_check(model, theta, h=1e-6):
    mh = model.hyper_row({})
    key = np.zeros(2, dtype=np.uint64)
    _, g = model.loss_grad_numpy(theta, mh, key, 1)
    fd = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        fd[i] = (model.loss_grad_numpy(theta + e, mh, key, 1)[0] - model.loss_grad_numpy(theta - e, mh, key, 1)[0]) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("make", [
    lambda: ts.models.Quadratic(np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([1.0, -1.0])),
    lambda: ts.models.LeastSquares(np.arange(12.0).reshape(4, 3) / 5, np.array([1.0, 0.0, -1.0, 2.0])),
    lambda: ts.models.ScaleInvariant(3, 4),
])
def test_model_gradients_by_finite_differences_and_kernel_parity(make):
    model = make()
    theta = np.linspace(-1.0, 1.5, model.layout.size)
    _finite_difference_check(model, theta)
    exp = ts.Experiment(model, "sgd", lr=0.01, steps=20, seeds=[0, 1])
    res, ref = exp.run(), naive.run(exp)
    np.testing.assert_allclose(res.records, ref["records"], rtol=1e-13)
    np.testing.assert_allclose(res.theta, ref["theta"], rtol=1e-13)


def test_scale_invariant_gradient_is_orthogonal_to_the_weights():
    model = ts.models.ScaleInvariant(5, 3)
    theta = np.random.default_rng(0).standard_normal(15)
    _, g = model.loss_grad_numpy(theta, model.hyper_row({}), None, 1)
    assert abs(g @ theta) < 1e-14 * np.linalg.norm(g) * np.linalg.norm(theta)
    l1, _ = model.loss_grad_numpy(theta, model.hyper_row({}), None, 1)
    l2, _ = model.loss_grad_numpy(3.7 * theta, model.hyper_row({}), None, 1)
    assert l1 == pytest.approx(l2, rel=1e-14)


def test_blas_model_member_is_the_same_alone_and_in_an_ensemble():
    """A model whose kernels call BLAS (the XOR span form): member 0 trained alone (E = 1) and inside
    an ensemble of 3 gives the same bits, and BLAS runs single-threaded inside the engine whatever E
    is (with E = 1 two OpenBLAS threads under a Numba worker took 8x longer)."""
    from threadpoolctl import threadpool_info

    from theorysim.engine import experiment as engine_experiment
    from theorysim.setups.xor_grokking import data

    span = data.build({"n": 20, "p": 60, "m": 8, "eta": 0.05, "mu_scale": 2.5, "test": 30}, 0).span_form()
    assert span.uses_blas
    run = lambda E: ts.Experiment(span, "sgd", lr=0.5, steps=30, seeds=range(E), record_every=10,
                                  omega_init=0.1, divergence_factor=0).run()
    one, three = run(1), run(3)
    np.testing.assert_array_equal(one.theta[0], three.theta[0])
    np.testing.assert_array_equal(one.records[0], three.records[0])
    with engine_experiment._blas_limit(span):
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
