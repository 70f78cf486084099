"""fit.py recovers known rates and exponents, with honest confidence intervals."""
import numpy as np
import pytest

from theorysim import fit


def test_exact_exponential_and_power_law():
    t = np.arange(0, 200, 5)
    f = fit.exp_rate(t, 3.0 * 0.97 ** t)
    assert f.factor.estimate == pytest.approx(0.97, rel=1e-12)
    assert f.slope.estimate == pytest.approx(np.log(0.97), rel=1e-10)
    p = fit.power_law(t[1:], 2.0 * t[1:].astype(float) ** -1.5, window=(10, 200))
    assert p.estimate == pytest.approx(-1.5, rel=1e-12)
    assert p.window == (10.0, 200.0)


def test_window_selects_the_regime():
    t = np.arange(1, 1001)
    y = np.where(t < 500, 0.99 ** t, 0.99 ** 500 * 0.95 ** (t - 500))
    assert fit.exp_rate(t, y, window=(600, 1000)).factor.estimate == pytest.approx(0.95, rel=1e-12)
    assert fit.exp_rate(t, y, window=(1, 400)).factor.estimate == pytest.approx(0.99, rel=1e-12)


def test_ci_coverage_of_a_noisy_exponent():
    """Nominal 95% bootstrap CIs over 20 seeds cover the true exponent in most of 200 trials."""
    r = np.random.default_rng(0)
    t = np.arange(1, 101, dtype=float)
    true = -0.7
    covered = 0
    trials = 200
    for k in range(trials):
        slopes = true + 0.05 * r.standard_normal(20)  # seed-to-seed spread of the exponent
        curves = np.exp(slopes[:, None] * np.log(t) + 0.01 * r.standard_normal((20, t.size)))
        lo, hi = fit.power_law(t, curves, seed=k).ci
        covered += lo <= true <= hi
    assert 0.86 <= covered / trials <= 0.99


def test_compare_laws_prefers_the_true_law():
    t = np.arange(1, 2001, dtype=float)
    r = np.random.default_rng(1)
    power = (1.0 / t) * np.exp(0.01 * r.standard_normal((4, t.size)))
    expo = 0.999 ** t * np.exp(0.01 * r.standard_normal((4, t.size)))
    cp = fit.compare_laws(t, power, window=(500, 2000))
    ce = fit.compare_laws(t, expo, window=(500, 2000))
    assert cp.better == "power" and cp.delta_aic > 10
    assert ce.better == "exponential" and ce.delta_aic < -10


def test_mean_ci_edge_cases():
    assert fit.mean_ci([2.0]) == (2.0, None)
    assert fit.mean_ci([1.0, 1.0, 1.0]) == (1.0, (1.0, 1.0))
    m, (lo, hi) = fit.mean_ci(np.arange(10.0))
    assert m == 4.5 and lo < 4.5 < hi
    with pytest.raises(ValueError, match="no finite"):
        fit.mean_ci([np.nan])


def test_too_few_points_and_bad_windows():
    t = np.arange(10)
    with pytest.raises(ValueError, match="member 0: only 2"):
        fit.exp_rate(t, np.exp(-t), window=(0, 1))
    with pytest.raises(ValueError, match="window"):
        fit.exp_rate(t, np.exp(-t), window=(5, 5))
    with pytest.raises(ValueError, match="curves"):
        fit.exp_rate(t, np.ones((2, 3)))


def test_paired_smallest_step_resamples_whole_draws():
    """Grid points measured on the same draws: a common per-draw offset cancels in the paired
    bootstrap, and widens the independent one."""
    offset = np.random.default_rng(1).normal(0, 0.1, 30)
    values = np.stack([offset, offset + 0.01, offset + 0.02])  # rises by 0.01 in every draw
    paired = fit.smallest_step(values, "increasing", paired=True)
    assert paired.estimate == pytest.approx(0.01) and paired.ci[0] == pytest.approx(0.01)
    independent = fit.smallest_step(values, "increasing")
    assert independent.ci[0] < 0 < paired.ci[0]
    falling = fit.smallest_step(values[::-1], "increasing", paired=True)
    assert falling.ci[1] < 0


def test_held_out_bound_and_loglog_slope():
    f = np.array([1.0, 2.0, 4.0, 8.0])
    values = np.outer(f ** 2, [0.9, 1.0, 1.1])
    slope = fit.loglog_slope(f, values, paired=True)
    assert slope.estimate == pytest.approx(2.0) and slope.ci[0] == pytest.approx(2.0)
    held = fit.held_out_bound(values, f ** 2, [True, True, False, False], "upper")
    assert held.estimate == pytest.approx(1.0) and held.parts["constant"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="fit_part"):
        fit.held_out_bound(values, f, [True] * 4, "upper")
    nan = fit.held_out_bound(np.where(values > 50, np.nan, values), f, [True, True, False, False], "lower")
    assert np.isnan(nan.estimate) and nan.ci is None


def test_control_variate_mean_keeps_the_mean_and_narrows_the_ci():
    gen = np.random.default_rng(0)
    c = gen.normal(size=200)
    y = 1.0 + 2.0 * c + 0.1 * gen.normal(size=200)
    est, ci, n = fit.control_variate_mean(y, c)
    assert n == 200 and abs(est - 1.0) < 0.03 and ci[1] - ci[0] < 0.05
    plain = fit.mean_ci(y)[1]
    assert plain[1] - plain[0] > 5 * (ci[1] - ci[0])
