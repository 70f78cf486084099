"""The two-step projected GD learner of Lahoti et al. (2024) and the DSD closed forms
(theorysim.setups.dsd.two_step / theory): exact risk against Monte Carlo, the first step's alignment
law, the second step against its oracle-selection law, the engine taking the same two steps, the
readings the learner rejects (dead zone, flip), and m* growing with sigma."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from theorysim.setups.dsd import data, model, search, theory, two_step


def _cos(arch, theta, k, d):
    W = two_step.filters(arch, theta, k, d)
    return float(np.mean((W @ data.signal(d)) / np.linalg.norm(W, axis=1)))


@pytest.mark.parametrize("mode", data.MODES)
@pytest.mark.parametrize("arch", two_step.ARCHS)
@pytest.mark.parametrize("b", [1e-4, 0.08])
def test_exact_risk_matches_monte_carlo(arch, mode, b):
    k, d, sigma = 5, 6, 0.3
    theta = np.random.default_rng(1).normal(size=two_step.n_weights(arch, k, d)) * 0.5
    X, y, _ = data.sample(200_000, k, d, sigma, mode, seed=3, stream=1)
    sq = (model.outputs(arch, theta, X, k, d, b) - y) ** 2
    exact = theory.risk(arch, theta, k, d, sigma, b, mode)
    assert abs(sq.mean() - exact) < 4 * sq.std() / math.sqrt(len(sq)), (sq.mean(), exact)


def test_risk_floor_is_the_noise_of_the_other_patches():
    k, d, sigma = 9, 7, 0.5 / 3
    assert theory.risk_floor("lcn", k, d, sigma, 0.0) == pytest.approx(k * sigma ** 2, rel=1e-12)
    assert theory.risk_floor("cnn", k, d, sigma, 0.0, "replace") == pytest.approx((k - 1) * sigma ** 2, rel=1e-12)
    aligned = theory.best_filters("lcn", k, d)
    assert theory.excess_risk("lcn", aligned, k, d, sigma, 1e-4) == pytest.approx(0.0, abs=1e-15)
    # unit filters at cos a with b = 0: the excess is exactly (1 - a)^2
    a = 0.9
    tilt = a * data.signal(d) + math.sqrt(1 - a * a) * np.r_[1.0, -1.0, np.zeros(d - 2)] / math.sqrt(2)
    assert theory.excess_risk("cnn", tilt, k, d, sigma, 0.0) == pytest.approx((1 - a) ** 2, rel=1e-9)


@pytest.mark.parametrize("arch", two_step.ARCHS)
def test_first_step_alignment_follows_its_closed_form(arch):
    k, d, sigma = 4, 200, 0.5 / 2
    m = 50 if arch == "cnn" else 400  # sigma^2 k d / m = 1 (CNN), sigma^2 k^2 d / m = 0.5 (LCN)
    law = float(theory.first_step_alignment(arch, k, d, sigma, m))
    got = []
    for s in range(6):
        X, y, _ = data.sample(m, k, d, sigma, "additive", seed=s)
        got.append(_cos(arch, two_step.learn(arch, X, y, k, d, s).W1, k, d))
    assert 0.3 < law < 0.9  # a point where the law is informative
    assert np.mean(got) == pytest.approx(law, abs=0.03), (got, law)


@pytest.mark.parametrize("arch", two_step.ARCHS)
def test_second_step_follows_the_oracle_selection_law_up_to_a_constant(arch):
    """Once b1 separates the signal patch from the noise patches, step 2 averages mostly signal patches:
    its misalignment 1 - cos sits between the oracle law's ((1 + sigma^2 d / m)^(-1/2) for the CNN,
    (1 + sigma^2 k d / m)^(-1/2) for the LCN; false positives only add noise) and 6 times it, falls like
    1 / m as the oracle's does, and is below step 1's."""
    k, d, sigma = 8, 16, 0.5 / math.sqrt(8)
    miss = {}
    for m in (400, 1600):
        oracle = 1.0 - float(theory.oracle_step_alignment(arch, k, d, sigma, m))
        first, second = [], []
        for s in range(5):
            X, y, _ = data.sample(m, k, d, sigma, "additive", seed=s)
            steps = two_step.learn(arch, X, y, k, d, s)
            first.append(1.0 - _cos(arch, steps.W1, k, d))
            second.append(1.0 - _cos(arch, steps.W2, k, d))
        miss[m] = np.mean(second)
        assert oracle < miss[m] < 6 * oracle, (m, miss[m], oracle)
        assert miss[m] < 0.7 * np.mean(first)
    assert 2.5 < miss[400] / miss[1600] < 6.0, miss


@pytest.mark.parametrize("arch", two_step.ARCHS)
def test_the_engine_takes_the_same_two_steps(arch):
    """Each step is one plain GD step of the engine's PatchNet (whose loss has the 1/2: rate 2 eta) at the
    step's bias, then the projection."""
    from theorysim.engine.experiment import Experiment

    k, d, sigma = 4, 5, 0.25
    X, y, _ = data.sample(60, k, d, sigma, "additive", seed=2)
    steps = two_step.learn(arch, X, y, k, d, 7)
    net = model.PatchNet(arch, k, d, X, y)
    scheme = two_step.PAPER
    for start, b, eta, after in ((steps.W0, 0.0, scheme.eta1_for(arch, k), steps.W1),
                                 (steps.W1, steps.b1, scheme.eta2(k), steps.W2)):
        res = Experiment(net, "sgd", lr=2 * eta, steps=1, seeds=[0], record_every=1, b=b,
                         divergence_factor=0).run(theta0=start[None, :])
        np.testing.assert_allclose(two_step.project(arch, res.theta[0], k, d, "ball"), after, rtol=1e-12, atol=1e-15)


def test_b1_in_the_first_step_leaves_the_init_where_it_is():
    """The dead zone: from the tiny init every pre-activation is below b1, so the gradient is 0."""
    k, d = 6, 8
    X, y, _ = data.sample(300, k, d, 0.2, "additive", seed=0)
    steps = two_step.learn("lcn", X, y, k, d, 3, replace(two_step.PAPER, step1_bias="b1"))
    np.testing.assert_array_equal(steps.W1, steps.W0)
    pre = np.einsum("njd,jd->nj", X.reshape(-1, k, d), two_step.filters("lcn", steps.W0, k, d))
    assert np.max(np.abs(pre)) < steps.b1


@pytest.mark.parametrize("scheme", [replace(two_step.PAPER, cnn_eta1="same"), replace(two_step.PAPER, projection="sphere")])
def test_a_unit_norm_first_step_turns_the_cnn_against_the_signal(scheme):
    """With f ~ y after step 1, the squared loss's gradient shrinks the filter; eta2 = 1e3 k and the
    projection then point it the other way (the readings the learner does not take)."""
    k, d, sigma = 8, 16, 0.5 / math.sqrt(8)
    X, y, _ = data.sample(1000, k, d, sigma, "additive", seed=1)
    bad = two_step.learn("cnn", X, y, k, d, 1, scheme)
    good = two_step.learn("cnn", X, y, k, d, 1)
    assert _cos("cnn", bad.W1, k, d) > 0.99 and _cos("cnn", bad.W2, k, d) < -0.9
    assert _cos("cnn", good.W2, k, d) > 0.99


def test_m_star_grows_with_sigma():
    assert theory.oracle_m_star("lcn", 8, 16, 0.1, 1e-3) < theory.oracle_m_star("lcn", 8, 16, 0.2, 1e-3)
    cfg = {"sigma": None, "mode": "additive", "delta": 1e-3, "seeds": [0, 1, 2], "hi": 3000, "test_size": 500}
    means = []
    for c in (0.25, 0.5, 1.0):
        means.append(np.mean([s.m_star for s in search.two_step_searches({**cfg, "c": c}, "lcn", 4, 8)]))
    assert means[0] < means[1] < means[2], means


def test_search_m_star_is_the_first_size_within_delta():
    cfg = {"c": 0.5, "sigma": None, "mode": "additive", "delta": 1e-3, "seeds": [4], "hi": 2000, "test_size": 500}
    (found,) = search.two_step_searches(cfg, "lcn", 4, 8)
    assert math.isfinite(found.m_star) and found.excess[int(found.m_star)] <= 1e-3
    below = [m for m in found.excess if m < found.m_star]
    assert below and all(found.excess[m] > 1e-3 for m in below if m >= 0.95 * found.m_star)
    assert 0.0 <= found.zero_one_at_m_star < 0.2


def test_scheme_refuses_a_bad_reading_in_one_line():
    with pytest.raises(ValueError, match=r"projection='cube': expected one of 'ball', 'sphere'"):
        two_step.Scheme(projection="cube")
    with pytest.raises(ValueError, match=r"arch='fcn': the two-step learner is defined for 'cnn', 'lcn'"):
        two_step.n_weights("fcn", 2, 2)


def test_sweep_points_are_the_bound_claims_members(tmp_path):
    """experiments/dsd_scaling.toml's points, shrunk: with learner = "two_step" a point with seed 0 and
    data_seed s is member s of the bound claims' search at that m: its stored step (projected where the
    store is read) is the learner's W2 on the same draw, prefix and init, and its m* per draw comes out of
    the stored excess risks."""
    from pathlib import Path

    from theorysim import sweep
    from theorysim.setups.dsd import study
    from theorysim.sweep.store import Store, unpack_arrays

    spec = sweep.load_spec(Path(__file__).resolve().parents[1] / "experiments" / "dsd_scaling.toml")
    assert len(spec.points()) == 2560 and spec.experiment["learner"] == "two_step"
    variant = next(v for v in spec.variants if v["k"] == 4 and v["d"] == 16)
    assert variant["b"] == two_step.PAPER.b1(4, 16) and variant["lr"] == 2 * two_step.PAPER.eta2(4)
    small = sweep.Spec(spec.path, {**spec.experiment, "pool": 300}, {"arch": ["cnn", "lcn"], "m": [6, 66, 300],
                       "data_seed": [0, 1]}, {}, [0], {}, [variant])
    assert sweep.run_sweep(small, tmp_path / "t.sqlite", executor="serial", progress=False)["done"] == 12
    store = Store(tmp_path / "t.sqlite", read_only=True)
    points = [{"config": r["config"], "theta": unpack_arrays(r["arrays"])["theta"]} for r in store.rows()]
    store.close()
    sigma = variant["sigma"]
    for p in points:
        cfg = p["config"]
        X, y, _ = data.sample(300, 4, 16, sigma, "additive", seed=cfg["data_seed"])
        want = two_step.learn(cfg["arch"], X[:cfg["m"]], y[:cfg["m"]], 4, 16, cfg["data_seed"]).W2
        got = two_step.project(cfg["arch"], np.asarray(p["theta"]).reshape(-1), 4, 16, "ball")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    rows = {r["arch"]: r for r in study.two_step_m_stars(points, delta=1e-3)}
    assert set(rows) == {"cnn", "lcn"} and set(rows["lcn"]["m_star_per_seed"]) == {0, 1}
    assert rows["cnn"]["m_star"] <= rows["lcn"]["m_star"]


def test_two_step_sweep_refuses_what_it_cannot_run(tmp_path):
    from theorysim import sweep

    base = ("seeds = [0]\n[experiment]\nsetup = 'dsd'\nlearner = 'two_step'\nsteps = 1\nk = 2\nd = 2\nm = 5\n"
            "pool = 10\n")
    for extra, match in (("arch = 'fcn'\n", r"experiment\.arch='fcn': learner 'two_step' is defined for 'cnn', 'lcn'"),
                         ("arch = 'lcn'\noptimizer = 'adam'\n", r"experiment\.optimizer='adam': learner 'two_step'")):
        path = tmp_path / "s.toml"
        path.write_text(base + extra)
        with pytest.raises(ValueError, match=match):
            sweep.load_spec(path)
