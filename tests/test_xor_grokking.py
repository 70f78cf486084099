"""Two-layer ReLU network on XOR clusters: gradient, engine vs numpy oracle, data, bad input."""
import numpy as np
import pytest

import theorysim as ts
from theorysim.engine import naive
from theorysim.setups.xor_grokking.model import TwoLayerReLU
from theorysim.setups.xor_grokking import data

SMALL = {"n": 12, "p": 30, "m": 8, "eta": 0.2, "mu_scale": 2.5, "test": 40}


def test_gradient_matches_finite_differences():
    model = data.build(SMALL, 3)
    theta = model.init(np.array([1]), np.array([[0.3]]))[0]
    loss, g = model.loss_grad_numpy(theta, None, None, 1)
    h = 1e-6
    idx = np.random.default_rng(0).choice(len(theta), 40, replace=False)
    for i in idx:
        e = np.zeros_like(theta)
        e[i] = h
        fd = (model.loss_grad_numpy(theta + e, None, None, 1)[0] - model.loss_grad_numpy(theta - e, None, None, 1)[0]) / (2 * h)
        assert g[i] == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_engine_matches_numpy_oracle():
    model = data.build(SMALL, 4)
    exp = ts.Experiment(model, "sgd", steps=30, seeds=[0, 1], record_every=3, lr=[0.05, 0.2], omega_init=[0.1, 0.01],
                        momentum=[0.0, 0.9])
    res, ref = exp.run(), naive.run(exp)
    np.testing.assert_allclose(res.theta, ref["theta"], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(res.records, ref["records"], rtol=1e-10, atol=1e-13, equal_nan=True)


def test_loss_is_stable_for_huge_outputs():
    model = data.build(SMALL, 5)
    theta = model.init(np.array([2]), np.array([[1e6]]))[0]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, g = model.loss_grad_numpy(theta, None, None, 1)
    res = ts.Experiment(model, "sgd", steps=2, seeds=[2], lr=1e-3, omega_init=1e6, divergence_factor=0).run()
    assert np.isfinite(loss) and np.all(np.isfinite(g)) and np.all(np.isfinite(res.records[:, :, :2]))


def test_data_clusters_and_flips():
    cfg = {**SMALL, "n": 4000, "p": 6, "eta": 0.1, "test": 10}
    model = data.build(cfg, 0)
    assert abs(model.flipped.mean() - 0.1) < 0.02
    clean = np.where(model.flipped > 0.5, -model.y, model.y)
    norm = data.mu_norm(cfg)
    # clean +1 points sit at +-mu_1 (coordinate 0), -1 points at +-mu_2 (coordinate 1)
    assert np.mean(np.abs(model.X[clean > 0, 0])) > norm - 0.5 and np.mean(np.abs(model.X[clean > 0, 1])) < 1.0
    assert np.mean(np.abs(model.X[clean < 0, 1])) > norm - 0.5
    assert set(np.unique(model.a)) == {-1 / np.sqrt(cfg["m"]), 1 / np.sqrt(cfg["m"])}


def test_bad_input_names_the_field():
    with pytest.raises(ValueError, match="eta=0.5"):
        data.build({**SMALL, "eta": 0.5}, 0)
    with pytest.raises(ValueError, match="m=0"):
        data.build({**SMALL, "m": 0}, 0)
    model = data.build(SMALL, 0)
    with pytest.raises(ValueError, match="y_test: expected shape"):
        TwoLayerReLU(model.X, model.y, model.a, model.X_test, model.y_test[:-1], model.mu1, model.mu2)
    with pytest.raises(ValueError, match="y: expected labels"):
        TwoLayerReLU(model.X, 2 * model.y, model.a, model.X_test, model.y_test, model.mu1, model.mu2)


def test_span_form_matches_numpy_oracle():
    model = data.build(SMALL, 4).span_form()
    exp = ts.Experiment(model, "sgd", steps=30, seeds=[0, 1], record_every=3, lr=[0.05, 0.2], omega_init=[0.1, 0.01],
                        momentum=[0.0, 0.9])
    res, ref = exp.run(), naive.run(exp)
    np.testing.assert_allclose(res.theta, ref["theta"], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(res.records, ref["records"], rtol=1e-10, atol=1e-13, equal_nan=True)


def test_span_form_partial_kernels_make_the_loss():
    """``Model.sample_kernels`` of the span form (the GPU's threads share the training points):
    all points through the partial kernel, divided by n, is the loss kernel (whose K C is one BLAS
    product: equal to rounding); 5 residue classes of the points write disjoint rows of the
    gradient that make the same gradient bit for bit, touching no other coordinate."""
    from theorysim.setups.xor_grokking import model as xm

    model = data.build(SMALL, 4).span_form()
    partial, count = model.sample_kernels
    assert model.sample_grads_disjoint and count(*model.data()) == SMALL["n"]
    theta = model.init(np.array([2]), np.array([[0.3]]))[0]
    nm = SMALL["n"] * SMALL["m"]
    theta[:nm] = 0.1 * np.random.default_rng(5).standard_normal(nm)
    args = (theta, *model.data(), model.hyper_row({}), np.uint64(0), np.uint64(0), 1)
    grad = np.zeros_like(theta)
    loss = xm.span_loss_grad(*args, grad, np.zeros(model.work_size))
    whole = np.full_like(theta, 7.0)
    total = partial(*args, whole, np.zeros(model.sample_work_size), 0, 1)
    assert total / SMALL["n"] == pytest.approx(loss, rel=1e-14) and loss > 0
    np.testing.assert_allclose(whole[:nm], grad[:nm], rtol=1e-13, atol=1e-16 * np.abs(grad).max())
    assert np.all(whole[nm:] == 7.0)  # only the coefficient rows are written
    shares, parts = np.full_like(theta, 7.0), 0.0
    for first in range(5):
        parts += partial(*args, shares, np.zeros(model.sample_work_size), first, 5)
    np.testing.assert_array_equal(shares, whole)
    assert parts / SMALL["n"] == pytest.approx(loss, rel=1e-14)


@pytest.mark.parametrize("hyper", [{"momentum": 0.9, "nesterov": True}, {"momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1}])
def test_span_form_is_the_direct_network(hyper):
    """W(t) = W_0 + C(t)^T X: the span form trains the same weights, so every metric agrees."""
    net = data.build(SMALL, 6)
    kw = dict(steps=40, seeds=[0, 1], record_every=4, lr=[0.05, 0.2], omega_init=[0.1, 0.01], schedule="cosine",
              divergence_factor=0, **hyper)
    direct = ts.Experiment(net, "sgd", **kw).run()
    span_model = net.span_form()
    span = ts.Experiment(span_model, "sgd", **kw).run()
    assert np.all(direct.records[:, -1, 0] < 0.8 * direct.records[:, 0, 0])  # it trained
    np.testing.assert_allclose(span.records, direct.records, rtol=1e-9, atol=1e-12, equal_nan=True)
    for e, (seed, omega) in enumerate(zip([0, 1], [0.1, 0.01])):
        W = span_model.weights(span.theta[e], seed, omega)
        np.testing.assert_allclose(W.ravel(), direct.theta[e], rtol=1e-9, atol=1e-12)
        d1, d2 = span_model.projections(span.theta[e])
        np.testing.assert_allclose(d1, W @ net.mu1, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(d2, W @ net.mu2, rtol=1e-9, atol=1e-12)


def test_span_form_refuses_nonlinear_rules():
    model = data.build(SMALL, 0).span_form()
    with pytest.raises(ValueError, match="optimizer='adam'.*only for 'sgd'"):
        ts.Experiment(model, "adam", steps=2)
    with pytest.raises(ValueError, match="max_grad_norm=1.0: gradient clipping is not linear"):
        ts.Experiment(model, "sgd", steps=2, max_grad_norm=1.0)
    from theorysim.sweep import builders

    with pytest.raises(ValueError, match="experiment.optimizer='lion'"):
        builders.validate({"setup": "xor_grokking", "steps": 3, "form": "span", "optimizer": "lion"})
    with pytest.raises(ValueError, match="experiment.form='gram'"):
        builders.validate({"setup": "xor_grokking", "steps": 3, "form": "gram"})


@pytest.mark.parametrize("span", [False, True])
def test_members_trained_together_equal_members_alone(span):
    """The engine runs BLAS single-threaded while it trains members in parallel (and BLAS
    multi-threaded for a lone member): the numbers must not depend on it."""
    model = data.build({**SMALL, "p": 300, "m": 64, "n": 40}, 8)
    model = model.span_form() if span else model
    kw = dict(steps=12, record_every=3, divergence_factor=0)
    together = ts.Experiment(model, "sgd", seeds=[0, 1, 2], lr=[0.05, 0.1, 0.2], omega_init=[0.1, 0.01, 0.1],
                             **kw).run()
    for e, (lr, om) in enumerate(zip([0.05, 0.1, 0.2], [0.1, 0.01, 0.1])):
        alone = ts.Experiment(model, "sgd", seeds=[e], lr=lr, omega_init=om, **kw).run()
        np.testing.assert_array_equal(alone.records[0], together.records[e])
        np.testing.assert_array_equal(alone.theta[0], together.theta[e])


# ---- the claims' measurements on canned curves (no simulation) ------------------------------------

def _canned(train, test, steps):
    """A run's output dict as claims.run returns it: train / test accuracy [draws, R] (the flipped
    subset as the whole training set)."""
    train, test = np.asarray(train, float), np.asarray(test, float)
    return {"steps": np.asarray(steps), "metrics": {"train_acc": train[None], "test_acc": test[None],
                                                    "flipped_acc": train[None]}}


def test_grokking_measurement_splits_interpolation_from_the_test_part():
    """Theorem 3.1 (i) and (iii) are separate shares of draws; the jump is a mean with a CI."""
    from theorysim.setups.xor_grokking import claims as C

    steps = np.arange(0, 15)
    draws = 40
    train = np.ones((draws, 15))
    train[:, 0] = 0.5
    test = np.tile(np.r_[0.5, 0.5, np.full(13, 0.97)], (draws, 1))
    test[:8, -1] = 0.8   # 8 of 40 draws plateau: the test part fails, interpolation holds
    out = _canned(train, test, steps)
    m = C._measure_grok({"n": 200, "steps": 14}, out)
    assert m[C.INTERP_SHARE].value == 1.0 and m[C.INTERP_SHARE].ci_method == "Clopper-Pearson"
    assert m[C.GROK_SHARE].value == 32 / 40
    judged = {k: C.GROK_TOL[k].judge(C.GROK_PREDICT[k], v).outcome for k, v in m.items()}
    assert judged == {C.INTERP_SHARE: "pass", C.GROK_SHARE: "inconclusive", C.JUMP: "pass"}
    assert m[C.JUMP].ci is not None and m[C.JUMP].n == draws


def test_delay_counts_only_draws_whose_baseline_gets_there():
    """A draw whose baseline never reaches the level within T carries no delay; a censored slow
    time (T + 1) makes that draw's factor a lower bound."""
    from theorysim.setups.xor_grokking import claims as C

    T = 100
    times = np.array([[2.0, 101.0, 4.0, 2.0, 4.0], [101.0, 101.0, 101.0, 101.0, 101.0]])
    m = C._delay(times, T)
    assert m.n == 4 and m.value == pytest.approx(np.exp(np.mean(np.log([50.5, 25.25, 50.5, 25.25]))))
    assert m.ci[0] < m.value < m.ci[1]
    assert C._delay(np.array([[101.0, 101.0], [101.0, 101.0]]), T).ci is None  # no draw carries a delay

