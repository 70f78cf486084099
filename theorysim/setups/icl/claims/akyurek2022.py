"""Claims of Akyurek, Schuurmans, Andreas, Ma, Zhou (2022), "What learning algorithm is in-context
learning? Investigations with linear models" (ICLR 2023)."""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from theorysim.claims import Claim, Measurement, register, tol
from theorysim.plotting import finish, pyplot
from theorysim.setups.icl import algorithms as alg
from theorysim.setups.icl import task
from theorysim.setups.icl.papers import AKYUREK


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
