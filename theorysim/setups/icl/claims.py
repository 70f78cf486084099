"""In-context learning claims that need no pretraining: the LSA-GD construction, the Bayes
predictor, Iterative Newton vs GD, and the optimal GD++ / multi-step GD parameters.
(Claims on trained LSA models come with the LSA training kernel.)"""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from theorysim import fit
from theorysim.claims import Claim, Measurement, Paper, register, tol
from theorysim.models import lsa
from theorysim.plotting import finish, pyplot
from theorysim.setups.icl import algorithms as alg
from theorysim.setups.icl import task

VONOSWALD = Paper(key="vonoswald2023", title="Transformers learn in-context by gradient descent",
                  authors="J. von Oswald, E. Niklasson, E. Randazzo, J. Sacramento, A. Mordvintsev, A. Zhmoginov, M. Vladymyrov",
                  year=2023, arxiv="2212.07677", venue="ICML 2023")
AHN = Paper(key="ahn2023", title="Transformers learn to implement preconditioned gradient descent for in-context learning",
            authors="K. Ahn, X. Cheng, H. Daneshmand, S. Sra", year=2023, arxiv="2306.00297", venue="NeurIPS 2023")
FU = Paper(key="fu2023", title="Transformers Learn Higher-Order Optimization Methods for In-Context Learning: "
           "A Study with Linear Models", authors="D. Fu, T.-Q. Chen, R. Jia, V. Sharan", year=2023, arxiv="2310.17086")
AKYUREK = Paper(key="akyurek2022", title="What learning algorithm is in-context learning? Investigations with linear models",
                authors="E. Akyurek, D. Schuurmans, J. Andreas, T. Ma, D. Zhou", year=2022, arxiv="2211.15661",
                venue="ICLR 2023")


# ---------------------------------------------------------------------------------------------
# vonoswald2023/construction-is-gd
def _sim_construction(cfg):
    d, N = cfg["d"], cfg["n_context"]
    p = task.sample(cfg["seed"], cfg["prompts"], d, N, x_dist="uniform")
    r = np.random.default_rng(cfg["seed"])
    out = {}
    for K in cfg["layers"]:
        etas = list(0.5 + r.random(K))
        Ps, Qs = lsa.preconditioned_gd_weights(etas, d)
        out[f"GD, {K} layer(s)"] = (lsa.predict(p.X, p.y, p.xq, Ps, Qs), alg.predict(p, alg.preconditioned_gd(p, etas)))
        gammas = [r.standard_normal((d, d)) / np.sqrt(d) for _ in range(K)]
        Ps, Qs = lsa.preconditioned_gd_weights(gammas, d)
        out[f"preconditioned GD, {K} layer(s)"] = (lsa.predict(p.X, p.y, p.xq, Ps, Qs),
                                                   alg.predict(p, alg.preconditioned_gd(p, gammas)))
        gg = list(0.01 * r.random(K))
        Ps, Qs = lsa.gdpp_weights(etas, gg, d, N)
        out[f"GD++, {K} layer(s)"] = (lsa.predict(p.X, p.y, p.xq, Ps, Qs), alg.gdpp_predict(p, etas, gg))
    return out


def _measure_construction(cfg, out):
    worst = 0.0
    for a, b in out.values():
        worst = max(worst, float(np.max(np.abs(a - b)) / np.max(np.abs(b))))
    return Measurement(worst, details={"cases": len(out), "prompts": cfg["prompts"]})


register(Claim(
    id="vonoswald2023/construction-is-gd",
    paper=VONOSWALD,
    reference="Proposition 1, A.1 eq. 8 (and Ahn et al. 2023 eq. 8 for preconditioned GD; A.10 eq. 23 for GD++)",
    statement="LSA layers with the explicit weights compute K steps of GD, of preconditioned GD for arbitrary "
              "Gamma_k, and of GD++ on every prompt, to 1e-12 (relative to the largest prediction).",
    quick={"d": 10, "n_context": 10, "prompts": 512, "layers": [1, 2, 4], "seed": 0},
    full={"d": 10, "n_context": 25, "prompts": 8192, "layers": [1, 2, 3, 4, 8], "seed": 0},
    simulate=_sim_construction,
    predict=lambda cfg: 0.0,
    measure=_measure_construction,
    tolerance=tol.at_most(1e-12),
))


# ---------------------------------------------------------------------------------------------
# akyurek2022/bayes-is-ridge
def _sim_bayes(cfg):
    d, sig2 = cfg["d"], cfg["noise_var"]
    out = {}
    for N in cfg["n_contexts"]:
        tune = task.sample(cfg["seed"] + 1, cfg["prompts"] // 4, d, N, noise_std=np.sqrt(sig2))
        p = task.sample(cfg["seed"], cfg["prompts"], d, N, noise_std=np.sqrt(sig2))
        sq = {"Bayes: ridge lam = sigma^2/tau^2": (alg.predict(p, alg.bayes_posterior_mean(p, sig2)) - p.yq) ** 2,
              "OLS / min-norm": (alg.predict(p, alg.ols(p)) - p.yq) ** 2}
        for lam in cfg["lams"]:
            sq[f"ridge lam={lam:g}"] = (alg.predict(p, alg.ridge(p, lam)) - p.yq) ** 2
        for k in cfg["gd_steps"]:
            res = optimize.minimize_scalar(lambda eta: alg.icl_loss(tune, alg.predict(tune, alg.gd(tune, eta, k))),
                                           bounds=(1e-3, 3.0), method="bounded")
            sq[f"GD {k} step(s), tuned eta={res.x:.3f}"] = (alg.predict(p, alg.gd(p, res.x, k)) - p.yq) ** 2
        out[N] = sq
    return out


def _measure_bayes(cfg, out):
    worst, detail = np.inf, {}
    for N, sq in out.items():
        bayes = sq["Bayes: ridge lam = sigma^2/tau^2"]
        for name, s in sq.items():
            if name.startswith("Bayes"):
                continue
            excess = (s - bayes) / bayes.mean()  # paired, per prompt
            mean = float(excess.mean())
            if mean < worst:
                worst = mean
                lo, hi = stats.t.interval(0.95, len(excess) - 1, loc=mean, scale=excess.std(ddof=1) / np.sqrt(len(excess)))
                detail = {"N": N, "closest competitor": name, "ci": (float(lo), float(hi))}
    return Measurement(worst, detail.pop("ci"), detail)


def _plot_bayes(cfg, out, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for N, sq in out.items():
        names = list(sq)
        ax.plot(range(len(names)), [0.5 * sq[n].mean() for n in names], "o-", label=f"N={N}")
    ax.set_xticks(range(len(names)), [n.split(",")[0] for n in names], rotation=60, ha="right", fontsize=7)
    return finish(fig, ax, ylabel="in-context loss 0.5 E(y_hat - y)^2", title="Bayes predictor vs alternatives")


register(Claim(
    id="akyurek2022/bayes-is-ridge",
    paper=AKYUREK,
    reference="sec. 4.3: the Bayes predictor E[y|x, D] is ridge with lam = sigma^2 / tau^2",
    statement="With label noise sigma^2 and w ~ N(0, tau^2 I), ridge with lam = sigma^2/tau^2 has a lower expected "
              "in-context loss than OLS, ridge on a lam grid and tuned k-step GD (paired excess >= 0).",
    quick={"d": 8, "n_contexts": [4, 8, 16], "noise_var": 0.25, "lams": [0.01, 0.05, 1.0, 4.0], "gd_steps": [1, 3],
           "prompts": 20000, "seed": 0},
    full={"d": 8, "n_contexts": [2, 4, 8, 12, 16, 32], "noise_var": 0.25, "lams": [0.01, 0.05, 0.1, 0.5, 1.0, 4.0],
          "gd_steps": [1, 2, 3, 5], "prompts": 200000, "seed": 0},
    simulate=_sim_bayes,
    predict=lambda cfg: 0.0,
    measure=_measure_bayes,
    tolerance=tol.at_least(0.0),
    plot=_plot_bayes,
    note="Measured: the smallest mean paired excess loss of any competitor over the Bayes predictor, relative to the "
         "Bayes loss, over all context sizes (the CI is a t interval over prompts).",
))


# ---------------------------------------------------------------------------------------------
# fu2023: Iterative Newton vs GD
def _ill_conditioned_prompts(seed, prompts, d, n, kappa):
    """Per-prompt covariance U diag(kappa (d/2 times), 1 (d/2 times)) U^T with a random basis per
    prompt (Fu et al. sec. 4.3); kappa = 1 is Sigma = I. Noiseless, w ~ N(0, I)."""
    from theorysim.setups.quadratic.task import random_orthogonal

    p = task.sample(seed, prompts, d, n)
    if kappa == 1:
        return p
    D = np.sqrt(np.r_[np.full(d // 2, float(kappa)), np.ones(d - d // 2)])
    X, xq = p.X.copy(), p.xq.copy()
    for b in range(prompts):
        T = random_orthogonal(d, 10_000 + b) * D  # x = U D^{1/2} z
        X[b] = p.X[b] @ T.T
        xq[b] = T @ p.xq[b]
    y = np.einsum("bnd,bd->bn", X, p.w)
    return task.Prompts(X, y, xq, np.einsum("bd,bd->b", xq, p.w), p.w)


def _iteration_counts(p, eps, max_newton, max_gd):
    w_ols = alg.ols(p)
    nrm = np.linalg.norm(w_ols, axis=1)
    W = alg.iterative_newton(p, max_newton, return_all=True)
    newton_err = np.linalg.norm(W - w_ols[None], axis=2) / nrm[None]
    S = np.einsum("bni,bnj->bij", p.X, p.X) / p.n_context
    lam = np.linalg.eigvalsh(S)
    eta = 2.0 / (lam[:, -1] + lam[:, 0])  # per prompt, the optimal constant step
    h = np.einsum("bn,bni->bi", p.y, p.X) / p.n_context
    w = np.zeros_like(w_ols)
    gd_iter = np.full(len(nrm), max_gd)
    for k in range(1, max_gd + 1):
        w = w - eta[:, None] * (np.einsum("bij,bj->bi", S, w) - h)
        done = (np.linalg.norm(w - w_ols, axis=1) / nrm <= eps) & (gd_iter == max_gd)
        gd_iter[done] = k
        if np.all(gd_iter < max_gd):
            break
    return alg.iterations_to(newton_err, eps), gd_iter, lam[:, -1] / lam[:, 0]


def _sim_iterations(cfg):
    out = {}
    for kappa in cfg["kappas"]:
        p = _ill_conditioned_prompts(cfg["seed"], cfg["prompts"], cfg["d"], cfg["n"], kappa)
        out[kappa] = _iteration_counts(p, cfg["eps"], cfg["max_newton"], cfg["max_gd"])
    return out


def _measure_table(cfg, out):
    m = {}
    for kappa, (newton, gd, kS) in out.items():
        m[f"Newton iterations, kappa(Sigma)={kappa:g}"] = Measurement(float(np.median(newton)),
                                                                     details={"median kappa(S)": float(np.median(kS))})
        m[f"GD iterations, kappa(Sigma)={kappa:g}"] = Measurement(float(np.median(gd)))
    return m


register(Claim(
    id="fu2023/iteration-table",
    paper=FU,
    reference="sec. 3.1 and 4.3 (d = 20, n = 40); table of iteration counts derived in the spec (sec. 6)",
    statement="To reach relative error 1e-3 on the OLS weights (median of 200 prompts, d = 20, n = 40), Iterative "
              "Newton needs 11-12 iterations vs about 62 GD steps at Sigma = I, and 22-23 vs about 2950 at kappa(Sigma) = 100.",
    quick={"d": 20, "n": 40, "kappas": [1, 100], "prompts": 200, "eps": 1e-3, "max_newton": 40, "max_gd": 20000, "seed": 0},
    full={"d": 20, "n": 40, "kappas": [1, 100], "prompts": 1000, "eps": 1e-3, "max_newton": 40, "max_gd": 20000, "seed": 1},
    simulate=_sim_iterations,
    predict=lambda cfg: {"Newton iterations, kappa(Sigma)=1": 11.5, "GD iterations, kappa(Sigma)=1": 62.0,
                         "Newton iterations, kappa(Sigma)=100": 22.5, "GD iterations, kappa(Sigma)=100": 2950.0},
    measure=_measure_table,
    tolerance={"Newton iterations, kappa(Sigma)=1": tol.interval(11, 12),
               "GD iterations, kappa(Sigma)=1": tol.relative(0.05),
               "Newton iterations, kappa(Sigma)=100": tol.interval(22, 23),
               "GD iterations, kappa(Sigma)=100": tol.relative(0.05)},
    note="GD uses the optimal constant step 2/(lambda_max + lambda_min) of S/n per prompt; Newton starts at "
         "M_0 = S / ||S S^T||_F (the authors' code). The table's values are the spec's derivation, not the paper's "
         "text (which reports ~21 Newton iterations for the trained model's last layers and ~2000 GD steps).",
))


def _measure_laws(cfg, out):
    kappas = np.array(sorted(out))
    kS = np.array([np.median(out[k][2]) for k in kappas])
    newton = np.array([np.median(out[k][0]) for k in kappas], dtype=float)
    gd = np.array([np.median(out[k][1]) for k in kappas], dtype=float)
    gd_fit = stats.linregress(np.log(kS), np.log(gd))
    nw_fit = stats.linregress(np.log2(kS), newton)
    return {
        "GD: exponent of iterations vs kappa(S)": Measurement(float(gd_fit.slope), None, {"r2": gd_fit.rvalue**2}),
        "Newton: iterations per doubling of kappa(S)": Measurement(float(nw_fit.slope), None,
                                                                    {"r2": nw_fit.rvalue**2, "medians": newton.tolist()}),
        "Newton: R^2 of the linear-in-log(kappa) law": Measurement(float(nw_fit.rvalue**2)),
    }


def _plot_laws(cfg, out, verdict):
    plt = pyplot()
    kappas = sorted(out)
    kS = [np.median(out[k][2]) for k in kappas]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(kS, [np.median(out[k][1]) for k in kappas], "o-", label="GD (optimal constant step)")
    ax.loglog(kS, [np.median(out[k][0]) for k in kappas], "s-", label="Iterative Newton")
    return finish(fig, ax, xlabel="median kappa(S)", ylabel=f"iterations to {cfg['eps']:g} relative error",
                  title="Newton O(log kappa) vs GD O(kappa)")


register(Claim(
    id="fu2023/newton-vs-gd-iterations",
    paper=FU,
    reference="sec. 3.1: GD needs O(kappa log 1/eps) iterations, Iterative Newton O(log kappa + log log 1/eps)",
    statement="Across kappa(Sigma) from 10 to 1000, GD's iteration count grows like kappa(S)^1 while Newton's grows "
              "linearly in log kappa(S), by about 2 iterations per doubling (E_0 = I - alpha S^2 squares each step).",
    quick={"d": 10, "n": 20, "kappas": [10, 30, 100, 300, 1000], "prompts": 64, "eps": 1e-3, "max_newton": 60,
           "max_gd": 200000, "seed": 0},
    full={"d": 20, "n": 40, "kappas": [10, 30, 100, 300, 1000, 3000], "prompts": 200, "eps": 1e-3, "max_newton": 60,
          "max_gd": 1000000, "seed": 0},
    simulate=_sim_iterations,
    predict=lambda cfg: {"GD: exponent of iterations vs kappa(S)": 1.0, "Newton: iterations per doubling of kappa(S)": 2.0,
                         "Newton: R^2 of the linear-in-log(kappa) law": 1.0},
    measure=_measure_laws,
    tolerance={"GD: exponent of iterations vs kappa(S)": tol.interval(0.9, 1.1),
               "Newton: iterations per doubling of kappa(S)": tol.interval(1.6, 2.4),
               "Newton: R^2 of the linear-in-log(kappa) law": tol.at_least(0.95)},
    plot=_plot_laws,
    note="Derivation of the Newton slope: E_k = E_0^(2^k) with E_0 = I - alpha S^2, whose slowest eigenvalue is about "
         "1 - 1/kappa^2, so k ~ 2 log2 kappa + log2 ln(1/eps).",
))


# ---------------------------------------------------------------------------------------------
# vonoswald2023/gdpp-gamma and ahn2023/three-layer-steps: optimal parameters by Monte Carlo.
# The losses are polynomials in the parameters with per-prompt coefficients (algorithms.py), so
# each optimum is found on many prompts at once; its statistical error comes from re-optimising
# on `chunks` independent prompt sets (t interval of their mean).
def _chunked_optimum(cfg, loss_of, start):
    ests = []
    for c in range(cfg["chunks"]):
        res = optimize.minimize(lambda v: loss_of(c, v), start, method="Nelder-Mead",
                                options={"xatol": 1e-7, "fatol": 1e-14, "maxiter": 4000})
        ests.append(res.x)
    ests = np.array(ests)
    mean = ests.mean(axis=0)
    half = stats.t.ppf(0.975, len(ests) - 1) * ests.std(axis=0, ddof=1) / np.sqrt(len(ests))
    return mean, half


def _sim_gdpp(cfg):
    out = {}
    for N, start in zip(cfg["n_contexts"], cfg["starts"]):
        coef, yq = [], []
        for c in range(cfg["chunks"]):
            p = task.sample(cfg["seed"] + c, cfg["prompts"], cfg["d"], N, x_dist="uniform")
            coef.append(alg.gdpp2_moments(p))
            yq.append(p.yq)
        loss = lambda c, v: 0.5 * np.mean((alg.gdpp2_recurrent_predict(coef[c], v[0], v[1], N) - yq[c]) ** 2)
        mean, half = _chunked_optimum(cfg, loss, start)
        out[N] = {"eta": float(mean[0]), "gamma": float(mean[1]), "gamma_half": float(half[1])}
    return out


PAPER_GAMMA = {10: 0.179, 25: 0.099, 50: 0.056, 100: 0.029}


def _measure_gdpp(cfg, out):
    m = {f"gamma, N={N}": Measurement(o["gamma"], (o["gamma"] - o["gamma_half"], o["gamma"] + o["gamma_half"]),
                                      {"eta": o["eta"]}) for N, o in out.items()}
    m["statistical error of gamma (worst N, relative)"] = Measurement(max(o["gamma_half"] / o["gamma"] for o in out.values()))
    return m


register(Claim(
    id="vonoswald2023/gdpp-gamma",
    paper=VONOSWALD,
    reference="sec. 3 and A.10: gamma of trained recurrent 2-layer models, 0.179 / 0.099 / 0.056 / 0.029 for N = 10 / 25 / 50 / 100",
    statement="The loss-optimal (eta, gamma) of 2-step recurrent GD++ on U(-0.5, 0.5)^10 has gamma within 5% of the "
              "paper's trained values for N = 10, 25, 50, 100 (statistical error under 1%).",
    quick={"d": 10, "n_contexts": [10, 25, 50, 100], "starts": [[13.0, 0.17], [18.0, 0.1], [20.0, 0.055], [20.0, 0.03]],
           "prompts": 40000, "chunks": 5, "seed": 0},
    full={"d": 10, "n_contexts": [10, 25, 50, 100], "starts": [[13.0, 0.17], [18.0, 0.1], [20.0, 0.055], [20.0, 0.03]],
          "prompts": 200000, "chunks": 5, "seed": 0},
    simulate=_sim_gdpp,
    predict=lambda cfg: {**{f"gamma, N={N}": PAPER_GAMMA[N] for N in cfg["n_contexts"]},
                         "statistical error of gamma (worst N, relative)": 0.0},
    measure=_measure_gdpp,
    tolerance={**{f"gamma, N={N}": tol.relative(0.05) for N in PAPER_GAMMA},
               "statistical error of gamma (worst N, relative)": tol.at_most(0.01)},
    note="A first version optimised on one set of 4000 prompts and read gamma = 0.170 at N = 10 (5.0% off, FAIL) "
         "without an error bar; the loss is flat in gamma there, so the estimate now comes with its statistical error.",
))


def _sim_three(cfg):
    coef, yq = [], []
    for c in range(cfg["chunks"]):
        p = task.sample(cfg["seed"] + c, cfg["prompts"], cfg["d"], cfg["n"])
        coef.append(alg.gd_poly_moments(p, 3))
        yq.append(p.yq)
    loss = lambda c, a: 0.5 * np.mean((alg.gd_poly_predict(coef[c], a) - yq[c]) ** 2)
    best = None
    for start in cfg["starts"]:  # the steps commute: sort each chunk's optimum before averaging
        ests = []
        for c in range(cfg["chunks"]):
            res = optimize.minimize(lambda a: loss(c, a), start, method="Nelder-Mead",
                                    options={"xatol": 1e-8, "fatol": 1e-14, "maxiter": 4000})
            ests.append(np.sort(res.x))
        ests = np.array(ests)
        total = np.mean([loss(c, ests[c]) for c in range(cfg["chunks"])])
        if best is None or total < best[0]:
            best = (total, ests)
    ests = best[1]
    half = stats.t.ppf(0.975, len(ests) - 1) * ests.std(axis=0, ddof=1) / np.sqrt(len(ests))
    return {"steps": ests.mean(axis=0), "half": half, "loss": float(best[0])}


STEP_NAMES = ("smallest step", "middle step", "largest step")

register(Claim(
    id="ahn2023/three-layer-steps",
    paper=AHN,
    reference="Thm 3 experiment, Figure 2: learned Sigma^(1/2) A_i Sigma^(1/2) ~ -0.69 I, -0.43 I, -1.71 I (d = 5, n = 20)",
    statement="The loss-optimal step sizes of 3-step (whitened) preconditioned GD at d = 5, n = 20 are the paper's "
              "learned 0.43, 0.69, 1.71 within 5%, in any order.",
    quick={"d": 5, "n": 20, "prompts": 40000, "chunks": 5, "starts": [[0.5, 0.7, 1.5], [1.5, 0.4, 0.7]], "seed": 0},
    full={"d": 5, "n": 20, "prompts": 400000, "chunks": 5, "starts": [[0.5, 0.7, 1.5], [1.5, 0.4, 0.7], [0.9, 0.9, 0.9]],
          "seed": 0},
    simulate=_sim_three,
    predict=lambda cfg: {"smallest step": 0.43, "middle step": 0.69, "largest step": 1.71},
    measure=lambda cfg, out: {name: Measurement(float(v), (float(v - h), float(v + h)), {"0.5 MSE": out["loss"]})
                              for name, v, h in zip(STEP_NAMES, out["steps"], out["half"])},
    tolerance={name: tol.relative(0.05) for name in STEP_NAMES},
))


# ---------------------------------------------------------------------------------------------
# Trained one-layer LSA vs the closed-form optimal one-step learner
MAHANKALI = Paper(key="mahankali2023", title="One Step of Gradient Descent is Provably the Optimal In-Context "
                  "Learner with One Layer of Linear Self-Attention", authors="A. Mahankali, T. B. Hashimoto, T. Ma",
                  year=2023, arxiv="2307.03576", venue="ICLR 2024")


def _covariance(cfg):
    if cfg.get("kappa", 1.0) == 1.0:
        return None
    return task.spectrum_covariance(cfg["d"], np.geomspace(1.0, cfg["kappa"], cfg["d"]), cfg["problem_seed"])


def _sim_trained(cfg):
    from theorysim.core.experiment import Experiment
    from theorysim.models.lsa import LinearSelfAttention

    kw = dict(x_dist=cfg.get("x_dist", "gaussian"), sigma=_covariance(cfg), noise_std=cfg.get("noise_std", 0.0),
              response=cfg.get("response", "linear"))
    model = LinearSelfAttention(cfg["d"], cfg["n_context"], layers=1, batch=cfg["batch"], eval_prompts=cfg["eval_prompts"],
                                **kw)
    res = Experiment(model, "adam", lr=cfg["lr"], steps=cfg["steps"], seeds=range(cfg["seeds"]),
                     record_every=max(1, cfg["steps"] // 50), schedule="cosine").run()
    fresh = task.sample(cfg["fresh_seed"], cfg["eval_prompts"], cfg["d"], cfg["n_context"], **kw)
    return {"model": model, "result": res, "fresh": fresh, "sigma": kw["sigma"]}


def effective_preconditioner(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Gamma_eff = -P[d, d] Q[:d, :d]^T: a one-layer LSA with P[d, :d] = 0 and Q[d, :d] = 0
    predicts y_hat = x_q^T Gamma_eff h (sec. 2 of the spec)."""
    d = P.shape[0] - 1
    return -P[d, d] * Q[:d, :d].T


def identity_distance(M: np.ndarray) -> float:
    """Ahn et al.'s Dist(M, I) = min_a ||M - a I||_F / ||M||_F (a = tr M / d)."""
    d = M.shape[0]
    return float(np.linalg.norm(M - np.trace(M) / d * np.eye(d)) / np.linalg.norm(M))


def _trained_checks(cfg, out, target):
    from theorysim.models import lsa as lsa_model

    model, res, fresh = out["model"], out["result"], out["fresh"]
    Sigma = np.eye(cfg["d"]) if out["sigma"] is None else out["sigma"]
    ev = model.eval
    _, h_ev = alg._moments(ev)
    gstar_eval = 0.5 * np.mean((np.einsum("bi,ij,bj->b", ev.xq, target, h_ev) - ev.yq) ** 2)
    closed = 0.5 * theory_mse(target, Sigma, cfg)
    final = res.final("eval_loss")
    best = _best_basin(final)
    cv = final[best] - (gstar_eval - closed)  # control variate: same prompts, known mean
    rel, dist, mismatch = [], [], []
    _, h_fr = alg._moments(fresh)
    gd_pred = np.einsum("bi,ij,bj->b", fresh.xq, target, h_fr)
    for th in res.theta[best]:
        Ps, Qs = model.weights(th)
        G = effective_preconditioner(Ps[0], Qs[0])
        rel.append(np.linalg.norm(G - target) / np.linalg.norm(target))
        dist.append(identity_distance(G))
        pred = lsa_model.predict(fresh.X, fresh.y, fresh.xq, Ps, Qs)
        mismatch.append(np.mean(np.abs(pred - gd_pred)) / np.mean(np.abs(gd_pred)))
    return closed, cv, np.array(rel), np.array(dist), np.array(mismatch)


def _best_basin(final_losses: np.ndarray) -> np.ndarray:
    """Seeds whose final loss is within 2% of the best seed's: the runs that reached the best
    basin. Seeds stuck at a worse critical point are reported (details), not averaged in."""
    return np.nonzero(final_losses <= 1.02 * np.nanmin(final_losses))[0]


def theory_mse(G, Sigma, cfg):
    from theorysim.setups.icl import theory

    return theory.one_layer_mse(G, Sigma, cfg["n_context"], cfg.get("noise_std", 0.0) ** 2)


def _optimal_target(cfg):
    from theorysim.setups.icl import theory

    Sigma = _covariance(cfg)
    Sigma = np.eye(cfg["d"]) if Sigma is None else Sigma
    return theory.optimal_preconditioner(Sigma, cfg["n_context"], cfg.get("noise_std", 0.0) ** 2)


def _measure_trained(cfg, out):
    target = _optimal_target(cfg)
    closed, cv, rel, dist, mismatch = _trained_checks(cfg, out, target)
    final = out["result"].final("eval_loss")
    kept = _best_basin(final)
    m = {
        "in-context loss of the trained LSA": Measurement(*fit.mean_ci(cv), {
            "closed form": closed, "seeds in the best basin": f"{len(kept)} of {len(final)}",
            "final eval losses": final.tolist()}),
        "||Gamma_eff - Gamma*||_F / ||Gamma*||_F": Measurement(*fit.mean_ci(rel)),
        "mean |y_LSA - y_GD*| / mean |y_GD*| on fresh prompts": Measurement(*fit.mean_ci(mismatch)),
    }
    if cfg.get("kappa", 1.0) > 1.0:
        m["Dist(Gamma_eff, I) (Gamma* has)"] = Measurement(*fit.mean_ci(dist), {"Gamma*": identity_distance(target)})
    return m


def _predict_trained(cfg):
    target = _optimal_target(cfg)
    Sigma = _covariance(cfg)
    p = {"in-context loss of the trained LSA": 0.5 * theory_mse(target, np.eye(cfg["d"]) if Sigma is None else Sigma, cfg),
         "||Gamma_eff - Gamma*||_F / ||Gamma*||_F": 0.0,
         "mean |y_LSA - y_GD*| / mean |y_GD*| on fresh prompts": 0.0}
    if cfg.get("kappa", 1.0) > 1.0:
        p["Dist(Gamma_eff, I) (Gamma* has)"] = identity_distance(target)
    return p


TRAINED_TOL = {"in-context loss of the trained LSA": tol.relative(0.02),
               "||Gamma_eff - Gamma*||_F / ||Gamma*||_F": tol.at_most(0.05),
               "mean |y_LSA - y_GD*| / mean |y_GD*| on fresh prompts": tol.at_most(0.05),
               "Dist(Gamma_eff, I) (Gamma* has)": tol.relative(0.1)}


def _plot_trained(cfg, out, verdict):
    plt = pyplot()
    res = out["result"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for row in res.curve("eval_loss"):
        ax.semilogy(res.steps, row, lw=1)
    closed = verdict.checks[0].predicted
    ax.axhline(closed, color="k", ls="--", lw=1, label="optimal one-step (preconditioned) GD, closed form")
    return finish(fig, ax, xlabel="training step", ylabel="in-context loss (eval prompts)",
                  title="one-layer LSA pretraining (Adam, cosine schedule)")


TRAIN_QUICK = {"d": 5, "n_context": 20, "batch": 128, "steps": 2000, "lr": 3e-3, "seeds": 2, "eval_prompts": 4096,
               "fresh_seed": 777, "problem_seed": 3}
TRAIN_FULL = {**TRAIN_QUICK, "batch": 512, "steps": 8000, "seeds": 4, "eval_prompts": 16384}

register(Claim(
    id="mahankali2023/trained-is-one-step-gd",
    paper=MAHANKALI,
    reference="Theorem 1 (isotropic x, w): the optimal one-layer LSA implements one step of GD with step N/(N+1+d+sigma^2)",
    statement="A one-layer LSA pretrained with Adam on isotropic prompts reaches the closed-form optimal in-context loss "
              "within 2%; its effective preconditioner is Gamma* within 5% and its predictions match optimal one-step GD "
              "within 5%.",
    quick=TRAIN_QUICK, full=TRAIN_FULL,
    simulate=_sim_trained, predict=_predict_trained, measure=_measure_trained,
    tolerance={k: v for k, v in TRAINED_TOL.items() if not k.startswith("Dist")},
    plot=_plot_trained,
    note="The loss is a control-variate estimate: the LSA's loss on the evaluation prompts minus the excess of "
         "Gamma*'s loss on the same prompts over its closed form (the loss has heavy tails; 4096 prompts alone "
         "scatter by several %). Trained claims average over the seeds whose final loss is within 2% of the best "
         "seed's (the best basin) and report the count.",
))

register(Claim(
    id="ahn2023/trained-is-preconditioned-gd",
    paper=AHN,
    reference="Theorem 1: for x ~ N(0, Sigma) the optimal one-layer LSA is preconditioned GD with "
              "Gamma* = [((n+1)/n) Sigma + (tr Sigma / n) I]^(-1)",
    statement="On non-isotropic prompts (kappa(Sigma) = 10) a trained one-layer LSA matches Gamma* (within 5%), "
              "not a multiple of the identity: its distance from the identity is Gamma*'s.",
    quick={**TRAIN_QUICK, "kappa": 10.0, "steps": 6000}, full={**TRAIN_FULL, "kappa": 10.0},
    simulate=_sim_trained, predict=_predict_trained, measure=_measure_trained,
    tolerance=TRAINED_TOL,
    plot=_plot_trained,
    note="Training is slow along Sigma's small-eigenvalue directions (the loss is flat there): 2000 steps left "
         "Gamma_eff 10.7% from Gamma* while the loss was within 0.3%, so the quick run trains 6000 steps "
         "(8000 steps: 0.5-0.8%). Finding: from init std 0.02, seed 2 of 4 in the full run stalls at a different "
         "critical point (eval loss 5.89 vs 2.30; P's last row uses the x-entries, Q's last row is nonzero); "
         "the checks use the seeds in the best basin and report how many got there.",
))


def _measure_nonlinear(cfg, out):
    model, res = out["model"], out["result"]
    dist = []
    for th in res.theta[_best_basin(res.final("eval_loss"))]:
        Ps, Qs = model.weights(th)
        dist.append(identity_distance(effective_preconditioner(Ps[0], Qs[0])))
    return Measurement(*fit.mean_ci(np.array(dist)))


register(Claim(
    id="mahankali2023/nonlinear-response-still-gd",
    paper=MAHANKALI,
    reference="Theorem 2 / sec. 4: with nonlinear responses and isotropic x the optimal one-layer LSA is still one step of GD",
    statement="With tanh responses y = tanh(w^T x) and isotropic x, the learned preconditioner stays a multiple of the "
              "identity: Dist(Gamma_eff, I) under 5%.",
    quick={**TRAIN_QUICK, "response": "tanh"}, full={**TRAIN_FULL, "response": "tanh"},
    simulate=_sim_trained, predict=lambda cfg: 0.0, measure=_measure_nonlinear,
    tolerance=tol.at_most(0.05),
))


def _sim_uniform(cfg):
    out = _sim_trained({**cfg, "x_dist": "uniform"})
    return out


def _measure_uniform(cfg, out):
    from theorysim.setups.icl import theory

    eta, closed = theory.uniform_optimal_step(cfg["d"], cfg["n_context"])
    ev = out["model"].eval
    gd_eval = alg.icl_loss(ev, alg.predict(ev, alg.gd(ev, eta, 1)))
    final = out["result"].final("eval_loss")
    cv = final[_best_basin(final)] - (gd_eval - closed)
    return {"best one-step GD: 0.5 MSE (closed form)": Measurement(closed, details={"eta*": eta}),
            "trained one-layer LSA (control variate)": Measurement(*fit.mean_ci(cv))}


register(Claim(
    id="vonoswald2023/uniform-gd-optimum",
    paper=VONOSWALD,
    reference="A.11 ('GD loss of 0.2') and Figure 2 (trained 1-layer LSA matches GD), data U(-0.5, 0.5)^10, N = 10",
    statement="On U(-0.5, 0.5)^10 prompts with N = 10, the best one-step GD has 0.5 MSE = 0.206 (the paper's 'GD loss of "
              "0.2', within 5%), and a trained one-layer LSA reaches it within 2%.",
    quick={**TRAIN_QUICK, "d": 10, "n_context": 10, "x_dist": "uniform"},
    full={**TRAIN_FULL, "d": 10, "n_context": 10, "x_dist": "uniform"},
    simulate=_sim_uniform,
    predict=lambda cfg: {"best one-step GD: 0.5 MSE (closed form)": 0.2,
                         "trained one-layer LSA (control variate)": 0.5 * (1 / 12) * cfg["d"] * (cfg["d"] - 0.2)
                         / (cfg["n_context"] + cfg["d"] - 0.2)},
    measure=_measure_uniform,
    tolerance={"best one-step GD: 0.5 MSE (closed form)": tol.relative(0.05),
               "trained one-layer LSA (control variate)": tol.relative(0.02)},
    plot=_plot_trained,
    note="The uniform data follow the authors' code (U(-input_range/2, input_range/2), input_range = 1), which is what "
         "their numbers match; the paper's text says U(-1, 1), which would give 0.825.",
))


# ---------------------------------------------------------------------------------------------
# Trained K-layer LSA vs K-step GD / GD++ / Iterative Newton (shared training, multilayer.py)
def _sim_multilayer(cfg):
    from theorysim.setups.icl import multilayer

    return multilayer.compare_depths(cfg)


def _seed_losses(row):
    return row["lsa_sq"].mean(axis=1)


def _measure_multilayer(cfg, out):
    from theorysim.setups.icl import multilayer

    m = {}
    for K, row in out["depths"].items():
        losses = _seed_losses(row)
        worst = int(np.argmax(losses))
        ratio, (lo, hi) = multilayer.paired_ratio(row["lsa_sq"][worst], row["gd_sq"])
        gd, gdpp = row["gd_sq"].mean(), row["gdpp_sq"].mean()
        m[f"K={K}: LSA / tuned {K}-step GD loss, worst seed (lower 95% bound)"] = Measurement(lo, None, {
            "ratio": ratio, "ci": [lo, hi], "LSA test losses (seeds)": losses.tolist(), f"{K}-step GD": float(gd),
            "GD steps": row["gd_params"]["etas"], "training eval losses": row["train_final"].tolist()})
        if K >= 2:
            med = float(np.median(losses))
            m[f"K={K}: share of the log-loss gap from GD to GD++ closed (median seed)"] = Measurement(
                float(np.log(gd / med) / np.log(gd / gdpp)), None,
                {"LSA (median seed)": med, f"{K}-step GD": float(gd), "GD++": float(gdpp), "GD++ parameters": row["gdpp_params"]})
    return m


def _predict_multilayer(cfg):
    p = {}
    for K in cfg["depths"]:
        p[f"K={K}: LSA / tuned {K}-step GD loss, worst seed (lower 95% bound)"] = 1.0
        if K >= 2:
            p[f"K={K}: share of the log-loss gap from GD to GD++ closed (median seed)"] = 1.0
    return p


def _tol_multilayer(cfg):
    return {k: (tol.at_most(1.0) if "worst seed" in k else tol.at_least(0.8)) for k in _predict_multilayer(cfg)}


def _plot_multilayer(cfg, out, verdict):
    plt = pyplot()
    Ks = sorted(out["depths"])
    fig, ax = plt.subplots(figsize=(6, 4))
    rows = [out["depths"][K] for K in Ks]
    for s in range(len(_seed_losses(rows[0]))):
        ax.semilogy(Ks, [_seed_losses(r)[s] for r in rows], "o", color="C0", alpha=0.6,
                    label="trained LSA (each seed)" if s == 0 else None)
    ax.semilogy(Ks, [r["gd_sq"].mean() for r in rows], "s-", color="C1", label="K-step GD, steps tuned")
    ax.semilogy(Ks, [r["gdpp_sq"].mean() for r in rows], "^-", color="C2", label="K-layer GD++, tuned")
    ax.set_xticks(Ks)
    return finish(fig, ax, xlabel="layers K", ylabel="in-context loss (test prompts)",
                  title="trained K-layer LSA vs K steps of GD and GD++")


MULTILAYER_QUICK = {"d": 5, "n_context": 10, "x_dist": "uniform", "depths": [1, 2, 3], "batch": 256, "steps": 15000,
                    "lr": 1e-2, "warmup": 500, "max_grad_norm": 1.0, "init_scale": 0.05, "token_clip": 10.0,
                    "seeds": 3, "eval_prompts": 2048, "tune_seed": 4321, "tune_prompts": 8192, "tune_starts": 8,
                    "test_seed": 8765, "test_prompts": 16384, "newton_max": 20, "gd_steps": [2**i for i in range(13)]}
MULTILAYER_FULL = {**MULTILAYER_QUICK, "depths": [1, 2, 3, 4], "batch": 512, "steps": 20000, "seeds": 5,
                   "tune_prompts": 32768, "tune_starts": 24, "test_prompts": 65536}

register(Claim(
    id="vonoswald2023/multilayer-vs-gd",
    paper=VONOSWALD,
    reference="sec. 3 and Figure 3: trained K-layer linear self-attention beats K steps of GD and matches GD++",
    statement="Trained K-layer LSA (U(-0.5, 0.5)^5 prompts, N = 10; K = 1..3 quick, 1..4 full) is at least as good as "
              "K steps of GD with step sizes tuned on the task distribution (every seed; within the 95% interval), and "
              "for K >= 2 closes at least 80% of the log-loss gap from K-step GD to K-layer GD++ (tuned likewise).",
    quick=MULTILAYER_QUICK, full=MULTILAYER_FULL,
    simulate=_sim_multilayer, predict=_predict_multilayer, measure=_measure_multilayer,
    tolerance=_tol_multilayer(MULTILAYER_FULL), plot=_plot_multilayer,
    note="GD and GD++ are tuned (per-layer steps and curvature corrections, L-BFGS with exact gradients from "
         "several starts) on prompts separate from the test prompts; every loss is measured on the same "
         "fresh test prompts. The 80% share is our reading of 'matches GD++'. Findings: (1) on Gaussian prompts "
         "the tuned GD++ for K >= 3 is a polynomial of degree 3^K in the context covariance and explodes on rare "
         "test prompts with extreme eigenvalues (K = 4, d = 5, N = 10: test 0.5 MSE 1.2e4), so the comparison uses "
         "von Oswald's bounded U(-0.5, 0.5) inputs. (2) K = 4 needs more training than a quick run: at batch 256 "
         "and 10000 steps the LSA closed 56% of the gap (median 7.9e-4 vs GD 9.8e-3, GD++ 1.08e-4); at batch 512 "
         "and 20000 steps it reached 9e-5, below GD++; so the quick run stops at K = 3 (15000 steps: 95%).",
))


def _matches(out):
    Ks = np.array(sorted(out["depths"]), dtype=float)
    newton = np.array([np.median([m["best_newton"] for m in out["depths"][K]["match"]]) for K in Ks])
    gd = np.array([np.median([m["best_gd"] for m in out["depths"][K]["match"]]) for K in Ks])
    return Ks, newton, gd


def _measure_layers_newton(cfg, out):
    Ks, newton, gd = _matches(out)
    nw = stats.linregress(Ks, newton)
    gd_fit = stats.linregress(Ks, np.log(gd))
    per_seed = {f"K={int(K)}": [(m["best_newton"], m["best_gd"]) for m in out["depths"][K]["match"]] for K in Ks}
    return {
        "best-matching Newton iteration: increase per layer": Measurement(float(nw.slope), None, {
            "median best Newton iteration per K": newton.tolist(), "(Newton, GD) per seed": per_seed}),
        "best-matching Newton iteration: R^2 of the linear law": Measurement(float(nw.rvalue**2)),
        "best-matching GD step count: growth factor per layer": Measurement(float(np.exp(gd_fit.slope)), None, {
            "median best GD step count per K": gd.tolist()}),
    }


def _plot_layers_newton(cfg, out, verdict):
    plt = pyplot()
    Ks, newton, gd = _matches(out)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    a1.plot(Ks, newton, "o-")
    a1.set_xticks(Ks)
    finish(fig, a1, xlabel="layers K", ylabel="best-matching Newton iteration", title="Iterative Newton")
    a2.semilogy(Ks, gd, "s-", color="C1")
    a2.set_xticks(Ks)
    return finish(fig, a2, xlabel="layers K", ylabel="best-matching GD step count", title="GD (step 1/lambda_max)")


register(Claim(
    id="fu2023/layers-match-newton",
    paper=FU,
    reference="sec. 4.2: the best-matching Iterative Newton iteration grows linearly with layer index "
              "(about 3 per layer) while the best-matching GD step count grows exponentially",
    statement="For trained K-layer LSA (K = 1..3 quick, 1..4 full), the Newton iteration whose predictions are closest to the model's "
              "grows linearly in K (R^2 >= 0.9, at least 1 iteration per layer) while the closest GD step count "
              "grows at least 2x per layer.",
    quick=MULTILAYER_QUICK, full=MULTILAYER_FULL,
    simulate=_sim_multilayer,
    predict=lambda cfg: {"best-matching Newton iteration: increase per layer": 3.0,
                         "best-matching Newton iteration: R^2 of the linear law": 1.0,
                         "best-matching GD step count: growth factor per layer": 2.0},
    measure=_measure_layers_newton,
    tolerance={"best-matching Newton iteration: increase per layer": tol.at_least(1.0),
               "best-matching Newton iteration: R^2 of the linear law": tol.at_least(0.9),
               "best-matching GD step count: growth factor per layer": tol.at_least(2.0)},
    plot=_plot_layers_newton,
    note="The paper probes a 12-layer softmax GPT-2; here each depth is its own trained LSA and the match is made on "
         "final predictions. Match = argmin over iterations of mean (y_LSA - y_alg)^2 / mean y_alg^2 on the test "
         "prompts (the paper's argmax of error-vector cosine is ill-defined once late iterates are exact, as they "
         "are for noiseless prompts with N > d). Newton starts at M_0 = S / ||S S^T||_F; GD uses step 1/lambda_max(S/N).",
))
