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
