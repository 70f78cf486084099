"""Teacher-student closed forms (Advani and Saxe 2017): the Marchenko-Pastur integrals against
sympy and against numerical integration of the density, the flow against a fine Euler scheme, and
the closed forms against one large draw."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

from theorysim.setups.teacher_student import task, theory


@pytest.mark.parametrize("alpha", [sympy.Rational(1, 4), sympy.Rational(4, 9), sympy.Rational(9, 4), sympy.Integer(4)])
def test_inverse_moment_symbolically(alpha):
    """int rho = min(1, alpha) and int rho / lambda = alpha / (1 - alpha) or 1 / (alpha - 1), exactly, by
    sympy (alpha a rational square, so the edges are rational; in lambda = m + h cos t, m and h the
    bulk's centre and half-width, where the square root is
    h sin t and sympy finds the antiderivative)."""
    t = sympy.symbols("t", real=True)
    lo, hi = (1 - sympy.sqrt(alpha)) ** 2, (1 + sympy.sqrt(alpha)) ** 2
    m, h = (hi + lo) / 2, (hi - lo) / 2
    lam = m + h * sympy.cos(t)
    weight = h ** 2 * sympy.sin(t) ** 2 / (2 * sympy.pi * lam)  # rho(lambda) dlambda / dt
    mass = sympy.integrate(weight, (t, 0, sympy.pi))
    inverse = sympy.integrate(weight / lam, (t, 0, sympy.pi))
    expected = alpha / (1 - alpha) if alpha < 1 else 1 / (alpha - 1)
    assert sympy.simplify(mass - sympy.Min(1, alpha)) == 0
    assert sympy.simplify(inverse - expected) == 0
    assert theory.inverse_moment(float(alpha)) == pytest.approx(float(expected), rel=1e-15)


@pytest.mark.parametrize("alpha", [0.3, 0.5, 1.0, 2.0, 3.7])
def test_mp_integral_matches_plain_quadrature(alpha):
    from scipy import integrate

    lo, hi = theory.mp_edges(alpha)
    g = lambda lam: math.exp(-0.7 * lam) * (1 + lam)  # noqa: E731
    plain = integrate.quad(lambda lam: theory.mp_density(np.array([lam]), alpha)[0] * g(lam), lo, hi,
                           limit=400, epsabs=1e-12)[0]
    assert theory.mp_integral(g, alpha) == pytest.approx(plain, rel=1e-6)
    assert theory.mp_integral(lambda lam: 1.0, alpha) == pytest.approx(min(1.0, alpha), rel=1e-10)


def test_gradient_flow_is_the_ode_solution():
    X, y, _ = task.draw(30, 0.5, 1.0, 0.3, seed=1)
    w0 = np.random.default_rng(0).normal(size=30)
    w = w0.copy()
    dt = 1e-4
    for _ in range(20000):
        w -= dt * X.T @ (X @ w - y)
    assert np.allclose(theory.gradient_flow(X, y, w0, [2.0])[0], w, atol=2e-4)


def test_converged_solution_is_the_flow_limit():
    X, y, _ = task.draw(40, 0.5, 1.0, 0.3, seed=2)
    w0 = np.random.default_rng(1).normal(size=40)
    assert np.allclose(theory.gradient_flow(X, y, w0, [1e6])[0], task.converged(X, y, w0), atol=1e-8)


@pytest.mark.parametrize("alpha,s,sigma_0", [(0.5, 0.5, 0.0), (2.0, 3.0, 0.5), (1.0, 2.0, 0.0)])
def test_closed_forms_match_a_large_draw(alpha, s, sigma_0):
    """N = 1500, 4 draws: the finite-N errors scatter O(1/sqrt(N)) around the N -> infinity curve
    (times where E_train is above 10% of its start: later, a few edge eigenvalues carry it, as the
    learning-curves claim's note shows)."""
    sims_g, sims_t = [], []
    for seed in range(4):
        X, y, w_bar = task.draw(1500, alpha, 1.0, math.sqrt(0.2), seed)
        w0 = sigma_0 * np.random.default_rng((9, seed)).normal(size=1500)
        w = theory.gradient_flow(X, y, w0, [s])[0]
        sims_g.append(task.generalization_error(w, w_bar, math.sqrt(0.2)))
        sims_t.append(np.mean((y - X @ w) ** 2))
    kw = {"sigma_w": 1.0, "sigma_eps": math.sqrt(0.2), "sigma_0": sigma_0}
    assert np.mean(sims_g) == pytest.approx(theory.generalization_error(s, alpha, **kw), rel=0.03)
    assert np.mean(sims_t) == pytest.approx(theory.training_error(s, alpha, **kw), rel=0.03)


def test_gd_closed_form_tends_to_the_flow():
    kw = {"sigma_w": 1.0, "sigma_eps": 0.5}
    flow = theory.generalization_error(2.0, 2.0, **kw)
    assert theory.generalization_error(2.0, 2.0, step=1e-4, **kw) == pytest.approx(flow, rel=1e-4)
    assert theory.generalization_error(2.0, 2.0, step=0.1, **kw) != pytest.approx(flow, rel=1e-3)


def test_limits_and_peak():
    kw = {"sigma_w": 1.0, "sigma_eps": math.sqrt(0.2)}
    # spec C1 values: E_g(inf) = 0.90 / 2.10 / 2.20 / 0.40 at alpha = 0.5 / 0.9 / 1.1 / 2
    for a, v in ((0.5, 0.9), (0.9, 2.1), (1.1, 2.2), (2.0, 0.4)):
        assert theory.generalization_error(math.inf, a, **kw) == pytest.approx(v, rel=1e-12)
    assert theory.generalization_error(1e4, 0.5, **kw) == pytest.approx(0.9, rel=1e-6)
    assert math.isinf(theory.generalization_error(math.inf, 1.0, **kw))


def test_bad_alpha_is_one_line():
    with pytest.raises(ValueError, match=r"^alpha=-1: expected a finite number > 0"):
        theory.mp_edges(-1)


@pytest.mark.parametrize("centred", [False, True])
def test_grokking_test_loss_oracle_matches_monte_carlo(centred):
    """The O(D^2) sufficient-statistics test loss against 400000 fresh inputs (standard error of the
    Monte-Carlo mean about 0.3% here), at random weights, alpha and eps."""
    from theorysim.setups.teacher_student import grokking

    gen = np.random.default_rng(11)
    D, H, alpha, eps = 12, 30, 1.7, 0.4
    W, W0, beta = gen.normal(size=(H, D)), gen.normal(size=(H, D)), gen.normal(size=D)
    X = gen.normal(size=(400_000, D)) / math.sqrt(D)
    f = grokking.outputs(W, X, alpha, eps) - (grokking.outputs(W0, X, alpha, eps) if centred else 0.0)
    err = (f - 0.5 * (X @ beta) ** 2) ** 2
    exact = grokking.test_loss(W, beta, alpha, eps, W0 if centred else None)
    assert exact == pytest.approx(err.mean(), abs=4 * err.std() / math.sqrt(len(err)))


# ---- Kumar et al.: the engine model ------------------------------------------------------------
def _kumar_model(E=3, D=5, H=6, P=9, widths=None, centred=True):
    from theorysim.setups.teacher_student import grokking
    from theorysim.setups.teacher_student.readout_net import FrozenReadoutNet

    draws = [grokking.draw(D, H, P, s) for s in range(E)]
    return FrozenReadoutNet(*(np.stack([d[k] for d in draws]) for k in range(3)), widths=widths, centred=centred)


@pytest.mark.parametrize("centred", [True, False])
def test_readout_net_gradient_matches_central_differences(centred):
    model = _kumar_model(E=1, centred=centred).for_member(0)
    gen = np.random.default_rng(3)
    theta = model.init([0], None)[0] + 0.3 * gen.normal(size=model.layout.size)
    mh = np.array([1.7, 0.35])
    loss, grad = model.loss_grad_numpy(theta, mh, None, 0)
    h = 1e-6
    fd = np.array([(model.loss_grad_numpy(theta + h * e, mh, None, 0)[0]
                    - model.loss_grad_numpy(theta - h * e, mh, None, 0)[0]) / (2 * h) for e in np.eye(len(theta))])
    assert np.max(np.abs(fd - grad)) <= 1e-7 * np.max(np.abs(grad))
    if centred:  # f - f0 vanishes at init: the loss is the mean squared target there
        assert model.loss_grad_numpy(model.init([0], None)[0], mh, None, 0)[0] == pytest.approx(
            np.mean(model.target() ** 2), rel=1e-14)


def test_readout_net_engine_matches_the_numpy_oracle_per_member():
    """Three members with their own data, widths 6 / 4 / 2 padded to 6, alpha and eps per member:
    the engine's records and final weights against plain-numpy GD on each member alone."""
    from theorysim.engine.experiment import Experiment

    model = _kumar_model(widths=[6, 4, 2])
    alphas, eps, lrs = [0.5, 1.0, 3.0], [0.25, 0.1, 0.0], [0.4, 0.3, 0.1]
    res = Experiment(model, "sgd", lr=lrs, steps=25, seeds=[0, 1, 2], record_every=5, progress=False,
                     model_hyper={"alpha": alphas, "eps": eps}).run()
    for m in range(3):
        single = model.for_member(m)
        mh = np.array([alphas[m], eps[m]])
        theta = single.init([0], None)[0]
        records = [single.metrics_numpy(theta, mh)]
        for t in range(1, 26):
            theta = theta - lrs[m] * single.loss_grad_numpy(theta, mh, None, t)[1]
            if t % 5 == 0:
                records.append(single.metrics_numpy(theta, mh))
        H = single.H_max
        np.testing.assert_allclose(res.theta[m, : H * 5], theta, rtol=1e-12, atol=1e-13)
        assert np.all(res.theta[m, H * 5 :] == 0.0)  # a narrower member's padding rows never move
        np.testing.assert_allclose(res.records[m], np.array(records), rtol=1e-11)


def test_readout_net_test_loss_is_recorded_exactly():
    """The kernel's recorded test loss and movement equal grokking.test_loss and the numpy norms."""
    from theorysim.engine.experiment import Experiment
    from theorysim.setups.teacher_student import grokking

    model = _kumar_model(E=2, centred=False)
    res = Experiment(model, "sgd", lr=0.5, steps=10, seeds=[0, 1], record_every=10, record_params=True,
                     progress=False, model_hyper={"alpha": 2.0, "eps": 0.3}).run()
    for m in range(2):
        _, beta, W0 = model.member_arrays(m)
        W = res.param_records[m, -1].reshape(W0.shape)
        assert res.curve("test_loss")[m, -1] == pytest.approx(grokking.test_loss(W, beta, 2.0, 0.3), rel=1e-12)
        assert res.curve("movement")[m, -1] == pytest.approx(np.sum((W - W0) ** 2) / np.sum(W0 ** 2), rel=1e-12)


def test_linearised_network_follows_its_closed_form():
    """linearised_test_loss at k steps against GD run explicitly on the linear model f0 + J . dW, and
    its k -> infinity limit against kernel regression evaluated on a Monte Carlo test set."""
    from theorysim.setups.teacher_student import grokking

    D, H, P, alpha, eps, lr = 6, 8, 20, 1.3, 0.4, 2.0
    X, beta, W0 = grokking.draw(D, H, P, 4)
    J = grokking.jacobian(W0, X, alpha, eps).reshape(P, -1)
    y = grokking.target(X, beta)
    dw = np.zeros(H * D)
    for _ in range(40):
        dw -= lr * 2 * J.T @ (J @ dw - y) / P
    d = dw.reshape(H, D)
    gen = np.random.default_rng(2)
    Xt = gen.normal(size=(200_000, D)) / math.sqrt(D)
    lin = grokking.jacobian(W0, Xt[:1000], alpha, eps).reshape(1000, -1) @ dw
    # the linearised function is a . x + x^T B x / 2 (the closed form's premise): check on 1000 points
    a = alpha / H * d.sum(0)
    C = W0.T @ d
    B = alpha * eps / H * (C + C.T)
    np.testing.assert_allclose(lin, Xt[:1000] @ a + 0.5 * np.einsum("nd,de,ne->n", Xt[:1000], B, Xt[:1000]), rtol=1e-10)
    assert grokking.linearised_test_loss(W0, X, beta, alpha, eps, lr, [40])[0] == pytest.approx(
        grokking.quadratic_test_loss(a, B, beta), rel=1e-10)
    K = grokking.ntk(W0, X, X, alpha, eps)
    np.testing.assert_allclose(K, J @ J.T, rtol=1e-12)
    pred = grokking.ntk(W0, Xt, X, alpha, eps) @ np.linalg.solve(K, y)
    err = (pred - grokking.target(Xt, beta)) ** 2
    assert grokking.linearised_test_loss(W0, X, beta, alpha, eps)[0] == pytest.approx(
        err.mean(), abs=4 * err.std() / math.sqrt(len(err)))


def test_readout_net_bad_inputs_are_one_line():
    from theorysim.setups.teacher_student import grokking
    from theorysim.setups.teacher_student.readout_net import FrozenReadoutNet

    X, beta, W0 = grokking.draw(4, 5, 6, 0)
    with pytest.raises(ValueError, match=r"widths=\[6\]: expected one integer in \[1, 5\] per member"):
        FrozenReadoutNet(X, beta, W0, widths=[6])
    with pytest.raises(ValueError, match=r"beta, W0: expected last dimension D = 4"):
        FrozenReadoutNet(X, beta[:3], W0)
    with pytest.raises(ValueError, match=r"member axes of different lengths \[2, 3\]"):
        FrozenReadoutNet(np.stack([X] * 2), np.stack([beta] * 3), W0)
    with pytest.raises(ValueError, match=r"H=0: expected a positive integer"):
        grokking.draw(4, 0, 6, 0)
    from theorysim.engine.experiment import Experiment

    with pytest.raises(ValueError, match=r"alpha"):
        Experiment(FrozenReadoutNet(X, beta, W0), "sgd", steps=3, lr=0.1, model_hyper={"alpha": -1.0})
