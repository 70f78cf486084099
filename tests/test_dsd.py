"""The DSD setup (Lahoti et al. 2024): the generator, the three architectures' kernels against numpy
and central differences, the closed-form step against the GD step it stands for, and the search."""
from __future__ import annotations

import math

import numpy as np
import pytest

from theorysim.setups.dsd import data, estimators, model, search


@pytest.mark.parametrize("mode", data.MODES)
def test_generator_places_the_signed_signal_in_one_patch(mode):
    k, d, sigma = 5, 3, 0.2
    X, y, where = data.sample(20000, k, d, sigma, mode, seed=1)
    assert X.shape == (20000, k * d) and set(np.unique(y)) == {-1.0, 1.0}
    assert abs(y.mean()) < 0.03 and np.all(np.bincount(where, minlength=k) > 3600)
    Xp = X.reshape(-1, k, d)
    signal = Xp[np.arange(len(X)), where] * y[:, None]          # the signal patch, sign removed
    if mode == "replace":
        np.testing.assert_allclose(signal, np.broadcast_to(data.signal(d), signal.shape), rtol=1e-15)
    else:
        np.testing.assert_allclose(signal.mean(0), data.signal(d), atol=4 * sigma / math.sqrt(len(X)))
        assert signal.std(0) == pytest.approx(np.full(d, sigma), rel=0.03)
    other = Xp[np.arange(len(X)), (where + 1) % k]               # a noise patch
    assert np.abs(other.mean(0)).max() < 4 * sigma / math.sqrt(len(X))
    assert other.std(0) == pytest.approx(np.full(d, sigma), rel=0.03)


def test_generator_bad_inputs_are_one_line():
    with pytest.raises(ValueError, match=r"mode='mixed': expected one of 'additive', 'replace'"):
        data.sample(3, 2, 2, 0.1, "mixed")
    with pytest.raises(ValueError, match=r"k=0: expected a positive integer"):
        data.sample(3, 0, 2, 0.1)
    with pytest.raises(ValueError, match=r"sigma=-1: expected a finite number >= 0"):
        data.sample(3, 2, 2, -1)


@pytest.mark.parametrize("arch", model.ARCHITECTURES)
def test_patch_net_gradient_matches_central_differences(arch):
    k, d = 3, 4
    X, y, _ = data.sample(30, k, d, 0.3, seed=2)
    net = model.PatchNet(arch, k, d, X, y)
    gen = np.random.default_rng(0)
    theta = gen.normal(size=net.layout.size)
    mh = np.array([0.2, 1.0])
    loss, grad = net.loss_grad_numpy(theta, mh, None, 0)
    h = 1e-7
    fd = np.array([(net.loss_grad_numpy(theta + h * e, mh, None, 0)[0]
                    - net.loss_grad_numpy(theta - h * e, mh, None, 0)[0]) / (2 * h) for e in np.eye(len(theta))])
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    # the Numba kernels agree with numpy
    fdata, idata = net.data()
    g = np.zeros_like(theta)
    assert model.patch_net_loss_grad(theta, fdata, idata, mh, 0, 0, 1, g, np.zeros(1)) == pytest.approx(loss, rel=1e-13)
    np.testing.assert_allclose(g, grad, rtol=1e-12, atol=1e-15)
    out = np.zeros(2)
    model.patch_net_metrics(theta, fdata, idata, mh, out, np.zeros(1))
    np.testing.assert_allclose(out, net.metrics_numpy(theta, mh), rtol=1e-13)


@pytest.mark.parametrize("arch", model.ARCHITECTURES)
def test_closed_form_step_is_the_projected_gradient_step(arch):
    """projected_step = the GD step from w = 0 at b = 0 (where phi_b is the identity), projected on
    the unit sphere unit by unit: checked against the model's own gradient."""
    k, d = 4, 3
    X, y, _ = data.sample(50, k, d, 0.3, seed=3)
    steps = estimators.projected_step(arch, X, y, k, d, [7, 50])
    for m, row in zip((7, 50), steps):
        net = model.PatchNet(arch, k, d, X[:m], y[:m])
        grad = net.loss_grad_numpy(np.zeros(net.layout.size), np.array([0.0, 1.0]), None, 0)[1]
        units = -grad.reshape(1 if arch == "cnn" else k, -1)
        expect = units / np.linalg.norm(units, axis=1, keepdims=True)
        np.testing.assert_allclose(row, expect.ravel(), rtol=1e-12)


def test_engine_trains_every_member_on_its_own_prefix():
    """(m, seed) members with per-member training sets padded to the largest m: the engine's final
    weights equal plain-numpy GD on each member's first m rows."""
    from theorysim.engine.experiment import Experiment

    k, d = 3, 2
    draws = [data.sample(12, k, d, 0.3, seed=s)[:2] for s in (0, 1)]
    members = [(5, 0), (12, 0), (9, 1)]
    net = model.PatchNet("lcn", k, d, np.stack([draws[s][0] for _, s in members]),
                         np.stack([draws[s][1] for _, s in members]), n_used=[m for m, _ in members])
    res = Experiment(net, "sgd", lr=0.3, steps=15, seeds=[0, 1, 2], b=0.05, init_scale=0.5, progress=False).run()
    theta0 = net.init([0, 1, 2], np.array([[0.05, 0.5]] * 3))
    for e, (m, s) in enumerate(members):
        single = net.for_member(e)
        assert single.X.shape == (m, k * d)
        theta = theta0[e]
        for t in range(15):
            theta = theta - 0.3 * single.loss_grad_numpy(theta, np.array([0.05, 0.5]), None, t)[1]
        np.testing.assert_allclose(res.theta[e], theta, rtol=1e-12, atol=1e-14)


def test_search_finds_the_threshold_of_a_monotone_error():
    calls = []

    def mean_error(sizes):
        calls.append(list(sizes))
        return 1.0 / np.asarray(sizes, dtype=np.float64)

    found = search.sample_complexity(mean_error, 1, 1000, 0.0125, rel_tol=0.0)
    assert found.m_star == 80 and found.errors[80] == 0.0125 and found.errors[79] > 0.0125
    assert search.sample_complexity(mean_error, 1, 50, 0.0125).m_star == math.inf
    with pytest.raises(ValueError, match=r"delta=2"):
        search.sample_complexity(mean_error, 1, 50, 2)


def test_test_error_handles_a_threshold_per_row():
    k, d = 2, 3
    X, y, _ = data.sample(200, k, d, 0.1, seed=0)
    theta = np.stack([data.signal(d), data.signal(d)])
    err = model.test_error("cnn", theta, X, y, k, d, [0.5, 5.0])
    assert err[0] == 0.0 and err[1] == 1.0   # b = 5 zeroes every output: y f = 0 counts as wrong


def test_linear_classifier_error_matches_monte_carlo():
    """Phi(-1 / (sigma sqrt k)): the error of w = (w*, ..., w*), which sums every patch's noise."""
    from theorysim.setups.dsd.claims.lahoti2024 import linear_error

    for k, sigma in ((4, 0.3), (16, 0.15)):
        X, y, _ = data.sample(200_000, k, 3, sigma, seed=2)
        measured = np.mean(y * (X @ np.tile(data.signal(3), k)) <= 0)
        expect = linear_error(sigma, k)
        assert abs(measured - expect) < 4 * math.sqrt(expect * (1 - expect) / len(X)), (k, measured, expect)


def test_gd_search_row_is_one_ensemble_of_size_seed_members():
    """search.gd_errors trains every (size, seed) pair as one member: its mean error over seeds equals
    the errors of separate single-member runs on each seed's prefix."""
    from theorysim.engine.experiment import Experiment

    cfg = dict(k=3, d=2, sigma=0.2, mode="additive", seeds=[4, 5], test_size=500, optimizer="sgd", lr=0.3, steps=20,
               b=0.05, init_scale=0.5)
    sizes = [3, 11]
    got = search.gd_errors(cfg, "fcn", 11)(sizes)
    Xt, yt = search.test_set(cfg)
    for m, e in zip(sizes, got):
        errs = []
        for s in cfg["seeds"]:
            X, y, _ = data.sample(11, 3, 2, 0.2, seed=s)
            res = Experiment(model.PatchNet("fcn", 3, 2, X[:m], y[:m]), "sgd", lr=0.3, steps=20, seeds=[s], b=0.05,
                             init_scale=0.5, progress=False).run()
            errs.append(model.test_error("fcn", res.theta, Xt, yt, 3, 2, 0.05)[0])
        assert e == np.mean(errs)


def test_sweep_points_are_the_claims_search_members(tmp_path):
    """experiments/dsd_gd.toml's points, shrunk: a point with seed 0 and data_seed s trains exactly
    member (m, s) of search.gd_errors (same draw, prefix and init), so the sweep's mean test errors
    (study.m_star_table) are the claim's."""
    from pathlib import Path

    from theorysim import sweep
    from theorysim.setups.dsd import study
    from theorysim.sweep.store import Store, unpack_arrays

    spec = sweep.load_spec(Path(__file__).resolve().parents[1] / "experiments" / "dsd_gd.toml")
    assert len(spec.points()) == 2880 and {p["arch"] for p in spec.points()} == set(model.ARCHITECTURES)
    small = sweep.Spec(spec.path, {**spec.experiment, "steps": 20, "record_every": 20, "pool": 11, "lr": 0.3},
                       {"arch": ["fcn", "lcn"], "m": [3, 11], "data_seed": [4, 5]}, {}, [0], {}, [{"k": 3, "d": 2}])
    assert sweep.run_sweep(small, tmp_path / "d.sqlite", executor="serial", progress=False)["done"] == 8
    store = Store(tmp_path / "d.sqlite", read_only=True)
    points = [{"config": r["config"], "theta": unpack_arrays(r["arrays"])["theta"]} for r in store.rows()]
    store.close()
    table = {row["arch"]: row for row in study.m_star_table(points, delta=0.2, test_size=500)}
    cfg = dict(k=3, d=2, sigma=0.15, mode="additive", seeds=[4, 5], test_size=500, optimizer="sgd", lr=0.3, steps=20,
               b=0.1, init_scale=1.0)
    for arch in ("fcn", "lcn"):
        expect = search.gd_errors(cfg, arch, 11)([3, 11])
        assert table[arch]["draws"] == 2
        np.testing.assert_allclose(list(table[arch]["errors"].values()), np.round(expect, 5), rtol=0, atol=1e-12)


def test_interpolated_m_star():
    from theorysim.setups.dsd.study import interpolated_m_star

    assert interpolated_m_star([10, 100], [0.3, 0.1], 0.2) == pytest.approx(math.sqrt(1000))
    assert interpolated_m_star([10, 100], [0.05, 0.01], 0.2) == 10
    assert interpolated_m_star([10, 100], [0.5, 0.3], 0.2) == math.inf


def test_a_diverged_member_counts_as_wrong():
    """Non-finite weights give non-finite outputs: every test point is an error, not a silent success."""
    k, d = 2, 3
    X, y, _ = data.sample(50, k, d, 0.1, seed=0)
    theta = np.stack([np.tile(data.signal(d), k), np.full(k * d, np.nan)])
    assert model.test_error("lcn", theta, X, y, k, d, 0.0).tolist() == [0.0, 1.0]
    net = model.PatchNet("lcn", k, d, X, y)
    assert net.metrics_numpy(theta[1], np.array([0.0, 1.0]))[1] == 1.0


def test_projected_step_prefix_sums_are_numpys_cumsum_bit_for_bit():
    from theorysim.setups.dsd import estimators

    rs = np.random.default_rng(3)
    X, y = rs.normal(size=(300, 12)), np.sign(rs.normal(size=300))
    X[0, 2] = -0.0  # the first row's signed zero survives, as in cumsum
    sizes = np.array([300, 1, 17, 17, 2, 150])
    expected = np.cumsum(y[:, None] * X, axis=0)[sizes - 1]
    got = np.empty_like(expected)
    order = np.argsort(sizes, kind="stable")
    got[order] = estimators._prefix_sums_at(X, y, sizes[order])
    assert np.array_equal(got, expected) and np.array_equal(np.signbit(got), np.signbit(expected))
    W = estimators.projected_step("lcn", X, y, 3, 4, sizes)
    np.testing.assert_array_equal(W[1], expected[1].reshape(3, 4).ravel() / np.repeat(
        np.linalg.norm(expected[1].reshape(3, 4), axis=1), 4))
