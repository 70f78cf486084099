"""The optimizer API and the SGD family against the numpy reference (issue 3 adds the rest)."""
import numpy as np
import pytest

from theorysim import optim
from theorysim.optim import reference, schedules


def _quadratic_grads(params):
    """A fixed quadratic over one matrix block and one vector block."""
    W, b = params["W"], params["b"]
    return {"W": 2.0 * W + 0.5 * np.roll(W, 1, axis=0), "b": b * np.arange(1, b.size + 1) - 1.0}


PARAMS0 = {"W": np.arange(12.0).reshape(3, 4) / 7.0 - 0.5, "b": np.linspace(-1.0, 2.0, 5)}

SGD_CASES = [
    dict(lr=0.05),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.05, momentum=0.5, weight_decay=0.01),
]


@pytest.mark.parametrize("hyper", SGD_CASES)
def test_sgd_trajectory_matches_reference(hyper):
    opt = optim.make("sgd", **hyper)
    params, state = {k: v.copy() for k, v in PARAMS0.items()}, None
    state = opt.init(params)
    ref_params, ref_state = {k: v.copy() for k, v in PARAMS0.items()}, {k: np.zeros_like(v) for k, v in PARAMS0.items()}
    for t in range(1, 51):
        params, state = opt.step(params, _quadratic_grads(params), state)
        ref_params, ref_state = reference.sgd(ref_params, _quadratic_grads(ref_params), ref_state, t, **hyper)
        for k in params:
            np.testing.assert_allclose(params[k], ref_params[k], rtol=1e-12, atol=1e-300)
    assert state["t"] == 50


def test_sgd_golden_values():
    """Hand-computed: p0 = 1, g = p (f = p^2/2), lr = 0.1, momentum 0.9 (torch: b_1 = g)."""
    opt = optim.make("sgd", lr=0.1, momentum=0.9)
    params = {"p": np.array([1.0])}
    state = opt.init(params)
    seen = []
    for _ in range(3):
        params, state = opt.step(params, {"p": params["p"].copy()}, state)
        seen.append(params["p"][0])
    # t1: b = 1, p = 0.9; t2: b = 0.9 + 0.9 = 1.8, p = 0.72; t3: b = 1.62 + 0.72 = 2.34, p = 0.486
    np.testing.assert_allclose(seen, [0.9, 0.72, 0.486], rtol=1e-15)


def test_heavy_ball_equals_polyak_form():
    """torch momentum SGD == Polyak's x_{t+1} = x_t - lr g_t + mu (x_t - x_{t-1}), x_{-1} = x_0."""
    A = np.diag([0.3, 1.0, 2.5])
    opt = optim.make("sgd", lr=0.2, momentum=0.7)
    params = {"x": np.array([1.0, -2.0, 0.5])}
    state = opt.init(params)
    x_prev = x = params["x"].copy()
    for _ in range(40):
        params, state = opt.step(params, {"x": A @ params["x"]}, state)
        x, x_prev = x - 0.2 * (A @ x) + 0.7 * (x - x_prev), x
        np.testing.assert_allclose(params["x"], x, rtol=1e-12)


def test_nesterov_forms_agree():
    """PyTorch Nesterov theta equals Sutskever's look-ahead phi = theta + mu v (constant lr)."""
    A = np.diag([0.5, 2.0])
    lr, mu = 0.1, 0.9
    opt = optim.make("sgd", lr=lr, momentum=mu, nesterov=True)
    params = {"x": np.array([1.0, 1.0])}
    state = opt.init(params)
    theta, v = params["x"].copy(), np.zeros(2)
    for _ in range(30):
        params, state = opt.step(params, {"x": A @ params["x"]}, state)
        v = mu * v - lr * (A @ (theta + mu * v))
        theta = theta + v
        np.testing.assert_allclose(params["x"], theta + mu * v, rtol=1e-12, atol=1e-15)


def test_step_does_not_touch_inputs():
    opt = optim.make("sgd", lr=0.1, momentum=0.9)
    params = {k: v.copy() for k, v in PARAMS0.items()}
    state = opt.init(params)
    grads = _quadratic_grads(params)
    opt.step(params, grads, state)
    for k in params:
        np.testing.assert_array_equal(params[k], PARAMS0[k])
    assert state["t"] == 0 and not state["buffers"].any()


def test_names_and_errors():
    assert "sgd" in optim.names()
    with pytest.raises(ValueError, match=r"optimizer='adamx'.*valid: .*sgd"):
        optim.make("adamx")
    with pytest.raises(ValueError, match=r"no hyperparameter 'betas'.*valid: lr"):
        optim.make("sgd", betas=(0.9, 0.99))
    with pytest.raises(ValueError, match=r"lr=-1"):
        optim.make("sgd", lr=-1)
    with pytest.raises(ValueError, match=r"nesterov"):
        optim.make("sgd", lr=0.1, nesterov=True)


def test_schedules():
    T = 10
    np.testing.assert_array_equal(schedules.build(None, T), np.ones(T))
    np.testing.assert_allclose(schedules.build("linear", T), 1 - np.arange(T) / T)
    cos = schedules.build({"kind": "cosine", "alpha": 0.1}, T)
    assert cos[0] == 1.0 and np.all(np.diff(cos) < 0) and cos[-1] > 0.1
    w = schedules.build({"kind": "warmup_cosine", "warmup": 3}, T)
    np.testing.assert_allclose(w[:4], [0, 1 / 3, 2 / 3, 1.0])
    s = schedules.build({"kind": "step", "step_size": 4, "gamma": 0.5}, T)
    np.testing.assert_allclose(s, [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25])
    with pytest.raises(ValueError, match="warmup"):
        schedules.build({"kind": "warmup_linear", "warmup": 10}, T)
    with pytest.raises(ValueError, match="schedule 'cosine'"):
        schedules.build({"kind": "cosine", "nope": 1}, T)
