"""Claims of Xiong, Ding, Du (2023): over-parameterization slows GD in matrix sensing from a
linear rate to a sublinear one (symmetric X X^T), asymmetry F G^T restores a linear rate that
depends on alpha, and one modified step removes the alpha dependence.

What the paper states and the kind each claim tests it as. Source: the abstract (read) and the
theorem numbers the four ICLR-2024 reviews quote (spec shared/papers/matrix_sensing_lr_xor.md, part
A; the full text was not available, so no constant of the paper is used anywhere here):

* exact parameterization k = r, symmetric and asymmetric (abstract): "the convergence rate is
  exp(-Omega(T))". An order statement (kind ``rate``): the error falls linearly, at a rate that does
  not vanish as the error falls and has no alpha in it (the contrast the abstract draws is
  exp(-Omega(alpha^2 T)) for k > r). Tested as: the linear rate on the late half of the error window
  over the rate on the early half >= 1 / RATE_FACTOR, and rate = Theta(alpha^0) (the log-log slope of
  the rate against alpha within 0 +- the grid's rate band, :func:`~theorysim.claims.tolerance.exponent`).
* symmetric k > r (informal Thm 1.1, formal Thm 3.1): an Omega(1/T^2) **lower bound** on
  ||X_T X_T^T - M*||_F^2 (the reviews quote the squared Frobenius norm), constant not given: tested
  by the constant rule (:func:`~theorysim.claims.tolerance.lower_bound_fitted`) over T. That the bound
  is tight (error = Theta(1 / (eta T)), alpha-free) is the spec's derivation, not the paper's
  statement: exploratory claim ``sym-overparam-theta-one-over-t``.
* asymmetric k > r (Thm 1.3): exp(-Omega(alpha^2 T)), i.e. the linear rate is **at least** c alpha^2
  (a lower bound on the rate, constant not given: the constant rule over alpha); the paper's Fig. 2
  (per the reviews) shows larger alpha converging faster (monotone), and an example shows the alpha
  dependence cannot be avoided in the worst case. Rate = Theta(alpha^2) on random initialisations
  (doubling alpha multiplies the rate by 4) is ours: exploratory claim ``asym-overparam-theta-alpha2``.
* F G^T on a symmetric problem (abstract): "speed up from Omega(1/T^2) to linear convergence", an
  order comparison at a budget T.
* the one-step modification, eq. (5.1) (abstract, sec. 5): "a convergence rate independent of alpha,
  recovering the rate in the exact-parameterization case", an order statement. Eq. 5.1's formula was
  not available; ``rebalance-once`` runs a stand-in and is labelled a reconstruction (its outcome
  is the stand-in's, never counted against the paper).

RATE_FACTOR (tolerance.py) is the one factor by which the project lets a Theta(1) quantity vary; every
order threshold below is that factor, never a number read off the data.
"""
from __future__ import annotations

import math

import numpy as np

from theorysim import fit
from theorysim.claims import Claim, Measurement, Paper, register, tol
from theorysim.engine.cache import RunCache
from theorysim.plotting import finish, pyplot, seed_curves
from theorysim.setups.matrix_sensing import problem

PAPER = Paper(key="xiong2023", title="How Over-Parameterization Slows Down Gradient Descent in Matrix Sensing: "
              "The Curses of Symmetry and Initialization", authors="N. Xiong, L. Ding, S. S. Du", year=2023,
              arxiv="2310.01769", venue="ICLR 2024")

BASE = {"n": 10, "r": 2, "m": 300, "problem_seed": 0}

#: the factor a Theta(1) quantity may vary by (tolerance.RATE_FACTOR): every order threshold here
RATE_FACTOR = tol.RATE_FACTOR

#: runs shared by the claims that read the same configuration (a claim and its exploratory reading)
RUNS = RunCache("matrix_sensing: GD error curves")


def linear_rates(steps, curves, lo: float, hi: float) -> np.ndarray:
    """Per-row decay rate -d log(error)/dt, fitted where lo <= error <= hi (the linear phase:
    after the initial alignment, above the float64 floor)."""
    c = np.where((curves >= lo) & (curves <= hi), curves, np.nan)
    return -fit.exp_rate(steps, c).slope.per_seed


def rate_constancy(steps, curves, lo: float, hi: float) -> np.ndarray:
    """Per row: the linear rate fitted on the late half of the error window [lo, sqrt(lo hi)] over
    the rate on its early half [sqrt(lo hi), hi]. A linear (exp(-c t)) decay gives 1; a power law
    t^-p gives about sqrt(lo / hi) (its rate 1/t falls as the error does), e.g. 1e-4 over 8 decades."""
    mid = math.sqrt(lo * hi)
    return linear_rates(steps, curves, lo, mid) / linear_rates(steps, curves, mid, hi)


LINEAR = "linear convergence: rate on the late / early half of the error window (mean over runs)"
#: exp(-Omega(T)): a rate that does not vanish as the error falls, i.e. within the Theta factor of itself
LINEAR_TOL = tol.rate_at_least(1.0 / RATE_FACTOR, "late / early linear rate")


def _linear(steps, curve_sets, window) -> Measurement:
    ratios = np.concatenate([rate_constancy(steps, c, *window) for c in curve_sets])
    return Measurement.mean_over(ratios, unit="runs (alpha x seed)", details={
        "late / early rate per run": ratios.tolist(), "error window": list(window),
        "split at": math.sqrt(window[0] * window[1])})


def _rate_matrix(rates: dict) -> tuple[list, np.ndarray]:
    """(sorted alphas, rates[alpha, seed])."""
    a = sorted(rates)
    return a, np.array([rates[x] for x in a])


def _alpha_exponent(rates: dict) -> Measurement:
    """The log-log slope of the linear rate against alpha, CI over seeds (fit.loglog_slope)."""
    a, v = _rate_matrix(rates)
    return Measurement.of_grid(fit.loglog_slope(a, v), details={
        "rate per alpha (mean over seeds)": {str(x): float(r) for x, r in zip(a, v.mean(axis=1))},
        "std / mean over alpha": float(np.std(v.mean(axis=1)) / np.mean(v.mean(axis=1)))})


def _span(alphas) -> float:
    return max(alphas) / min(alphas)


# ---------------------------------------------------------------------------------------------
# Linear rates across alpha: sym-exact-linear, asym-exact-linear, asym-overparam-alpha2 (+ theta)
def _sim_rates(cfg):
    def compute():
        mdl = problem.model({**BASE, **cfg}, cfg["k"], cfg["factorization"])
        res, g = problem.run(mdl, cfg["alphas"], [cfg["eta"]], cfg["seeds"], cfg["steps"], cfg["record_every"])
        curves = problem.group_curves(res, g)
        rates = {a: linear_rates(res.steps, curves[(a, cfg["eta"])], *cfg["window"]) for a in cfg["alphas"]}
        return {"steps": res.steps, "curves": curves, "rates": rates}

    return RUNS.get({"rates": {**BASE, **cfg}}, compute)


ALPHA_FREE = "alpha-independence: log-log slope of the linear rate against alpha"


def _measure_alpha_free(cfg, out):
    return {LINEAR: _linear(out["steps"], [out["curves"][(a, cfg["eta"])] for a in cfg["alphas"]], cfg["window"]),
            ALPHA_FREE: _alpha_exponent(out["rates"])}


def _predict_alpha_free(cfg):
    return {LINEAR: 1.0, ALPHA_FREE: 0.0}


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


SYM_EXACT = {"factorization": "XXT", "k": 2, "eta": 0.1, "alphas": [0.03, 0.1, 0.3, 1.0], "seeds": 3, "steps": 1500,
             "record_every": 5, "window": (1e-11, 1e-3)}

register(Claim(
    id="xiong2023/sym-exact-linear",
    paper=PAPER,
    reference="abstract and sec. 1: exact parameterization (k = r) converges at exp(-Omega(T)) (an order statement)",
    statement="X X^T with k = r converges linearly (the rate on the late half of the error window [1e-11, 1e-3] is at "
              "least half the early half's) at a rate = Theta(alpha^0) (log-log slope against alpha in "
              "{0.03, 0.1, 0.3, 1} within 0 +- the grid's rate band).",
    quick=SYM_EXACT, full={**SYM_EXACT, "seeds": 10},
    simulate=_sim_rates, predict=_predict_alpha_free, measure=_measure_alpha_free,
    tolerance={LINEAR: LINEAR_TOL, ALPHA_FREE: tol.exponent(0.0, SYM_EXACT["alphas"], "alpha")},
    plot=_plot_rates,
    note="The spec's planning run measured 0.0745 per step at eta = 0.1 for every alpha (n = 10, r = 2, m = 300); "
         "the details list the rate per alpha and its std / mean (the former check, <= 5%, was a same-constant "
         "reading, stronger than the paper's exp(-Omega(T))).",
))

ASYM_EXACT = {**SYM_EXACT, "factorization": "FGT", "eta": 0.2, "alphas": [0.1, 0.2, 0.4], "steps": 2500}

register(Claim(
    id="xiong2023/asym-exact-linear",
    paper=PAPER,
    reference="abstract: asymmetric exact parameterization converges globally at exp(-Omega(T)) (an order statement)",
    statement="F G^T with k = r converges linearly (late-half rate at least half the early half's) at a rate = "
              "Theta(alpha^0) (log-log slope against alpha in {0.1, 0.2, 0.4} within 0 +- the grid's rate band).",
    quick=ASYM_EXACT, full={**ASYM_EXACT, "seeds": 10},
    simulate=_sim_rates, predict=_predict_alpha_free, measure=_measure_alpha_free,
    tolerance={LINEAR: LINEAR_TOL, ALPHA_FREE: tol.exponent(0.0, ASYM_EXACT["alphas"], "alpha")},
    plot=_plot_rates,
))


ALPHA2_BOUND = "rate >= c alpha^2: held-out (alpha = 0.2, 0.4) min rate / alpha^2 over c fitted at alpha = 0.1"
ALPHA2_MONO = "rate increasing in alpha: smallest step of the mean rate"
ALPHA2_FIT_PART = (True, False, False)  # the constant is fitted on the smallest alpha, held out on the rest


def _measure_alpha2(cfg, out):
    a, v = _rate_matrix(out["rates"])
    bound = fit.held_out_bound(v, np.array(a) ** 2, ALPHA2_FIT_PART, "lower")
    return {
        LINEAR: _linear(out["steps"], [out["curves"][(x, cfg["eta"])] for x in a], cfg["window"]),
        ALPHA2_BOUND: Measurement.of_grid(bound, details={"alphas": a, "rate per alpha": v.mean(axis=1).tolist()}),
        ALPHA2_MONO: Measurement.of_grid(fit.smallest_step(v, "increasing")),
    }


ASYM_OVER = {**ASYM_EXACT, "k": 4, "steps": 40000, "record_every": 50, "seeds": 2, "window": (1e-9, 1e-4)}

register(Claim(
    id="xiong2023/asym-overparam-alpha2",
    paper=PAPER,
    reference="Theorem 1.3 / abstract: asymmetric over-parameterized GD converges at exp(-Omega(alpha^2 T)) (a lower "
              "bound c alpha^2 on the linear rate, c not given); Fig. 2 (per the reviews): larger alpha converges faster",
    statement="F G^T with k = 4 > r = 2 converges linearly (late-half rate at least half the early half's), its rate "
              "is at least c alpha^2 (c fitted at alpha = 0.1, holding within the factor 2 of the constant rule at "
              "alpha = 0.2, 0.4) and increases with alpha.",
    quick=ASYM_OVER, full={**ASYM_OVER, "seeds": 6},
    simulate=_sim_rates, predict=lambda cfg: {LINEAR: 1.0, ALPHA2_BOUND: 1.0, ALPHA2_MONO: 0.0},
    measure=_measure_alpha2,
    tolerance={LINEAR: LINEAR_TOL, ALPHA2_BOUND: tol.lower_bound_fitted("alpha^2"),
               ALPHA2_MONO: tol.increasing("alpha")},
    plot=_plot_rates,
    note="The spec's planning run measured rate / (eta alpha^2) = 0.348 / 0.352 / 0.351 for alpha = 0.1 / 0.2 / 0.4. "
         "That the rate is proportional to alpha^2 (tight, doubling alpha multiplies it by 4) is not the paper's "
         "statement for random initialisations: see the exploratory xiong2023/asym-overparam-theta-alpha2.",
))

ALPHA2_EXPONENT = "log-log slope of the linear rate against alpha"

register(Claim(
    id="xiong2023/asym-overparam-theta-alpha2",
    paper=PAPER,
    reference="ours (spec A2 planning run, [S]): the paper's exp(-Omega(alpha^2 T)) is a bound; its worst-case example "
              "shows the alpha dependence cannot be avoided, not that a random initialisation's rate is Theta(alpha^2)",
    statement="F G^T with k = 4 > r = 2: the linear rate = Theta(alpha^2) (log-log slope against alpha in "
              "{0.1, 0.2, 0.4} within 2 +- the grid's rate band).",
    quick=ASYM_OVER, full={**ASYM_OVER, "seeds": 6},
    simulate=_sim_rates, predict=lambda cfg: {ALPHA2_EXPONENT: 2.0},
    measure=lambda cfg, out: {ALPHA2_EXPONENT: _alpha_exponent(out["rates"])},
    tolerance={ALPHA2_EXPONENT: tol.exponent(2.0, ASYM_OVER["alphas"], "alpha")},
    plot=_plot_rates,
    exploratory="a stronger reading than the paper's bound: Theta(alpha^2) on random initialisations (the spec's "
                "planning runs), the same runs as xiong2023/asym-overparam-alpha2",
))


# ---------------------------------------------------------------------------------------------
# xiong2023/sym-overparam-sublinear (+ the exploratory Theta(1/T) reading)
#: the T grid (fractions of the budget T, all recorded steps) and the part the constant is fitted on
T_FRACTIONS = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1)
T_FIT_PART = (True, True, True, False, False)


def _sim_sublinear(cfg):
    def compute():
        mdl = problem.model({**BASE, **cfg}, cfg["k"], "XXT")
        res, g = problem.run(mdl, cfg["alphas"], cfg["etas"], cfg["seeds"], cfg["steps"], cfg["record_every"])
        return {"steps": res.steps, "curves": problem.group_curves(res, g)}

    return RUNS.get({"sublinear": {**BASE, **cfg}}, compute)


def _on_t_grid(cfg, out):
    """(T grid, {(alpha, eta): error[T point, seed]})."""
    T = cfg["steps"]
    ts = np.array([round(T * f) for f in T_FRACTIONS])
    idx = []
    for t in ts:
        hit = np.nonzero(out["steps"] == t)[0]
        if len(hit) == 0:
            raise ValueError(f"T grid point {t} is not a recorded step (record_every={cfg['record_every']})")
        idx.append(int(hit[0]))
    return ts, {key: c[:, idx].T for key, c in out["curves"].items()}


def held_out_lower_worst(blocks, bound, fit_part, seed: int = 0) -> fit.GridStatistic:
    """The constant rule for a lower bound (:func:`theorysim.fit.held_out_bound`, ``side="lower"``)
    applied to each block ``[P, S]`` on its own (each configuration has its own constant), and the
    smallest held-out ratio over the blocks; its CI a percentile bootstrap of every block's seeds
    (:func:`theorysim.fit.grid_bootstrap`). A local helper: ``held_out_bound`` takes one block."""
    f = np.asarray(bound, dtype=np.float64)
    part = np.asarray(fit_part, dtype=bool)
    P = len(f)

    def per_block(w):
        out = []
        for b in range(len(blocks)):
            r = w[b * P:(b + 1) * P].mean(axis=1) / f
            out.append(float(np.min(r[~part]) / np.min(r[part])))
        return out

    stacked = np.vstack([np.asarray(b, dtype=np.float64) for b in blocks])
    stat = fit.grid_bootstrap(lambda w: min(per_block(w)), stacked, seed=seed)
    parts = {"per configuration": per_block(stacked) if np.all(np.isfinite(stacked)) else None}
    return fit.GridStatistic(stat.estimate, stat.ci, stat.n, {**stat.parts, **parts})


LOWER_T2 = ("||X_T X_T^T - M*||_F^2 >= c / T^2: held-out (T/2, T) min err^2 T^2 over c fitted on T/16..T/4, worst "
            "over (eta, alpha)")


def _measure_sublinear(cfg, out):
    ts, blocks = _on_t_grid(cfg, out)
    keys = list(blocks)
    stat = held_out_lower_worst([blocks[k] ** 2 for k in keys], 1.0 / ts.astype(float) ** 2, T_FIT_PART)
    return {LOWER_T2: Measurement.of_grid(stat, details={
        "T grid": ts.tolist(), "configurations (alpha, eta)": [list(k) for k in keys],
        "err^2 T^2 per T (mean over seeds)": {f"eta={e:g}, alpha={a:g}": ((blocks[(a, e)] ** 2).mean(axis=1)
                                                                        * ts.astype(float) ** 2).tolist()
                                              for a, e in keys}})}


def _plot_sublinear(cfg, out, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for (a, eta), c in out["curves"].items():
        seed_curves(ax, out["steps"][1:], c[:, 1:], label=f"eta={eta:g}, alpha={a:g}", log=True)
    ax.set_xscale("log")
    t = out["steps"][1:]
    ax.loglog(t, 0.55 / (0.1 * t), "k--", lw=1, label="0.55 / (eta t), eta = 0.1")
    T = cfg["steps"]
    ax.axvspan(T / 16, T / 4, color="0.92", zorder=0, label="constant fitted (T/16, T/8, T/4)")
    ax.axvspan(T / 2, T, color="0.85", zorder=0, label="held out (T/2, T)")
    return finish(fig, ax, xlabel="GD step t", ylabel="||X X^T - M*||_F", title="over-parameterized X X^T (k = 4, r = 2)")


SUBLINEAR = {"k": 4, "etas": [0.05, 0.1], "alphas": [0.5, 1.0], "seeds": 2, "steps": 20000, "record_every": 125}
SUBLINEAR_FULL = {**SUBLINEAR, "seeds": 6, "steps": 80000, "record_every": 500}

register(Claim(
    id="xiong2023/sym-overparam-sublinear",
    paper=PAPER,
    reference="Theorem 3.1 (informal Thm 1.1), abstract: ||X_T X_T^T - M*||_F^2 >= Omega(1/T^2) for randomly "
              "initialised over-parameterized symmetric GD (a lower bound, constant not given; the squared norm per "
              "the reviews' quote of the step under Thm 3.1)",
    statement="X X^T with k = 4 > r = 2: the squared error at T is at least c / T^2, with c fitted per (eta, alpha) on "
              "T in {T/16, T/8, T/4} and holding within the factor 2 of the constant rule at T/2 and T.",
    quick=SUBLINEAR, full=SUBLINEAR_FULL,
    simulate=_sim_sublinear, predict=lambda cfg: {LOWER_T2: 1.0}, measure=_measure_sublinear,
    tolerance={LOWER_T2: tol.lower_bound_fitted("1/T^2")},
    plot=_plot_sublinear,
    note="A linear rate (exp(-c T)), or any decay of the squared error faster than 1/T^2 by more than the factor 2 "
         "over T/4..T (e.g. 1/T^3), fails this check. The spec's derivation (A2, not the paper's): a spurious "
         "direction j outside col(M*) follows j <- j (1 - 2 eta j^2), so j_t^2 ~ 1 / (4 eta t) once t >> "
         "1 / (eta alpha^2): the bound is tight, error = Theta(1 / (eta t)) and alpha-free; that reading is the "
         "exploratory xiong2023/sym-overparam-theta-one-over-t.",
))

ONE_OVER_T = "log-log slope of eta * ||X X^T - M*||_F against T on T/16..T"
CONST_SPREAD = "max / min over (eta, alpha) of err * eta * T at T"


def _measure_one_over_t(cfg, out):
    ts, blocks = _on_t_grid(cfg, out)
    scaled = np.hstack([blk * eta for (a, eta), blk in blocks.items()])  # [T point, runs]: err * eta
    final = np.array([blk[-1] * eta * ts[-1] for (a, eta), blk in blocks.items()])  # [configuration, seed]
    spread = fit.grid_bootstrap(lambda w: w.mean(axis=1).max() / w.mean(axis=1).min(), final)
    return {
        ONE_OVER_T: Measurement.of_grid(fit.loglog_slope(ts, scaled), details={"T grid": ts.tolist()}),
        CONST_SPREAD: Measurement.of_grid(spread, details={
            f"eta={e:g}, alpha={a:g}": float(blk[-1].mean() * e * ts[-1]) for (a, e), blk in blocks.items()}),
    }


register(Claim(
    id="xiong2023/sym-overparam-theta-one-over-t",
    paper=PAPER,
    reference="ours (spec A2, derived [D] and planning run [S]): the paper states only the Omega(1/T^2) lower bound "
              "on the squared error (Thm 3.1)",
    statement="X X^T with k = 4 > r = 2: ||X X^T - M*||_F = Theta(1 / (eta T)), alpha-free (log-log slope against T "
              "on T/16..T within -1 +- the grid's rate band; err * eta * T the same within the factor 2 across eta in "
              "{0.05, 0.1} and alpha in {0.5, 1}).",
    quick=SUBLINEAR, full=SUBLINEAR_FULL,
    simulate=_sim_sublinear, predict=lambda cfg: {ONE_OVER_T: -1.0, CONST_SPREAD: 1.0}, measure=_measure_one_over_t,
    tolerance={ONE_OVER_T: tol.exponent(-1.0, T_FRACTIONS, "T"),
               CONST_SPREAD: tol.rate_at_most(RATE_FACTOR, "max / min of err * eta * T")},
    plot=_plot_sublinear,
    exploratory="the tightness of the paper's lower bound (Theta(1/T) for the unsquared error, alpha-free), derived "
                "in the spec; the same runs as xiong2023/sym-overparam-sublinear",
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


SPEEDUP_CHECK = "orders of magnitude: log10(X X^T error / F G^T error) at T, mean over seeds"


def _measure_speedup(cfg, out):
    xx, fg = out["curves"]["XXT"][:, -1], out["curves"]["FGT"][:, -1]
    orders = np.log10(xx / fg)  # paired: the same seed's initialisation scale and problem
    return {SPEEDUP_CHECK: Measurement.mean_over(orders, unit="seeds", details={
        "log10(X X^T error / F G^T error) per seed": orders.tolist(), "median": float(np.median(orders)),
        "seeds with >= 2 orders": int(np.sum(orders >= 2)), "X X^T error at T (mean)": float(np.mean(xx)),
        "F G^T error at T (median)": float(np.median(fg)), "T": cfg["steps"]})}


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
    reference="abstract / sec. 4: running the asymmetric parameterization on a symmetric problem speeds GD up from "
              "Omega(1/T^2) to linear convergence (an order comparison; no constant given)",
    statement="On the same symmetric M* (k = 4 > r = 2, same alpha, eta and budget T = 2e4), F G^T ends at least two "
              "orders of magnitude below X X^T (mean over seeds of the per-seed log10 error ratio >= 2).",
    quick=SPEEDUP, full={**SPEEDUP, "seeds": 10},
    simulate=_sim_speedup, predict=lambda cfg: {SPEEDUP_CHECK: 2.0}, measure=_measure_speedup,
    tolerance={SPEEDUP_CHECK: tol.rate_at_least(2.0, "log10 error ratio at T")},
    plot=_plot_speedup,
    note="Why 2 orders (a threshold from the statement, not the data): within one order of convergence the error "
         "at T may differ by a constant factor (the Theta factor 2 between runs of the same 1/T law, i.e. 0.3 "
         "orders); a gap of 2 orders at a budget where X X^T is deep in its 1/T phase is a different order, not a "
         "different constant. F G^T needs non-symmetric sensing matrices; with symmetric ones its skew part is never "
         "observed (tests/test_matrix_sensing.py checks that the error then stalls at the skew part). Finding: the "
         "speed-up is not uniform over initialisations. In an earlier full run (10 seeds) 8 seeds ended at 2e-15 (11 "
         "orders below X X^T's 2.5e-4, the float64 floor, so the measured gap is a lower bound) but 2 at 2.7e-5 and "
         "3.8e-4, still in a slow phase at T: their spurious directions start nearly balanced, and the linear rate "
         "is proportional to that imbalance (Theorem 1.3's alpha^2). The mean of the per-seed log ratios (a "
         "geometric mean of the ratios) carries them with a BCa CI; the details list every seed and the median.",
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
    # the exact parameterization k = r on the same problem, same eta and alphas: the rate to recover
    exact = _sim_rates({"factorization": "FGT", "k": BASE["r"], "eta": eta, "alphas": cfg["alphas"],
                        "seeds": cfg["seeds"], "steps": cfg["exact_steps"], "record_every": cfg["record_every"],
                        "window": cfg["window"]})
    return {"rates": rates, "switch": switch, "after": after, "steps": res2.steps, "exact_rates": exact["rates"],
            "exact_steps": exact["steps"], "exact_curves": exact["curves"]}


RECOVERS = "rate after the switch / exact-parameterization (k = r) rate, mean rate over alpha each"
FIX_ALPHA_FREE = "alpha-independence: log-log slope of the rate after the switch against alpha"


def ratio_of_means(num, den, seed: int = 0) -> fit.GridStatistic:
    """mean(num) / mean(den) over all points and seeds (``num``, ``den``: ``[P, S]``), its CI a
    percentile bootstrap of each point's seeds (:func:`theorysim.fit.grid_bootstrap`; a local helper)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    P = num.shape[0]
    return fit.grid_bootstrap(lambda w: w[:P].mean(axis=1).mean() / w[P:].mean(axis=1).mean(),
                              np.vstack([num, den]), seed=seed)


def _measure_fix(cfg, out):
    a, after = _rate_matrix(out["rates"])
    _, exact = _rate_matrix(out["exact_rates"])
    return {
        LINEAR: _linear(out["steps"], [out["after"][(x, cfg["eta"])] for x in a], cfg["window"]),
        FIX_ALPHA_FREE: _alpha_exponent(out["rates"]),
        RECOVERS: Measurement.of_grid(ratio_of_means(after, exact), details={
            "rate after the switch per alpha": dict(zip(map(str, a), after.mean(axis=1).tolist())),
            "exact-parameterization rate per alpha": dict(zip(map(str, a), exact.mean(axis=1).tolist())),
            "switch steps": out["switch"]}),
    }


def _plot_fix(cfg, out, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for a in cfg["alphas"]:
        seed_curves(ax, out["steps"], out["after"][(a, cfg["eta"])], label=f"rebalanced once, alpha={a:g}", log=True)
    a0 = min(cfg["alphas"])
    seed_curves(ax, out["exact_steps"], out["exact_curves"][(a0, cfg["eta"])], label=f"exact k = r, alpha={a0:g}",
                log=True)
    ax.axhspan(*cfg["window"], color="0.9", zorder=0, label="fit window")
    return finish(fig, ax, xlabel="GD steps after the switch (k = r: from the start)", ylabel="||F G^T - M*||_F",
                  title="rebalance once (stand-in for the paper's eq. 5.1)")


FIX = {"k": 4, "eta": 0.2, "alphas": [0.1, 0.2, 0.4], "seeds": 4, "switch_at": 1e-2, "switch_search": 3000,
       "switch_every": 5, "after": 1500, "record_every": 5, "window": (1e-11, 1e-4), "exact_steps": 2500}

register(Claim(
    id="xiong2023/rebalance-once",
    paper=PAPER,
    reference="sec. 5 and abstract: one modified GD step (eq. 5.1) gives 'a convergence rate independent of alpha, "
              "recovering the rate in the exact-parameterization case' (an order statement); run here with a "
              "stand-in for the step (eq. 5.1's formula was not available)",
    statement="'Rebalance once' (F <- F (F^T F)^(-1/2), G <- G (F^T F)^(1/2) at the first recorded error below 1e-2): "
              "afterwards GD converges linearly (late-half rate at least half the early half's), at a rate = "
              "Theta(alpha^0) (log-log slope against alpha in {0.1, 0.2, 0.4} within 0 +- the grid's rate band) whose ratio "
              "to the exact parameterization's (k = r) rate is bounded away from 0 (>= 1/2, the Theta factor).",
    quick=FIX, full={**FIX, "seeds": 6},
    simulate=_sim_fix,
    predict=lambda cfg: {LINEAR: 1.0, FIX_ALPHA_FREE: 0.0, RECOVERS: 1.0},
    measure=_measure_fix,
    tolerance={LINEAR: LINEAR_TOL, FIX_ALPHA_FREE: tol.exponent(0.0, FIX["alphas"], "alpha"),
               RECOVERS: tol.rate_at_least(1.0 / RATE_FACTOR, "rate after the switch / exact rate")},
    plot=_plot_fix,
    reconstruction="our stand-in for eq. 5.1 (the paper's formula was not available): the verdict is the "
                   "stand-in's (it was an expected failure of class reconstruction while 'recovering the rate' was "
                   "read as the same constant within 10%)",
    note="F G^T is unchanged by the stand-in and F^T F becomes I, so the imbalance in the k - r spurious directions "
         "jumps from O(alpha^2) to O(1). The switch uses the error, i.e. it knows M* (an oracle; the paper's test "
         "also needs the unknown ground truth, per review R1). 'Recovering the rate' is an order statement: the "
         "paper's exp(-Omega(T)) hides the constant, so the rate after the switch must be of the exact rate's order "
         "(ratio >= 1 / RATE_FACTOR), not equal to it. Measured: 0.032-0.034 per step after the switch against "
         "0.055-0.060 for k = r, a ratio of 0.56 [0.52, 0.61] (quick, 4 seeds; 2 seeds gave the same 0.56 but, with the expanded percentile bootstrap, a CI [0.495, 0.635] that reaches below the threshold) and 0.58 [0.55, 0.60] (full, 6 seeds): the same "
         "order, a smaller constant; the old check "
         "(the same constant within 10%) failed on that constant. The ratio sits near the factor-2 threshold: a "
         "referee who reads 'recovering' as 'within 1.5x' would see it fail.",
))
