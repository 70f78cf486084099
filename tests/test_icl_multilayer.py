"""Multi-layer in-context algorithms: the spectral GD++ form, its gradient, the tuner and the
Newton / GD matcher (setups/icl/multilayer.py), each against a plain reference."""
import numpy as np
import pytest

from theorysim.setups.icl import algorithms as alg
from theorysim.setups.icl import multilayer as ml
from theorysim.setups.icl import task


@pytest.fixture(scope="module")
def prompts():
    return task.sample(3, 256, 4, 9)


@pytest.mark.parametrize("x_dist", ["gaussian", "uniform"])
def test_spectral_gdpp_equals_token_dynamics(x_dist):
    p = task.sample(5, 128, 4, 9, x_dist=x_dist)
    etas, gammas = [0.7, 2.0, 0.4], [0.03, 0.1, 0.2]
    if x_dist == "uniform":
        etas, gammas = [8.0, 20.0, 5.0], [0.4, 1.0, 2.0]
    ref = alg.gdpp_predict(p, etas, gammas)
    got = alg.gdpp_spectral_predict(alg.spectral_moments(p), etas, gammas, 9)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())


def test_spectral_gd_equals_gd_steps(prompts):
    etas = [0.3, 1.2, 0.8, 0.5]
    ref = alg.predict(prompts, alg.gd_steps_list(prompts, etas))
    got = alg.gdpp_spectral_predict(alg.spectral_moments(prompts), etas, [0.0] * 4, prompts.n_context)
    np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-13)


def test_gdpp_loss_gradient_matches_finite_differences(prompts):
    m = alg.spectral_moments(prompts)
    etas, gammas = np.array([0.6, 1.5, 0.9]), np.array([0.02, 0.05, 0.01])
    loss, d_eta, d_gamma = alg.gdpp_spectral_loss(m, prompts.yq, etas, gammas, prompts.n_context)
    assert loss == pytest.approx(0.5 * np.mean((alg.gdpp_spectral_predict(m, etas, gammas, prompts.n_context)
                                                - prompts.yq) ** 2), rel=1e-14)
    h = 1e-6
    for j in range(3):
        for vec, grad in ((etas, d_eta), (gammas, d_gamma)):
            up, dn = vec.copy(), vec.copy()
            up[j] += h
            dn[j] -= h
            args_up = (up, gammas) if vec is etas else (etas, up)
            args_dn = (dn, gammas) if vec is etas else (etas, dn)
            fd = (alg.gdpp_spectral_loss(m, prompts.yq, *args_up, prompts.n_context)[0]
                  - alg.gdpp_spectral_loss(m, prompts.yq, *args_dn, prompts.n_context)[0]) / (2 * h)
            assert grad[j] == pytest.approx(fd, rel=1e-6, abs=1e-9)
    assert d_gamma[-1] == 0.0  # the last layer's x-update never reaches the prediction


def test_tuned_one_step_gd_is_the_closed_form_optimum():
    # one GD step on Gaussian prompts: eta* = N / (N + d + 1) (spec sec. 3), up to sampling error
    p = task.sample(11, 40000, 4, 12)
    loss, etas, _ = ml.tune_gdpp(p, 1, curvature=False, starts=2)
    assert etas[0] == pytest.approx(12 / 17, rel=0.02)


def test_gdpp_tuner_beats_gd(prompts):
    gd, _, _ = ml.tune_gdpp(prompts, 2, curvature=False, starts=4)
    gdpp, _, gammas = ml.tune_gdpp(prompts, 2, curvature=True, starts=4)
    assert gdpp < 0.8 * gd and gammas[0] > 0


def test_match_finds_the_iteration_that_produced_the_predictions(prompts):
    W = alg.iterative_newton(prompts, 6, return_all=True)
    m = ml.match_curves(alg.predict(prompts, W[4]), prompts, newton_max=10, gd_steps=[1, 2, 4, 8])
    assert m["best_newton"] == 4 and m["newton"][4] == 0.0
    S, h = alg._moments(prompts)
    eta = 1.0 / np.linalg.eigvalsh(S)[:, -1]
    w = np.zeros_like(h)
    for _ in range(8):
        w = w - eta[:, None] * (np.einsum("bij,bj->bi", S, w) - h)
    m = ml.match_curves(alg.predict(prompts, w), prompts, newton_max=10, gd_steps=[1, 2, 4, 8, 16])
    assert m["best_gd"] == 8


def test_paired_ratio_interval_covers_and_shrinks():
    rng = np.random.default_rng(0)
    b = rng.exponential(size=20000)
    a = 0.5 * b + 0.01 * rng.exponential(size=20000)
    r, (lo, hi) = ml.paired_ratio(a, b)
    assert lo < r < hi and lo < 0.51 < hi and hi - lo < 0.01


def test_ratio_values_and_seeds_and_prompts_interval():
    """The linearised per-prompt ratio values average to each seed's ratio of means, and the
    interval over seeds and prompts covers the true ratio and narrows with more prompts."""
    from theorysim.setups.icl.simulation import ratio_values, seeds_and_prompts

    rng = np.random.default_rng(1)
    b = rng.exponential(size=4000)
    a = np.array([0.5 * b + 0.02 * rng.exponential(size=4000) for _ in range(3)])
    v = ratio_values(a, b)
    np.testing.assert_allclose(v.mean(axis=1), a.mean(axis=1) / b.mean(), rtol=1e-12)
    m = seeds_and_prompts(v)
    assert m.ci[0] < 0.52 < m.ci[1] and m.n == 3 and "in quadrature" in m.ci_method
    b2 = rng.exponential(size=64000)
    a2 = np.array([0.5 * b2 + 0.02 * rng.exponential(size=64000) for _ in range(3)])
    m2 = seeds_and_prompts(ratio_values(a2, b2))
    assert m2.ci[1] - m2.ci[0] < m.ci[1] - m.ci[0]
    one = seeds_and_prompts(v[:1])
    assert one.ci is not None and "one seed" in one.ci_method
    assert not np.isfinite(seeds_and_prompts(np.array([[1.0, np.nan]])).value)


def test_share_values_is_the_delta_method():
    """The linearised share values average to the share, and their spread over prompts matches the
    share's spread over resampled prompt sets."""
    from theorysim.setups.icl.claims.vonoswald2023 import _share_values

    rng = np.random.default_rng(2)
    P = 5000
    gd = rng.exponential(size=P)
    gdpp = 0.1 * gd + 0.01 * rng.exponential(size=P)
    lsa = np.array([0.12 * gd + 0.012 * rng.exponential(size=P) for _ in range(2)])
    v = _share_values(lsa, gd, gdpp)
    share = lambda a, g, q: (np.log(g.mean()) - np.log(a.mean())) / (np.log(g.mean()) - np.log(q.mean()))
    np.testing.assert_allclose(v.mean(axis=1), [share(lsa[s], gd, gdpp) for s in range(2)], rtol=1e-12)
    boot = []
    for _ in range(400):
        i = rng.integers(0, P, P)
        boot.append(share(lsa[0, i], gd[i], gdpp[i]))
    assert np.std(v[0], ddof=1) / np.sqrt(P) == pytest.approx(np.std(boot), rel=0.2)


def test_slope_bracket_follows_the_grid():
    """The argmin's resolution: each best match may move to its grid neighbours, and the slope's
    bracket is the extreme slopes those moves allow."""
    from theorysim.setups.icl.claims.fu2023 import _slope_bracket

    out = {"depths": {K: {"match": [{"best_newton": b, "best_gd": g}]}
                      for K, b, g in ((1, 3, 2), (2, 7, 13), (3, 11, 54))}}
    slope, lo, hi = _slope_bracket(out, "best_newton", range(21), lambda x: x)
    assert slope.tolist() == [4.0] and lo.tolist() == [3.0] and hi.tolist() == [5.0]
    grid = sorted({round(2 ** (i / 4)) for i in range(49)})
    g, glo, ghi = _slope_bracket(out, "best_gd", grid, np.log)
    assert np.exp(g[0]) == pytest.approx(np.sqrt(27)) and np.exp(glo[0]) == pytest.approx(np.sqrt(45 / 3))
    assert np.exp(ghi[0]) == pytest.approx(np.sqrt(64 / 1))
