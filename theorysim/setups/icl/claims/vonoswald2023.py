"""Claims of von Oswald et al. (2023), "Transformers learn in-context by gradient descent" (ICML 2023)."""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from theorysim import fit
from theorysim.claims import Claim, Measurement, register, tol
from theorysim.plotting import finish, pyplot
from theorysim.setups.icl import model as lsa
from theorysim.setups.icl import algorithms as alg
from theorysim.setups.icl import task
from theorysim.setups.icl.papers import VONOSWALD
from theorysim.setups.icl.simulation import (
    MULTILAYER_FULL, MULTILAYER_QUICK, TRAIN_FULL, TRAIN_QUICK, kept_label, kept_seeds,
    plot_trained, sim_multilayer, sim_trained,
)


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


# vonoswald2023/gdpp-gamma (and ahn2023/three-layer-steps, the same method): optimal parameters by Monte Carlo.
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


def _sim_uniform(cfg):
    out = sim_trained({**cfg, "x_dist": "uniform"})
    return out


def _measure_uniform(cfg, out):
    from theorysim.setups.icl import theory

    eta, closed = theory.uniform_optimal_step(cfg["d"], cfg["n_context"])
    ev = out["model"].eval
    gd_eval = alg.icl_loss(ev, alg.predict(ev, alg.gd(ev, eta, 1)))
    final = out["result"].final("eval_loss")
    cv = final[kept_seeds(out)] - (gd_eval - closed)
    return {"best one-step GD: 0.5 MSE (closed form)": Measurement(closed, details={"eta*": eta}),
            "trained one-layer LSA (control variate)": Measurement(*fit.mean_ci(cv), label=kept_label(out))}


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
    plot=plot_trained,
    note="The uniform data follow the authors' code (U(-input_range/2, input_range/2), input_range = 1), which is what "
         "their numbers match; the paper's text says U(-1, 1), which would give 0.825.",
))


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


register(Claim(
    id="vonoswald2023/multilayer-vs-gd",
    paper=VONOSWALD,
    reference="sec. 3 and Figure 3: trained K-layer linear self-attention beats K steps of GD and matches GD++",
    statement="Trained K-layer LSA (U(-0.5, 0.5)^5 prompts, N = 10; K = 1..3 quick, 1..4 full) is at least as good as "
              "K steps of GD with step sizes tuned on the task distribution (every seed; within the 95% interval), and "
              "for K >= 2 closes at least 80% of the log-loss gap from K-step GD to K-layer GD++ (tuned likewise).",
    quick=MULTILAYER_QUICK, full=MULTILAYER_FULL,
    simulate=sim_multilayer, predict=_predict_multilayer, measure=_measure_multilayer,
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
