"""Factorized matrix-sensing model: gradients, engine vs numpy oracle, the population fast
path, the symmetric-sensing pitfall of F G^T, the rebalance step and bad input."""
import numpy as np
import pytest

import theorysim as ts
from theorysim.engine import naive
from theorysim.setups.matrix_sensing.model import FactorizedSensing
from theorysim.setups.matrix_sensing import problem

N, R = 6, 2


def _model(sym: bool, sensing: bool, k: int = 3, m: int = 40, sym_sensing=None):
    M = problem.symmetric_truth(N, R, 1) if sym else problem.asymmetric_truth(N, N, R, 1)
    A = problem.gaussian_sensing(m, N, N, 2, sym if sym_sensing is None else sym_sensing) if sensing else None
    return FactorizedSensing(M, k, A=A, symmetric=sym)


VARIANTS = [(s, a) for s in (True, False) for a in (True, False)]


@pytest.mark.parametrize("sym,sensing", VARIANTS)
def test_gradient_matches_finite_differences(sym, sensing):
    model = _model(sym, sensing)
    theta = model.init(np.array([3]), np.array([[0.8]]))[0]
    loss, grad = model.loss_grad_numpy(theta, None, None, 1)
    h = 1e-6
    fd = np.empty_like(grad)
    for i in range(len(theta)):
        e = np.zeros_like(theta)
        e[i] = h
        fd[i] = (model.loss_grad_numpy(theta + e, None, None, 1)[0] - model.loss_grad_numpy(theta - e, None, None, 1)[0]) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9 * np.abs(grad).max())


@pytest.mark.parametrize("sym,sensing", VARIANTS)
def test_engine_matches_numpy_oracle(sym, sensing):
    model = _model(sym, sensing)
    exp = ts.Experiment(model, "sgd", steps=200, seeds=[0, 1, 2], record_every=10, lr=[0.05, 0.1, 0.02],
                        momentum=[0.0, 0.5, 0.9], alpha=[0.3, 1.0, 0.1])
    res, ref = exp.run(), naive.run(exp)
    np.testing.assert_allclose(res.theta, ref["theta"], rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(res.records, ref["records"], rtol=1e-10, atol=1e-14, equal_nan=True)


def test_population_loss_is_the_limit_of_sensing():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=N * 3) * 0.5
    pop = _model(True, False).loss_grad_numpy(theta, None, None, 1)[0]
    big = _model(True, True, m=20000).loss_grad_numpy(theta, None, None, 1)[0]
    assert big == pytest.approx(pop, rel=0.03)
    # and for F G^T with non-symmetric Gaussian sensing
    theta = rng.normal(size=2 * N * 3) * 0.5
    pop = _model(False, False).loss_grad_numpy(theta, None, None, 1)[0]
    big = _model(False, True, m=20000).loss_grad_numpy(theta, None, None, 1)[0]
    assert big == pytest.approx(pop, rel=0.03)


def test_fgt_with_symmetric_sensing_stalls_at_the_skew_part():
    cfg = {"n": 10, "r": 2, "m": 300, "problem_seed": 0}
    errs = {}
    for sensing in ("symmetric", "gaussian"):
        model = problem.model(cfg, 4, "FGT", truth="symmetric", sensing=sensing)
        res = ts.Experiment(model, "sgd", lr=0.1, steps=20000, seeds=[0], record_every=1000, alpha=0.5).run()
        errs[sensing] = (res.final("error")[0], res.final("skew_error")[0])
    err, skew = errs["symmetric"]
    assert err > 1e-3 and skew / err > 0.99  # the unseen skew part is all that is left
    assert errs["gaussian"][0] < 1e-8


def test_rebalance_keeps_the_product_and_balances_f():
    rng = np.random.default_rng(1)
    F, G = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    F2, G2 = problem.rebalance(F, G)
    np.testing.assert_allclose(F2 @ G2.T, F @ G.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F2.T @ F2, np.eye(3), atol=1e-12)


def test_bad_input_names_the_field():
    M = problem.symmetric_truth(N, R, 0)
    with pytest.raises(ValueError, match="k=1: below rank"):
        FactorizedSensing(M, 1)
    with pytest.raises(ValueError, match="k=0"):
        FactorizedSensing(M, 0)
    with pytest.raises(ValueError, match="A: expected sensing matrices of shape"):
        FactorizedSensing(M, 2, A=np.zeros((5, N, N + 1)))
    with pytest.raises(ValueError, match="positive semi-definite"):
        FactorizedSensing(-M, 2)
    with pytest.raises(ValueError, match="symmetric square"):
        FactorizedSensing(np.ones((3, 4)), 2)
    with pytest.raises(ValueError, match="r=7"):
        problem.symmetric_truth(N, 7, 0)
    with pytest.raises(ValueError, match="alpha"):
        ts.Experiment(FactorizedSensing(M, 2), "sgd", lr=0.1, steps=5, alpha=-1.0)


@pytest.mark.parametrize("n,r,k", [(6, 2, 3), (30, 3, 10), (8, 0, 2)])
def test_low_rank_path_matches_the_dense_residual(n, r, k):
    """X S - V diag(w) V^T X (never forming X X^T - M*) against the dense residual kernel."""
    from theorysim.setups.matrix_sensing.model import factorized_loss_grad

    M = problem.symmetric_truth(n, r, 4) if r else np.zeros((n, n))
    low, dense = FactorizedSensing(M, k, low_rank=True), FactorizedSensing(M, k, low_rank=False)
    assert low.low_rank and not dense.low_rank
    theta = np.random.default_rng(n).normal(size=n * k)
    out = []
    for model in (low, dense):
        grad, work = np.empty(n * k), np.empty(model.work_size)
        fd, idata = model.data()
        loss = factorized_loss_grad(theta, fd, idata, np.zeros(1), 0, 0, 1, grad, work)
        out.append((loss, grad))
    assert out[0][0] == pytest.approx(out[1][0], rel=1e-12)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-11, atol=1e-13 * np.abs(out[1][1]).max())
    loss_ref, grad_ref = dense.loss_grad_numpy(theta, None, None, 1)
    np.testing.assert_allclose(out[0][1], grad_ref, rtol=1e-11, atol=1e-13 * np.abs(grad_ref).max())


def test_low_rank_is_chosen_only_when_cheaper():
    assert FactorizedSensing(problem.symmetric_truth(20, 2, 0), 4).low_rank
    assert not FactorizedSensing(problem.symmetric_truth(6, 6, 0), 6).low_rank  # full rank: dense is cheaper
    assert not FactorizedSensing(problem.asymmetric_truth(6, 6, 2, 0), 3, symmetric=False).low_rank
    with pytest.raises(ValueError, match="low_rank='yes'"):
        FactorizedSensing(problem.symmetric_truth(6, 2, 0), 3, low_rank="yes")


# -- the statement kinds of the xiong2023 claims, on synthetic curves (no simulation) ------------------
def test_rate_constancy_tells_a_linear_rate_from_a_power_law():
    """The linear-convergence check (late / early rate >= 1 / RATE_FACTOR) passes exp(-c t) and
    fails a 1/t law, whose rate falls as the error does."""
    from theorysim.claims import Measurement
    from theorysim.setups.matrix_sensing import claims as C

    steps = np.arange(0, 200001, 50)
    t = np.maximum(steps, 1).astype(float)
    linear = np.exp(-0.01 * t) * np.array([[1.0], [1.3], [0.8]])
    power = (1.0 / t) * np.array([[1.0], [1.3], [0.8]])
    ok = C.rate_constancy(steps, linear, 1e-9, 1e-4)
    slow = C.rate_constancy(steps, power, 1e-5, 1e-2)
    np.testing.assert_allclose(ok, 1.0, rtol=1e-6)
    assert np.all(slow < 0.1)
    assert C.LINEAR_TOL.judge(1.0, Measurement.mean_over(ok + [0, 1e-3, -1e-3])).outcome == "pass"
    assert C.LINEAR_TOL.judge(1.0, Measurement.mean_over(slow)).outcome == "fail"


@pytest.mark.parametrize("law,outcome", [(lambda T: 1 / T**2, "pass"), (lambda T: 1 / T**1.5, "pass"),
                                         (lambda T: 1 / T**3, "fail"), (lambda T: np.exp(-T / 500), "fail")])
def test_the_omega_one_over_t_squared_bound_holds_out_or_fails(law, outcome):
    """sym-overparam-sublinear's constant rule: c fitted on T/16..T/4 per configuration, the worst
    held-out ratio over configurations; a decay faster than 1/T^2 (by more than the factor 2 over
    T/4..T) or a linear rate fails."""
    from theorysim.claims import Measurement, tol
    from theorysim.setups.matrix_sensing import claims as C

    ts = np.array([1250, 2500, 5000, 10000, 20000], dtype=float)
    noise = 1 + 0.01 * np.random.default_rng(0).normal(size=(len(ts), 4))
    blocks = [law(ts)[:, None] * noise, 3 * law(ts)[:, None] * noise[:, ::-1]]
    stat = C.held_out_lower_worst(blocks, 1 / ts**2, C.T_FIT_PART)
    assert len(stat.parts["per configuration"]) == 2
    assert tol.lower_bound_fitted("1/T^2").judge(1.0, Measurement.of_grid(stat)).outcome == outcome


def test_ratio_of_means_and_its_ci():
    from theorysim.setups.matrix_sensing import claims as C

    den = np.array([[0.06, 0.061, 0.059], [0.058, 0.06, 0.062]])
    stat = C.ratio_of_means(0.5 * den, den)
    assert stat.estimate == pytest.approx(0.5)
    assert stat.ci[0] < 0.5 < stat.ci[1] or stat.ci == pytest.approx((0.5, 0.5))
