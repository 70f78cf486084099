"""In-context learning: closed forms vs Monte Carlo, the algorithms, the LSA constructions."""
import numpy as np
import pytest
import sympy as sp

from theorysim.setups.icl import model as lsa
from theorysim.setups.icl import algorithms as alg
from theorysim.setups.icl import task, theory


def _mc_loss(p, Gamma):
    _, h = alg._moments(p)
    err = np.einsum("bi,ij,bj->b", p.xq, Gamma, h) - p.yq
    return 0.5 * np.mean(err**2), 0.5 * np.std(err**2) / np.sqrt(len(err))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_optimal_loss_and_preconditioner_vs_monte_carlo(seed):
    r = np.random.default_rng(seed)
    d, N, noise_var = 3, int(r.integers(3, 9)), float(r.uniform(0, 0.5))
    Sigma = task.spectrum_covariance(d, r.uniform(0.3, 3.0, d), seed)
    Sigma_w = task.spectrum_covariance(d, r.uniform(0.3, 2.0, d), seed + 10)
    p = task.sample(seed, 200_000, d, N, sigma=Sigma, sigma_w=Sigma_w, noise_std=np.sqrt(noise_var))
    G = theory.optimal_preconditioner(Sigma, N, noise_var, Sigma_w)
    mc, se = _mc_loss(p, G)
    assert abs(mc - theory.optimal_one_layer_loss(Sigma, N, noise_var, Sigma_w)) < 4 * se
    # the closed-form MSE is right away from the optimum too, and the optimum is a minimum
    G2 = G + 0.2 * r.standard_normal((d, d))
    mc2, se2 = _mc_loss(p, G2)
    assert abs(mc2 - 0.5 * theory.one_layer_mse(G2, Sigma, N, noise_var, Sigma_w)) < 4 * se2
    assert theory.one_layer_mse(G2, Sigma, N, noise_var, Sigma_w) > theory.one_layer_mse(G, Sigma, N, noise_var, Sigma_w)


def test_isotropic_values_from_the_papers():
    assert theory.optimal_one_layer_loss(np.eye(10), 10) == pytest.approx(0.5 * 10 * (1 - 10 / 21), rel=1e-12)  # 2.619
    G = theory.optimal_preconditioner(np.eye(10), 10, noise_var=1.0)
    np.testing.assert_allclose(G, 10 / (10 + 1 + 10 + 1) * np.eye(10), rtol=1e-12)  # Mahankali: N/(N+1+d+sigma^2)
    assert 2 * theory.optimal_one_layer_loss(np.eye(10), 10, 1.0) == pytest.approx(10 * 12 / 22 + 1, rel=1e-12)
    eta, loss = theory.uniform_optimal_step(10, 10)
    assert eta == pytest.approx(6.0606, abs=1e-4) and loss == pytest.approx(0.2062, abs=1e-4)  # von Oswald's "0.2"


def test_uniform_optimum_vs_monte_carlo():
    p = task.sample(4, 200_000, 10, 10, x_dist="uniform")
    eta, loss = theory.uniform_optimal_step(10, 10)
    pred = alg.predict(p, alg.gd(p, eta, 1))
    err2 = (pred - p.yq) ** 2
    assert abs(0.5 * err2.mean() - loss) < 4 * 0.5 * err2.std() / np.sqrt(len(err2))
    worse = [alg.icl_loss(p, alg.predict(p, alg.gd(p, e, 1))) for e in (0.9 * eta, 1.1 * eta)]
    assert min(worse) > 0.5 * err2.mean()


def test_scalar_optimum_symbolic():
    g_star, _ = theory.scalar_optimum_symbolic()
    s, sw, N, sig2 = sp.symbols("s s_w N sigma2", positive=True)
    closed = theory.optimal_preconditioner(np.array([[2.0]]), 7, 0.3, np.array([[0.5]]))[0, 0]
    assert float(g_star.subs({s: 2.0, sw: 0.5, N: 7, sig2: 0.3})) == pytest.approx(closed, rel=1e-12)


def test_lsa_constructions_equal_the_algorithms():
    p = task.sample(0, 64, 4, 7)
    Ps, Qs = lsa.preconditioned_gd_weights([0.6, 0.9, 0.3], 4)
    np.testing.assert_allclose(lsa.predict(p.X, p.y, p.xq, Ps, Qs), alg.predict(p, alg.gd_steps_list(p, [0.6, 0.9, 0.3])),
                               rtol=1e-12, atol=1e-13)
    Ps, Qs = lsa.gdpp_weights([1.0, 0.5], [0.02, 0.05], 4, 7)
    np.testing.assert_allclose(lsa.predict(p.X, p.y, p.xq, Ps, Qs), alg.gdpp_predict(p, [1.0, 0.5], [0.02, 0.05]),
                               rtol=1e-12, atol=1e-13)
    # the moment forms behind the fast optimisations
    a = alg.gdpp2_moments(p)
    np.testing.assert_allclose(alg.gdpp2_recurrent_predict(a, 0.8, 0.03, 7), alg.gdpp_predict(p, [0.8] * 2, [0.03] * 2),
                               rtol=1e-11, atol=1e-13)
    b = alg.gd_poly_moments(p, 3)
    np.testing.assert_allclose(alg.gd_poly_predict(b, [0.6, 0.9, 0.3]), alg.predict(p, alg.gd_steps_list(p, [0.6, 0.9, 0.3])),
                               rtol=1e-11, atol=1e-13)


def test_ridge_ols_and_newton():
    p = task.sample(1, 32, 5, 12)
    w = alg.ols(p)
    np.testing.assert_allclose(alg.ridge(p, 1e-12), w, rtol=1e-8)
    np.testing.assert_allclose(alg.iterative_newton(p, 30), w, rtol=1e-10)
    np.testing.assert_allclose(p.w, w, rtol=1e-10)  # noiseless, N > d: OLS recovers w
    # the pitfall: alpha = 2 / lambda_max(S)^2 leaves the top direction at -1 forever
    S = np.einsum("bni,bnj->bij", p.X, p.X)
    lam_max = np.linalg.eigvalsh(S)[:, -1]
    stalled = alg.iterative_newton(p, 20, alpha=2.0 / lam_max**2)
    err = np.linalg.norm(stalled - w, axis=1) / np.linalg.norm(w, axis=1)
    assert np.median(err) > 1e-3
    under = alg.ridge(task.sample(2, 8, 8, 4), 0.0 + 1e-9)  # under-determined: ridge -> min-norm
    assert np.all(np.isfinite(under))


def test_iterations_to():
    errors = np.array([[1.0, 1.0], [0.5, 1e-4], [1e-4, 1e-5]])
    assert alg.iterations_to(errors, 1e-3).tolist() == [2, 1]
    assert alg.iterations_to(errors, 1e-9).tolist() == [3, 3]


@pytest.mark.parametrize("kwargs,match", [
    ({"x_dist": "cauchy"}, "x_dist='cauchy'"), ({"response": "sin"}, "response='sin'"),
    ({"noise_std": -1.0}, "noise_std=-1.0"), ({"sigma": -np.eye(3)}, "sigma: expected a positive semi-definite"),
])
def test_bad_task_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        task.sample(0, 4, 3, 5, **kwargs)


@pytest.mark.parametrize("kw", [
    dict(d=3, n_context=5, layers=1, batch=4),
    dict(d=3, n_context=5, layers=3, batch=3, x_dist="uniform", noise_std=0.3, response="tanh"),
    dict(d=2, n_context=4, layers=2, batch=2, sigma=np.array([[2.0, 0.3], [0.3, 0.5]]),
         sigma_w=np.array([[1.0, 0.2], [0.2, 0.7]]), response="relu"),
    dict(d=3, n_context=5, layers=3, batch=4, token_clip=1.2),
])
def test_lsa_kernel_loss_gradient_and_prompts(kw):
    """The kernel draws the sampler's prompts bit for bit, its loss is the numpy forward's, and
    its hand-written gradient matches central finite differences."""
    from theorysim.core import rng

    m = lsa.LinearSelfAttention(eval_prompts=16, **kw)
    theta = 0.3 * np.random.default_rng(0).standard_normal(m.layout.size)
    key = rng.key_from_seed(7)
    fdata, idata = m.data()
    grad, work = np.zeros_like(theta), np.zeros(m.work_size)
    loss = lsa.lsa_loss_grad(theta, fdata, idata, m.hyper_row({}), key[0], key[1], 3, grad, work)
    p = m.prompts(7, 3)

    def L(th):
        Ps, Qs = m.weights(th)
        return 0.5 * np.mean((lsa.predict(p.X, p.y, p.xq, Ps, Qs, m.token_clip) - p.yq) ** 2)

    assert loss == pytest.approx(L(theta), rel=1e-13)
    fd = np.array([(L(theta + 1e-6 * e) - L(theta - 1e-6 * e)) / 2e-6 for e in np.eye(len(theta))])
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())
    out = np.zeros(1)
    lsa.lsa_metrics(theta, fdata, idata, m.hyper_row({}), out, np.empty(m.work_size))
    assert out[0] == pytest.approx(m.metrics_numpy(theta, m.hyper_row({}))[0], rel=1e-12)


def test_lsa_partial_sums_make_the_loss():
    """``Model.sample_kernels``: the loss kernel is the partial kernel over all prompts divided by
    B, bit for bit; residue classes of the prompts (the GPU's threads) add up to the same loss and
    gradient (to rounding); and a partial call adds to the gradient instead of overwriting it."""
    from theorysim.core import rng

    m = lsa.LinearSelfAttention(3, 5, layers=2, batch=7, eval_prompts=4, noise_std=0.2)
    partial, count = m.sample_kernels[:2]
    theta = 0.3 * np.random.default_rng(1).standard_normal(m.layout.size)
    k = rng.key_from_seed(3)
    fdata, idata = m.data()
    assert count(fdata, idata) == 7
    args = (theta, fdata, idata, m.hyper_row({}), k[0], k[1], 2)
    grad, work = np.zeros_like(theta), np.zeros(m.work_size)
    loss = lsa.lsa_loss_grad(*args, grad, work)
    g1 = np.zeros_like(theta)
    assert partial(*args, g1, np.zeros(m.work_size), 0, 1) / 7 == loss
    np.testing.assert_array_equal(g1, grad)
    total, g3 = 0.0, np.zeros_like(theta)
    for first in range(3):  # 3 threads: prompts {0, 3, 6}, {1, 4}, {2, 5}
        gj = np.zeros_like(theta)
        total += partial(*args, gj, np.zeros(m.work_size), first, 3)
        g3 += gj
    assert total / 7 == pytest.approx(loss, rel=1e-14)
    np.testing.assert_allclose(g3, grad, rtol=1e-13, atol=1e-15 * np.abs(grad).max())
    one = np.ones_like(theta)
    partial(*args, one, np.zeros(m.work_size), 0, 1)
    np.testing.assert_allclose(one - 1.0, grad, rtol=1e-12, atol=1e-15)
    # the metrics the same way: all evaluation prompts bit for bit, residue classes to rounding
    partial_metrics, finish = m.sample_kernels[2:]
    out = np.zeros(1)
    lsa.lsa_metrics(theta, fdata, idata, m.hyper_row({}), out, np.zeros(m.work_size))
    whole = np.zeros(1)
    partial_metrics(theta, fdata, idata, m.hyper_row({}), whole, np.zeros(m.work_size), 0, 1)
    finish(whole, fdata, idata)
    assert whole[0] == out[0]
    parts = np.zeros(1)
    for first in range(3):
        part = np.zeros(1)
        partial_metrics(theta, fdata, idata, m.hyper_row({}), part, np.zeros(m.work_size), first, 3)
        parts += part
    finish(parts, fdata, idata)
    assert parts[0] == pytest.approx(out[0], rel=1e-14) and out[0] > 0


def test_lsa_trains_towards_the_optimum():
    import theorysim as ts

    m = lsa.LinearSelfAttention(3, 10, layers=1, batch=64, eval_prompts=2048)
    res = ts.Experiment(m, "adam", lr=3e-3, steps=400, seeds=[0], record_every=100).run()
    curve = res.curve("eval_loss")[0]
    assert curve[-1] < 0.3 * curve[0]  # from the zero-ish predictor towards 0.5 d (1 - N/(N+d+1))
    assert not res.diverged[0]
