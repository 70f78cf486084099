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
