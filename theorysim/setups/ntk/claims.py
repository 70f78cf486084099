"""Claims of Jacot, Gabriel, Hongler (2018): the NTK of a wide network is deterministic at init
(Thm. 1), stays constant during training (Thm. 2), and training is kernel gradient descent in
function space (sec. 5), with the limiting Gaussian of the trained outputs (sec. 5, Fig. 2).

Statement kinds (``theorysim.claims.tolerance``): Theorems 1 and 2 are limits without a rate, tested
on a finite grid of widths as a trend (the quantity falls with width: ``monotone``, the log-log
slope's CI below 0) and, for Thm. 1, as a value at one width; rates that are not the paper's (the
central limit theorem's n^(-1/2) at init, the O(1/n) drift of Dyer and Gur-Ari 2020 and Huang and
Yau 2020) are exploratory claims; Lee et al.'s (2019) O(n^(-1/2)) bound on the drift is an upper
bound with an unknown constant (the constant rule); the finite-width approximations of sec. 5 are
values within a tolerance (``error_at_most``) with CIs over initialisations; the limiting Gaussian
is a distributional statement (tests with their power).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats

from theorysim import fit
from theorysim.claims import Claim, Measurement, Paper, register, regime, tol
from theorysim.engine.experiment import Experiment
from theorysim.plotting import finish, pyplot
from theorysim.setups.ntk import simulation, task, theory

PAPER = Paper(
    key="jacot2018",
    title="Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
    authors="A. Jacot, F. Gabriel, C. Hongler",
    year=2018,
    arxiv="1806.07572",
    venue="NeurIPS 2018",
)


def _slope(widths, values, label):
    """The log-log slope over widths with its bootstrap CI over seeds, as a Measurement."""
    stat = fit.loglog_slope(widths, values)
    means = np.asarray(values, dtype=np.float64).mean(axis=1)
    return Measurement.of_grid(stat, label=label, details={"mean_per_width": dict(zip(map(str, widths),
                                                                                    means.round(5).tolist()))})


def _loglog(ax, widths, values, label):
    mean = values.mean(axis=1)
    ax.loglog(np.repeat(widths, values.shape[1]), values.ravel(), ".", alpha=0.4, color="C0")
    ax.loglog(widths, mean, "o-", color="C0", label=label)
    ref = mean[0] * (np.asarray(widths) / widths[0]) ** -0.5
    ax.loglog(widths, ref, "k--", lw=1, label="n^(-1/2)")


# ---------------------------------------------------------------------------------------------
# jacot2018/width-convergence (Thm. 1) and the exploratory jacot2018/width-fluctuation-rate (one run)
_WIDTH_QUICK = {"depth": 3, "beta": 0.1, "points": 41, "widths": [100, 250, 500, 1000, 2000], "seeds": 5}
_WIDTH_FULL = {"depth": 3, "beta": 0.1, "points": 41, "widths": [100, 250, 500, 1000, 2000, 4000], "seeds": 12}
_ERROR_LABEL = "||Theta_n - Theta_inf||_F / ||Theta_inf||_F"


def _measure_width(cfg, out):
    errors = out["errors"]
    at = cfg["widths"].index(2000)
    return {"falls with width": _slope(cfg["widths"], errors, f"log-log slope of {_ERROR_LABEL} in n"),
            "error at n = 2000": Measurement.t_mean(errors[at], unit="initialisations",
                                                    label=f"{_ERROR_LABEL} at n = 2000, mean over initialisations",
                                                    details={"per_seed": errors[at].round(5).tolist()})}


def _plot_width(cfg, out, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    _loglog(ax, cfg["widths"], out["errors"], "empirical NTK at init")
    return finish(fig, ax, xlabel="width n", ylabel=_ERROR_LABEL,
                  title=f"L = {cfg['depth'] + 1}, beta = {cfg['beta']}, {cfg['points']} points on the circle")


register(Claim(
    id="jacot2018/width-convergence",
    paper=PAPER,
    reference="Theorem 1: at initialisation, as the widths n_1, ..., n_(L-1) -> infinity, the NTK Theta^(L) "
              "converges in probability to the deterministic Theta_inf^(L) (x) Id_(n_L) (Prop. 1's recursion). "
              "A limit, without a rate.",
    statement="The empirical NTK at init approaches the analytic limit as the width n grows (L = 4, beta = 0.1, 41 "
              "points on the circle): the relative Frobenius error ||Theta_n - Theta_inf||_F / ||Theta_inf||_F "
              "falls with n (monotone: log-log slope below 0) and its mean at n = 2000 is at most 0.1 (value: "
              "the identity Theta_n = Theta_inf measured as an error at one finite width; the 0.1 is ours).",
    note="Kinds: Theorem 1 is a limit, so on a finite grid it is tested as a trend (the error falls with n) and "
         "as an approximation at one width (error <= 0.1 at n = 2000, the tolerance of the spec's check A9, "
         "not a paper number). Until issue 36 this claim also asked for the rate n^(-1/2) (slope in [-0.7, "
         "-0.3]); that rate is the central limit theorem's, not Jacot et al.'s, and is now the exploratory "
         "claim jacot2018/width-fluctuation-rate (same run).",
    quick=_WIDTH_QUICK,
    full=_WIDTH_FULL,
    simulate=simulation.kernel_errors,
    predict=lambda cfg: {"falls with width": 0.0, "error at n = 2000": 0.0},
    measure=_measure_width,
    tolerance={"falls with width": tol.falls_with("width n"), "error at n = 2000": tol.error_at_most(0.1)},
    plot=_plot_width,
))


def _grid_name(what, cfg):
    """A check's name with its grid of widths: an order statement's band depends on the grid's span
    (``tol.exponent``), and quick and full have different grids, so each grid is its own check."""
    return f"{what}, n = {min(cfg['widths'])}..{max(cfg['widths'])}"


def _exponents(what, p, configs):
    """{check name per grid: tol.exponent(p, that grid)} for the quick and full grids."""
    return {_grid_name(what, c): tol.exponent(p, c["widths"], "n") for c in configs}


def _measure_fluctuation(cfg, out):
    return {_grid_name("slope", cfg): _slope(cfg["widths"], out["errors"], f"log-log slope of {_ERROR_LABEL} in n")}


register(Claim(
    id="jacot2018/width-fluctuation-rate",
    paper=PAPER,
    reference="Not in the paper (Theorem 1 has no rate). The central limit theorem over each layer's n neurons "
              "gives fluctuations of order n^(-1/2) at fixed depth (finite-width corrections: Hanin and Nica 2020, "
              "arXiv 1909.05989, secondary here: not read for this claim); spec A9 [V]: 0.243 / 0.141 / 0.068 at "
              "n = 100 / 500 / 2000.",
    statement="At init the relative Frobenius error ||Theta_n - Theta_inf||_F / ||Theta_inf||_F is "
              "Theta(n^(-1/2)): its log-log slope in n lies within -0.5 +- the rate band of the fitted grid (L = 4, beta = 0.1, 41 "
              "circle points; the run of jacot2018/width-convergence).",
    note="Exploratory: the rate is ours (the CLT), not Jacot et al.'s. The error's mean has a bias of order 1/n "
         "beside the n^(-1/2) fluctuation, which steepens the slope slightly at small widths.",
    exploratory="the n^(-1/2) rate of the NTK's fluctuation at init (central limit theorem), which Theorem 1 "
                "does not state",
    quick=_WIDTH_QUICK,
    full=_WIDTH_FULL,
    simulate=simulation.kernel_errors,
    predict=lambda cfg: {_grid_name("slope", cfg): -0.5},
    measure=_measure_fluctuation,
    tolerance=_exponents("slope", -0.5, (_WIDTH_QUICK, _WIDTH_FULL)),
    plot=_plot_width,
))


# ---------------------------------------------------------------------------------------------
# jacot2018/kernel-constancy (Thm. 2; Lee et al.'s bound) and the exploratory jacot2018/kernel-drift-order
# (one run). The constant of an O bound is fitted on the first ``fit_points`` widths and held on the rest.
_DRIFT_BASE = {"depth": 3, "train_points": 16, "data_seed": 0, "circle_points": 41, "lr": 1.0, "steps": 200,
               "fit_points": 1}
_DRIFT_QUICK = {**_DRIFT_BASE, "widths": [250, 500, 1000], "seeds": 4}
_DRIFT_FULL = {**_DRIFT_BASE, "widths": [250, 1000, 4000], "seeds": 8}
_DRIFT_LABEL = "||Theta_T - Theta_0||_F / ||Theta_0||_F"


def _bound(cfg, out, power, what):
    """The constant rule for drift = O(n^power): the held-out worst ratio drift / n^power over the
    constant fitted on the first ``fit_points`` widths (``fit.held_out_bound``)."""
    widths = np.asarray(cfg["widths"], dtype=np.float64)
    fit_part = np.arange(len(widths)) < cfg["fit_points"]
    stat = fit.held_out_bound(out["drift"], widths ** power, fit_part, "upper")
    held = [int(w) for w, f in zip(widths, fit_part) if not f]
    return Measurement.of_grid(stat, label=f"max over n = {held} of (drift / {what}) / C, C fitted on "
                                           f"n = {[int(w) for w in widths[fit_part]]}")


def _drift_details(cfg, out):
    return {"final_over_initial_loss_max": float(out["loss_ratio"].max())}


def _measure_constancy(cfg, out):
    slope = _slope(cfg["widths"], out["drift"], f"log-log slope of {_DRIFT_LABEL} in n")
    slope = dataclasses.replace(slope, details={**slope.details, **_drift_details(cfg, out)})
    return {"falls with width (Thm. 2)": slope,
            "O(n^(-1/2)) (Lee et al. 2019, Thm. 2.1)": _bound(cfg, out, -0.5, "n^(-1/2)")}


def _plot_constancy(cfg, out, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    _loglog(ax, cfg["widths"], out["drift"], f"after {cfg['steps']} GD steps, lr {cfg['lr']}")
    mean = out["drift"].mean(axis=1)
    ax.loglog(cfg["widths"], mean[0] * (np.asarray(cfg["widths"]) / cfg["widths"][0]) ** -1.0, "k:", lw=1,
              label="n^(-1)")
    return finish(fig, ax, xlabel="width n", ylabel=_DRIFT_LABEL, title="NTK drift during training (on the circle)")


register(Claim(
    id="jacot2018/kernel-constancy",
    paper=PAPER,
    reference="Theorem 2: for a training direction d_t with int_0^T ||d_t|| dt stochastically bounded (least "
              "squares), Theta^(L)(t) -> Theta_inf^(L) (x) Id uniformly on [0, T] as the widths grow, so the drift "
              "vanishes in the limit (a limit, no rate). The rate: Lee et al. 2019 (arXiv 1902.06720), Thm. 2.1 "
              "(another paper's theorem, cited): sup_t ||Theta_t - Theta_0||_F = O(n^(-1/2)) with high "
              "probability, for a learning rate below the critical one; an upper bound with an unknown constant.",
    statement="After 200 GD steps at learning rate 1 on Fig. 1's task (16 N(0, I_2) inputs, target x_1 x_2, "
              "L = 4), the relative drift ||Theta_T - Theta_0||_F / ||Theta_0||_F on 41 circle points falls with "
              "the width n (Thm. 2, monotone: log-log slope below 0) and is O(n^(-1/2)) (Lee et al.'s bound by the "
              "constant rule: the constant fitted on the smallest width holds, within the factor 2, on the "
              "larger ones).",
    note="Until issue 36 this claim was an expected failure: it tested Lee et al.'s O(n^(-1/2)), an upper bound, "
         "as a slope of -0.5 (in [-0.7, -0.3]), which the measured -0.996 [-1.13, -0.88] (quick) missed; the "
         "drift is faster than the bound, which is what a bound allows. Lee et al. bound the absolute "
         "||Theta_t - Theta_0||_F; the relative drift differs by ||Theta_0||_F, which tends to ||Theta_inf||_F "
         "(width-convergence), so the two are O of the same order; and their bound is on sup_t, of which the "
         "drift at T is one value. The faster O(1/n) drift (Dyer and Gur-Ari 2020, arXiv 1909.11304; Huang and "
         "Yau 2020, arXiv 1909.08156: dTheta/dt = O(1/n)) is the exploratory claim jacot2018/kernel-drift-order "
         "(same run). The constant is fitted on the smallest width only, so that the held-out part spans as much "
         "of the grid as it can: a drift of order n^(-1/2) gives a held-out ratio near 1, a 1/n drift about "
         "0.5, and a drift that does not fall at all 2 on the quick grid (widths 250-1000: the boundary) and "
         "4 on the full grid (250-4000: a decisive failure).",
    quick=_DRIFT_QUICK,
    full=_DRIFT_FULL,
    simulate=simulation.kernel_drift,
    predict=lambda cfg: {"falls with width (Thm. 2)": 0.0, "O(n^(-1/2)) (Lee et al. 2019, Thm. 2.1)": 1.0},
    measure=_measure_constancy,
    tolerance={"falls with width (Thm. 2)": tol.falls_with("width n"),
               "O(n^(-1/2)) (Lee et al. 2019, Thm. 2.1)": tol.upper_bound_fitted("n^(-1/2)")},
    plot=_plot_constancy,
))


def _measure_drift_order(cfg, out):
    return {"O(1/n) (constant rule)": _bound(cfg, out, -1.0, "n^(-1)"),
            _grid_name("slope", cfg): _slope(cfg["widths"], out["drift"], f"log-log slope of {_DRIFT_LABEL} in n")}


register(Claim(
    id="jacot2018/kernel-drift-order",
    paper=PAPER,
    reference="Not in the paper. Dyer and Gur-Ari 2020 (arXiv 1909.11304) and Huang and Yau 2020 (arXiv "
              "1909.08156, the neural tangent hierarchy): dTheta/dt = O(1/n), so the drift over a fixed training "
              "time is O(1/n) (secondary here: these papers were not read for this claim).",
    statement="The relative NTK drift after 200 GD steps (jacot2018/kernel-constancy's run) is O(1/n) (constant "
              "rule: fitted on the smallest width, held on the larger ones) and, our reading of those papers' "
              "scaling, Theta(1/n): its log-log slope in n lies within -1 +- the rate band of the fitted grid.",
    note="Exploratory: a statement of later papers, not Jacot et al.'s. Quick measured slope -0.996 [-1.13, -0.88] "
         "before issue 36 (then a check of the kernel-constancy claim). The quick grid spans a factor 4 (band "
         "+-0.5), which does not separate -1 from -0.5; full spans 16 (band +-0.25), which does.",
    exploratory="the O(1/n) drift of the NTK during training (Dyer and Gur-Ari 2020; Huang and Yau 2020), faster "
                "than the O(n^(-1/2)) bound of Lee et al. 2019 that kernel-constancy tests",
    quick=_DRIFT_QUICK,
    full=_DRIFT_FULL,
    simulate=simulation.kernel_drift,
    predict=lambda cfg: {"O(1/n) (constant rule)": 1.0, _grid_name("slope", cfg): -1.0},
    measure=_measure_drift_order,
    tolerance={"O(1/n) (constant rule)": tol.upper_bound_fitted("1/n"),
               **_exponents("slope", -1.0, (_DRIFT_QUICK, _DRIFT_FULL))},
    plot=_plot_constancy,
))


# ---------------------------------------------------------------------------------------------
# jacot2018/function-space-dynamics and jacot2018/pca-decay-rates (one shared run)
def _linear_prediction(cfg, out):
    """Per seed: (recorded training outputs [R, N], the linearised GD prediction with the empirical
    Theta_0, the eigen-decomposition of Theta_0)."""
    model, res = out["model"], out["result"]
    y = task.target(model.X)
    rows = []
    for s in range(res.n_members):
        f = res.records[s, :, 1:]
        K0 = out["theta0_kernels"][s]
        rows.append((f, theory.train_outputs(K0, f[0], y, res.steps, cfg["lr"]), np.linalg.eigh(K0)))
    return y, rows


def _measure_dynamics(cfg, out):
    y, rows = _linear_prediction(cfg, out)
    dev = [float(np.max(np.linalg.norm(f - pred, axis=1)) / np.linalg.norm(f[0] - y)) for f, pred, _ in rows]
    X = out["model"].X
    _, K = theory.nngp_ntk(X, None, cfg["depth"], "relu", 1.0, task.JACOT_BETA)
    analytic = [float(np.max(np.linalg.norm(f - theory.train_outputs(K, f[0], y, out["result"].steps, cfg["lr"]),
                                            axis=1)) / np.linalg.norm(f[0] - y)) for f, _, _ in rows]
    return Measurement.t_mean(dev, unit="initialisations",
                              label="max_k ||f_k - f_k^lin|| / ||f_0 - y||, mean over initialisations",
                              details={"per_seed": dev, "worst_seed": max(dev), "with_analytic_theta_inf": analytic})


def _plot_dynamics(cfg, out, verdict):
    y, rows = _linear_prediction(cfg, out)
    f, pred, _ = rows[0]
    steps = out["result"].steps
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for i in range(0, f.shape[1], max(1, f.shape[1] // 5)):
        line, = ax.plot(steps, f[:, i], lw=1.2)
        ax.plot(steps[:: max(1, len(steps) // 25)], pred[:: max(1, len(steps) // 25), i], "o", ms=3,
                color=line.get_color())
    return finish(fig, ax, legend=False, xlabel="GD step k", ylabel="f_k(x_i)",
                  title=f"width {cfg['width']}: network (lines) vs y + (I - Theta_0/N)^k (f_0 - y) (dots)")


_CIRCLE_RUN = {"depth": 3, "width": 2000, "train_points": 20, "lr": 1.0, "steps": 200, "seeds": 2}

register(Claim(
    id="jacot2018/function-space-dynamics",
    paper=PAPER,
    reference="Sec. 5 (least squares): in the infinite-width limit f_t = f* + exp(-t Pi)(f_0 - f*), with Pi the "
              "kernel operator of Theta under the empirical measure (footnote 2); for GD with step eta, "
              "f_k = y + (I - eta Theta_0 / N)^k (f_0 - y) on the training inputs. A limit statement; the "
              "finite-width version with the net's own Theta_0 is Lee et al. 2019's linearisation (cited).",
    statement="A width-2000 network's outputs on its 20 training inputs follow the linear dynamics of its own "
              "Theta_0 within 1e-2 of the initial residual over 200 GD steps (value: the largest deviation over "
              "the steps, its mean over initialisations with a Student t CI, at most 1e-2; the 1e-2 is ours).",
    note="Kind: a finite-width approximation within a tolerance (value, error_at_most). Not every "
         "initialisation stays within 1e-2: the full run's first six give 0.0055, 0.0062, 0.0133, 0.0103, 0.0065, "
         "0.0093 (mean 0.0085); the first version of this claim judged the worst seed, which passed quick (two "
         "seeds) and failed full. The deviation is a finite-width effect: with the analytic Theta_inf instead of "
         "each net's own Theta_0 it is 0.011-0.032. Until issue 36 the CI was a BCa bootstrap of the two quick "
         "values, which is no CI; it is now a Student t interval over initialisations, and full runs 24 "
         "initialisations instead of 6 (six gave [0.0054, 0.0116], across the boundary).",
    inconclusive_ok={"quick": "2 initialisations of a width-2000 net (about 15 s each): the t interval on two "
                              "draws (t_0.975,1 = 12.7) cannot put the mean below 1e-2; the seed-to-seed spread "
                              "(0.0055-0.0133) needs about 20 initialisations, which full runs"},
    quick=_CIRCLE_RUN,
    full={**_CIRCLE_RUN, "seeds": 24},
    simulate=simulation.train_on_circle,
    predict=lambda cfg: 0.0,
    measure=_measure_dynamics,
    tolerance=tol.error_at_most(1e-2),
    plot=_plot_dynamics,
))


def _eigenspaces(lam, U, count, gap):
    """The top ``count`` eigenspaces of Theta_0: eigenvalues (descending) closer than ``gap`` relative
    are one space (on the circle the limiting kernel's eigenvalues come in exact pairs, which a
    finite net splits slightly; the split pair's eigenvectors rotate as the kernel drifts, so only
    the pair's span is a stable principal component). Returns [(mean eigenvalue, basis [N, d])]."""
    lam, U = lam[::-1], U[:, ::-1]
    spaces, start = [], 0
    while start < len(lam) and len(spaces) < count:
        end = start + 1
        while end < len(lam) and lam[end - 1] - lam[end] < gap * lam[start]:
            end += 1
        spaces.append((float(lam[start:end].mean()), U[:, start:end]))
        start = end
    return spaces


def _component_fits(cfg, out):
    """Per seed and top eigenspace of Theta_0: (fitted slope of log ||projection of f_k - y|| for the
    network, the same fit for the linearised dynamics y + (I - eta Theta_0 / N)^k (f_0 - y) (exactly
    log(1 - eta lambda / N) for a one-dimensional space; for a split pair, the fit of its two-rate
    mixture), R^2 of the network's fit, window end, space dimension)."""
    y, rows = _linear_prediction(cfg, out)
    steps = out["result"].steps
    N = len(y)
    fits = []
    for f, lin, (lam, U) in rows:
        for l, basis in _eigenspaces(lam, U, cfg["components"], cfg["degenerate"]):
            rate = -math.log(1.0 - cfg["lr"] * l / N)
            end = min(len(steps), int(math.ceil(math.log(10.0) * cfg["decades"] / rate)) + 1)
            sim = stats.linregress(steps[:end], np.log(np.linalg.norm((f[:end] - y) @ basis, axis=1)))
            pred = stats.linregress(steps[:end], np.log(np.linalg.norm((lin[:end] - y) @ basis, axis=1)))
            fits.append((sim.slope, pred.slope, sim.rvalue ** 2, int(steps[end - 1]), basis.shape[1]))
    return np.array(fits)


def _measure_pca(cfg, out):
    fits = _component_fits(cfg, out)
    E = out["result"].n_members
    rel = np.abs(fits[:, 0] - fits[:, 1]) / np.abs(fits[:, 1])
    per_seed = rel.reshape(E, -1).max(axis=1)  # each initialisation's worst space
    unexplained = (1.0 - fits[:, 2]).reshape(E, -1).max(axis=1)  # each initialisation's worst semilog fit
    details = {"fitted_slopes": fits[:, 0].round(6).tolist(), "predicted_slopes": fits[:, 1].round(6).tolist(),
               "windows_end": fits[:, 3].astype(int).tolist(), "space_dimensions": fits[:, 4].astype(int).tolist(),
               "min_R2": float(fits[:, 2].min())}
    return {"exponential (1 - R^2)": Measurement.t_mean(
                unexplained, unit="initialisations", details={**details, "per_seed": unexplained.tolist()},
                label="1 - R^2 of the semilog fit, worst space, mean over initialisations"),
            "rate": Measurement.t_mean(
                per_seed, unit="initialisations",
                details={"per_component": rel.round(5).tolist(), "per_seed": per_seed.round(5).tolist(),
                         "worst": float(rel.max())},
                label="|fitted - predicted| / |predicted| slope, worst space, mean over initialisations")}


def _plot_pca(cfg, out, verdict):
    y, rows = _linear_prediction(cfg, out)
    f, _, (lam, U) = rows[0]
    steps = out["result"].steps
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (l, basis) in enumerate(_eigenspaces(lam, U, cfg["components"], cfg["degenerate"])):
        proj = np.linalg.norm((f - y) @ basis, axis=1)
        line, = ax.semilogy(steps, proj, label=f"space {i + 1} (dim {basis.shape[1]}): lambda/N = {l / len(y):.4f}")
        ax.semilogy(steps, proj[0] * (1 - cfg["lr"] * l / len(y)) ** steps, "--", lw=1, color=line.get_color())
    return finish(fig, ax, xlabel="GD step k", ylabel="||P_i (f_k - y)||",
                  title="residual in Theta_0's top eigenspaces (dashed: (1 - eta lambda_i/N)^k)")


register(Claim(
    id="jacot2018/pca-decay-rates",
    paper=PAPER,
    reference="Sec. 5 (least squares) and the abstract: in the infinite-width limit the residual's component "
              "along the i-th kernel principal component decays as exp(-lambda_i t), fastest along the largest "
              "(Pi's eigenvalues lambda_i = eigenvalues of Theta / N under the empirical measure); for GD with step "
              "eta the per-step factor is 1 - eta lambda_i / N (the prediction: the same fit on the linearised "
              "dynamics of Theta_0). Both tolerances are ours.",
    statement="The residual projected on Theta_0's top three eigenspaces decays exponentially (value: 1 - R^2 of "
              "the semilog fit, the worst space's, mean over initialisations, at most 0.01) at the rates of the "
              "linearised dynamics (value: relative slope error, the worst space's, mean over initialisations, at "
              "most 5%), over a 1.5-decade window; Student t CIs over initialisations.",
    note="Eigenspaces, not eigenvectors: on the circle the limiting kernel's eigenvalues come in pairs; a finite "
         "net splits each pair by a little (0.0450 / 0.0405 for seed 0), and as the kernel drifts during training "
         "the split pair's eigenvectors rotate, so the projection on one of them is no exponential. The first "
         "version fitted single eigenvectors: it passed quick (two seeds) and failed full (six seeds: R^2 down "
         "to 0.40 and rates off by up to 22%, all in the split pairs). A split pair's norm decays as a mixture of "
         "two rates, so the predicted slope is the same fit on the linearised dynamics, not the pair's mean "
         "eigenvalue (against that mean, full's rates were off by up to 7.6%). Against the linearised fit, full's "
         "worst space per initialisation is off by 1.9, 2.2, 8.8, 6.0, 1.7, 6.5% (mean 4.5%): the kernel's drift "
         "during training, largest for the initialisation that also strays most from the linear dynamics "
         "(0.0133 in function-space-dynamics); the rate check is the mean over initialisations, as there. Kinds "
         "(issue 36): both checks are values within our tolerances (an identity measured as an error: 1 - R^2 "
         "of the semilog fit, the relative slope error), with Student t CIs over initialisations (before: BCa "
         "bootstrap of two values, and the worst R^2 over seeds without a CI). Full now runs 24 initialisations "
         "(the shared run of function-space-dynamics, which needs them): the worst-space rate errors are 1.3-8.8% "
         "for 22 of them and 13.4% and 32% for two (median 3.7%, mean 5.6%, t CI [2.9%, 8.2%]).",
    inconclusive_ok={"full": "the mean rate error over initialisations (5.6%, t CI [2.9%, 8.2%] on 24) sits on the "
                             "5% tolerance with a heavy tail (two initialisations at 13% and 32%, where the kernel "
                             "drifts most); resolving it would take about 500 initialisations of a width-2000 net "
                             "(about 2.5 h of CPU), so full leaves it undecided"},
    quick={**_CIRCLE_RUN, "components": 3, "decades": 1.5, "degenerate": 0.25},
    full={**_CIRCLE_RUN, "seeds": 24, "components": 3, "decades": 1.5, "degenerate": 0.25},
    simulate=simulation.train_on_circle,
    predict=lambda cfg: {"exponential (1 - R^2)": 0.0, "rate": 0.0},
    measure=_measure_pca,
    tolerance={"exponential (1 - R^2)": tol.error_at_most(0.01), "rate": tol.error_at_most(0.05)},
    plot=_plot_pca,
))


# ---------------------------------------------------------------------------------------------
# jacot2018/limit-gaussian
GAUSSIAN_GROUP = 128


def _sim_gaussian(cfg):
    X = task.circle_inputs(cfg["train_points"], cfg["offset"])
    T = theory.circle(cfg["test_angles"])
    model = task.jacot_net(cfg["width"], X, cfg["depth"], probes=T)
    outputs, train_loss, initial_loss = [], [], []
    # members in groups of GAUSSIAN_GROUP (each member's run depends on its seed only): 512 members of
    # width 1024 and depth 3 would hold 8.6 GB of parameters at once
    for start in range(0, cfg["seeds"], GAUSSIAN_GROUP):
        seeds = np.arange(start, min(cfg["seeds"], start + GAUSSIAN_GROUP))
        res = Experiment(model, "sgd", lr=cfg["lr"], steps=cfg["steps"], seeds=seeds.tolist(),
                         record_every=cfg["steps"], divergence_factor=0).run()
        outputs.append(res.records[:, -1, 1:])
        train_loss.append(res.final("loss"))
        initial_loss.append(res.curve("loss")[:, 0])
    both = np.concatenate([X, T])
    nngp, ntk = theory.nngp_ntk(both, None, cfg["depth"], "relu", 1.0, task.JACOT_BETA)
    n = len(X)
    mean, cov = theory.limit_gaussian(nngp[n:, n:], nngp[n:, :n], nngp[:n, :n], ntk[n:, :n], ntk[:n, :n],
                                      task.target(X))
    return {"outputs": np.concatenate(outputs), "mean": mean, "cov": cov,
            "train_loss": np.concatenate(train_loss), "initial_loss": np.concatenate(initial_loss)}


#: the discrepancy each test of the limiting Gaussian must detect: a percentile of Fig. 2 (10th, 50th,
#: 90th) moved by a quarter of the predicted standard deviation
PERCENTILE_SHIFT = 0.25
GAUSSIAN_ALPHA = 0.01
#: in each test's own units: the mean moved by 0.25 sd; the sd off by 0.25 / z_0.9 (the 10th and 90th
#: percentiles moved by 0.25 sd); the KS distance of a median moved by 0.25 sd, 2 Phi(0.125) - 1
EFFECTS = {"mean": PERCENTILE_SHIFT, "sd": PERCENTILE_SHIFT / float(stats.norm.ppf(0.9)),
           "ks": float(2 * stats.norm.cdf(PERCENTILE_SHIFT / 2) - 1)}


def detectable_effects(S: int, K: int, alpha: float = GAUSSIAN_ALPHA, power: float = tol.POWER) -> dict:
    """The smallest effect each test detects with probability ``power`` on ``S`` draws per test point,
    at level ``alpha`` Bonferroni-adjusted over ``K`` points (the units of :data:`EFFECTS`):

    * z-test of the mean (known sd): a standardised shift (z_(1 - alpha/(2K)) + z_power) / sqrt(S);
    * chi^2 test of the variance (two-sided, df = S - 1): the sd ratio s with power ``power`` above
      (s^2 = q_(1 - alpha/(2K)) / q_(1 - power)) or below (s^2 = q_(alpha/(2K)) / q_power); the larger
      of |s - 1|;
    * KS test: a bound valid for every alternative at KS distance D from the null: the empirical CDF
      at the point of largest distance is binomial, so D = D_crit + z_power sqrt(1/4 / S) is detected
      with at least that power (normal approximation), with D_crit the exact KS critical value at
      level alpha / K.
    """
    a = alpha / K
    z_pow = float(stats.norm.ppf(power))
    df = S - 1
    up = stats.chi2.ppf(1 - a / 2, df) / stats.chi2.ppf(1 - power, df)
    down = stats.chi2.ppf(a / 2, df) / stats.chi2.ppf(power, df)
    return {"mean": (float(stats.norm.ppf(1 - a / 2)) + z_pow) / math.sqrt(S),
            "sd": float(max(math.sqrt(up) - 1, 1 - math.sqrt(down))),
            "ks": float(stats.kstwo.ppf(1 - a, S)) + z_pow * 0.5 / math.sqrt(S)}


def _measure_gaussian(cfg, out):
    f, mean, sd = out["outputs"], out["mean"], np.sqrt(np.diag(out["cov"]))
    S, K = f.shape
    power = detectable_effects(S, K)
    z = (f.mean(axis=0) - mean) / (sd / math.sqrt(S))
    p_mean = 2 * stats.norm.sf(np.abs(z))
    chi = (S - 1) * f.var(axis=0, ddof=1) / sd ** 2
    p_var = 2 * np.minimum(stats.chi2.cdf(chi, S - 1), stats.chi2.sf(chi, S - 1))
    p_ks = np.array([stats.kstest((f[:, j] - mean[j]) / sd[j], "norm").pvalue for j in range(K)])

    def bonferroni(p):
        return float(min(1.0, K * p.min()))

    base = {"mean_measured": f.mean(axis=0).round(5).tolist(), "mean_predicted": mean.round(5).tolist(),
            "sd_measured": f.std(axis=0, ddof=1).round(5).tolist(), "sd_predicted": sd.round(5).tolist(),
            "max_train_loss": float(out["train_loss"].max())}
    def test(p, effect, details):
        return Measurement(bonferroni(p), None, {**details, "effect_units": effect}, label=f"Bonferroni p over {K} "
                           f"test points, {S} initialisations", n=S, unit="initialisations",
                           no_ci="a test's p-value (its power is stated instead: detectable)",
                           detectable=power[effect])

    return {"mean (z-test)": test(p_mean, "mean", {**base, "z": z.round(3).tolist()}),
            "variance (chi^2)": test(p_var, "sd", {"variance_ratio": (f.var(axis=0, ddof=1) / sd ** 2)
                                                   .round(4).tolist()}),
            "Gaussian (KS)": test(p_ks, "ks", {"p": p_ks.round(4).tolist()})}


def _plot_gaussian(cfg, out, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    f, mean, sd = out["outputs"], out["mean"], np.sqrt(np.diag(out["cov"]))
    angles = np.asarray(cfg["test_angles"])
    for j, a in enumerate(angles):
        ax.plot(np.full(len(f), a), f[:, j], ".", alpha=0.3, color="C0")
    for q in (0.1, 0.5, 0.9):
        ax.plot(angles, mean + stats.norm.ppf(q) * sd, "k--" if q != 0.5 else "k-", lw=1)
    return finish(fig, ax, legend=False, xlabel="test angle gamma", ylabel="f(x) after training",
                  title=f"{cfg['seeds']} nets of width {cfg['width']} vs the limit's 10/50/90th percentiles")


_GAUSSIAN_TASK = {"train_points": 4, "offset": math.pi / 8, "test_angles": [0.2, 1.0, 2.2], "lr": 1.0, "steps": 300}
_GAUSSIAN_REFERENCE = ("Sec. 5 and Fig. 2: in the infinite-width limit the outputs f_t are Gaussian for every t; as "
                       "t -> infinity with the kernel-regression mean Theta(x, X) Theta^-1 y and a covariance from "
                       "Sigma and Theta (the explicit form: Lee et al. 2019, eq. 16, cited); Fig. 2 (widths 50 and "
                       "1000, 10 initialisations each) compares trained nets with the limit's 10th, 50th and 90th "
                       "percentiles and finds a match already at n = 50.")
_GAUSSIAN_TESTS = ("z-test of the mean, chi^2 test of the variance, KS test against N(mean, variance), each "
                   "Bonferroni-adjusted over the 3 test points, not rejected at level 0.01, and each with the power "
                   "0.8 to detect a 10th/50th/90th percentile moved by 0.25 predicted sd (a mean shift of 0.25 sd, "
                   "an sd off by 19.5%, a KS distance of 0.0995)")
_GAUSSIAN_TOLERANCE = {
    "mean (z-test)": tol.not_rejected(GAUSSIAN_ALPHA, EFFECTS["mean"], "z-test of the mean, shift in sd"),
    "variance (chi^2)": tol.not_rejected(GAUSSIAN_ALPHA, EFFECTS["sd"], "chi^2 test of the variance, |sd ratio - 1|"),
    "Gaussian (KS)": tol.not_rejected(GAUSSIAN_ALPHA, EFFECTS["ks"], "KS test, KS distance")}


def _predict_gaussian(cfg):
    return {name: GAUSSIAN_ALPHA for name in _GAUSSIAN_TOLERANCE}


#: what the two limit-gaussian claims share: one simulation, prediction, measurement, tolerance and figure
_GAUSSIAN_PARTS = {"simulate": _sim_gaussian, "predict": _predict_gaussian, "measure": _measure_gaussian,
                   "tolerance": _GAUSSIAN_TOLERANCE, "plot": _plot_gaussian}

register(Claim(
    id="jacot2018/limit-gaussian",
    paper=PAPER,
    reference=_GAUSSIAN_REFERENCE,
    statement="Over 512 initialisations of a trained one-hidden-layer network (width 1024 in quick, 4096 in full), "
              "the outputs at 3 test points match the limiting Gaussian (distribution): " + _GAUSSIAN_TESTS + ".",
    note="Kind: a distributional statement; a test that does not reject counts only with the power to detect the "
         "discrepancy (the effect: Fig. 2's percentiles moved by a quarter sd, chosen with issue 36, when the power "
         "became part of the check). The KS test is the weakest: it needs 512 draws for that effect at alpha = "
         "0.01 / 3 (detectable KS distance 0.0973, an alternative-free bound), so quick went from 256 to 512 "
         "seeds; with 256 (before) it could not have detected it. The pass is at that resolution and no finer: "
         "at width 1024 the mean at the first test point sits 0.11 sd (2.3%) above the limit's (z = 2.46 on 512 "
         "draws, below the Bonferroni threshold 2.93), a finite-width effect that twice the draws would likely "
         "resolve; at width 4096 (full) the three standardised shifts are -0.02, 0.02, -0.07. Jacot's depth (three "
         "hidden layers) is jacot2018/limit-gaussian-depth3, where the finite-width offset is resolved. Full ran "
         "three hidden layers at width 1024 on 128 seeds until issue 36; that configuration is now the "
         "depth-3 claim's full.",
    quick={"depth": 1, "width": 1024, **_GAUSSIAN_TASK, "seeds": 512},
    full={"depth": 1, "width": 4096, **_GAUSSIAN_TASK, "seeds": 512},
    **_GAUSSIAN_PARTS,
))

register(Claim(
    id="jacot2018/limit-gaussian-depth3",
    paper=PAPER,
    reference=_GAUSSIAN_REFERENCE,
    statement="At Jacot's depth (L = 4: three hidden layers), over the initialisations of a trained network (quick: "
              "width 128, 256 seeds; full: width 1024, 512 seeds), the outputs at 3 test points match the limiting "
              "Gaussian (distribution): " + _GAUSSIAN_TESTS + ".",
    note="Evidence: at three hidden layers the trained nets' mean output sits off the limit's by a finite-width "
         "offset that enough draws resolve. Full (width 1024, 512 seeds): at the first test point (0.2 rad) the "
         "mean is 0.2994 against the limit's 0.2899 (+3.3%, 0.22 predicted sd; z = 4.96, Bonferroni p = 2.2e-6), "
         "and the KS test rejects there (p = 0.0001 at that point, Bonferroni 0.00026), while the variance "
         "matches (variance ratios 0.94, 1.03, 0.88; Bonferroni p = 0.16, with the power for a 19.5% sd error). "
         "Quick (width 128, 256 seeds): standardised shifts 0.23, 0.10, -0.21; mean p = 0.0009, KS p = 8.8e-5, "
         "variance p = 0.068 (passes with power). Earlier runs (64 seeds) put the trained nets' mean 0.0117, "
         "0.0116, 0.0065 (SE 0.003, 0.002, 0.0014) above their own linearisations' at widths 128, 256, 512, and the "
         "linearised nets' mean on the analytic one (0.2891 vs 0.2898): the kernels are right, and the offset is "
         "the nonlinear (finite-width) part of training. The offset lies below the 0.25-sd effect the tests are "
         "powered for, so the data say 'not yet Gaussian-limit to within 0.13 sd', not 'far from it'. Until issue "
         "36 the full (then of limit-gaussian) ran 128 seeds, which passed because it could not detect a 0.22-sd "
         "shift (detectable: 0.33 sd).",
    quick={"depth": 3, "width": 128, **_GAUSSIAN_TASK, "seeds": 256},
    full={"depth": 3, "width": 1024, **_GAUSSIAN_TASK, "seeds": 512},
    **_GAUSSIAN_PARTS,
    expect="fail",
    failing=("mean (z-test)", "Gaussian (KS)"),
    expected_failure=regime("finite width: Sec. 5's Gaussian is the n -> infinity limit; at three hidden layers and "
                            "n = 128 (quick) or 1024 (full) the trained nets' mean sits 0.2 sd off the limit's at "
                            "one test point, which 256 or 512 draws resolve (Fig. 2's match used 10 draws)"),
))


# ---------------------------------------------------------------------------------------------
# jacot2018/closed-form-vs-quadrature
def _sim_quadrature(cfg):
    gen = np.random.default_rng(cfg["input_seed"])
    X = gen.normal(size=(cfg["points"], 3)) * gen.uniform(0.3, 2.0, size=(cfg["points"], 1))
    rows = []
    for activation in ("relu", "erf"):
        for parameterization in ("ntk", "standard"):
            for W_std, b_std in cfg["stds"]:
                args = (activation, W_std, b_std, parameterization, cfg["width"])
                quads = theory.nngp_ntk_quadrature(X, None, cfg["max_depth"], *args, every_depth=True)
                for depth in range(1, cfg["max_depth"] + 1):
                    closed = theory.nngp_ntk(X, None, depth, *args)
                    err = max(float(np.abs(c - q).max() / np.abs(q).max()) for c, q in zip(closed, quads[depth]))
                    rows.append((activation, parameterization, W_std, b_std, depth, err))
    return rows


def _measure_quadrature(cfg, rows):
    worst = max(rows, key=lambda r: r[-1])
    return Measurement.exact(worst[-1], "deterministic: closed forms vs quadrature at fixed inputs, no sampling",
                             details={"worst": list(worst[:-1]), "cases": len(rows)},
                             label="max |closed - quadrature| / max |quadrature| over NNGP and NTK")


def _plot_quadrature(cfg, rows, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for activation in ("relu", "erf"):
        for parameterization in ("ntk", "standard"):
            sel = [r for r in rows if r[0] == activation and r[1] == parameterization]
            depths = sorted({r[4] for r in sel})
            worst = [max(r[-1] for r in sel if r[4] == d) for d in depths]
            ax.semilogy(depths, np.maximum(worst, 1e-17), "o-", label=f"{activation}, {parameterization}")
    ax.axhline(1e-8, color="k", ls="--", lw=1, label="tolerance")
    return finish(fig, ax, xlabel="depth (hidden layers)", ylabel="relative difference",
                  title="closed-form kernels vs 2-d Gauss-Legendre quadrature")


register(Claim(
    id="jacot2018/closed-form-vs-quadrature",
    paper=PAPER,
    reference="Prop. 1 and Thm. 1 (the NNGP and NTK recursions); the arc-cosine and erf closed forms of "
              "neural-tangents' stax.Relu and stax.Erf",
    statement="The closed-form NNGP and NTK agree with the same recursions evaluated by numerical quadrature to "
              "1e-8 relative, for ReLU and erf, both parameterizations, depths 1-8, at random inputs (value: an "
              "identity measured as the worst relative difference, deterministic; the 1e-8 is ours, a numerical "
              "tolerance for the quadrature).",
    quick={"points": 6, "input_seed": 0, "stds": [[1.0, 0.1], [1.5, 0.4]], "max_depth": 8, "width": 64},
    full={"points": 16, "input_seed": 0, "stds": [[1.0, 0.0], [1.0, 0.1], [1.5, 0.4], [0.8, 1.0]], "max_depth": 8,
          "width": 64},
    simulate=_sim_quadrature,
    predict=lambda cfg: 0.0,
    measure=_measure_quadrature,
    tolerance=tol.error_at_most(1e-8),
    plot=_plot_quadrature,
))
