"""The stability setup (Wu and Su 2023): the diagonal network's kernels against numpy and central
differences, the Gauss-Newton statistics, and the linear-stability oracle against closed forms."""
from __future__ import annotations

import math

import numpy as np
import pytest

from theorysim.setups.stability import sharpness, task
from theorysim.setups.stability.diagonal_net import DiagonalLinearNet, diagonal_loss_grad, diagonal_metrics


def test_gradient_and_jacobian_match_central_differences():
    X, y, _ = task.draw(7, 5, 2, 0)
    net = DiagonalLinearNet(X, y)
    theta = np.random.default_rng(1).normal(size=10)
    mh = np.array([0.0, 1.0])
    loss, grad = net.loss_grad_numpy(theta, mh, None, 0)
    h = 1e-6
    fd = np.array([(net.loss_grad_numpy(theta + h * e, mh, None, 0)[0]
                    - net.loss_grad_numpy(theta - h * e, mh, None, 0)[0]) / (2 * h) for e in np.eye(10)])
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-10)
    J = task.jacobian(theta, X)
    f = lambda th: X @ (th[:5] * th[5:])
    Jfd = np.stack([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(10)], axis=1)
    np.testing.assert_allclose(J, Jfd, rtol=1e-7, atol=1e-10)
    fdata, idata = net.data()
    g = np.zeros(10)
    assert diagonal_loss_grad(theta, fdata, idata, mh, 0, 0, 1, g, np.zeros(7)) == pytest.approx(loss, rel=1e-13)
    np.testing.assert_allclose(g, grad, rtol=1e-13)
    out = np.zeros(2)
    diagonal_metrics(theta, fdata, idata, mh, out, np.zeros(7))
    np.testing.assert_allclose(out, net.metrics_numpy(theta, mh), rtol=1e-13)


def test_engine_sgd_is_the_numpy_oracle_and_starts_at_theta0():
    """B = 2 minibatch SGD from given starting points: the engine against numpy with the same counter
    RNG draws, bitwise-close."""
    from theorysim.core import rng
    from theorysim.engine.experiment import Experiment

    X, y, _ = task.draw(9, 4, 1, 3)
    theta0 = np.random.default_rng(2).normal(size=(2, 8))
    net = DiagonalLinearNet(X, y, theta0=theta0)
    res = Experiment(net, "sgd", lr=[0.05, 0.1], steps=30, seeds=[4, 5], batch_size=2, init_scale=0.0,
                     progress=False).run()
    for m, seed in enumerate((4, 5)):
        key = rng.key_from_seed(seed)
        theta = theta0[m].copy()
        for t in range(1, 31):
            theta -= [0.05, 0.1][m] * net.loss_grad_numpy(theta, np.array([2.0, 0.0]), key, t)[1]
        np.testing.assert_allclose(res.theta[m], theta, rtol=1e-12)


def test_gauss_newton_statistics():
    J = np.random.default_rng(0).normal(size=(6, 11))
    G = J.T @ J / 6
    lam = np.linalg.eigvalsh(G)
    got = sharpness.gauss_newton(J)
    assert got["lambda_max"] == pytest.approx(lam[-1], rel=1e-12)
    assert got["trace"] == pytest.approx(np.trace(G), rel=1e-12)
    assert got["frobenius"] == pytest.approx(np.linalg.norm(G), rel=1e-12)


@pytest.mark.parametrize("batch", [1, 2, 5, None])
def test_oracle_boundary_for_orthogonal_gradients(batch):
    """Orthogonal g_i of squared norms s_i: the map is diagonal and the minimum is stable iff
    eta s_i (1/B + (B - 1) / (B n)) <= 2 for every i (GD: eta lambda_max(G) <= 2, lambda_max = max s_i / n).
    With B = 1 and equal norms this is exactly tr(G) <= 2 / eta (Wu and Su)."""
    n = 8
    s = np.linspace(1.0, 4.0, n)
    J = np.zeros((n, 13))
    J[np.arange(n), np.arange(n)] = np.sqrt(s)
    scale = s.max() / n if batch is None else s.max() * (1 / batch + (batch - 1) / (batch * n))
    assert sharpness.stability_boundary(J, batch) == pytest.approx(2 / scale, rel=1e-8)
    equal = np.zeros((n, n))
    np.fill_diagonal(equal, 2.0)
    if batch == 1:
        assert sharpness.stability_boundary(equal, 1) == pytest.approx(2 / sharpness.gauss_newton(equal)["trace"],
                                                                       rel=1e-8)


def test_oracle_matches_the_explicit_second_moment_matrix():
    """The power iteration's radius equals the largest |eigenvalue| of T written as a matrix on
    vec(M), for non-orthogonal gradients and B = 3."""
    gen = np.random.default_rng(5)
    J = gen.normal(size=(4, 4))
    eta, B = 0.3, 3
    C = sharpness._span(J)
    apply = sharpness.second_moment_map(C, eta, B)
    r = C.shape[1]
    basis = []  # symmetric matrices (second moments are): E_ab + E_ba, a <= b, orthonormal
    for a in range(r):
        for b in range(a, r):
            E = np.zeros((r, r))
            E[a, b] = E[b, a] = 1.0 / (math.sqrt(2.0) if a != b else 1.0)
            basis.append(E)
    T = np.array([[np.sum(Ei * apply(Ej)) for Ej in basis] for Ei in basis])
    assert sharpness.stability_radius(J, eta, B) == pytest.approx(np.max(np.abs(np.linalg.eigvals(T))), rel=1e-9)


def test_bad_inputs_are_one_line():
    with pytest.raises(ValueError, match=r"sparsity=9: expected at most d = 4"):
        task.draw(3, 4, 9, 0)
    X, y, _ = task.draw(3, 4, 1, 0)
    with pytest.raises(ValueError, match=r"theta0: expected finite starting points of shape \(E, 8\)"):
        DiagonalLinearNet(X, y, theta0=np.zeros(8))


def _explicit_on_symmetric(apply, r):
    """The matrix of a linear map on symmetric r x r matrices in an orthonormal basis of them."""
    basis = []
    for a in range(r):
        for b in range(a, r):
            E = np.zeros((r, r))
            E[a, b] = E[b, a] = 1.0 / (math.sqrt(2.0) if a != b else 1.0)
            basis.append(E)
    return np.array([[np.sum(Ei * apply(Ej)) for Ej in basis] for Ei in basis])


def test_lanczos_radius_and_boundary_on_a_larger_span():
    """Past the explicit-matrix size (span dimension 24): the Lanczos radius equals the top eigenvalue
    of T written out on symmetric matrices, and at the one-eigenproblem boundary eta* the radius
    crosses 1."""
    gen = np.random.default_rng(11)
    J = gen.normal(size=(24, 40)) * np.linspace(0.5, 2.0, 40)
    B = 3
    eta_star = sharpness.stability_boundary(J, B)
    C = sharpness._span(J)
    T = _explicit_on_symmetric(sharpness.second_moment_map(C, 0.8 * eta_star, B), C.shape[1])
    assert sharpness.stability_radius(J, 0.8 * eta_star, B) == pytest.approx(np.linalg.eigvalsh(T)[-1], rel=1e-9)
    assert sharpness.stability_radius(J, eta_star * (1 - 1e-6), B) < 1 < sharpness.stability_radius(J, eta_star * (1 + 1e-6), B)


def test_eta_max_search_brackets_the_gd_limit():
    """Full batch (B >= n) is GD on a quadratic: unstable exactly above 2 / lambda_max(X^T X / n). A finite
    run detects growth only past a margin: at eta = (1 + delta) 2 / lambda_max the top mode's loss grows
    by ~(1 + 4 delta) per step, so 4000 steps reach the 1e6-fold growth for delta >~ 0.1%."""
    from theorysim.models import LeastSquares
    from theorysim.setups.stability import lr_search
    gen = np.random.default_rng(3)
    X = gen.normal(size=(20, 5))
    y = X @ gen.normal(size=5) + 0.1 * gen.normal(size=20)
    limit = 2 / np.linalg.eigvalsh(X.T @ X / 20)[-1]
    a, b = lr_search.eta_max(LeastSquares(X, y), "sgd", 20, [0, 1], 4000, 0.1 * limit, 10 * limit)
    assert a <= limit * 1.002 and limit <= b and b / a < 1.01
    ok = lr_search.stable(LeastSquares(X, y), "adam", [1e-2, 10.0], 4, [0, 1], 400, criterion="progress")
    assert ok.tolist() == [True, False]  # Adam at 10: bounded steps, no blow-up, but no progress either
    assert lr_search.stable(LeastSquares(X, y), "adam", [10.0], 4, [0], 400).tolist() == [True]  # not diverged
    with pytest.raises(ValueError, match="criterion='loss': expected one of diverged, progress"):
        lr_search.stable(LeastSquares(X, y), "sgd", [0.1], 4, [0], 400, criterion="loss")
    with pytest.raises(ValueError, match="steps=100: expected a positive multiple of 8"):
        lr_search.stable(LeastSquares(X, y), "sgd", [0.1], 4, [0], 100)


def test_centred_random_features():
    Phi, y = task.random_features(64, 8, 16, 0.1, 0)
    assert Phi.shape == (64, 16) and y.shape == (64,)
    np.testing.assert_allclose(Phi.mean(axis=0), 0.0, atol=1e-15)
    with pytest.raises(ValueError, match=r"p=0: expected a positive integer"):
        task.random_features(64, 8, 0, 0.1, 0)


# -- granziol2020 ------------------------------------------------------------------------------------

def _granziol_scan(lo_over_star, width=1.005):
    """A canned SGD scan (no simulation): eta_max = B / (1 + B / 32), five draws, eta* a fixed
    fraction below; ``lo_over_star``: the smallest bracket lower end over eta*."""
    from theorysim.setups.stability.claims import granziol2020 as g

    B = np.array(g._QUICK["sgd_batches"], dtype=float)
    eta = np.tile(B / (1 + B / 32), (5, 1)) * (1 + 0.01 * np.arange(5))[:, None]
    brackets = np.stack([eta / np.sqrt(width), eta * np.sqrt(width)], axis=-1)
    oracle = brackets[..., 0] / 1.05
    oracle[2, 3] = brackets[2, 3, 0] / lo_over_star
    return {"batches": list(B.astype(int)), "table": np.sqrt(brackets[..., 0] * brackets[..., 1]),
            "brackets": brackets, "oracle": oracle, "spectra": [{"trace": 10.0, "lambda_max": 1.0}] * 5}


@pytest.mark.parametrize("lo_over_star, outcome", [(1.001, "pass"), (0.998, "inconclusive"), (0.9, "fail")])
def test_granziol_eta_max_against_the_mean_square_boundary_is_a_lower_bound(lo_over_star, outcome):
    """eta* bounds the measured eta_max from below: the bisection bracket decides (whole bracket
    above eta* passes, below fails, across is inconclusive and more draws cannot decide it)."""
    from theorysim.claims.claim import REGISTERED
    from theorysim.setups.stability.claims import granziol2020 as g

    claim = REGISTERED["granziol2020/sgd-linear-scaling"]
    checks = {c.name: c for c in claim.evaluate(claim.config("quick"), _granziol_scan(lo_over_star))}
    oracle = checks[g.SGD_ORACLE]
    assert oracle.tolerance.kind == "lower_bound" and oracle.outcome == outcome, oracle.judgement.why
    assert not oracle.measured.shrinks
    small, large = checks[g.SGD_SMALL], checks[g.SGD_LARGE]
    assert small.tolerance.kind == large.tolerance.kind == "rate"
    assert small.tolerance.params["band"] == pytest.approx(0.3)  # ln 2 * 1/2 sum|u - mean u| / sum (u - mean u)^2
    assert small.outcome == "pass" and large.outcome == "pass"  # slopes ~0.7-0.97 over B <= 16, ~0.2 at the top
