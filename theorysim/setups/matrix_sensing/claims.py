"""Claims of Xiong, Ding, Du (2023): over-parameterization slows GD in matrix sensing from a
linear rate to 1/T (symmetric X X^T), asymmetry F G^T restores a linear rate proportional to
alpha^2, and one modified step removes the alpha dependence."""
from __future__ import annotations

import numpy as np

from theorysim import fit
from theorysim.claims import Claim, Measurement, Paper, register, tol
from theorysim.plotting import finish, pyplot, seed_curves
from theorysim.setups.matrix_sensing import problem

PAPER = Paper(key="xiong2023", title="How Over-Parameterization Slows Down Gradient Descent in Matrix Sensing: "
              "The Curses of Symmetry and Initialization", authors="N. Xiong, L. Ding, S. S. Du", year=2023,
              arxiv="2310.01769", venue="ICLR 2024")

BASE = {"n": 10, "r": 2, "m": 300, "problem_seed": 0}


def linear_rates(steps, curves, lo: float, hi: float) -> np.ndarray:
    """Per-row decay rate -d log(error)/dt, fitted where lo <= error <= hi (the linear phase:
    after the initial alignment, above the float64 floor)."""
    c = np.where((curves >= lo) & (curves <= hi), curves, np.nan)
    return -fit.exp_rate(steps, c).slope.per_seed


def _cv(values) -> float:
    v = np.asarray(values, dtype=float)
    return float(np.std(v) / np.mean(v))


# ---------------------------------------------------------------------------------------------
# Linear rates across alpha: sym-exact-linear, asym-exact-linear, asym-overparam-alpha2
def _sim_rates(cfg):
    mdl = problem.model({**BASE, **cfg}, cfg["k"], cfg["factorization"])
    res, g = problem.run(mdl, cfg["alphas"], [cfg["eta"]], cfg["seeds"], cfg["steps"], cfg["record_every"])
    curves = problem.group_curves(res, g)
    rates = {a: linear_rates(res.steps, curves[(a, cfg["eta"])], *cfg["window"]) for a in cfg["alphas"]}
    return {"steps": res.steps, "curves": curves, "rates": rates}


def _measure_alpha_free(cfg, out):
    means = {a: float(np.mean(r)) for a, r in out["rates"].items()}
    return {"rate variation across alpha (std / mean)": Measurement(_cv(list(means.values())), None, {
                "rate per alpha (mean over seeds)": {str(a): v for a, v in means.items()}, "eta": cfg["eta"]})}


def _plot_rates(cfg, out, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for a in cfg["alphas"]:
        seed_curves(ax, out["steps"], out["curves"][(a, cfg["eta"])], label=f"alpha={a:g}", log=True)
    ax.axhspan(*cfg["window"], color="0.9", zorder=0, label="fit window")
    k = cfg["k"]
    name = "X X^T" if cfg["factorization"] == "XXT" else "F G^T"
    return finish(fig, ax, xlabel="GD step t", ylabel="||M_t - M*||_F",
                  title=f"{name}, k = {k}, r = {BASE['r']}, eta = {cfg['eta']:g}")


SYM_EXACT = {"factorization": "XXT", "k": 2, "eta": 0.1, "alphas": [0.1, 0.3, 1.0], "seeds": 3, "steps": 1500,
             "record_every": 5, "window": (1e-11, 1e-3)}

register(Claim(
    id="xiong2023/sym-exact-linear",
    paper=PAPER,
    reference="abstract and sec. 1: exact parameterization (k = r) converges at exp(-Omega(T))",
    statement="X X^T with k = r converges linearly, at a rate that varies by less than 5% across alpha in {0.1, 0.3, 1}.",
    quick=SYM_EXACT, full={**SYM_EXACT, "seeds": 10, "alphas": [0.03, 0.1, 0.3, 1.0]},
    simulate=_sim_rates, predict=lambda cfg: {"rate variation across alpha (std / mean)": 0.0},
    measure=_measure_alpha_free, tolerance={"rate variation across alpha (std / mean)": tol.at_most(0.05)},
    plot=_plot_rates,
    note="The spec's planning run measured 0.0745 per step at eta = 0.1 for every alpha (n = 10, r = 2, m = 300).",
))

ASYM_EXACT = {**SYM_EXACT, "factorization": "FGT", "eta": 0.2, "alphas": [0.1, 0.2, 0.4], "steps": 2500}

register(Claim(
    id="xiong2023/asym-exact-linear",
    paper=PAPER,
    reference="abstract: asymmetric exact parameterization converges globally at exp(-Omega(T))",
    statement="F G^T with k = r converges linearly, at a rate that varies by less than 5% across alpha in {0.1, 0.2, 0.4}.",
    quick=ASYM_EXACT, full={**ASYM_EXACT, "seeds": 10},
    simulate=_sim_rates, predict=lambda cfg: {"rate variation across alpha (std / mean)": 0.0},
    measure=_measure_alpha_free, tolerance={"rate variation across alpha (std / mean)": tol.at_most(0.05)},
    plot=_plot_rates,
))


def _measure_alpha2(cfg, out):
    alphas = sorted(out["rates"])
    means = np.array([np.mean(out["rates"][a]) for a in alphas])
    m = {}
    for a, b, ra, rb in zip(alphas, alphas[1:], means, means[1:]):
        m[f"rate({b:g}) / rate({a:g})"] = Measurement(float(rb / ra), None, {"alpha ratio": b / a})
    norm = means / (cfg["eta"] * np.array(alphas) ** 2)
    m["rate / (eta alpha^2): variation across alpha (std / mean)"] = Measurement(_cv(norm), None, {
        "rate / (eta alpha^2) per alpha": dict(zip(map(str, alphas), norm.tolist())),
        "rate per alpha": dict(zip(map(str, alphas), means.tolist()))})
    return m


ASYM_OVER = {**ASYM_EXACT, "k": 4, "steps": 40000, "record_every": 50, "seeds": 2, "window": (1e-9, 1e-4)}


def _predict_alpha2(cfg):
    a = sorted(cfg["alphas"])
    p = {f"rate({y:g}) / rate({x:g})": (y / x) ** 2 for x, y in zip(a, a[1:])}
    p["rate / (eta alpha^2): variation across alpha (std / mean)"] = 0.0
    return p


register(Claim(
    id="xiong2023/asym-overparam-alpha2",
    paper=PAPER,
    reference="Theorem 1.3 / abstract: asymmetric over-parameterized GD converges at exp(-Omega(alpha^2 T))",
    statement="F G^T with k = 4 > r = 2 converges linearly at a rate proportional to alpha^2: doubling alpha multiplies "
              "the rate by 3.5-4.5, and rate / (eta alpha^2) varies by less than 10% across alpha in {0.1, 0.2, 0.4}.",
    quick=ASYM_OVER, full={**ASYM_OVER, "seeds": 6},
    simulate=_sim_rates, predict=_predict_alpha2, measure=_measure_alpha2,
    tolerance={"rate(0.2) / rate(0.1)": tol.interval(3.5, 4.5), "rate(0.4) / rate(0.2)": tol.interval(3.5, 4.5),
               "rate / (eta alpha^2): variation across alpha (std / mean)": tol.at_most(0.10)},
    plot=_plot_rates,
    note="The spec's planning run measured rate / (eta alpha^2) = 0.348 / 0.352 / 0.351 for alpha = 0.1 / 0.2 / 0.4.",
))


# ---------------------------------------------------------------------------------------------
# xiong2023/sym-overparam-sublinear
def _sim_sublinear(cfg):
    mdl = problem.model({**BASE, **cfg}, cfg["k"], "XXT")
    res, g = problem.run(mdl, cfg["alphas"], cfg["etas"], cfg["seeds"], cfg["steps"], cfg["record_every"])
    return {"steps": res.steps, "curves": problem.group_curves(res, g)}


def _measure_sublinear(cfg, out):
    T = cfg["steps"]
    win = (T / 4, T)
    all_curves = np.concatenate(list(out["curves"].values()))
    slope = fit.power_law(out["steps"], all_curves, window=win)
    slope_sq = fit.power_law(out["steps"], all_curves**2, window=win)
    laws = fit.compare_laws(out["steps"], all_curves, window=win)
    const = {f"eta={eta:g}, alpha={a:g}": float(np.mean(c[:, -1]) * eta * T) for (a, eta), c in out["curves"].items()}
    v = np.array(list(const.values()))
    return {
        "log-log slope of ||XX^T - M*||_F on [T/4, T]": Measurement(slope.estimate, slope.ci, {"r2": slope.r2}),
        "log-log slope of the squared error": Measurement(slope_sq.estimate, slope_sq.ci),
        "err * eta * T: spread across (eta, alpha), (max - min) / mean": Measurement(float(np.ptp(v) / v.mean()), None, const),
        "power law vs exponential: delta AIC (> 10 favours the power law)": Measurement(laws.delta_aic, None, {
            "r2 power": laws.r2_power, "r2 exponential": laws.r2_exponential}),
    }


def _plot_sublinear(cfg, out, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for (a, eta), c in out["curves"].items():
        seed_curves(ax, out["steps"][1:], c[:, 1:], label=f"eta={eta:g}, alpha={a:g}", log=True)
    ax.set_xscale("log")
    t = out["steps"][1:]
    ax.loglog(t, 0.55 / (0.1 * t), "k--", lw=1, label="0.55 / (eta t), eta = 0.1")
    return finish(fig, ax, xlabel="GD step t", ylabel="||X X^T - M*||_F", title="over-parameterized X X^T (k = 4, r = 2)")


SUBLINEAR = {"k": 4, "etas": [0.05, 0.1], "alphas": [0.5, 1.0], "seeds": 2, "steps": 20000, "record_every": 100}

register(Claim(
    id="xiong2023/sym-overparam-sublinear",
    paper=PAPER,
    reference="Theorem 3.1 (informal Thm 1.1): ||X_T X_T^T - M*||_F^2 >= Omega(1/T^2) for over-parameterized symmetric GD",
    statement="X X^T with k = 4 > r = 2: the error decays like 1/T (log-log slope on [T/4, T] in [-1.1, -0.9]; the "
              "squared error near -2), err * eta * T is the same within 10% across eta and alpha, and a power law fits "
              "clearly better than an exponential (delta AIC > 10).",
    quick=SUBLINEAR, full={**SUBLINEAR, "seeds": 6, "steps": 80000, "record_every": 400},
    simulate=_sim_sublinear,
    predict=lambda cfg: {"log-log slope of ||XX^T - M*||_F on [T/4, T]": -1.0, "log-log slope of the squared error": -2.0,
                         "err * eta * T: spread across (eta, alpha), (max - min) / mean": 0.0,
                         "power law vs exponential: delta AIC (> 10 favours the power law)": 10.0},
    measure=_measure_sublinear,
    tolerance={"log-log slope of ||XX^T - M*||_F on [T/4, T]": tol.interval(-1.1, -0.9),
               "log-log slope of the squared error": tol.interval(-2.2, -1.8),
               "err * eta * T: spread across (eta, alpha), (max - min) / mean": tol.at_most(0.10),
               "power law vs exponential: delta AIC (> 10 favours the power law)": tol.at_least(10.0)},
    plot=_plot_sublinear,
    note="Why 1/T (spec A2, derived): a spurious direction j outside col(M*) follows j <- j (1 - 2 eta j^2), so "
         "j_t^2 ~ 1 / (4 eta t) once t >> 1 / (eta alpha^2): the error is alpha-free and proportional to 1 / (eta t).",
))


# ---------------------------------------------------------------------------------------------
# xiong2023/asym-speeds-up-symmetric
def _sim_speedup(cfg):
    c = {**BASE, **cfg}
    out = {"steps": None, "curves": {}}
    for fac in ("XXT", "FGT"):
        mdl = problem.model(c, cfg["k"], fac, truth="symmetric")
        res, g = problem.run(mdl, [cfg["alpha"]], [cfg["eta"]], cfg["seeds"], cfg["steps"], cfg["record_every"])
        out["steps"] = res.steps
        out["curves"][fac] = res.curve("error")
    return out


def _measure_speedup(cfg, out):
    xx, fg = out["curves"]["XXT"][:, -1], out["curves"]["FGT"][:, -1]
    orders = np.log10(xx / fg)  # paired: the same seed's initialisation scale and problem
    return Measurement(float(np.median(orders)), None, {
        "log10(X X^T error / F G^T error) per seed": orders.tolist(), "seeds with >= 2 orders": int(np.sum(orders >= 2)),
        "X X^T error at T (mean)": float(np.mean(xx)), "F G^T error at T (median)": float(np.median(fg)), "T": cfg["steps"]})


def _plot_speedup(cfg, out, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    seed_curves(ax, out["steps"], out["curves"]["XXT"], label="X X^T (symmetric sensing)", log=True)
    seed_curves(ax, out["steps"], out["curves"]["FGT"], label="F G^T (Gaussian sensing)", log=True)
    return finish(fig, ax, xlabel="GD step t", ylabel="||M_t - M*||_F",
                  title=f"symmetric M*, k = {cfg['k']}, alpha = {cfg['alpha']:g}, eta = {cfg['eta']:g}")


SPEEDUP = {"k": 4, "alpha": 0.5, "eta": 0.1, "seeds": 3, "steps": 20000, "record_every": 100}

register(Claim(
    id="xiong2023/asym-speeds-up-symmetric",
    paper=PAPER,
    reference="abstract / sec. 4: running the asymmetric parameterization on a symmetric problem turns Omega(1/T^2) "
              "into a linear rate",
    statement="On the same symmetric M* (k = 4 > r = 2, same alpha, eta and budget T = 2e4), F G^T ends at least two "
              "orders of magnitude below X X^T (median over seeds of the per-seed log10 error ratio >= 2).",
    quick=SPEEDUP, full={**SPEEDUP, "seeds": 10},
    simulate=_sim_speedup, predict=lambda cfg: 2.0, measure=_measure_speedup, tolerance=tol.at_least(2.0),
    plot=_plot_speedup,
    note="F G^T needs non-symmetric sensing matrices; with symmetric ones its skew part is never observed "
         "(tests/test_matrix_sensing.py checks that the error then stalls at the skew part). Finding: the speed-up "
         "is not uniform over initialisations. In the full run (10 seeds) 8 seeds end at 2e-15 (11 orders below "
         "X X^T's 2.5e-4) but 2 end at 2.7e-5 and 3.8e-4, still in a slow phase at T: their spurious directions "
         "start nearly balanced, and the linear rate is proportional to that imbalance (Theorem 1.3's alpha^2). A "
         "first version compared the mean errors over seeds, which those 2 seeds dominate (0.79 orders, FAIL); the "
         "per-seed ratio's median is the typical run, and the details list every seed.",
))


# ---------------------------------------------------------------------------------------------
# xiong2023/rebalance-once (a stand-in for the paper's one-step modification, eq. 5.1)
def _sim_fix(cfg):
    c = {**BASE, **cfg}
    mdl = problem.model(c, cfg["k"], "FGT")
    eta = cfg["eta"]
    # phase 1: plain GD with the iterates recorded, to switch at the first record below the threshold
    from theorysim.engine.experiment import Experiment, grid

    g = grid(alpha=cfg["alphas"], lr=[eta], seeds=range(cfg["seeds"]))
    rec = Experiment(mdl, "sgd", steps=cfg["switch_search"], record_every=cfg["switch_every"], divergence_factor=0,
                     record_params=True, **g).run()
    err = rec.curve("error")
    theta0, switch = [], []
    for e in range(rec.n_members):
        below = np.nonzero(err[e] < cfg["switch_at"])[0]
        if len(below) == 0:
            raise RuntimeError(f"member {e} (alpha={g['alpha'][e]}) never reached the switch error {cfg['switch_at']}")
        j = below[0]
        F, G = mdl.factors(rec.param_records[e, j])
        F, G = problem.rebalance(F, G)
        theta0.append(np.concatenate([F.ravel(), G.ravel()]))
        switch.append(int(rec.steps[j]))
    res2, _ = problem.run(mdl, cfg["alphas"], [eta], cfg["seeds"], cfg["after"], cfg["record_every"], theta0=np.array(theta0))
    after = problem.group_curves(res2, g)
    rates = {a: linear_rates(res2.steps, after[(a, eta)], *cfg["window"]) for a in cfg["alphas"]}
    # plain GD at the smallest alpha, for the speed-up
    a0 = min(cfg["alphas"])
    res3, g3 = problem.run(mdl, [a0], [eta], cfg["seeds"], cfg["plain_steps"], cfg["plain_every"])
    plain = linear_rates(res3.steps, res3.curve("error"), *cfg["window"])
    # the exact parameterization k = r on the same problem, same eta and alphas: the rate to recover
    exact = _sim_rates({"factorization": "FGT", "k": BASE["r"], "eta": eta, "alphas": cfg["alphas"],
                        "seeds": cfg["seeds"], "steps": cfg["exact_steps"], "record_every": cfg["record_every"],
                        "window": cfg["window"]})["rates"]
    return {"rates": rates, "plain_rate": plain, "switch": switch, "after": after, "steps": res2.steps,
            "plain_steps": res3.steps, "plain_curves": res3.curve("error"), "exact_rates": exact}


RECOVERS = "rate after the switch / exact-parameterization (k = r) rate, mean over alpha"


def _measure_fix(cfg, out):
    means = {a: float(np.mean(r)) for a, r in out["rates"].items()}
    exact = {a: float(np.mean(r)) for a, r in out["exact_rates"].items()}
    a0 = min(means)
    plain = float(np.mean(out["plain_rate"]))
    return {
        "rate after the switch: variation across alpha (std / mean)": Measurement(_cv(list(means.values())), None, {
            "rate per alpha": {str(a): v for a, v in means.items()}, "switch steps": out["switch"]}),
        f"rate after the switch / plain GD rate at alpha = {a0:g}": Measurement(means[a0] / plain, None, {"plain GD rate": plain}),
        RECOVERS: Measurement(float(np.mean(list(means.values())) / np.mean(list(exact.values()))), None, {
            "exact-parameterization rate per alpha": {str(a): v for a, v in exact.items()}}),
    }


def _plot_fix(cfg, out, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for a in cfg["alphas"]:
        seed_curves(ax, out["steps"], out["after"][(a, cfg["eta"])], label=f"rebalanced once, alpha={a:g}", log=True)
    a0 = min(cfg["alphas"])
    keep = out["plain_steps"] <= out["steps"][-1]
    seed_curves(ax, out["plain_steps"][keep], out["plain_curves"][:, keep], label=f"plain GD, alpha={a0:g}", log=True)
    return finish(fig, ax, xlabel="GD steps after the switch (plain GD: from the start)", ylabel="||F G^T - M*||_F",
                  title="rebalance once (stand-in for the paper's eq. 5.1)")


FIX = {"k": 4, "eta": 0.2, "alphas": [0.1, 0.2, 0.4], "seeds": 2, "switch_at": 1e-2, "switch_search": 3000,
       "switch_every": 5, "after": 1500, "record_every": 5, "window": (1e-11, 1e-4), "plain_steps": 40000,
       "plain_every": 50, "exact_steps": 2500}

register(Claim(
    id="xiong2023/rebalance-once",
    paper=PAPER,
    reference="sec. 5 and abstract: one modified GD step makes the rate independent of alpha and 'recovers' the exact "
              "parameterization's; run here with a stand-in for the step (eq. 5.1's formula was not available)",
    statement="'Rebalance once' (F <- F (F^T F)^(-1/2), G <- G (F^T F)^(1/2) at the first recorded error below 1e-2): "
              "afterwards the linear rate varies by less than 10% across alpha in {0.1, 0.2, 0.4}, is at least 10x "
              "plain GD's at alpha = 0.1, and equals the exact parameterization's (k = r) rate within 10%.",
    quick=FIX, full={**FIX, "seeds": 6},
    simulate=_sim_fix,
    predict=lambda cfg: {"rate after the switch: variation across alpha (std / mean)": 0.0,
                         f"rate after the switch / plain GD rate at alpha = {min(cfg['alphas']):g}": 10.0,
                         RECOVERS: 1.0},
    measure=_measure_fix,
    tolerance={"rate after the switch: variation across alpha (std / mean)": tol.at_most(0.10),
               "rate after the switch / plain GD rate at alpha = 0.1": tol.at_least(10.0),
               RECOVERS: tol.relative(0.10)},
    plot=_plot_fix,
    expect="fail",
    failing=(RECOVERS,),
    note="The exact formula of the paper's eq. (5.1) was not available; this is a stand-in, named for what it does "
         "(the claim was xiong2023/one-step-fix). F G^T is unchanged by it and F^T F becomes I, so the imbalance in "
         "the k - r spurious directions jumps from O(alpha^2) to O(1). The switch uses the error, i.e. it knows M* (an "
         "oracle). Two of the paper's three statements hold for it: the rate no longer depends on alpha (2% variation) "
         "and it is ~50x plain GD's at alpha = 0.1. The third does not: the rate after rebalancing, 0.032-0.034 per "
         "step, is 0.56 of the exact parameterization's 0.055-0.060 on the same problem (quick run), so this "
         "stand-in does not recover the exact rate; whether eq. 5.1 does is untested until its formula is in the spec.",
))
