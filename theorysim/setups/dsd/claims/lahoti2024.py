"""Claims of Lahoti, Karp, Winston, Singh, Li (2024), "Role of locality and weight sharing in
image-based tasks: a sample complexity separation between CNNs, LCNs, and FCNs" (arXiv 2403.15707,
ICLR 2024): the sample complexity m*(k, d) of the DSD task for the three architectures.

What the paper states (spec B3 / B3b; the abstract [P] and secondary sources that quote it [S]):

* **Bounds** (formal, as the OpenReview reviews quote them [S]; the abstract has the O~ forms [P]):
  m*_CNN = O(sigma^2 (k + d) ln kd) and m*_LCN = O(sigma^2 k (k + d) ln kd) for a two-step projected
  GD learner; m*_LCN = Omega(sigma^2 k d) and m*_FCN = Omega(sigma^2 k^2 d) for every orthogonally
  equivariant algorithm; under sigma = O~(1 / sqrt(k)) and k = O(e^d). Kind: upper and lower bounds
  with unknown constants, tested by the constant rule (:mod:`theorysim.claims.tolerance`): a
  constant fitted where k d <= ``fit_kd`` and held on the rest, on m* per seed (CI over seeds).
* **Experiments** (the later version [S], CNN against LCN, k, d <= 30, m* by binary search): m*_CNN grows
  ~k and ~d, m*_LCN ~k^2 at fixed d and ~d at fixed k, and the LCN needs 10-20x the CNN's samples.
  Kind: orders (Theta(x^p), the exponent within the band of :func:`tol.exponent`) and a range.

The learner is our reconstruction of the paper's two-step projected GD
(:mod:`theorysim.setups.dsd.two_step`, every open choice decided there), and so is the distribution
(:mod:`theorysim.setups.dsd.data`, additive noise): every verdict here is the reconstruction's.

**Success criterion.** The squared-error risk (the paper's), computed exactly for the learned filters
(:func:`theorysim.setups.dsd.theory.risk`: no test set, so m* carries no test-set noise), has a floor
of k sigma^2 = c^2 from the noise patches (the best unit filters with b2 = 1e-4); m* per seed is the
smallest m whose excess risk over that floor is <= delta = 1e-3 (filters within cos ~ 0.97 of w*),
found on a 16-point log grid of prefixes of one draw and refined by bisection to 5%
(:func:`theorysim.setups.dsd.search.two_step_searches`). The 0-1 test error at m* and the number of
grid sizes above m* that still miss delta (bisection assumes none) are reported with each point.

lahoti2024/fcn-vs-lcn-gap (exploratory) trains the FCN and the LCN alike by full-batch GD from an
isotropic random init through the engine, at sigma = 0.15, d = 8 and k = 2 ... 16.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats

from theorysim import fit
from theorysim.claims import Claim, Measurement, Paper, reconstruction, register, tol
from theorysim.engine.cache import RunCache
from theorysim.plotting import pyplot
from theorysim.setups.dsd import search, theory

PAPER = Paper(
    key="lahoti2024",
    title="Role of locality and weight sharing in image-based tasks: a sample complexity separation between CNNs, "
          "LCNs, and FCNs",
    authors="A. Lahoti, S. Karp, E. Winston, A. Singh, Y. Li",
    year=2024,
    arxiv="2403.15707",
    venue="ICLR 2024",
)

RUNS = RunCache("dsd: sample-complexity searches")

LEARNER = ("the distribution (additive noise, w* = 1_d / sqrt(d)) and the two-step projected GD learner (step 1 at "
           "b = 0 from a small init, step 2 at b1 with eta2 = 1e3 k, unit-ball projection, CNN eta1 = 1/k: "
           "theorysim.setups.dsd.two_step) are reconstructed from secondary sources; the paper's own are not available")


def points(cfg) -> list[tuple[int, int]]:
    """(k, d) of the k sweep (fixed d) then the d sweep (fixed k), without repeats."""
    out = [(k, cfg["k_sweep"]["d"]) for k in cfg["k_sweep"]["k"]]
    out += [(cfg["d_sweep"]["k"], d) for d in cfg["d_sweep"]["d"] if (cfg["d_sweep"]["k"], d) not in out]
    return out


def two_step_table(cfg, arch: str) -> dict:
    """{(k, d): [SeedSearch per seed]} for the two-step learner at every grid point (cached)."""
    key = {name: cfg[name] for name in ("c", "sigma", "mode", "delta", "seeds", "hi", "test_size", "k_sweep",
                                        "d_sweep", "grid_points")}
    key["arch"] = arch
    return RUNS.get(key, lambda: {kd: search.two_step_searches(cfg, arch, *kd) for kd in points(cfg)})


def _simulate(cfg):
    return {arch: two_step_table(cfg, arch) for arch in ("cnn", "lcn")}


def m_stars(res, arch, kd_points) -> np.ndarray:
    """m* [points, seeds]."""
    return np.array([[s.m_star for s in res[arch][kd]] for kd in kd_points], dtype=np.float64)


def point_details(cfg, res, arch) -> dict:
    """Per point: sigma, the risk floor, m* per seed, the 0-1 error at m* (mean) and the non-monotone count."""
    rows = {}
    for (k, d), seeds in res[arch].items():
        sigma = search.sigma_of(cfg, k)
        ms = [s.m_star for s in seeds]
        rows[f"k={k}, d={d}"] = {
            "sigma": round(sigma, 5), "risk floor": round(theory.risk_floor(arch, k, d, sigma, 1e-4), 5),
            "m* per seed": ms, "mean m*": float(np.mean(ms)),
            "0-1 error at m* (mean)": round(float(np.nanmean([s.zero_one_at_m_star for s in seeds])), 4)
            if any(math.isfinite(s.zero_one_at_m_star) for s in seeds) else None,
            "sizes above m* still above delta": int(sum(s.non_monotone for s in seeds))}
    return rows


def bound_of(cfg, kind: str, k, d):
    """The formal bounds' growth with sigma^2 and the log factor as stated: cnn_upper sigma^2 (k + d) ln kd,
    lcn_upper sigma^2 k (k + d) ln kd, lcn_lower sigma^2 k d (sigma from cfg at each k)."""
    k, d = np.asarray(k, dtype=float), np.asarray(d, dtype=float)
    s2 = np.array([search.sigma_of(cfg, int(kk)) ** 2 for kk in np.atleast_1d(k)]).reshape(k.shape)
    return {"cnn_upper": s2 * (k + d) * np.log(k * d), "lcn_upper": s2 * k * (k + d) * np.log(k * d),
            "lcn_lower": s2 * k * d}[kind]


def held_out_check(cfg, res, arch: str, kind: str, side: str, label: str) -> Measurement:
    """The constant rule on m* per seed (:func:`theorysim.fit.held_out_bound`)."""
    kd = points(cfg)
    k, d = np.array([p[0] for p in kd]), np.array([p[1] for p in kd])
    f = bound_of(cfg, kind, k, d)
    values = m_stars(res, arch, kd)
    stat = fit.held_out_bound(values, f, k * d <= cfg["fit_kd"], side)
    details = {"points (k, d)": [list(map(int, p)) for p in kd], "bound f": np.round(f, 4).tolist(),
               "fitted on k d <=": cfg["fit_kd"], "c (sigma = c / sqrt(k))": cfg["c"], "delta (excess risk)":
               cfg["delta"], "per point": point_details(cfg, res, arch)}
    return Measurement.of_grid(stat, label=label, details=details)


def _plain_ticks(ax, x):
    ax.set_xticks(list(x), [f"{v:g}" for v in x])
    ax.minorticks_off()


def _plot_bounds(cfg, res, verdict, archs=("cnn", "lcn")):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.2))
    kd = points(cfg)
    fits = {"cnn": ("cnn_upper", "upper"), "lcn": ("lcn_upper", "upper")}
    for ax, axis in zip(axes, ("k", "d")):
        sweep = [p for p in kd if (p[1] == cfg["k_sweep"]["d"] if axis == "k" else p[0] == cfg["d_sweep"]["k"])]
        sweep.sort(key=lambda p: p[0] if axis == "k" else p[1])
        x = np.array([p[0] if axis == "k" else p[1] for p in sweep], dtype=float)
        for c, arch in enumerate(archs):
            vals = m_stars(res, arch, sweep)
            mean = vals.mean(axis=1)
            held = np.array([p[0] * p[1] > cfg["fit_kd"] for p in sweep])
            lo, hi = np.percentile(vals, [2.5, 97.5], axis=1)  # the seeds' spread
            ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], fmt="none", ecolor=f"C{c}", elinewidth=0.8, capsize=2)
            ax.loglog(x, mean, "-", color=f"C{c}", lw=1)
            ax.loglog(x[~held], mean[~held], "o", color=f"C{c}", label=f"{arch.upper()} m* (fit part)")
            ax.loglog(x[held], mean[held], "o", mfc="white", color=f"C{c}", label=f"{arch.upper()} m* (held out)")
            kind, _ = fits[arch]
            f_all = bound_of(cfg, kind, [p[0] for p in kd], [p[1] for p in kd])
            fit_mask = np.array([p[0] * p[1] <= cfg["fit_kd"] for p in kd])
            const = np.max(m_stars(res, arch, kd).mean(axis=1)[fit_mask] / f_all[fit_mask])
            f = bound_of(cfg, kind, [p[0] for p in sweep], [p[1] for p in sweep])
            ax.loglog(x, const * f, "--", color=f"C{c}", lw=1, label=f"{arch.upper()} upper bound x C = {const:.3g}")
            if arch == "lcn":
                f_low = bound_of(cfg, "lcn_lower", [p[0] for p in kd], [p[1] for p in kd])
                c_low = np.min(m_stars(res, arch, kd).mean(axis=1)[fit_mask] / f_low[fit_mask])
                ax.loglog(x, c_low * bound_of(cfg, "lcn_lower", [p[0] for p in sweep], [p[1] for p in sweep]), ":",
                          color=f"C{c}", lw=1, label=f"LCN lower bound x c = {c_low:.3g}")
        fixed = f"d = {cfg['k_sweep']['d']}" if axis == "k" else f"k = {cfg['d_sweep']['k']}"
        ax.set(xlabel=axis, ylabel="m* (mean over seeds; bars: 95% of the seeds)",
               title=f"two-step learner: m* against {axis} ({fixed}, sigma = {cfg['c']}/sqrt(k))")
        _plain_ticks(ax, x)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


BOUNDS_QUICK = {"c": 0.5, "sigma": None, "mode": "additive", "delta": 1e-3, "seeds": list(range(10)), "hi": 8000,
                "test_size": 4000, "grid_points": 16, "k_sweep": {"d": 16, "k": [4, 8, 16, 32]},
                "d_sweep": {"k": 8, "d": [4, 8, 16, 32, 64]}, "fit_kd": 64}
BOUNDS_FULL = {**BOUNDS_QUICK, "seeds": list(range(30)), "test_size": 8000}


# ---------------------------------------------------------------------------------------------
# lahoti2024/cnn-upper-bound
CNN_CHECK = "O(sigma^2 (k + d) ln kd): held-out ratio / fitted C"

register(Claim(
    id="lahoti2024/cnn-upper-bound",
    paper=PAPER,
    reference="Abstract and sec. 7: CNNs trained by two-step projected GD need O~(k + d) samples on DSD; the "
              "formal bound O(sigma^2 (k + d) ln kd) as quoted by the OpenReview reviews (secondary source)",
    statement="The two-step projected GD CNN (our reconstruction) at sigma = 0.5 / sqrt(k) reaches excess squared "
              "risk 1e-3 within m*_CNN = O(sigma^2 (k + d) ln kd) samples: the constant fitted where k d <= 64 "
              "holds, within the constant rule's factor 2, at the larger k d (k = 4 ... 32, d = 4 ... 64).",
    quick=BOUNDS_QUICK,
    full=BOUNDS_FULL,
    simulate=_simulate,
    predict=lambda cfg: {CNN_CHECK: 1.0},
    measure=lambda cfg, res: {CNN_CHECK: held_out_check(
        cfg, res, "cnn", "cnn_upper", "upper", "max over held-out points of mean m*_CNN / (sigma^2 (k + d) ln kd), "
                                                "over the constant fitted on k d <= 64")},
    tolerance={CNN_CHECK: tol.upper_bound_fitted("sigma^2 (k + d) ln kd")},
    plot=_plot_bounds,
    reconstruction=LEARNER,
    note="Replaces lahoti2024/cnn-scaling, which tested the one-step projected learner at sigma = 0.15 (outside the "
         "regime sigma = O~(1/sqrt(k)) as k grows) with m* from the seed-averaged error. The second step is what "
         "makes the CNN fast: after step 1 (w1 ~ (2/k) w* + noise, f ~ 0) the threshold b1 passes almost only the "
         "signal patch of each sample, so step 2 averages m signal patches and its alignment approaches the "
         "oracle-selection law (1 + sigma^2 d / m)^(-1/2) (theorysim.setups.dsd.theory), independent of k; the "
         "first step alone has (1 + sigma^2 k d / m)^(-1/2).",
))


# ---------------------------------------------------------------------------------------------
# lahoti2024/lcn-sandwich
LCN_CHECKS = ("Omega(sigma^2 k d): held-out ratio / fitted c", "O(sigma^2 k (k + d) ln kd): held-out ratio / fitted C")

register(Claim(
    id="lahoti2024/lcn-sandwich",
    paper=PAPER,
    reference="Abstract and secs. 6-7: LCNs need Omega(sigma^2 k d) samples (any orthogonally equivariant "
              "algorithm) and the two-step projected GD learner O(sigma^2 k (k + d) ln kd); formal forms as quoted by "
              "the OpenReview reviews (secondary source)",
    statement="The two-step projected GD LCN (our reconstruction) at sigma = 0.5 / sqrt(k) lies between the bounds: "
              "c sigma^2 k d <= m*_LCN <= C sigma^2 k (k + d) ln kd, each constant fitted where k d <= 64 and held, "
              "within the constant rule's factor 2, at the larger k d.",
    quick=BOUNDS_QUICK,
    full=BOUNDS_FULL,
    simulate=_simulate,
    predict=lambda cfg: dict.fromkeys(LCN_CHECKS, 1.0),
    measure=lambda cfg, res: {
        LCN_CHECKS[0]: held_out_check(cfg, res, "lcn", "lcn_lower", "lower",
                                      "min over held-out points of mean m*_LCN / (sigma^2 k d), over the constant "
                                      "fitted on k d <= 64"),
        LCN_CHECKS[1]: held_out_check(cfg, res, "lcn", "lcn_upper", "upper",
                                      "max over held-out points of mean m*_LCN / (sigma^2 k (k + d) ln kd), over the "
                                      "constant fitted on k d <= 64")},
    tolerance={LCN_CHECKS[0]: tol.lower_bound_fitted("sigma^2 k d"),
               LCN_CHECKS[1]: tol.upper_bound_fitted("sigma^2 k (k + d) ln kd")},
    plot=_plot_bounds,
    reconstruction=LEARNER,
    note="Replaces lahoti2024/lcn-scaling and lahoti2024/lcn-vs-cnn-gap (the one-step projected learner at sigma = "
         "0.15). The lower bound holds for every orthogonally equivariant algorithm, so it is tested here on one: "
         "ours. The LCN's step 1 gives filter j only its ~m/k signal samples against the noise of all m "
         "((1 + sigma^2 k^2 d / m)^(-1/2)); step 2's threshold keeps mostly filter j's own signal patches, whose "
         "oracle law (1 + sigma^2 k d / m)^(-1/2) has the lower bound's order sigma^2 k d.",
))


# ---------------------------------------------------------------------------------------------
# lahoti2024/experiments-trends
TRENDS = {
    "CNN ~ k (d = 16)": ("cnn", "k", 1.0), "LCN ~ k^2 (d = 16)": ("lcn", "k", 2.0),
    "CNN ~ d (k = 16)": ("cnn", "d", 1.0), "LCN ~ d (k = 16)": ("lcn", "d", 1.0),
}
#: our learner's own law at fixed sigma (theory.oracle_m_star: sigma^2 d and sigma^2 k d): the mechanism
MECHANISM = {"mechanism: CNN flat in k, sigma^2 d (ours)": ("cnn", "k", 0.0),
             "mechanism: LCN ~ k, sigma^2 k d (ours)": ("lcn", "k", 1.0)}
RATIO_CHECK = "LCN / CNN: 10-20x (geometric mean over the grid)"


def _sweep_points(cfg, axis):
    return ([(k, cfg["k_sweep"]["d"]) for k in cfg["k_sweep"]["k"]] if axis == "k"
            else [(cfg["d_sweep"]["k"], d) for d in cfg["d_sweep"]["d"]])


def _trend(cfg, res, arch, axis) -> Measurement:
    kd = _sweep_points(cfg, axis)
    x = [p[0] if axis == "k" else p[1] for p in kd]
    stat = fit.loglog_slope(x, m_stars(res, arch, kd))
    return Measurement.of_grid(stat, label=f"log-log slope of mean m*_{arch.upper()} against {axis}",
                               details={axis: x, "mean m*": m_stars(res, arch, kd).mean(axis=1).round(2).tolist()})


def _ratio(cfg, res) -> Measurement:
    kd = points(cfg)
    both = np.vstack([m_stars(res, "lcn", kd), m_stars(res, "cnn", kd)])
    n = len(kd)
    stat = fit.grid_bootstrap(lambda v: float(np.exp(np.mean(np.log(v[:n].mean(axis=1) / v[n:].mean(axis=1))))),
                              both)
    ratios = both[:n].mean(axis=1) / both[n:].mean(axis=1)
    return Measurement.of_grid(stat, label="geometric mean over the grid of mean m*_LCN / mean m*_CNN",
                               details={"points (k, d)": [list(p) for p in kd], "ratio": ratios.round(2).tolist()})


def _measure_trends(cfg, res):
    out = {name: _trend(cfg, res, arch, axis) for name, (arch, axis, _) in {**TRENDS, **MECHANISM}.items()}
    out[RATIO_CHECK] = _ratio(cfg, res)
    return out


def _trend_tolerances(cfg):
    out = {}
    for name, (_, axis, p) in {**TRENDS, **MECHANISM}.items():
        grid = cfg["k_sweep"]["k"] if axis == "k" else cfg["d_sweep"]["d"]
        out[name] = tol.exponent(p, grid, axis)
    out[RATIO_CHECK] = tol.interval(10.0, 20.0)
    return out


def _plot_trends(cfg, res, verdict):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.2))
    for ax, axis in zip(axes, ("k", "d")):
        kd = _sweep_points(cfg, axis)
        x = np.array([p[0] if axis == "k" else p[1] for p in kd], dtype=float)
        for c, arch in enumerate(("cnn", "lcn")):
            mean = m_stars(res, arch, kd).mean(axis=1)
            ax.loglog(x, mean, "o-", color=f"C{c}", label=f"{arch.upper()} (two-step learner)")
            reported = [p for name, (a, ax_, p) in TRENDS.items() if a == arch and ax_ == axis][0]
            ax.loglog(x, mean[0] * (x / x[0]) ** reported, "--", color=f"C{c}", lw=1,
                      label=f"{arch.upper()} reported: ~{axis}^{reported:g}")
        fixed = f"d = {cfg['k_sweep']['d']}" if axis == "k" else f"k = {cfg['d_sweep']['k']}"
        ax.set(xlabel=axis, ylabel="m* (mean over seeds)", title=f"m* against {axis} ({fixed}, sigma = {cfg['sigma']})")
        _plain_ticks(ax, x)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


TRENDS_QUICK = {"c": None, "sigma": 0.15, "mode": "additive", "delta": 1e-3, "seeds": list(range(10)), "hi": 4000,
                "test_size": 4000, "grid_points": 16, "k_sweep": {"d": 16, "k": [4, 8, 16, 30]},
                "d_sweep": {"k": 16, "d": [4, 8, 16, 30]}}
TRENDS_FULL = {**TRENDS_QUICK, "seeds": list(range(30)), "test_size": 8000}

register(Claim(
    id="lahoti2024/experiments-trends",
    paper=PAPER,
    reference="Experiments of the later version (arXiv 2403.15707v2+, as summarised by secondary sources, spec "
              "B3 [S]): CNN against LCN, k, d <= 30, sample complexity by binary search",
    statement="At a fixed sigma = 0.15 (chosen before the runs: the project's DSD value since spec B4; the "
              "experiments' sigma is not known), the reported trends hold for the two-step learner (our "
              "reconstruction): m*_CNN = Theta(k) at d = 16 and Theta(d) at k = 16; m*_LCN = Theta(k^2) and "
              "Theta(d); the LCN needs 10-20x the CNN's samples. Each exponent within the order statement's band "
              "on its grid (tol.exponent, RATE_FACTOR 2); the ratio as the geometric mean over the grid.",
    quick=TRENDS_QUICK,
    full=TRENDS_FULL,
    simulate=_simulate,
    predict=lambda cfg: {**{name: p for name, (_, _, p) in {**TRENDS, **MECHANISM}.items()}, RATIO_CHECK: 15.0},
    measure=_measure_trends,
    tolerance=_trend_tolerances(TRENDS_QUICK),
    plot=_plot_trends,
    expect="fail",
    failing=tuple(TRENDS)[:3],
    expected_failure=reconstruction(
        "the reported trends come from the authors' trained networks, which are not available; our two-step "
        "learner's second step selects the signal patch by its threshold, so its m* follows sigma^2 d (CNN) and "
        "sigma^2 k d (LCN), one power of k below the reported ~k and ~k^2 (" + LEARNER + ")"),
    note="The k trends fail decisively, the mechanism checks pass: at fixed sigma the two-step learner's m* follows "
         "its oracle-selection law (theory.oracle_m_star: sigma^2 d for the CNN, sigma^2 k d for the LCN), flat and "
         "linear in k, while the experiments report ~k and ~k^2. Quick (10 seeds; slopes with bootstrap CIs over "
         "seeds): CNN in k 0.092 [-0.064, 0.247], LCN in k 1.022 [0.971, 1.074] (band +- 0.413 around 1 and 2); "
         "mean m*_CNN = 16.3 / 18.9 / 23.0 / 17.3 and m*_LCN = 71.9 / 182.8 / 406 / 587 at k = 4 / 8 / 16 / 30 (d = "
         "16). Full (30 seeds): -0.001 [-0.098, 0.092] and 1.011 [0.976, 1.048]. The d trends: LCN ~ d holds (quick "
         "1.034 [0.897, 1.153], full 1.018 [0.957, 1.074]); the CNN grows faster than d, 1.381 [1.172, 1.615] in "
         "quick and 1.426 [1.329, 1.533] in full (m*_CNN = 2.9 / 8.6 / 23.0 / 45.9 at d = 4 / 8 / 16 / 30, k = 16), "
         "on the band's edge 1.413: listed in failing because its estimate lies outside the band, inconclusive in "
         "both modes (more seeds narrow the CI around a value on the edge). Its m* is 2-4.5x the oracle's "
         "0.34 d and the excess grows with d: at the small m where the CNN succeeds, a noise patch's overlap "
         "with the sample's own first-step contribution, (2 / (m k)) sigma^2 d, can exceed b1, so the threshold "
         "passes noise patches, more of them as d grows. The reported 10-20x holds: LCN / CNN 16.41 [14.79, 18.59] "
         "in quick, 16.48 [15.58, 17.52] in full (geometric mean over the 7 grid points; per point 4.4 ... 36). The "
         "one-step learner (projected first step only, the claims before the DSD issue) had exponents closer to "
         "the reported ones (CNN 1.09-1.13 in k at d = 32, LCN 1.61-1.68): the reported networks behave like "
         "learners without the threshold's patch selection.",
))


# ---------------------------------------------------------------------------------------------
# the GD study (exploratory): searches on the seed-averaged error through the engine
def _searches(cfg, arch: str, kd_points, errors, keys) -> dict:
    """{(k, d): Search} at each of ``kd_points`` with ``errors(run_cfg, arch, hi)`` (a search.*_errors),
    cached per configuration (``keys``: the cfg entries the result depends on)."""
    key = {k: cfg[k] for k in keys}
    key["arch"] = arch

    def compute():
        return {(k, d): search.sample_complexity(errors({**cfg, "k": k, "d": d}, arch, cfg["hi"]), 1, cfg["hi"],
                                                 cfg["delta"])
                for k, d in kd_points}

    return RUNS.get(key, compute)


def exponent(x, m_star) -> tuple[float, tuple[float, float] | None]:
    """Slope of log m* against log x with its 95% t interval (None with fewer than 3 points)."""
    x, m = np.log(np.asarray(x, dtype=np.float64)), np.log(np.asarray(m_star, dtype=np.float64))
    if not np.all(np.isfinite(m)):
        return math.nan, None
    line = stats.linregress(x, m)
    if len(x) < 3:
        return float(line.slope), None
    half = stats.t.ppf(0.975, len(x) - 2) * line.stderr
    return float(line.slope), (float(line.slope - half), float(line.slope + half))


NO_CI = "one m* per grid point: the bisection runs on the test error averaged over the seeds, so no CI over seeds"


def gap_bound(k, d):
    """FCN's lower bound over LCN's upper bound: sigma^2 k^2 d / (sigma^2 k (k + d) ln kd) = k d / ((k + d) ln kd)."""
    k, d = np.asarray(k, dtype=float), np.asarray(d, dtype=float)
    return k * d / ((k + d) * np.log(k * d))


def held_out(cfg, kd_points, values, kind: str, side: str, label: str) -> Measurement:
    """The constant rule on one m* per point (no CI: the GD study's searches average the seeds)."""
    k, d = np.array([p[0] for p in kd_points]), np.array([p[1] for p in kd_points])
    f = gap_bound(k, d)
    stat = fit.held_out_bound(np.asarray(values, dtype=float), f, k * d <= cfg["fit_kd"], side)
    details = {"points (k, d)": [list(map(int, p)) for p in kd_points], "measured": list(map(float, values)),
               "bound": f.round(4).tolist(), "fitted on k d <=": cfg["fit_kd"], **stat.parts}
    return Measurement.exact(stat.estimate, NO_CI, label=label, details=details)


# ---------------------------------------------------------------------------------------------
# lahoti2024/fcn-vs-lcn-gap: both trained by full-batch GD from random init through the engine
def gd_searches(cfg, arch: str) -> dict:
    """{(k, d): Search} along cfg["fcn_sweep"] for GD from random init."""
    sweep = cfg["fcn_sweep"]
    return _searches(cfg, arch, [(k, sweep["d"]) for k in sweep["k"]], search.gd_errors,
                     ("sigma", "mode", "delta", "seeds", "test_size", "hi", "fcn_sweep", "optimizer", "lr", "steps",
                      "b", "init_scale"))


def linear_error(sigma: float, k: int) -> float:
    """Test error of the linear classifier that weighs every patch alike, w = (w*, ..., w*): w . x = y + N(0, sigma^2 k)
    (the signal patch gives y ||w*||^2 = y, the noise of all k patches adds up), so the error is Phi(-1 / (sigma sqrt k))."""
    return float(stats.norm.cdf(-1.0 / (sigma * math.sqrt(k))))


def _sim_gd(cfg):
    return {arch: gd_searches(cfg, arch) for arch in ("lcn", "fcn")}


FCN_CHECK = "Omega(k d / ((k + d) ln kd)): held-out ratio / fitted c"


def _measure_fcn_gap(cfg, res):
    ks = cfg["fcn_sweep"]["k"]
    d = cfg["fcn_sweep"]["d"]
    m = {arch: np.array([res[arch][(k, d)].m_star for k in ks]) for arch in res}
    ratio = m["fcn"] / m["lcn"]
    est, ci = exponent(ks, ratio)
    out = held_out(cfg, [(k, d) for k in ks], ratio, "gap_lower", "lower",
                   f"min over held-out k of (m*_FCN / m*_LCN) / (k d / ((k + d) ln kd)) at d = {d} (GD), over the "
                   "constant fitted on k d <= fit_kd")
    details = {**out.details, "k": ks, "m*_FCN": m["fcn"].tolist(), "m*_LCN": m["lcn"].tolist(),
               "m*_FCN / m*_LCN": np.round(ratio, 3).tolist(),
               "log-log slope of the ratio (t interval; not the statement)": [est, ci],
               "linear classifier's error Phi(-1/(sigma sqrt k))": [round(linear_error(cfg["sigma"], k), 4) for k in ks],
               "mean test error by size": {f"{arch} k={k}": s.to_json()["errors"] for arch in res
                                           for (k, _), s in res[arch].items()}}
    return {FCN_CHECK: dataclasses.replace(out, details=details)}


def _plot_gd(cfg, res, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ks = np.array(cfg["fcn_sweep"]["k"], dtype=float)
    for c, arch in enumerate(("lcn", "fcn")):
        m = [res[arch][(int(k), cfg["fcn_sweep"]["d"])].m_star for k in ks]
        ax.loglog(ks, m, "os"[c] + "-", color=f"C{c + 1}", label=f"{arch.upper()} (GD from random init)")
    ax.set(xlabel="k", ylabel="m*", title=f"GD-trained LCN and FCN (d = {cfg['fcn_sweep']['d']}, sigma = {cfg['sigma']})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


GD = {"optimizer": "sgd", "lr": 0.5, "steps": 300, "b": 0.1, "init_scale": 1.0}
GD_QUICK = {"sigma": 0.15, "mode": "additive", "delta": 0.05, "seeds": [0, 1, 2, 3, 4], "test_size": 4000,
            "fcn_sweep": {"d": 8, "k": [2, 4, 8, 16]}, "hi": 4000, "fit_kd": 32, **GD}
GD_FULL = {**GD_QUICK, "seeds": list(range(10)), "test_size": 8000}

register(Claim(
    id="lahoti2024/fcn-vs-lcn-gap",
    paper=PAPER,
    reference="Abstract and sec. 6: FCNs need Omega(k^2 d) samples (any orthogonally equivariant algorithm, e.g. GD "
              "from an isotropic init), LCNs O~(k (k + d)) and Omega(k d): locality saves a factor ~k",
    statement="With both networks trained by full-batch GD from the same isotropic random init (same rate, steps, "
              "threshold b), m*_FCN / m*_LCN is at least a constant times the ratio of FCN's lower bound "
              "Omega(sigma^2 k^2 d) to LCN's upper bound O(sigma^2 k (k + d) ln kd), i.e. k d / ((k + d) ln kd): the "
              "constant fitted at k <= 4 holds, within the constant rule's factor 2, at k = 8 and 16 (d = 8).",
    quick=GD_QUICK,
    full=GD_FULL,
    simulate=_sim_gd,
    predict=lambda cfg: {FCN_CHECK: 1.0},
    measure=_measure_fcn_gap,
    tolerance={FCN_CHECK: tol.lower_bound_fitted("k d / ((k + d) ln kd)")},
    plot=_plot_gd,
    exploratory="both networks trained by our GD study at sigma = 0.15, outside the paper's regime sigma = "
                "O~(1 / sqrt(k)) for the larger k; the LCN's upper bound is the paper's two-step learner's, and "
                "the FCN's lower bound is for every orthogonally equivariant algorithm, which one GD run does not "
                "test",
    note="Was a log-log slope >= 0.7 (a lower bound read as a rate; its CI [0.50, 2.56] straddled the threshold); "
         "now the ratio of bounds by the constant rule. sigma = 0.15 is outside the paper's regime sigma = O~(1 / "
         "sqrt(k)) for the larger k. Kept exploratory by the DSD issue: bringing it into the regime (sigma = c / "
         "sqrt(k) as k grows) with a decisive CI needs k >= 32, where the FCN has k^2 d = 8192 weights per member "
         "and must break its units' symmetry by GD (the two-step learner cannot: every FCN unit gets the same first "
         "step), beyond this claim's budget on 2 cores; the ratio has one m* per k (seed-averaged searches), so no "
         "CI. Earlier numbers, on a grid that cannot show a clean power "
         "law: Quick (5 seeds): slope 1.53 "
         "[0.50, 2.56]; m*_FCN = 6 / 15 / 79 / 1757 and m*_LCN = 15 / 22 / 40 / 183 at k = 2 / 4 / 8 / 16 (ratio "
         "0.40 / 0.68 / 1.98 / 9.60). Full (10 seeds, 8000 test points): 1.48 [0.18, 2.78]; FCN 7 / 15 / 92 / 1819, "
         "LCN 15 / 26 / 43 / 196 (ratio 0.47 / 0.58 / 2.14 / 9.28). The ratio is below 1 at k <= 4: there the "
         "locality-blind linear classifier w = (w*, ..., w*), which sums the noise of all k patches, already has error "
         "Phi(-1 / (sigma sqrt k)) = 0.0004 at k = 4, and the FCN's k identical-gradient units learn about it as "
         "fast as "
         "the LCN learns k separate units. Its error is 0.0092 at k = 8 and 0.048 at k = 16, just under delta = "
         "0.05: as "
         "that floor nears delta a near-linear FCN needs ever more samples to come within delta, and at k = 16 it gets "
         "there only by using its threshold to beat the floor (test error 0.034 at m = 4000 in a 5-seed probe), so its "
         "m* jumps (the ratio's local slopes, full: 0.3 / 1.9 / 2.1): most of the measured slope is this regime "
         "change, "
         "not the asymptotic k^2 d / kd; "
         "at k = 32 (floor 0.12) the FCN would need GD to break its units' symmetry (not run: 32^2 x 8 weights per "
         "member). The CI is wide (4 points, 2 degrees of freedom). Training: full-batch GD, rate 0.5, 300 steps, "
         "b = 0.1, w ~ N(0, I / fan-in), the same for both networks (300 and 1000 steps gave the same errors at k = 8).",
))
