"""Helpers behind the optimizer-theory claims (no claim is run here)."""
import numpy as np
import pytest
from scipy import stats

from theorysim.setups.optimizer_theory import theory
from theorysim.setups.optimizer_theory.claims import lion2023, muon2024, neelakantan2015


def test_ks_detectable_has_the_power_it_states():
    """An alternative at exactly the stated sup-distance is rejected at least 80% of the time."""
    n, alpha = 2000, 0.01
    d = neelakantan2015.ks_detectable(n, alpha)
    # N(0, s^2) has sup |Phi(x / s) - Phi(x)| = d for the s solved here
    x = np.linspace(-8, 8, 40001)
    s = next(s for s in np.linspace(1.0, 2.0, 20001) if np.max(np.abs(stats.norm.cdf(x / s) - stats.norm.cdf(x))) >= d)
    gen = np.random.default_rng(0)
    rejected = np.mean([stats.kstest(s * gen.standard_normal(n), "norm").pvalue < alpha for _ in range(300)])
    assert rejected >= 0.8
    assert neelakantan2015.ks_detectable(4 * n, alpha) == pytest.approx(d / 2)


def test_ns5_polynomial_bounds_used_by_the_square_claim():
    a, b, c = muon2024.A_NS, -4.7750, 2.0315
    p = lambda x: a * x + b * x**3 + c * x**5
    x = np.linspace(0.0, 1.2025, 200001)
    top = p(x[x <= 1.0]).max()
    assert top == pytest.approx(1.2024, abs=1e-4) and p(x).max() <= 1.2025 and p(x).min() >= 0.0
    assert np.all(p(x) <= a * x + 1e-15) and np.sqrt(-b / c) > 1.2025
    gen = np.random.default_rng(1)
    for G in (gen.standard_normal((24, 24)), gen.standard_normal((30, 12)),
              np.diag([1.0, 1e-3, 1e-6]) @ gen.standard_normal((3, 5))):
        O = theory.newton_schulz(G, 5)
        sv, svg = np.linalg.svd(O, compute_uv=False), np.linalg.svd(G, compute_uv=False)
        assert sv.max() <= 1.2025
        assert sv.min() <= a**5 * svg.min() / (np.linalg.norm(G) + 1e-7) * (1 + 1e-9)


def test_lion_constant_is_fitted_on_the_larger_step_sizes():
    assert lion2023._fit_part([0.0025, 0.005, 0.01, 0.02]).tolist() == [False, False, True, True]
    assert lion2023._fit_part([0.02, 0.000625, 0.01, 0.00125, 0.005, 0.0025]).tolist() == [True, False, True, False,
                                                                                          True, False]
