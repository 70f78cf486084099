"""Claims of Lahoti, Karp, Winston, Singh, Li (2024), "Role of locality and weight sharing in
image-based tasks: a sample complexity separation between CNNs, LCNs, and FCNs" (arXiv 2403.15707,
ICLR 2024): how the sample complexity m*(k, d) of the DSD task scales for the three architectures.

Setting (spec B4): sigma = 0.15 fixed while k and d sweep (sigma = 1/sqrt(k) makes small k
Bayes-hard), additive noise, delta = 0.05 on 4000 fresh test points (full: 8000), 5 seeds (full: 10),
m* by a log grid and bisection (:mod:`theorysim.setups.dsd.search`); k = 4 ... 32 at d = 32 and
d = 4 ... 32 at k = 32 in both modes (the closed form is cheap: quick is full with fewer seeds). The CNN and LCN are trained by the projected first
step of the paper's two-step GD (:func:`theorysim.setups.dsd.estimators.projected_step`) and predict
with threshold b = 0.5. Exponents are least-squares slopes of log m* (their CIs: t intervals from the
regression's standard error).

fcn-vs-lcn-gap trains the FCN and the LCN alike by full-batch GD from an isotropic random init through
the engine (one member per (m, seed), per-member training sets), at d = 8 and k = 2 ... 16: the FCN
has k^2 d weights, so k = 32 is out of reach on 2 cores.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats

from theorysim import fit
from theorysim.claims import Claim, Measurement, Paper, register, tol
from theorysim.engine.cache import RunCache
from theorysim.plotting import pyplot
from theorysim.setups.dsd import search

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


def points(cfg) -> list[tuple[int, int]]:
    """(k, d) of the k sweep (fixed d) then the d sweep (fixed k), without repeats."""
    out = [(k, cfg["k_sweep"]["d"]) for k in cfg["k_sweep"]["k"]]
    out += [(cfg["d_sweep"]["k"], d) for d in cfg["d_sweep"]["d"] if (cfg["d_sweep"]["k"], d) not in out]
    return out


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


def step_searches(cfg, arch: str) -> dict:
    """{(k, d): Search} for the closed-form projected step."""
    return _searches(cfg, arch, points(cfg), search.step_errors,
                     ("sigma", "mode", "delta", "b", "seeds", "test_size", "hi", "k_sweep", "d_sweep"))


def exponent(x, m_star) -> tuple[float, tuple[float, float] | None]:
    """Slope of log m* against log x with its 95% t interval (None with fewer than 3 points)."""
    x, m = np.log(np.asarray(x, dtype=np.float64)), np.log(np.asarray(m_star, dtype=np.float64))
    if not np.all(np.isfinite(m)):
        return math.nan, None
    fit = stats.linregress(x, m)
    if len(x) < 3:
        return float(fit.slope), None
    half = stats.t.ppf(0.975, len(x) - 2) * fit.stderr
    return float(fit.slope), (float(fit.slope - half), float(fit.slope + half))


def sweeps(cfg, table: dict) -> dict:
    """{"k": (ks, m*), "d": (ds, m*)} from a {(k, d): value} table."""
    ks, ds = cfg["k_sweep"]["k"], cfg["d_sweep"]["d"]
    return {"k": (ks, [table[(k, cfg["k_sweep"]["d"])] for k in ks]),
            "d": (ds, [table[(cfg["d_sweep"]["k"], d)] for d in ds])}


NO_CI = ("one m* per grid point: the bisection runs on the test error averaged over the seeds, so no CI over seeds "
         "(per-seed m* is the DSD issue's)")


ONE_STEP = ("our one-step projected learner (a reconstruction of the first step of the paper's two-step "
            "projected GD, whose second step the sources leave undetermined); the paper's upper bounds are its "
            "two-step learner's, so a verdict here is the reconstruction's, not the paper's (the DSD issue builds "
            "the two-step learner)")


def bound_values(cfg, kind: str, k, d):
    """The formal statements' growth, log factors as the paper has them (sigma^2 included):
    cnn_upper sigma^2 (k + d) ln(kd); lcn_upper sigma^2 k (k + d) ln(kd); lcn_lower sigma^2 k d;
    gap_lower (LCN's lower over CNN's upper) k d / ((k + d) ln(kd))."""
    k, d = np.asarray(k, dtype=float), np.asarray(d, dtype=float)
    s2 = cfg["sigma"] ** 2
    return {"cnn_upper": s2 * (k + d) * np.log(k * d), "lcn_upper": s2 * k * (k + d) * np.log(k * d),
            "lcn_lower": s2 * k * d, "gap_lower": k * d / ((k + d) * np.log(k * d))}[kind]


def held_out(cfg, kd_points, values, kind: str, side: str, label: str) -> Measurement:
    """The constant rule (theorysim.claims.tolerance): the constant fitted on the declared part of
    the grid (k d <= cfg["fit_kd"]) and held on the rest."""
    k, d = np.array([p[0] for p in kd_points]), np.array([p[1] for p in kd_points])
    f = bound_values(cfg, kind, k, d)
    part = k * d <= cfg["fit_kd"]
    stat = fit.held_out_bound(np.asarray(values, dtype=float), f, part, side)
    details = {"points (k, d)": [list(map(int, p)) for p in kd_points], "measured": list(map(float, values)),
               "bound": f.round(4).tolist(), "fitted on k d <=": cfg["fit_kd"], **stat.parts}
    return Measurement.exact(stat.estimate, NO_CI, label=label, details=details)


def _sim_both(cfg):
    return {arch: step_searches(cfg, arch) for arch in ("cnn", "lcn")}


def _m_star(res, arch):
    return {kd: s.m_star for kd, s in res[arch].items()}


def _tables(res):
    return {arch: {f"k={k}, d={d}": s.m_star for (k, d), s in res[arch].items()} for arch in res}


# ---------------------------------------------------------------------------------------------
# lahoti2024/cnn-scaling
CNN_CHECK = "O(sigma^2 (k + d) ln kd): held-out ratio / fitted C"


def _measure_cnn(cfg, res):
    m = _m_star(res, "cnn")
    return {CNN_CHECK: held_out(cfg, list(m), list(m.values()), "cnn_upper", "upper",
                                "max over held-out points of m*_CNN / (sigma^2 (k + d) ln kd), over the constant "
                                "fitted on k d <= fit_kd")}


def _plot(cfg, res, verdict):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, axis in zip(axes, ("k", "d")):
        for arch, marker in (("cnn", "o"), ("lcn", "s")):
            x, m = sweeps(cfg, _m_star(res, arch))[axis]
            ax.loglog(x, m, marker + "-", label=arch.upper())
        fixed = f"d = {cfg['k_sweep']['d']}" if axis == "k" else f"k = {cfg['d_sweep']['k']}"
        ax.set(xlabel=axis, ylabel="m*", title=f"sample complexity against {axis} ({fixed}, sigma = {cfg['sigma']})")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


_BASE = {"sigma": 0.15, "mode": "additive", "delta": 0.05, "b": 0.5, "seeds": [0, 1, 2, 3, 4], "test_size": 4000}
QUICK = {**_BASE, "k_sweep": {"d": 32, "k": [4, 8, 16, 32]}, "d_sweep": {"k": 32, "d": [4, 8, 16, 32]}, "hi": 8000,
         "fit_kd": 256}
FULL = {**QUICK, "seeds": list(range(10)), "test_size": 8000}

register(Claim(
    id="lahoti2024/cnn-scaling",
    paper=PAPER,
    reference="Abstract and sec. 7: CNNs trained by (two-step projected) GD need O~(k + d) samples on DSD; the "
              "formal bound O(sigma^2 (k + d) ln kd) (as quoted by the OpenReview reviews, a secondary source)",
    statement="The one-step projected CNN learner (our reconstruction of the first step of the paper's two-step GD) "
              "meets the paper's upper bound m*_CNN = O(sigma^2 (k + d) ln kd): the constant fitted on the points with "
              "k d <= 256 holds, within the constant rule's factor 2, at the larger k d.",
    quick=QUICK,
    full=FULL,
    simulate=_sim_both,
    predict=lambda cfg: {CNN_CHECK: 1.0},
    measure=_measure_cnn,
    tolerance={CNN_CHECK: tol.upper_bound_fitted("sigma^2 (k + d) ln kd")},
    plot=_plot,
    reconstruction=ONE_STEP,
    note="Was an expected failure that read the O~ bound as an exponent (slope of log m* within 0.3 of m* = C (k + "
         "d)'s); an upper bound fixes no slope on a finite grid, so it is now tested as a bound by the constant "
         "rule. The earlier reading's numbers: Quick (5 seeds): m*_CNN's exponent is 1.13 [0.87, 1.38] in k (d = "
         "32) and "
         "1.08 [0.40, 1.76] in d (k = 32); full (10 seeds): 1.09 [0.78, 1.41] and 1.01 [0.35, 1.67]; m* = C (k + d) "
         "has 0.28 on this grid. m*_CNN is 4 ... 44 samples: with sigma = 0.15 (inside the paper's condition "
         "sigma = O~(1/sqrt(k))) the bound O~(sigma^2 (k + d)) is itself ~10 samples, so the log factors and the "
         "search's resolution (5% or one sample) weigh on every point. The estimator is the first projected step only: "
         "the summed patch gradient carries the signal once and the noise of all k patches, so its alignment with w* "
         "is (1 + sigma^2 k d / m)^(-1/2) and it needs m proportional to sigma^2 k d (exponents 1 and 1, as "
         "measured). The paper's O~(k + d) rests on its two-step analysis (a second step with eta2 = 1e3 k per a "
         "review), which is not reproduced: a squared-loss second step with that eta flips the direction. The "
         "paper's later experiments as summarised (spec B3 [S]) report CNN m* ~ k at fixed d and ~ d at fixed k, "
         "in line with these exponents.",
))


# ---------------------------------------------------------------------------------------------
# lahoti2024/lcn-vs-cnn-gap and lahoti2024/lcn-scaling
GAP_CHECK = "Omega(k d / ((k + d) ln kd)): held-out ratio / fitted c"


def _measure_gap(cfg, res):
    lcn, cnn = _m_star(res, "lcn"), _m_star(res, "cnn")
    ratio = [lcn[p] / cnn[p] for p in lcn]
    m = held_out(cfg, list(lcn), ratio, "gap_lower", "lower",
                 "min over held-out points of (m*_LCN / m*_CNN) / (k d / ((k + d) ln kd)), over the constant fitted on "
                 "k d <= fit_kd")
    return {GAP_CHECK: m}


register(Claim(
    id="lahoti2024/lcn-vs-cnn-gap",
    paper=PAPER,
    reference="Abstract and sec. 7: LCNs need Omega(kd) samples, CNNs O~(k + d): weight sharing saves a factor ~k "
              "(a ratio of a lower and an upper bound: itself a lower bound on m*_LCN / m*_CNN)",
    statement="For the one-step projected learners (our reconstruction), m*_LCN / m*_CNN is at least a constant times the "
              "ratio of the paper's bounds, Omega(sigma^2 k d) over O(sigma^2 (k + d) ln kd): the constant fitted on k d "
              "<= 256 holds, within the constant rule's factor 2, at the larger k d.",
    quick=QUICK,
    full=FULL,
    simulate=_sim_both,
    predict=lambda cfg: {GAP_CHECK: 1.0},
    measure=_measure_gap,
    tolerance={GAP_CHECK: tol.lower_bound_fitted("k d / ((k + d) ln kd)")},
    plot=_plot,
    reconstruction=ONE_STEP,
    note="Was an expected failure that read the ratio of two bounds as a slope in [0.7, 1.3]; on this grid the bound "
         "ratio k d / ((k + d) ln kd) itself has slope 0.553, so the reading could not hold. Earlier numbers: the "
         "ratio grows with k, but slower than linearly: quick 0.547 [0.105, 0.989] (m*_LCN / m*_CNN = 9.5 / 11.2 / "
         "22.2 / 26.8 at k = 4 / 8 / 16 / 32, d = 32), full 0.521 [0.306, 0.736] (11.0 / 13.9 / 22.8 / 31.0). "
         "The LCN's k-exponent is 1.68 (full 1.61), the CNN's 1.13 (full 1.09): the one-step LCN's per-patch "
         "sample counts (about m / k each) grow faster than k d but slower than its k^2 d alignment law at these "
         "sizes, and the CNN's m* (4 ... 44) sits near the search's resolution. The size of the gap, 10-30x, "
         "matches the 10-20x the paper's later experiments report (spec B3 [S]). A first quick grid at d = 16 "
         "measured 0.77 [0.34, 1.20]: the point estimate moves with d; the CI spans the band at both.",
))


LCN_CHECKS = ("Omega(sigma^2 k d): held-out ratio / fitted c", "O(sigma^2 k (k + d) ln kd): held-out ratio / fitted C")


def _measure_lcn(cfg, res):
    m = _m_star(res, "lcn")
    pts, vals = list(m), list(m.values())
    return {LCN_CHECKS[0]: held_out(cfg, pts, vals, "lcn_lower", "lower",
                                    "min over held-out points of m*_LCN / (sigma^2 k d), over the constant fitted on "
                                    "k d <= fit_kd"),
            LCN_CHECKS[1]: held_out(cfg, pts, vals, "lcn_upper", "upper",
                                    "max over held-out points of m*_LCN / (sigma^2 k (k + d) ln kd), over the constant "
                                    "fitted on k d <= fit_kd")}


register(Claim(
    id="lahoti2024/lcn-scaling",
    paper=PAPER,
    reference="Abstract and sec. 7: LCNs need Omega(kd) samples (any orthogonally equivariant algorithm) and the "
              "two-step learner O~(k (k + d)); formal forms as quoted by the OpenReview reviews (secondary source)",
    statement="The one-step projected LCN learner (our reconstruction) lies between the paper's bounds: "
              "m*_LCN = Omega(sigma^2 k d) (for any orthogonally equivariant algorithm) and O(sigma^2 k (k + d) ln kd) "
              "(the paper's two-step learner's), each constant fitted on k d <= 256 and held, within the constant "
              "rule's factor 2, at the larger k d.",
    quick=QUICK,
    full=FULL,
    simulate=_sim_both,
    predict=lambda cfg: dict.fromkeys(LCN_CHECKS, 1.0),
    measure=_measure_lcn,
    tolerance={LCN_CHECKS[0]: tol.lower_bound_fitted("sigma^2 k d"),
               LCN_CHECKS[1]: tol.upper_bound_fitted("sigma^2 k (k + d) ln kd")},
    reconstruction=ONE_STEP,
    note="Was an expected failure that read Omega(kd) as an exponent of at least 0.8 in each variable; a lower "
         "bound fixes no exponent on a finite grid, so it is now a bound by the constant rule. Earlier numbers: the"
         " k check holds (quick 1.68 [1.40, 1.95], full 1.61 [1.13, 2.10] at d = 32); the d check fails: quick "
         "0.67 [0.46, 0.88], full 0.68 [0.51, 0.84] at k = 32, d = 4 ... 32 (m*_LCN = 294 / 521 / 825 / 1179 in "
         "quick). The reading tested (an exponent of at least 1 in each variable) is stronger than Omega(kd), an "
         "asymptotic floor: the LCN's own upper bound O~(sigma^2 k (k + d)) has d-exponent d / (k + d) < 1 while "
         "d < k (0.28 on this grid). m*_LCN / (k d) is 2.30 / 2.04 / 1.61 / 1.15 along d and 0.30 / 0.39 / 0.74 / "
         "1.15 along k: it falls along d, so these sizes cannot show a kd floor, nor contradict one with a constant "
         "below 0.30.",
))


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
                "O~(1 / sqrt(k)) for the larger k; the LCN's upper bound is the paper's two-step learner's",
    note="Was a log-log slope >= 0.7 (a lower bound read as a rate; its CI [0.50, 2.56] straddled the threshold); "
         "now the ratio of bounds by the constant rule. sigma = 0.15 is outside the paper's regime sigma = O~(1 / "
         "sqrt(k)) for the larger k (the DSD issue's). Earlier numbers, on a grid that cannot show a clean power "
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
