"""The MLP model and the NTK setup: gradients, engine vs numpy, analytic kernels vs neural-tangents
(recorded goldens), closed form vs quadrature, the empirical NTK vs an explicit Jacobian, and the
function-space dynamics against a network whose NTK is exactly constant."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from theorysim.engine.experiment import Experiment
from theorysim.models.mlp import MLP
from theorysim.setups.ntk import kernels, task, theory

GOLDEN = Path(__file__).parent / "golden" / "ntk_neural_tangents.json"
CASES = [(a, p) for a in ("relu", "erf") for p in ("ntk", "standard")]


def _net(activation, parameterization, n_out=2, N=6, probes=True, seed=0):
    gen = np.random.default_rng(seed)
    return MLP((3, 5, 4, n_out), gen.normal(size=(N, 3)), gen.normal(size=(N, n_out)), activation, parameterization,
               1.3, 0.2, probes=gen.normal(size=(3, 3)) if probes else None)


def _theta(model, seed=1):
    return model.init(np.array([seed]), np.zeros((1, 1)))[0]


@pytest.mark.parametrize("activation,parameterization", CASES)
def test_gradient_matches_finite_differences(activation, parameterization):
    model = _net(activation, parameterization)
    theta = _theta(model)
    _, grad = model.loss_grad_numpy(theta, None, None, 1)
    h = 1e-6
    fd = np.array([(model.loss_grad_numpy(theta + h * e, None, None, 1)[0]
                    - model.loss_grad_numpy(theta - h * e, None, None, 1)[0]) / (2 * h) for e in np.eye(len(theta))])
    assert np.abs(grad - fd).max() <= 1e-7 * np.abs(grad).max()


@pytest.mark.parametrize("activation,parameterization", CASES)
def test_engine_matches_the_numpy_oracle(activation, parameterization):
    model = _net(activation, parameterization)
    res = Experiment(model, "sgd", lr=0.1, steps=6, seeds=[1, 2], record_every=3, progress=False).run()
    theta = model.init(np.array([1, 2]), np.zeros((2, 1)))[0]
    for t in range(6):
        theta = theta - 0.1 * model.loss_grad_numpy(theta, None, None, t + 1)[1]
    assert np.abs(res.theta[0] - theta).max() <= 1e-13 * np.abs(theta).max()
    assert np.abs(res.records[0, -1] - model.metrics_numpy(theta, None)).max() <= 1e-13
    assert res.metric_names == ("loss", "f[0,0]", "f[0,1]", "f[1,0]", "f[1,1]", "f[2,0]", "f[2,1]")


def test_probes_that_are_the_training_inputs_record_the_training_outputs():
    """mlp_metrics reuses the training forward pass when the probes are the training inputs (a
    flag per data row): member 0's probes are its inputs, member 1's are not; both record f(probes)
    as the oracle computes it."""
    gen = np.random.default_rng(4)
    X, Y = gen.normal(size=(2, 5, 3)), gen.normal(size=(2, 5))
    model = MLP((3, 7, 1), X, Y, "relu", "ntk", 1.0, 0.1, probes=X[0])
    res = Experiment(model, "sgd", lr=0.3, steps=4, seeds=[1, 2], record_every=2, progress=False).run()
    for m in range(2):
        own = model.for_member(m)
        assert np.abs(res.records[m, -1] - own.metrics_numpy(res.theta[m], None)).max() <= 1e-13


def test_per_member_data_trains_each_member_on_its_own_set():
    gen = np.random.default_rng(3)
    X, Y = gen.normal(size=(3, 5, 2)), gen.normal(size=(3, 5))
    model = MLP((2, 6, 1), X, Y, "erf", "ntk", 1.0, 0.1)
    res = Experiment(model, "sgd", lr=0.5, steps=4, seeds=[7, 7, 7], progress=False).run()
    assert not np.allclose(res.theta[0], res.theta[1])  # same init, different data
    for m in range(3):
        own = model.for_member(m)
        theta = model.init(np.array([7]), np.zeros((1, 1)))[0]
        for t in range(4):
            theta = theta - 0.5 * own.loss_grad_numpy(theta, None, None, t + 1)[1]
        assert np.abs(res.theta[m] - theta).max() <= 1e-13 * np.abs(theta).max()


def test_standard_and_ntk_parameterizations_give_the_same_function_at_init():
    """Same seed: W_ntk = z, W_std = W_std z / sqrt(n) with the same z, so f agrees at init."""
    a, b = _net("relu", "ntk"), _net("relu", "standard")
    X = np.random.default_rng(5).normal(size=(4, 3))
    assert np.allclose(a.outputs(_theta(a), X), b.outputs(_theta(b), X), rtol=1e-13, atol=1e-13)


# ---- analytic kernels ---------------------------------------------------------------------------
def test_analytic_kernels_match_neural_tangents_goldens():
    """Recorded by tools/record_ntk_goldens.py from neural-tangents 0.6.5 (jax 0.4.30, float64): an
    independent implementation, depths 1-8, both activations and parameterizations."""
    gold = json.loads(GOLDEN.read_text())
    X1, X2 = np.array(gold["X1"]), np.array(gold["X2"])
    assert len(gold["cases"]) == 64
    for case in gold["cases"]:
        nngp, ntk = theory.nngp_ntk(X1, X2, case["depth"], case["activation"], case["W_std"], case["b_std"],
                                    case["parameterization"], width=case["width"])
        for mine, ref in ((nngp, np.array(case["nngp"])), (ntk, np.array(case["ntk"]))):
            assert np.abs(mine - ref).max() <= 1e-10 * np.abs(ref).max(), case


def test_jacot_reference_values():
    """Spec A3: ReLU, L = 4 (three hidden layers), beta = 0.1, x0 = (1, 0): Theta(x0, x0) = 0.2825,
    Theta(x0, -x0) = 0.0644 (both inside Fig. 1's range)."""
    _, ntk = theory.nngp_ntk(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [-1.0, 0.0]]), task.JACOT_DEPTH, "relu",
                             1.0, task.JACOT_BETA)
    assert ntk[0, 0] == pytest.approx(0.2825, abs=5e-5)
    assert ntk[0, 1] == pytest.approx(0.0644, abs=5e-5)


@pytest.mark.parametrize("activation,parameterization", CASES)
def test_closed_form_matches_quadrature(activation, parameterization):
    X = np.random.default_rng(1).normal(size=(4, 3))
    closed = theory.nngp_ntk(X, None, 4, activation, 1.2, 0.3, parameterization, width=16)
    quad = theory.nngp_ntk_quadrature(X, None, 4, activation, 1.2, 0.3, parameterization, width=16)
    for c, q in zip(closed, quad):
        assert np.abs(c - q).max() <= 1e-11 * np.abs(q).max()


def test_quadrature_takes_any_activation():
    """tanh has no closed form here; check E[tanh(u) tanh(v)] against 1-d Gauss-Hermite where v = u."""
    q = 0.7
    value = kernels.gaussian_expectation(lambda u, v: np.tanh(u) * np.tanh(v), q, q, q)
    z, w = np.polynomial.hermite_e.hermegauss(120)
    assert value == pytest.approx(float(w @ np.tanh(math.sqrt(q) * z) ** 2) / math.sqrt(2 * math.pi), rel=1e-12)


def test_tiles_do_not_change_the_kernels():
    X = np.random.default_rng(2).normal(size=(9, 3))
    whole = theory.nngp_ntk(X, None, 3, "erf", 1.0, 0.2)
    tiled = theory.nngp_ntk(X, None, 3, "erf", 1.0, 0.2, tile=2)
    assert all(np.array_equal(a, b) for a, b in zip(whole, tiled))


def test_same_input_pairs_are_exact():
    """A same-input pair has angle 0: Sigma'(x, x) = 1/2 per ReLU layer, so the NTK's diagonal has
    no sqrt(eps) rounding (the pair's covariance is taken from the variance, not the Gram matrix)."""
    X = np.random.default_rng(4).normal(size=(5, 3)) * 3.0
    nngp, ntk = theory.nngp_ntk(X, None, 8, "relu", 1.4, 0.0)
    # b = 0, ReLU, ntk parameterization: Sigma^l(x, x) = (W^2/2)^l W^2 |x|^2/n0, Theta = (L + 1) Sigma
    expected = (1.4 ** 2 / 2) ** 8 * 1.4 ** 2 * np.sum(X * X, axis=1) / 3
    assert np.allclose(np.diag(nngp), expected, rtol=1e-14)
    assert np.allclose(np.diag(ntk), 9 * expected, rtol=1e-14)


@pytest.mark.parametrize("field,call", [
    ("X1, X2", lambda: theory.nngp_ntk(np.ones((2, 3)), np.ones((2, 4)), 2)),
    ("depth=-1", lambda: theory.nngp_ntk(np.ones((2, 3)), None, -1)),
    ("activation='tanh'", lambda: theory.nngp_ntk(np.ones((2, 3)), None, 2, activation="tanh")),
    ("parameterization='mup'", lambda: theory.nngp_ntk(np.ones((2, 3)), None, 2, parameterization="mup")),
    ("width=None", lambda: theory.nngp_ntk(np.ones((2, 3)), None, 2, parameterization="standard")),
    ("W_std=-1.0", lambda: theory.nngp_ntk(np.ones((2, 3)), None, 2, W_std=-1.0)),
    ("widths=(3, 0, 1)", lambda: MLP((3, 0, 1), np.ones((2, 3)), np.ones(2))),
    ("X:", lambda: MLP((3, 4, 1), np.ones((2, 2)), np.ones(2))),
    ("Y:", lambda: MLP((3, 4, 1), np.ones((2, 3)), np.ones(3))),
    ("activation='gelu'", lambda: MLP((3, 4, 1), np.ones((2, 3)), np.ones(2), activation="gelu")),
    ("parameterization='mup'", lambda: MLP((3, 4, 1), np.ones((2, 3)), np.ones(2), parameterization="mup")),
    ("X:", lambda: MLP((3, 4, 1), np.full((2, 3), np.nan), np.ones(2))),
    ("b_std=inf", lambda: MLP((3, 4, 1), np.ones((2, 3)), np.ones(2), b_std=math.inf)),
])
def test_bad_input_is_one_line_naming_the_field(field, call):
    with pytest.raises(ValueError) as err:
        call()
    assert "\n" not in str(err.value) and str(err.value).startswith(field), str(err.value)


# ---- empirical NTK and dynamics -------------------------------------------------------------
@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_empirical_ntk_is_the_jacobian_contraction(parameterization):
    """Theta = sum_o J_o J_o^T with J from the gradient of 1/2 (f_o(x) - (f_o(x) - 1))^2 = d f_o / d theta."""
    model = _net("erf", parameterization, probes=False)
    theta = _theta(model)
    X = model.X
    rows = []
    for x in X:
        f = model.outputs(theta, x[None])[0]
        for o in range(2):
            target = f.copy()
            target[o] -= 1.0
            single = MLP(model.widths, x[None], target[None], "erf", parameterization, 1.3, 0.2)
            rows.append(single.loss_grad_numpy(theta, None, None, 1)[1])
    J = np.array(rows).reshape(len(X), 2, -1)
    exact = np.einsum("aop,bop->ab", J, J)
    for tile in (1, 4, 256):
        assert np.abs(theory.empirical_ntk(model, theta, X, tile=tile) - exact).max() <= 1e-13 * np.abs(exact).max()


def test_empirical_ntk_approaches_the_limit():
    X = task.circle_inputs(9, 0.0)
    _, limit = theory.nngp_ntk(X, None, 2, "relu", 1.0, 0.1)
    errors = []
    for n in (64, 1024):
        model = task.jacot_net(n, X, depth=2)
        theta = model.init(np.arange(4), np.zeros((4, 1)))
        errors.append(np.mean([np.linalg.norm(theory.empirical_ntk(model, t, X) - limit) / np.linalg.norm(limit)
                               for t in theta]))
    assert errors[1] < 0.4 * errors[0]  # n^(-1/2): a factor 4 over a factor 16 in width


def test_gd_on_a_network_without_hidden_layers_is_exactly_the_kernel_dynamics():
    """widths (n_0, 1): f is linear in theta, its NTK is constant, and GD's training outputs are
    y + (I - eta Theta / N)^k (f_0 - y) to rounding; a test point follows the mean operator."""
    gen = np.random.default_rng(6)
    X, y, probes = gen.normal(size=(5, 8)), gen.normal(size=5), gen.normal(size=(2, 8))
    model = MLP((8, 1), X, y, "relu", "ntk", 1.0, 0.5, probes=np.concatenate([X, probes]))
    res = Experiment(model, "sgd", lr=2.0, steps=40, seeds=[3], progress=False).run()
    theta0 = model.init(np.array([3]), np.zeros((1, 1)))[0]
    both = np.concatenate([X, probes])
    K = theory.empirical_ntk(model, theta0, both)
    f0 = model.outputs(theta0, both)[:, 0]
    pred = theory.train_outputs(K[:5, :5], f0[:5], y, res.steps, 2.0)
    assert np.abs(res.records[0, :, 1:6] - pred).max() <= 1e-12
    test = f0[5:] + theory.mean_operator(K[5:, :5], K[:5, :5], 40, 2.0) @ (y - f0[:5])
    assert np.abs(res.records[0, -1, 6:] - test).max() <= 1e-12


def test_limit_gaussian_interpolates_the_training_data():
    """At t -> infinity the mean on the training inputs is y and the covariance there vanishes."""
    X = task.circle_inputs(5, 0.3)
    nngp, ntk = theory.nngp_ntk(X, None, 2, "erf", 1.0, 0.1)
    y = task.target(X)
    mean, cov = theory.limit_gaussian(nngp, nngp, nngp, ntk, ntk, y)
    assert np.allclose(mean, y, atol=1e-10)
    assert np.abs(cov).max() <= 1e-10 * np.abs(nngp).max()


def test_nngp_posterior_is_the_gaussian_conditional():
    """Mean and covariance against numpy's solve on the joint covariance (x-test, x-train)."""
    X, T = task.circle_inputs(4, 0.2), theory.circle([0.5, 2.0])
    both = np.concatenate([X, T])
    nngp, _ = theory.nngp_ntk(both, None, 2, "relu", 1.0, 0.1)
    y = task.target(X)
    mean, cov = theory.nngp_posterior(nngp[4:, 4:], nngp[4:, :4], nngp[:4, :4], y)
    gain = np.linalg.solve(nngp[:4, :4], nngp[:4, 4:]).T
    assert np.allclose(mean, gain @ y, rtol=1e-10, atol=1e-12)
    assert np.allclose(cov, nngp[4:, 4:] - gain @ nngp[:4, 4:], rtol=1e-9, atol=1e-12)


def test_gradient_flow_and_gd_agree_for_small_steps():
    K = np.array([[2.0, 0.5], [0.5, 1.0]])
    f0, y = np.array([1.0, -1.0]), np.array([0.0, 0.5])
    gd = theory.train_outputs(K, f0, y, [1000], 0.001)
    flow = theory.train_outputs(K, f0, y, [1000], 0.001, flow=True)
    assert np.allclose(gd, flow, atol=1e-3)
    assert not np.allclose(gd, flow, atol=1e-6)


# ---- the jacot2018 claims' statement kinds (canned measurements, no simulation) ----------------------
from scipy import stats  # noqa: E402

from theorysim.claims import claim as claim_module  # noqa: E402
from theorysim.setups.ntk import claims as ntk_claims  # noqa: E402


def _jacot_claims():
    return [c for c in claim_module.REGISTERED.values() if c.paper.key == "jacot2018"]


@pytest.mark.parametrize("mode", ["quick", "full"])
def test_every_jacot_check_has_a_prediction_and_a_statement_kind_in_both_modes(mode):
    """Check names that carry their grid (an order statement's band depends on the grid's span)
    exist in the tolerance map for quick and full alike."""
    for c in _jacot_claims():
        cfg = c.config(mode)
        predicted = c.predict(cfg)
        names = predicted.keys() if isinstance(predicted, dict) else [""]
        for name in names:
            tolerance = c.tolerance if not isinstance(c.tolerance, dict) else c.tolerance[name]
            assert tolerance.kind in ("value", "upper_bound", "lower_bound", "rate", "monotone", "distribution")


def _canned_drift(cfg, power, noise=0.03, seed=0):
    gen = np.random.default_rng(seed)
    widths = np.asarray(cfg["widths"], dtype=float)
    drift = 0.1 * (widths / widths[0]) ** power
    return {"drift": drift[:, None] * (1 + noise * gen.standard_normal((len(widths), cfg["seeds"]))),
            "loss_ratio": np.full((len(widths), cfg["seeds"]), 1e-3)}


def _judge(c, cfg, out):
    return {ch.name: ch.outcome for ch in c.evaluate(cfg, out)}


def test_kernel_constancy_passes_a_falling_drift_and_fails_one_that_does_not_fall():
    c = claim_module.REGISTERED["jacot2018/kernel-constancy"]
    cfg = c.config("full")
    bound = "O(n^(-1/2)) (Lee et al. 2019, Thm. 2.1)"
    assert _judge(c, cfg, _canned_drift(cfg, -1.0)) == {"falls with width (Thm. 2)": "pass", bound: "pass"}
    assert _judge(c, cfg, _canned_drift(cfg, -0.5))[bound] == "pass"  # the bound's own order holds
    flat = _judge(c, cfg, _canned_drift(cfg, 0.0))
    assert flat[bound] == "fail"                                           # 4x over the fitted constant
    assert flat["falls with width (Thm. 2)"] != "pass"
    assert _judge(c, cfg, _canned_drift(cfg, 0.3))["falls with width (Thm. 2)"] == "fail"


def test_kernel_drift_order_tells_one_over_n_from_the_square_root_on_the_full_grid():
    c = claim_module.REGISTERED["jacot2018/kernel-drift-order"]
    cfg = c.config("full")
    assert set(_judge(c, cfg, _canned_drift(cfg, -1.0)).values()) == {"pass"}
    assert set(_judge(c, cfg, _canned_drift(cfg, -0.5)).values()) == {"fail"}


def test_detectable_effects_have_the_stated_power():
    """Monte Carlo power at the detectable effect: about 0.8 for the z and chi^2 tests (exact
    formulas), at least 0.8 for the KS test (a bound) against a location shift at that KS distance."""
    S, K, reps = 256, 3, 2000
    d = ntk_claims.detectable_effects(S, K)
    a = ntk_claims.GAUSSIAN_ALPHA / K
    gen = np.random.default_rng(0)
    x = gen.standard_normal((reps, S))
    z = (x + d["mean"]).mean(axis=1) * math.sqrt(S)
    assert np.mean(2 * stats.norm.sf(np.abs(z)) < a) == pytest.approx(0.8, abs=0.03)
    chi = (S - 1) * ((1 + d["sd"]) * x).var(axis=1, ddof=1)
    p_var = 2 * np.minimum(stats.chi2.cdf(chi, S - 1), stats.chi2.sf(chi, S - 1))
    assert np.mean(p_var < a) == pytest.approx(0.8, abs=0.03)
    shift = 2 * stats.norm.ppf((1 + d["ks"]) / 2)  # a location shift at KS distance d["ks"]
    p_ks = np.array([stats.kstest(row + shift, "norm").pvalue for row in x[:500]])
    assert np.mean(p_ks < a) >= 0.8


def test_limit_gaussian_needs_power_to_pass():
    """Outputs drawn from the predicted Gaussian pass with 512 draws; with 128 draws the tests do not
    reject but lack the power (INCONCLUSIVE); a shifted mean is rejected."""
    c = claim_module.REGISTERED["jacot2018/limit-gaussian"]
    mean, cov = np.array([0.3, -0.1, 0.2]), np.diag([0.04, 0.09, 0.01])
    gen = np.random.default_rng(1)

    def out(S, shift=0.0):
        f = mean + np.sqrt(np.diag(cov)) * (gen.standard_normal((S, 3)) + shift)
        return {"outputs": f, "mean": mean, "cov": cov, "train_loss": np.zeros(S), "initial_loss": np.ones(S)}

    cfg = c.config("quick")
    assert set(_judge(c, cfg, out(512)).values()) == {"pass"}
    assert set(_judge(c, cfg, out(128)).values()) == {"inconclusive"}
    assert _judge(c, cfg, out(512, shift=0.5))["mean (z-test)"] == "fail"
