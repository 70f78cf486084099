"""Large-step logistic regression vs the perceptron (Tyurin 2024): the update rules, stability at
huge steps, the limits, the margin solver, the data sets and bad input."""
import warnings

import numpy as np
import pytest

from theorysim.setups.large_step_lr import data
from theorysim.setups.large_step_lr import methods as M


def test_gradient_matches_finite_differences():
    A, y = data.gaussian_separable(5, 40, seed=3)
    theta = np.random.default_rng(0).normal(size=5)
    g = M.gradient(theta, A, y)
    h = 1e-6
    fd = np.array([(M.loss(theta + h * e, A, y) - M.loss(theta - h * e, A, y)) / (2 * h) for e in np.eye(5)])
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-10)


def test_huge_steps_stay_finite_without_warnings():
    A, y = data.two_point()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ("lr_gd", "nlr_gd"):
            _, P = M.run(method, A, y, 1e6, max_iter=5, stop=False, record=True)
            assert np.all(np.isfinite(P))
            assert np.isfinite(M.loss(P[1], A, y)) and np.all(np.isfinite(M.gradient(P[1], A, y)))


def test_theorem_41_first_iterate_in_closed_form():
    A, y = data.two_point()
    _, P = M.run("lr_gd", A, y, 8.0, max_iter=1, stop=False, record=True)
    np.testing.assert_allclose(P[1], 8.0 * np.array([0.5, 0.75]), rtol=1e-15)


def test_batch_perceptron_steps():
    A, y = data.worst_case(10)
    th1 = M.step("batch_perceptron", np.zeros(2), A, y, 1.0, 0)
    np.testing.assert_allclose(th1, (y @ A) / 20)
    # later steps add the misclassified sum / n; the normalized form divides by |S_t|
    S = y * (A @ th1) <= 0
    np.testing.assert_allclose(M.step("batch_perceptron", th1, A, y, 1.0, 1), th1 + (y[S] @ A[S]) / 10)
    np.testing.assert_allclose(M.step("normalized_batch_perceptron", th1, A, y, 1.0, 1), th1 + (y[S] @ A[S]) / S.sum())


def test_large_gamma_lr_gd_counts_equal_batch_perceptron():
    for n in (10, 100, 300):
        A, y = data.worst_case(n)
        bp = M.run("batch_perceptron", A, y)[0]
        assert M.run("lr_gd", A, y, 1e8)[0] == bp
        assert M.run("nlr_gd", A, y, 1e8)[0] == M.run("normalized_batch_perceptron", A, y)[0]


def test_margin_from_the_svm():
    A, y = data.worst_case(50)
    mu, R = M.margin_and_radius(A, y)  # z = (0.5, -1) and (0.5, 1): the best direction is (1, 0)
    assert mu == pytest.approx(0.5, rel=1e-9) and R == pytest.approx(np.sqrt(1.25))
    A, y = data.gaussian_separable(10, 200, gap=0.2, seed=1)
    mu, _ = M.margin_and_radius(A, y)
    assert mu >= 0.2 * (1 - 1e-9)  # the generating direction already has margin > gap
    with pytest.raises(ValueError, match="not linearly separable"):
        M.margin_and_radius(np.array([[1.0], [1.0]]), np.array([1.0, -1.0]))


def test_bad_input_names_the_field():
    A, y = data.two_point()
    with pytest.raises(ValueError, match="method='sgd'"):
        M.run("sgd", A, y)
    with pytest.raises(ValueError, match="gamma=-1"):
        M.run("lr_gd", A, y, -1)
    with pytest.raises(ValueError, match=r"y: expected labels"):
        M.run("lr_gd", A, np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="n=1"):
        data.worst_case(1)


def test_digits_two_classes():
    pytest.importorskip("sklearn")
    A, y = data.digits((3, 8))
    assert A.shape[1] == 64 and set(np.unique(y)) == {-1.0, 1.0} and A.max() <= 1.0
    Ab = data.with_bias(A)
    mu, R = M.margin_and_radius(Ab, y)
    assert mu > 0 and M.run("normalized_batch_perceptron", Ab, y, max_iter=10000)[0] is not None


def test_bundled_digits_are_scikit_learns():
    """digits_3_vs_8() ships with theorysim; it must be exactly scikit-learn's classes 3 and 8."""
    pytest.importorskip("sklearn")
    A, y = data.digits_3_vs_8()
    B, z = data.digits((3, 8))
    np.testing.assert_array_equal(A, B)
    np.testing.assert_array_equal(y, z)
    assert A.shape == (357, 64) and set(np.unique(y)) == {-1.0, 1.0}


def test_exact_rank_correlation_of_a_strict_trend():
    """scipy's Spearman (Pearson of ranks) gives 0.9999999999999999 on 5 or 10 points; the claims'
    monotone checks on deterministic sequences ask for exactly +-1, so they use the integer formula."""
    from theorysim.setups.large_step_lr.claims import _spearman

    for n in range(2, 15):
        x = np.arange(n, dtype=float)
        assert _spearman(x, x**3 + 1) == 1.0 and _spearman(x, -x) == -1.0
    assert _spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert _spearman([1.0, 2.0, 3.0], [np.inf, 5.0, 1.0]) == -1.0  # "never" ranks last
    assert _spearman([1, 2, 3, 4], [1, 1, 2, 3]) == pytest.approx(0.9486832980505138)  # ties: scipy's value


def _limit_outs(slopes):
    gammas = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5]
    return [{"t_bp": 4, "scale": 1.0, "dist": {g: 0.5 * g**s for g in gammas}} for s in slopes]


@pytest.mark.parametrize("slopes, outcome", [([-1.0, -1.2, -0.9, -1.1], "pass"), ([1.0, 1.2, 0.9, 1.1], "fail"),
                                             ([-1.0, 1.0, -0.5, 0.6], "inconclusive")])
def test_perceptron_limit_is_decided_by_the_slopes_ci(slopes, outcome):
    """Canned distances (no simulation): the mean log-log slope over draws with its t CI; a CI below 0
    passes, above 0 fails, across 0 is inconclusive."""
    from theorysim.claims.claim import REGISTERED
    from theorysim.setups.large_step_lr import claims  # noqa: F401 (registers the claims)

    claim = REGISTERED["tyurin2024/perceptron-limit"]
    cfg = {**claim.config("quick"), "data_seeds": list(range(len(slopes)))}
    (check,) = claim.evaluate(cfg, _limit_outs(slopes))
    assert check.tolerance.kind == "monotone" and check.measured.ci_method.startswith("Student t")
    assert check.outcome == outcome, check.judgement.why
