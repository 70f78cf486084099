"""Every rule against the independent numpy reference, golden values, identities, the API."""
import math

import numpy as np
import pytest

import theorysim as ts
from theorysim import optim
from theorysim.engine import naive
from theorysim.optim import quantize, reference, schedules
from tests.helpers import random_spd_problem

LAYOUT = {"W": (3, 4), "b": 5}
P = 17


A, X_STAR, X0 = random_spd_problem(P, 0.1, 3.0, seed=42)
LAY = ts.Layout.of(LAYOUT)


def grads_of(params):
    x = LAY.pack(params)
    return LAY.unpack(A @ (x - X_STAR))


# (name, hyperparameters): every rule, and the options that change its arithmetic
CASES = [
    ("sgd", dict(lr=0.05)), ("sgd", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("sgd", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("adagrad", dict(lr=0.1)), ("adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5, weight_decay=0.01)),
    ("rmsprop", dict(lr=0.01)), ("rmsprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.01)),
    ("adam", dict(lr=0.01)), ("adam", dict(lr=0.01, weight_decay=0.01, amsgrad=True)),
    ("adamw", dict(lr=0.01)), ("amsgrad", dict(lr=0.01)), ("amsgrad", dict(lr=0.01, amsgrad="optax")),
    ("nadam", dict(lr=0.01)), ("nadam", dict(lr=0.01, weight_decay=0.01, momentum_decay=0.0)),
    ("adabelief", dict(lr=0.01)), ("adabelief", dict(lr=0.01, rectify=False, amsgrad=True, weight_decay=0.01)),
    ("adabelief", dict(lr=0.01, weight_decouple=False, weight_decay=0.01, degenerated_to_sgd=False)),
    ("adabelief", dict(lr=0.01, fixed_decay=True, weight_decay=0.01)),
    ("diffgrad", dict(lr=0.01)), ("diffgrad", dict(lr=0.01, weight_decay=0.01)),
    ("adamp", dict(lr=0.01, weight_decay=0.01)), ("adamp", dict(lr=0.01, nesterov=True, delta=1.0, weight_decay=0.1)),
    ("sgdp", dict(lr=0.05, momentum=0.9, weight_decay=0.01)), ("sgdp", dict(lr=0.05, momentum=0.9, nesterov=True, delta=1.0, weight_decay=0.1)),
    ("sgdp", dict(lr=0.05, momentum=0.9, weight_decay=0.01, delta=1.0, project_momentum=False)),
    ("lion", dict(lr=0.003)), ("lion", dict(lr=0.003, weight_decay=0.1, betas=(0.95, 0.98))),
    ("lars", dict(lr=0.5, trust_coefficient=0.01)), ("lars", dict(lr=0.5, trust_coefficient=0.01, weight_decay=0.01, nesterov=True)),
    ("lars", dict(lr=0.5, trust_coefficient=0.01, weight_decay=0.01, convention="kozistr", dampening=0.1)),
    ("lamb", dict(lr=0.01)), ("lamb", dict(lr=0.01, weight_decay=0.01)), ("lamb", dict(lr=0.01, weight_decay=0.01, convention="kozistr")),
    ("muon", dict(lr=0.02)), ("muon", dict(lr=0.02, nesterov=False, weight_decay=0.1, ns_steps=3, adam_weight_decay=0.1)),
    ("auon", dict(lr=0.05)), ("auon", dict(lr=0.05, weight_decay=0.1, gamma=2.0)),
    ("signsgd", dict(lr=0.003)), ("signum", dict(lr=0.003)), ("normalized_gd", dict(lr=0.05)),
    ("noisy_sgd", dict(lr=0.05, eta=0.3)),
    ("sgd_sai", dict(lr=0.05)), ("sgd_sai", dict(lr=0.05, gsnr_version="v1.1.0", weight_decay=0.0)),
    ("sgd_sai", dict(lr=0.05, gsnr_version="v1.0.3")),
    ("newton", dict(lr=0.5)), ("newton", dict(lr=1.0, damped=True, ridge=0.1)),
    ("adam", dict(lr=0.01, clip_fraction=0.2)), ("lion", dict(lr=0.003, clip_value=0.002)),
    ("sgd", dict(lr=0.05, momentum=0.9, max_grad_norm=0.5)),
]


def test_cases_cover_every_rule():
    assert {name for name, _ in CASES} == set(optim.names())


@pytest.mark.parametrize("name,hyper", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_50_step_trajectory_matches_reference(name, hyper):
    opt = optim.make(name, **hyper)
    key = np.array([7, 9], dtype=np.uint64)
    params = LAY.unpack(X0.copy())
    state = opt.init(params)
    ref_params, ref_state = LAY.unpack(X0.copy()), {}
    for t in range(1, 51):
        params, state = opt.step(params, grads_of(params), state, key=key, hessian=A)
        ref_params, ref_state = reference.step(name, ref_params, grads_of(ref_params), ref_state, t, hyper["lr"],
                                               opt.hyper, key=key, hessian=A)
        # independent code rounds differently: compare each block by relative norm
        for k in params:
            err = np.linalg.norm(params[k] - ref_params[k]) / np.linalg.norm(ref_params[k])
            assert err <= 1e-12, f"{name} t={t} block {k}: relative error {err:.2e}"
    assert not np.allclose(LAY.pack(params), X0)  # the rule moved


@pytest.mark.parametrize("name,hyper", CASES[::3], ids=[n for n, _ in CASES[::3]])
def test_engine_matches_naive_for_every_rule(name, hyper):
    model = ts.models.Quadratic(A, X_STAR, layout=LAYOUT)
    exp = ts.Experiment(model, name, steps=40, seeds=[0, 1], record_every=5, schedule="cosine", **hyper)
    res, ref = exp.run(), naive.run(exp)
    np.testing.assert_allclose(res.theta, ref["theta"], rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(res.records, ref["records"], rtol=1e-11, atol=1e-13)


def test_golden_first_steps():
    """Hand-derived first updates: f = x^2 / 2 at x = 1 (g = x)."""
    x = {"p": np.array([1.0])}
    g = lambda q: {"p": q["p"].copy()}

    def run(name, steps, **h):
        opt, q = optim.make(name, **h), dict(x)
        s = opt.init(q)
        out = []
        for _ in range(steps):
            q, s = opt.step(q, g(q), s)
            out.append(q["p"][0])
        return out

    # Adam t = 1: m_hat = g, v_hat = g^2, step lr * g / (|g| + eps)
    assert run("adam", 1, lr=0.1)[0] == pytest.approx(1 - 0.1 / (1 + 1e-8), rel=1e-15)
    # Lion t = 1: c = (1 - b1) g > 0, so x = 1 - lr
    assert run("lion", 1, lr=0.1)[0] == 0.9
    # AdaGrad t = 1: s = g^2, x = 1 - lr g / (|g| + eps)
    assert run("adagrad", 1, lr=0.1)[0] == pytest.approx(1 - 0.1 / (1 + 1e-10), rel=1e-15)
    # SGD momentum 0.9, lr 0.1: 0.9, 0.72, 0.486 (b_1 = g: torch)
    np.testing.assert_allclose(run("sgd", 3, lr=0.1, momentum=0.9), [0.9, 0.72, 0.486], rtol=1e-15)
    # SGDP momentum 0.9, lr 0.1 (b_0 = 0): b = 0.1, 0.1*0.9... x1 = 1 - 0.1*1 = 0.9 (b_1 = g since tau = 0)
    np.testing.assert_allclose(run("sgdp", 3, lr=0.1, momentum=0.9), [0.9, 0.72, 0.486], rtol=1e-15)
    # Adam, three steps, by hand
    b1, b2, lr, eps = 0.9, 0.999, 0.1, 1e-8
    xs, m, v, q = [], 0.0, 0.0, 1.0
    for t in (1, 2, 3):
        m, v = b1 * m + (1 - b1) * q, b2 * v + (1 - b2) * q * q
        q = q - lr / (1 - b1**t) * m / (math.sqrt(v) / math.sqrt(1 - b2**t) + eps)
        xs.append(q)
    np.testing.assert_allclose(run("adam", 3, lr=0.1), xs, rtol=1e-14)
    # Newton on a quadratic: one step lands on the minimiser
    model = ts.models.Quadratic(A, X_STAR, layout=LAYOUT)
    res = ts.Experiment(model, "newton", lr=1.0, steps=1, seeds=0).run()
    np.testing.assert_allclose(res.theta[0], X_STAR, rtol=1e-10)


def _engine(name, steps=60, **hyper):
    model = ts.models.Quadratic(A, X_STAR, layout=LAYOUT)
    return ts.Experiment(model, name, steps=steps, seeds=[3], **hyper).run().theta[0]


def test_identities_between_rules():
    # Lion with b1 = b2 = 0 is signSGD; Signum with momentum 0 is signSGD
    np.testing.assert_array_equal(_engine("lion", lr=0.01, betas=(0.0, 0.0)), _engine("signsgd", lr=0.01))
    np.testing.assert_array_equal(_engine("signum", lr=0.01, momentum=0.0), _engine("signsgd", lr=0.01))
    # AdamW without decay is Adam; AdamP / SGDP that never project (delta = 0) are Adam / SGD
    np.testing.assert_array_equal(_engine("adamw", lr=0.01, weight_decay=0.0), _engine("adam", lr=0.01))
    np.testing.assert_allclose(_engine("adamp", lr=0.01, delta=0.0), _engine("adam", lr=0.01), rtol=1e-13)
    np.testing.assert_allclose(_engine("sgdp", lr=0.05, momentum=0.9, delta=0.0), _engine("sgd", lr=0.05, momentum=0.9), rtol=1e-13)
    # noisy SGD with eta = 0 is SGD; clipping at a huge threshold changes nothing
    np.testing.assert_array_equal(_engine("noisy_sgd", lr=0.05, eta=0.0), _engine("sgd", lr=0.05))
    np.testing.assert_allclose(_engine("adam", lr=0.01, clip_value=1e9), _engine("adam", lr=0.01), rtol=1e-14)
    # AMSGrad equals Adam while v never decreases: on a concave quadratic |g| grows every step, so
    # v_hat (and raw v) is non-decreasing; torch's convention is then Adam to the bit
    concave = ts.models.Quadratic(-0.1 * np.eye(3), x0=np.array([1.0, -2.0, 0.5]))
    run = lambda name, **h: ts.Experiment(concave, name, steps=30, seeds=0, lr=0.01, **h).run().theta[0]
    np.testing.assert_array_equal(run("amsgrad", amsgrad="torch"), run("adam"))
    np.testing.assert_allclose(run("amsgrad", amsgrad="optax"), run("adam"), rtol=1e-14)


def test_adam_with_b1_zero_is_bias_corrected_rmsprop():
    b2, lr, eps = 0.99, 0.01, 1e-8
    x = X0.copy()
    v = np.zeros(P)
    for t in range(1, 61):
        g = A @ (x - X_STAR)
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * g / (np.sqrt(v / (1 - b2**t)) + eps)
    model = ts.models.Quadratic(A, X_STAR, x0=X0, layout=LAYOUT)
    res = ts.Experiment(model, "adam", lr=lr, betas=(0.0, b2), steps=60).run()
    np.testing.assert_allclose(res.theta[0], x, rtol=1e-12)


def test_muon_on_vector_blocks_is_adamw_with_the_aux_hyperparameters():
    model = ts.models.Quadratic(A, X_STAR)  # one vector block: no matrix for Newton-Schulz
    a = ts.Experiment(model, "muon", adam_lr=0.01, adam_betas=(0.9, 0.99), adam_eps=1e-8, adam_weight_decay=0.1,
                      steps=50).run().theta
    b = ts.Experiment(model, "adamw", lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1, steps=50).run().theta
    np.testing.assert_allclose(a, b, rtol=1e-13)


def test_newton_schulz_orthogonalises():
    G = np.random.default_rng(0).standard_normal((8, 5))
    O = reference.newton_schulz5(G)
    s = np.linalg.svd(O, compute_uv=False)
    assert s.min() > 0.5 and s.max() < 1.25  # KJ: S' ~ U(0.5, 1.5); float64 band measured [0.53, 1.20]


def test_heavy_ball_equals_polyak_form():
    """torch momentum SGD == Polyak's x_{t+1} = x_t - lr g_t + mu (x_t - x_{t-1}), x_{-1} = x_0."""
    D = np.diag([0.3, 1.0, 2.5])
    opt = optim.make("sgd", lr=0.2, momentum=0.7)
    params = {"x": np.array([1.0, -2.0, 0.5])}
    state = opt.init(params)
    x_prev = x = params["x"].copy()
    for _ in range(40):
        params, state = opt.step(params, {"x": D @ params["x"]}, state)
        x, x_prev = x - 0.2 * (D @ x) + 0.7 * (x - x_prev), x
        np.testing.assert_allclose(params["x"], x, rtol=1e-12)


def test_nesterov_forms_agree():
    """PyTorch Nesterov theta equals Sutskever's look-ahead phi = theta + mu v (constant lr)."""
    D = np.diag([0.5, 2.0])
    lr, mu = 0.1, 0.9
    opt = optim.make("sgd", lr=lr, momentum=mu, nesterov=True)
    params = {"x": np.array([1.0, 1.0])}
    state = opt.init(params)
    theta, v = params["x"].copy(), np.zeros(2)
    for _ in range(30):
        params, state = opt.step(params, {"x": D @ params["x"]}, state)
        v = mu * v - lr * (D @ (theta + mu * v))
        theta = theta + v
        np.testing.assert_allclose(params["x"], theta + mu * v, rtol=1e-12, atol=1e-15)


def test_eight_bit_state_lies_on_the_code_grid():
    opt = optim.make("adam", lr=0.01, state_bits=8)
    params = {"W": np.random.default_rng(0).standard_normal((50, 100))}
    state = opt.init(params)
    params, state = opt.step(params, {"W": params["W"].copy()}, state)
    m = state["buffers"][0]
    g = np.random.default_rng(0).standard_normal(5000)  # the first gradient, so m_1 = 0.1 g
    np.testing.assert_array_equal(m, quantize.requantize_numpy((1 - 0.9) * g, signed=True))
    for b0 in range(0, m.size, quantize.BLOCK):  # at most 256 distinct values per block
        assert len(np.unique(m[b0 : b0 + quantize.BLOCK])) <= 256
    full = optim.make("adam", lr=0.01)
    p2, s2 = full.step({"W": params["W"]}, {"W": params["W"]}, full.init(params))
    assert not np.array_equal(s2["buffers"][0], m)  # quantisation changed the state
    small = optim.make("adam", lr=0.01, state_bits=8)  # under 4096 elements: float64 state
    q = {"b": np.arange(10.0)}
    _, s_small = small.step(q, q, small.init(q))
    np.testing.assert_array_equal(s_small["buffers"][0], (1 - 0.9) * np.arange(10.0))


def test_dynamic_maps():
    assert quantize.SIGNED_MAP.size == 256 and quantize.UNSIGNED_MAP.size == 256
    assert quantize.SIGNED_MAP.max() == 1.0 and quantize.SIGNED_MAP.min() < -0.99
    assert quantize.UNSIGNED_MAP.min() == 0.0 and np.all(np.diff(quantize.UNSIGNED_MAP) >= 0)
    assert len(np.unique(quantize.SIGNED_MAP)) == 256


def test_step_does_not_touch_inputs():
    opt = optim.make("adam", lr=0.1)
    params = LAY.unpack(X0.copy())
    before = {k: v.copy() for k, v in params.items()}
    state = opt.init(params)
    opt.step(params, grads_of(params), state)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
    assert state["t"] == 0 and not state["buffers"].any()


def test_names_and_errors():
    assert len(optim.names()) >= 20
    with pytest.raises(ValueError, match=r"optimizer='adamx'.*valid: .*sgd"):
        optim.make("adamx")
    with pytest.raises(ValueError, match=r"no hyperparameter 'betas'.*valid: lr"):
        optim.make("sgd", betas=(0.9, 0.99))
    with pytest.raises(ValueError, match=r"lr=-1"):
        optim.make("sgd", lr=-1)
    with pytest.raises(ValueError, match=r"nesterov"):
        optim.make("sgd", lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"betas=\(0.9, 1.0\)"):
        optim.make("adam", betas=(0.9, 1.0))
    with pytest.raises(ValueError, match=r"convention='other'.*'optax'"):
        optim.make("lars", convention="other")
    with pytest.raises(ValueError, match=r"state_bits=4"):
        optim.make("adam", state_bits=4)
    with pytest.raises(ValueError, match=r"ns_steps=2.5"):
        optim.make("muon", ns_steps=2.5)
    with pytest.raises(ValueError, match="Hessian"):
        ts.Experiment(ts.models.Quadratic(np.eye(2)), "newton", steps=1, seeds=0).__class__  # valid: has one
        from theorysim.models.base import Model

        class NoHess(ts.models.Quadratic):
            kernels = ts.models.Quadratic.kernels[:2]

        ts.Experiment(NoHess(np.eye(2)), "newton", steps=1)


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


def test_max_grad_norm_rescales_large_gradients_only():
    opt = optim.make("sgd", lr=1.0, max_grad_norm=1.0)
    params = {"x": np.zeros(2)}
    state = opt.init(params)
    big, _ = opt.step(params, {"x": np.array([3.0, 4.0])}, state)  # norm 5 -> 1
    np.testing.assert_allclose(big["x"], -np.array([3.0, 4.0]) * 1.0 / (5.0 + 1e-6), rtol=1e-15)
    small, _ = opt.step(params, {"x": np.array([0.3, 0.4])}, state)  # norm 0.5: untouched
    np.testing.assert_array_equal(small["x"], -np.array([0.3, 0.4]))


def _official_sgdp(W, b, grad_fn, steps, lr, momentum, weight_decay, delta=0.1, wd_ratio=0.1, eps=1e-8):
    """clovaai/AdamP ``SGDP.step`` (nesterov=False, dampening=0) transcribed line by line in numpy,
    keeping its aliasing: ``d_p = buf`` and ``_projection`` subtracts from ``perturb`` in place, so
    the stored momentum buffer is the projected one. Matrix W (channel view = rows), vector b."""
    bufW, bufb = np.zeros_like(W), np.zeros_like(b)
    for _ in range(steps):
        gW, gb = grad_fn(W, b)
        bufW *= momentum
        bufW += gW
        bufb *= momentum
        bufb += gb
        d_p, ratio = bufW, 1.0  # the same array
        for view in (lambda x: x.reshape(x.shape[0], -1), lambda x: x.reshape(1, -1)):
            pv, gv = view(W), view(gW)
            cos = np.abs(np.sum(pv * gv, axis=1)) / (np.maximum(np.linalg.norm(pv, axis=1), eps)
                                                       * np.maximum(np.linalg.norm(gv, axis=1), eps))
            if cos.max() < delta / np.sqrt(pv.shape[1]):
                p_n = pv / (np.linalg.norm(pv, axis=1, keepdims=True) + eps)
                per = view(d_p)  # a view of the buffer
                per -= p_n * np.sum(p_n * per, axis=1, keepdims=True)
                ratio = wd_ratio
                break
        W = W * (1 - lr * weight_decay * ratio / (1 - momentum)) - lr * d_p
        b = b * (1 - lr * weight_decay / (1 - momentum)) - lr * bufb
    return W, b


def test_sgdp_matches_the_official_code_and_the_paper_option_differs():
    """Default: the official step (projected momentum stored). project_momentum=False is the paper's
    Algorithm 2; on this two-block problem they differ by several percent after 40 steps."""
    g = np.random.default_rng(3)
    A, B, C, c = g.normal(size=(5, 4)), g.normal(size=(3, 3)), g.normal(size=(5, 3)), g.normal(size=6)

    def grad_fn(W, b):
        return A.T @ (A @ W @ B - C) @ B.T, b - c

    W0, b0 = np.random.default_rng(4).normal(size=(4, 3)), np.random.default_rng(5).normal(size=6)
    kw = dict(lr=0.01, momentum=0.9, weight_decay=0.01, delta=1.0)  # delta = 1: the projection fires
    Wo, bo = _official_sgdp(W0.copy(), b0.copy(), grad_fn, 40, **kw)
    runs = {}
    for project in (True, False):
        opt = optim.make("sgdp", project_momentum=project, **kw)
        params = {"W": W0.copy(), "b": b0.copy()}
        state = opt.init(params)
        for _ in range(40):
            gW, gb = grad_fn(params["W"], params["b"])
            params, state = opt.step(params, {"W": gW, "b": gb}, state)
        runs[project] = params
    np.testing.assert_allclose(runs[True]["W"], Wo, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(runs[True]["b"], bo, rtol=1e-12, atol=1e-14)
    flat = lambda p: np.r_[p["W"].ravel(), p["b"]]
    rel = np.linalg.norm(flat(runs[True]) - flat(runs[False])) / np.linalg.norm(flat(runs[True]))
    assert rel > 1e-2, rel


def _official_sgd_sai(blocks, grad_fn, steps, lr, momentum, weight_decay, eps, version):
    """AnonymousAlethiometer/SGD_SaI ``SGD_sai.step`` transcribed in numpy: release 1.0.3 (PyPI),
    gsnr = ||g|| / (std(g) + eps) per block with torch's unbiased std (nan -> 0 for one element);
    1.1.0, gsnr = sqrt(numel); "paper", Algorithm 1 of arXiv 2412.11768: the 1.0.3 g-SNR divided by
    its maximum over blocks (line 14). Momentum buffer: clone of g at the first step, then
    b = mu b + (1 - mu) g; p <- p (1 - wd lr) - lr gsnr b."""
    gsnr, buf = None, None
    for _ in range(steps):
        grads = grad_fn(blocks)
        if gsnr is None:
            if version == "v1.1.0":
                gsnr = {k: g.size ** 0.5 for k, g in grads.items()}
            else:
                gsnr = {k: np.linalg.norm(g) / ((np.std(g, ddof=1) if g.size > 1 else 0.0) + eps)
                        for k, g in grads.items()}
                if version == "paper":
                    top = max(gsnr.values())
                    gsnr = {k: v / top for k, v in gsnr.items()}
            buf = {k: g.copy() for k, g in grads.items()}
        else:
            buf = {k: momentum * buf[k] + (1 - momentum) * grads[k] for k in grads}
        blocks = {k: p * (1 - weight_decay * lr) - lr * gsnr[k] * buf[k] for k, p in blocks.items()}
    return blocks


@pytest.mark.parametrize("version", ["paper", "v1.0.3", "v1.1.0"])
def test_sgd_sai_versions_match_their_code(version):
    g = np.random.default_rng(11)
    A, c = g.normal(size=(6, 4)), g.normal(size=5)
    grad_fn = lambda p: {"W": 0.3 * (A.T @ A @ p["W"] - A.T[:, :3] * 0.1), "b": 3.0 * (p["b"] - c)}
    start = {"W": np.random.default_rng(12).normal(size=(4, 3)), "b": np.random.default_rng(13).normal(size=5)}
    kw = dict(lr=0.01, momentum=0.9, weight_decay=0.01, eps=1e-8)
    ref = _official_sgd_sai({k: v.copy() for k, v in start.items()}, grad_fn, 40, version=version, **kw)
    opt = optim.make("sgd_sai", gsnr_version=version, **kw)
    params = {k: v.copy() for k, v in start.items()}
    state = opt.init(params)
    for _ in range(40):
        params, state = opt.step(params, grad_fn(params), state)
    for k in params:
        np.testing.assert_allclose(params[k], ref[k], rtol=1e-12, atol=1e-14)


def test_sgd_sai_paper_and_release_differ_by_the_max_gsnr():
    """The paper's Algorithm 1 divides every block's g-SNR by the largest; the 1.0.3 release does not:
    the first steps differ by exactly that factor."""
    g = {"W": np.array([[1.0, 2.0], [3.0, 5.0]]), "b": np.array([0.5, -1.0, 2.0])}
    p0 = {"W": np.zeros((2, 2)), "b": np.zeros(3)}
    steps = {}
    for version in ("paper", "v1.0.3"):
        opt = optim.make("sgd_sai", gsnr_version=version, lr=0.1, weight_decay=0.0)
        steps[version], _ = opt.step(p0, g, opt.init(p0))
    top = max(np.linalg.norm(x) / (np.std(x, ddof=1) + 1e-8) for x in g.values())
    for k in g:
        np.testing.assert_allclose(steps["v1.0.3"][k], top * steps["paper"][k], rtol=1e-12)
    assert top > 2


def _update_in_shares(spec, row, shares, steps=5):
    """theta after ``steps`` updates of rule ``spec`` (its kernel alone: no clipping), each step
    applied to the coordinates in ``shares`` residue classes (strided views, as the threads of the
    GPU's one-member-per-block kernel split a coordinate-wise update), from a fixed start."""
    rng = np.random.default_rng(7)
    theta, state = rng.normal(size=P), np.zeros((max(spec.state_rows, 1), P))
    offsets, rows, cols = LAY.arrays()
    work, hess = np.zeros(optim.dispatch.work_size(P, rows, cols)), np.zeros((0, 0))
    for t in range(1, steps + 1):
        grad = rng.normal(size=P) * 10.0 ** rng.uniform(-3, 1, size=P)  # a gradient with spread-out scales
        for r in range(shares):
            spec.kernel(theta[r::shares], grad[r::shares], state[:, r::shares], row, row[optim.slots.LR], t,
                        offsets, rows, cols, np.uint64(1), np.uint64(2), work, hess)
    return theta


def test_coordinatewise_rules_give_the_same_update_on_any_share_of_the_coordinates():
    """``OptimizerSpec.coordinatewise`` (the GPU's one-member-per-block kernel lets each thread
    update its share of the coordinates): every case the flag admits gives the same numbers on
    3 interleaved shares as on all coordinates at once, bit for bit over 5 steps; 8-bit state and
    clipping are not admitted; normalized GD, whose step divides by the norm of the whole
    gradient, is not coordinate-wise and the same comparison tells (so the test can fail)."""
    from theorysim.optim.family import coordinatewise_members

    admitted = set()
    for name, hyper in CASES:
        spec = optim.registry.get(name)
        row = spec.hyper_row(spec.resolve(hyper))
        if coordinatewise_members(np.array([spec.rule_id]), row[None])[0]:
            admitted.add(name)
            np.testing.assert_array_equal(_update_in_shares(spec, row, 3), _update_in_shares(spec, row, 1),
                                          err_msg=f"{name} {hyper}")
    assert admitted == {"sgd", "adagrad", "rmsprop", "adam", "adamw", "amsgrad", "signsgd", "signum"}
    for name, hyper in (("adam", {"state_bits": 8}), ("adam", {"clip_fraction": 0.2}), ("sgd", {"max_grad_norm": 1.0})):
        spec = optim.registry.get(name)
        assert coordinatewise_members(np.array([spec.rule_id]), spec.hyper_row(spec.resolve(hyper))[None])[0] == 0
    normalized = optim.registry.get("normalized_gd")
    row = normalized.hyper_row(normalized.resolve({"lr": 0.05}))
    assert not np.array_equal(_update_in_shares(normalized, row, 3), _update_in_shares(normalized, row, 1))
