"""Closed forms of the quadratic setup against independent computations."""
import numpy as np
import pytest
import sympy as sp
from scipy import linalg

from theorysim.setups.quadratic import task, theory


def test_gd_error_equals_matrix_power():
    model, eig = task.make_quadratic(8, 30.0, seed=5)
    e0 = np.linspace(-1, 1, 8)
    closed = theory.gd_error(model.A, e0, 0.7, 25)
    M = np.eye(8) - 0.7 * model.A
    np.testing.assert_allclose(closed[25], np.linalg.matrix_power(M, 25) @ e0, rtol=1e-11)
    np.testing.assert_allclose(np.linalg.eigvalsh(model.A), eig, rtol=1e-12)


def test_noise_floor_symbolic_matches_formula():
    eta, lam, sigma = sp.symbols("eta lambda sigma", positive=True)
    assert sp.simplify(theory.noise_floor_symbolic() - eta * sigma**2 / (2 * (2 - eta * lam))) == 0


def test_noise_floor_matches_discrete_lyapunov_solution():
    """Stationary covariance S = M S M^T + eta^2 sigma^2 I, M = I - eta A (any basis, no eigen-trick)."""
    model, eig = task.make_quadratic(6, 10.0, seed=2)
    eta, sigma = 0.8, 0.3
    M = np.eye(6) - eta * model.A
    S = linalg.solve_discrete_lyapunov(M, eta**2 * sigma**2 * np.eye(6))
    assert 0.5 * np.trace(model.A @ S) == pytest.approx(theory.sgd_noise_floor(eig, eta, sigma), rel=1e-10)
    with pytest.raises(ValueError, match="stationary"):
        theory.sgd_noise_floor(eig, 2.5, sigma)


@pytest.mark.parametrize("kappa", [4.0, 100.0, 1e4])
def test_polyak_rate_is_the_spectral_radius_for_every_mode(kappa):
    eta, beta, rho = theory.polyak_heavy_ball(1.0 / kappa, 1.0)
    assert rho == pytest.approx((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1), rel=1e-14)
    for lam in np.geomspace(1.0 / kappa, 1.0, 50):
        T = np.array([[1 + beta - eta * lam, -beta], [1.0, 0.0]])
        assert np.max(np.abs(np.linalg.eigvals(T))) == pytest.approx(rho, rel=1e-6)


def test_gd_rate_and_threshold():
    eig = np.array([0.1, 1.0])
    assert theory.gd_rate(eig, 0.5) == pytest.approx(0.95)
    assert theory.gd_rate(eig, 1.9) == pytest.approx(0.9)
    assert theory.gd_stability_threshold(eig) == 2.0


def test_task_validation():
    with pytest.raises(ValueError, match="kappa"):
        task.spectrum(4, 0.5)
    with pytest.raises(ValueError, match="dim"):
        task.spectrum(1, 2.0)
    Q = task.random_orthogonal(5, 3)
    np.testing.assert_allclose(Q.T @ Q, np.eye(5), atol=1e-13)
