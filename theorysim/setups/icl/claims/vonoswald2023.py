"""Claims of von Oswald et al. (2023), "Transformers learn in-context by gradient descent" (ICML 2023).

What the paper states (spec shared/papers/icl.md sec. 2, 4, 5):

* Proposition 1 / A.1 eq. 8: LSA layers with explicit weights compute K steps of GD (A.10 eq. 23:
  GD++): an exact identity (tested as a float64 error).
* A.10: gamma read from trained recurrent 2-layer models, 0.179 / 0.099 / 0.056 / 0.029 for N = 10 /
  25 / 50 / 100: exact values (three digits, from trained models) within a tolerance.
* A.11 and Figure 2: a "GD loss of 0.2", and the trained one-layer LSA's loss identical to GD's: exact
  values.
* sec. 3 and Figure 3: trained K-layer LSA beats K steps of GD (an upper bound on its loss, the
  constant 1 = GD's loss) and matches GD++ (an equality, within a tolerance); at K = 1 it equals
  one step of GD (Figure 2).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from theorysim.claims import Claim, Measurement, register, tol
from theorysim.plotting import finish, pyplot
from theorysim.setups.icl import model as lsa
from theorysim.setups.icl import algorithms as alg
from theorysim.setups.icl import task
from theorysim.setups.icl.papers import VONOSWALD
from theorysim.setups.icl.simulation import (
    MULTILAYER_FULL, MULTILAYER_QUICK, TRAIN_FULL, TRAIN_QUICK, kept_label, kept_seeds,
    plot_trained, ratio_values, seeds_and_prompts, sim_multilayer, sim_trained,
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
    return Measurement.exact(worst, "deterministic: the largest float64 difference over every prompt and case "
                             "(no sampling enters an identity)", details={"cases": len(out), "prompts": cfg["prompts"]})


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
    tolerance=tol.error_at_most(1e-12),
    note="Kind: an exact identity measured as an error (the worst relative difference, float64 rounding only).",
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
    return {f"gamma, N={N}": Measurement(o["gamma"], (o["gamma"] - o["gamma_half"], o["gamma"] + o["gamma_half"]),
                                         {"eta": o["eta"], "relative half-width": o["gamma_half"] / o["gamma"]},
                                         ci_method=f"Student t interval over {cfg['chunks']} independent prompt sets, "
                                                   "each optimised on its own", n=cfg["chunks"], unit="prompt sets")
            for N, o in out.items()}


register(Claim(
    id="vonoswald2023/gdpp-gamma",
    paper=VONOSWALD,
    reference="sec. 3 and A.10: gamma of trained recurrent 2-layer models, 0.179 / 0.099 / 0.056 / 0.029 for N = 10 / 25 / 50 / 100",
    statement="The loss-optimal (eta, gamma) of 2-step recurrent GD++ on U(-0.5, 0.5)^10 has gamma within 5% of the "
              "paper's trained values for N = 10, 25, 50, 100.",
    quick={"d": 10, "n_contexts": [10, 25, 50, 100], "starts": [[13.0, 0.17], [18.0, 0.1], [20.0, 0.055], [20.0, 0.03]],
           "prompts": 40000, "chunks": 5, "seed": 0},
    full={"d": 10, "n_contexts": [10, 25, 50, 100], "starts": [[13.0, 0.17], [18.0, 0.1], [20.0, 0.055], [20.0, 0.03]],
          "prompts": 200000, "chunks": 5, "seed": 0},
    simulate=_sim_gdpp,
    predict=lambda cfg: {f"gamma, N={N}": PAPER_GAMMA[N] for N in cfg["n_contexts"]},
    measure=_measure_gdpp,
    tolerance={f"gamma, N={N}": tol.relative(0.05) for N in PAPER_GAMMA},
    note="Kind: exact values (the paper's gammas, three digits, read from trained models) within 5%; each CI is the "
         "t interval over `chunks` independent prompt sets. A first version optimised on one set of 4000 prompts and "
         "read gamma = 0.170 at N = 10 (5.0% off, FAIL) without an error bar; the loss is flat in gamma there, so the "
         "estimate now comes with its statistical error. The former check 'statistical error of gamma under 1%' is "
         "gone: with the CI deciding, a CI too wide to place gamma inside or outside its region is INCONCLUSIVE "
         "by itself (the half-widths are in the details).",
))


def _sim_uniform(cfg):
    out = sim_trained({**cfg, "x_dist": "uniform"})
    return out


def _measure_uniform(cfg, out):
    from theorysim.setups.icl import theory

    eta, closed = theory.uniform_optimal_step(cfg["d"], cfg["n_context"])
    ev = out["model"].eval
    gd_eval = alg.icl_loss(ev, alg.predict(ev, alg.gd(ev, eta, 1)))
    gd_sq = 0.5 * (alg.predict(ev, alg.gd(ev, eta, 1)) - ev.yq) ** 2
    model, res = out["model"], out["result"]
    cv = []  # per kept seed and prompt: the LSA's squared error minus GD's on the same prompt, plus GD's closed form
    for th in res.theta[kept_seeds(out)]:
        cv.append(0.5 * (lsa.predict(ev.X, ev.y, ev.xq, *model.weights(th)) - ev.yq) ** 2 - gd_sq + closed)
    final = res.final("eval_loss")
    return {"best one-step GD: 0.5 MSE (closed form)": Measurement.exact(
                closed, "closed form (theory.uniform_optimal_step): an exact computation", details={"eta*": eta}),
            "trained one-layer LSA (control variate)": seeds_and_prompts(np.array(cv), kept_label(out), {
                "GD on the eval prompts": gd_eval, "final eval losses": final.tolist()})}


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
         "their numbers match; the paper's text says U(-1, 1), which would give 0.825. Kinds: exact values. The "
         "closed form needs no CI; the trained LSA's control-variate loss has the t interval over the kept seeds "
         "combined with the interval over the evaluation prompts.",
))


def _seed_losses(row):
    return row["lsa_sq"].mean(axis=1)


def _ratio_name(K):
    return ("K=1: LSA / tuned 1-step GD loss (mean over seeds)" if K == 1
            else f"K={K}: LSA / tuned {K}-step GD loss (mean over seeds)")


def _share_name(K):
    return f"K={K}: share of the log-loss gap from GD to GD++ closed (mean over seeds)"


def _share_values(lsa_sq, gd_sq, gdpp_sq):
    """Per seed s the share (ln g - ln a_s) / (ln g - ln q) of the mean losses a_s (LSA), g (GD), q
    (GD++) over the test prompts, written as linearised per-prompt values (the share plus its
    influence function), so :func:`seeds_and_prompts` gives its CI (delta method over prompts)."""
    a = lsa_sq.mean(axis=1)
    g, q = gd_sq.mean(), gdpp_sq.mean()
    D = np.log(g) - np.log(q)
    share = (np.log(g) - np.log(a)) / D
    infl = (-(lsa_sq - a[:, None]) / (a[:, None] * D) + ((1 - share)[:, None] * (gd_sq - g)[None, :]) / (g * D)
            + (share[:, None] * (gdpp_sq - q)[None, :]) / (q * D))
    return share[:, None] + infl


def _measure_multilayer(cfg, out):
    m = {}
    for K, row in out["depths"].items():
        losses = _seed_losses(row)
        gd, gdpp = row["gd_sq"].mean(), row["gdpp_sq"].mean()
        ratios = ratio_values(row["lsa_sq"], row["gd_sq"])
        m[_ratio_name(K)] = seeds_and_prompts(ratios, f"{len(losses)} seeds", {
            "LSA test losses (seeds)": losses.tolist(), f"{K}-step GD": float(gd),
            "worst seed's ratio": float(ratios.mean(axis=1).max()),
            "GD steps": row["gd_params"]["etas"], "training eval losses": row["train_final"].tolist()})
        if K >= 2:
            m[_share_name(K)] = seeds_and_prompts(_share_values(row["lsa_sq"], row["gd_sq"], row["gdpp_sq"]),
                                                  f"{len(losses)} seeds", {
                "LSA (median seed)": float(np.median(losses)), f"{K}-step GD": float(gd), "GD++": float(gdpp),
                "GD++ parameters": row["gdpp_params"]})
    return m


def _predict_multilayer(cfg):
    p = {}
    for K in cfg["depths"]:
        p[_ratio_name(K)] = 1.0
        if K >= 2:
            p[_share_name(K)] = 1.0
    return p


def _tol_multilayer(cfg):
    """K = 1: the trained one-layer LSA's loss equals one GD step's (Figure 2: 'identical'), an exact
    value with the 2% this setup allows every trained one-layer LSA; K >= 2: it beats K steps of GD,
    an upper bound with the constant 1; it matches GD++, an equality read as within 20% of the
    log-loss gap from GD to GD++ (share in [0.8, 1.2])."""
    out = {}
    for k in _predict_multilayer(cfg):
        if k.startswith("K=1:"):
            out[k] = tol.relative(0.02)
        elif "share" in k:
            out[k] = tol.interval(0.8, 1.2)
        else:
            out[k] = tol.upper_bound(1.0, "LSA loss <= tuned K-step GD loss")
    return out


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
    statement="Trained K-layer LSA (U(-0.5, 0.5)^5 prompts, N = 10; K = 1..3 quick, 1..4 full) has the loss of one GD "
              "step at K = 1 (within 2%), and for K >= 2 a loss no larger than K steps of GD with step sizes tuned on "
              "the task distribution, and matches K-layer GD++ (tuned likewise): it closes 80% to 120% of the "
              "log-loss gap from K-step GD to GD++ (mean over seeds).",
    quick=MULTILAYER_QUICK, full=MULTILAYER_FULL,
    simulate=sim_multilayer, predict=_predict_multilayer, measure=_measure_multilayer,
    tolerance=_tol_multilayer(MULTILAYER_FULL), plot=_plot_multilayer,
    note="GD and GD++ are tuned (per-layer steps and curvature corrections, L-BFGS with exact gradients from "
         "several starts) on prompts separate from the test prompts; every loss is measured on the same "
         "fresh test prompts. Kinds: K = 1 an exact value (ratio 1, 2% as for every trained one-layer LSA here); "
         "K >= 2 an upper bound (ratio <= 1, the paper's constant) and an equality with GD++ (the share in "
         "[0.8, 1.2]: 'matches' is our reading, 20% of the log gap either way). CIs: t over seeds combined with "
         "the delta method over the test prompts (the tuned GD / GD++ parameters are treated as fixed). The "
         "first version tested 'LSA <= GD' on the worst seed's lower 95% bound (a lower end cannot show an upper "
         "bound holds) and 'share >= 0.8' on the median seed, without CIs; at K = 1 the ratio is 1 by the paper's "
         "own statement, so a bound <= 1 sat on its boundary. Findings: (1) on Gaussian prompts "
         "the tuned GD++ for K >= 3 is a polynomial of degree 3^K in the context covariance and explodes on rare "
         "test prompts with extreme eigenvalues (K = 4, d = 5, N = 10: test 0.5 MSE 1.2e4), so the comparison uses "
         "von Oswald's bounded U(-0.5, 0.5) inputs. (2) K = 4 needs more training than a quick run: at batch 256 "
         "and 10000 steps the LSA closed 56% of the gap (median 7.9e-4 vs GD 9.8e-3, GD++ 1.08e-4); at batch 512 "
         "and 20000 steps it reached 9e-5, below that GD++; so the quick run stops at K = 3 (15000 steps: 95%). With "
         "GD++ tuned from 24 starts (2.3e-5 at K = 4), 20000 steps closed 81% [77%, 85%] of the gap (INCONCLUSIVE), "
         "so the full run trains K = 4 for 50000 steps, the budget of the paper's non-recurrent models (its "
         "notebook); K = 1..3 keep 20000.",
))
