"""Claims of Heo et al. (2021), "AdamP: Slowing Down the Slowdown for Momentum Optimizers on Scale-invariant
Weights" (ICLR 2021)."""
from __future__ import annotations

import numpy as np

from theorysim import fit
from theorysim.claims import Claim, Measurement, register, regime, tol
from theorysim.engine.experiment import Experiment, grid
from theorysim.models.scale_invariant import ScaleInvariant
from theorysim.plotting import pyplot
from theorysim.setups.optimizer_theory import theory
from theorysim.setups.optimizer_theory.papers import ADAMP


# adamp2021/momentum-norm-growth
def _sim_norm(cfg):
    model = ScaleInvariant(cfg["rows"], cfg["cols"], target_seed=cfg["problem_seed"])
    common = dict(seeds=range(cfg["seeds"]), steps=cfg["steps"], record_params=True)
    out = {
        "sgd": Experiment(model, "sgd", lr=cfg["lr"], momentum=cfg["momentum"], **common).run(),
        "sgdp": Experiment(model, "sgdp", lr=cfg["lr"], momentum=cfg["momentum"], **common).run(),
        "adam": Experiment(model, "adam", lr=cfg["adam_lr"], **common).run(),
        "adamp": Experiment(model, "adamp", lr=cfg["adam_lr"], **common).run(),
        # the projection normalises w by ||w|| + eps, leaving a radial residual ~ 2 eps / ||w||:
        "sgdp, eps=1e-14": Experiment(model, "sgdp", lr=cfg["lr"], momentum=cfg["momentum"], eps=1e-14, **common).run(),
        "adamp, eps=1e-14": Experiment(model, "adamp", lr=cfg["adam_lr"], eps=1e-14, **common).run(),
    }
    return out


RESOLVED = 1e-4  # use steps with ||dw|| >= 1e-4 ||w||: there float64 resolves cos to ~1e-12


def _radial_cos(res):
    """|cos(w_t, w_{t+1} - w_t)| on the steps where the difference is resolved in float64
    (its rounding error is ~eps ||w|| / ||dw||, so tiny late steps cannot be judged)."""
    w = res.param_records
    dw = w[:, 1:] - w[:, :-1]
    nw, nd = np.linalg.norm(w[:, :-1], axis=2), np.linalg.norm(dw, axis=2)
    ok = nd >= RESOLVED * nw
    cos = np.abs(np.sum(w[:, :-1] * dw, axis=2)) / (nw * nd)
    return cos[ok], float(ok.mean())


def _measure_norm(cfg, out):
    res = out["sgd"]
    eta, beta = cfg["lr"], cfg["momentum"]
    w = res.param_records
    p = (w[:, :-1] - w[:, 1:]) / eta  # the heavy-ball direction p_t of each update
    worst = 0.0
    for m in range(w.shape[0]):
        pred = theory.heavy_ball_norm_sq(float(w[m, 0] @ w[m, 0]), np.sum(p[m] ** 2, axis=1), eta, beta)
        meas = np.sum(w[m] ** 2, axis=1)
        worst = max(worst, float(np.max(np.abs(pred - meas) / meas)))
    ratio = _growth(out["sgd"]) / _growth(out["sgdp"])
    sgd_cos, _ = _radial_cos(out["sgd"])
    meas = {"heavy-ball norm identity, max rel. error": Measurement.exact(
        worst, "deterministic: float64 rounding of an exact identity on noise-free runs, worst member and step",
        label="worst member and step")}
    for name in ("sgdp", "adamp", "sgdp, eps=1e-14", "adamp, eps=1e-14"):
        cos, frac = _radial_cos(out[name])
        meas[f"{name}: radial |cos(w_t, dw_t)|, max"] = Measurement.exact(
            float(cos.max()), "deterministic: the projection's residual on noise-free runs (it holds step by step), "
            "worst member and resolved step", label="worst member and step",
            details={"resolved steps": frac, "SGD (momentum) median for contrast": float(np.median(sgd_cos))})
    meas["norm growth SGD / SGDP"] = Measurement.mean_over(
        ratio, label="per seed, mean over seeds", details={"heuristic (1+beta)/(1-beta)": (1 + beta) / (1 - beta)})
    return meas


def _growth(res):
    """Relative growth of ||w||^2 over the run, per member."""
    return (res.param_records[:, -1] ** 2).sum(1) / (res.param_records[:, 0] ** 2).sum(1) - 1.0


def _plot_norm(cfg, out, verdict):
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, res in out.items():
        if "eps" in name:
            continue
        n = np.linalg.norm(res.param_records, axis=2)
        a1.plot(np.arange(n.shape[1]), (n / n[:, :1]).mean(0), label=name)
        eff = 1.0 / n**2
        a2.semilogy(np.arange(n.shape[1]), (eff / eff[:, :1]).mean(0), label=name)
    a1.set(xlabel="step", ylabel="||w_t|| / ||w_0||", title="weight norm on a scale-invariant loss")
    a2.set(xlabel="step", ylabel="effective step eta/||w||^2 (relative)", title="effective step size")
    a1.legend(fontsize=8)
    fig.tight_layout()
    return fig


register(Claim(
    id="adamp2021/momentum-norm-growth",
    paper=ADAMP,
    reference="sec. 2.2, the norm identity of GD with heavy-ball momentum on scale-invariant weights (kind: exact "
              "identity, measured as an error); sec. 3, the projection removes the radial part of the update "
              "(exact, measured as |cos|, predicted 0); SGD grows ||w|| more than SGDP (a comparison: lower bound "
              "1 on the ratio of the growths)",
    statement="On scale-invariant weights, heavy-ball momentum grows ||w|| by the identity with momentum cross terms "
              "(to 1e-9), while SGDP/AdamP make every update orthogonal to w and grow the norm less.",
    quick={"rows": 8, "cols": 6, "problem_seed": 0, "lr": 0.05, "momentum": 0.9, "adam_lr": 0.01,
           "seeds": 8, "steps": 300},
    full={"rows": 32, "cols": 16, "problem_seed": 0, "lr": 0.05, "momentum": 0.9, "adam_lr": 0.01,
          "seeds": 32, "steps": 2000},
    simulate=_sim_norm,
    predict=lambda cfg: {"heavy-ball norm identity, max rel. error": 0.0,
                         "sgdp: radial |cos(w_t, dw_t)|, max": 0.0, "adamp: radial |cos(w_t, dw_t)|, max": 0.0,
                         "sgdp, eps=1e-14: radial |cos(w_t, dw_t)|, max": 0.0,
                         "adamp, eps=1e-14: radial |cos(w_t, dw_t)|, max": 0.0, "norm growth SGD / SGDP": 1.0},
    measure=_measure_norm,
    tolerance={"heavy-ball norm identity, max rel. error": tol.error_at_most(1e-9),
               "sgdp: radial |cos(w_t, dw_t)|, max": tol.error_at_most(1e-6),
               "adamp: radial |cos(w_t, dw_t)|, max": tol.error_at_most(1e-6),
               "sgdp, eps=1e-14: radial |cos(w_t, dw_t)|, max": tol.error_at_most(1e-9),
               "adamp, eps=1e-14: radial |cos(w_t, dw_t)|, max": tol.error_at_most(1e-9),
               "norm growth SGD / SGDP": tol.lower_bound(1.0, "SGD grows ||w||^2 more than SGDP")},
    plot=_plot_norm,
    note="Finding: the official projection normalises w by (||w|| + eps), so with the default eps = 1e-8 the update "
         "keeps a radial part of relative size ~2 eps / ||w|| (measured |cos| up to 1.2e-9 for AdamP at ||w|| ~ 7.6; "
         "a first 1e-9 bound on it failed). It is checked against 1e-6 (SGD-momentum's median |cos| is shown for "
         "contrast), and with eps = 1e-14 against 1e-9, which confirms the mechanism. Cosines are judged on steps "
         "with ||dw|| >= 1e-4 ||w||, where float64 resolves them. The growth ratio is the paper's qualitative claim; "
         "(1 + beta)/(1 - beta) = 19 is our constant-gradient heuristic, shown in details.",
))


# adamp2021/adam-norm-growth
ADAMP_MONOTONE = "AdamP: smallest step of ||w_t||^2 / ||w_{t-1}||^2 - 1, worst run and step"
LARGE_STEP = "Adam - AdamP growth of ||w||^2 / ||w_0||^2 at the large step size (mean over seeds)"
GROWTH = "Adam - AdamP growth of ||w||^2 / ||w_0||^2, largest over the step sizes of the mean over seeds"


def _sim_adam_growth(cfg):
    """Adam and AdamP (betas 0.9, 0.999, eps 1e-8, no weight decay: the torch / official defaults)
    from the same W_0 ~ N(0, I) per seed (rms(W_0) = 1, so a step size is also eta / rms(W_0)),
    on the step sizes ``lrs`` and the contrast ``large_lr``; the weight norm at every step."""
    model = ScaleInvariant(cfg["rows"], cfg["cols"], target_seed=cfg["problem_seed"])
    lrs = [*cfg["lrs"], cfg["large_lr"]]
    g = grid(lr=lrs, seeds=range(cfg["seeds"]))
    out = {"lrs": lrs}
    for name in ("adam", "adamp"):
        res = Experiment(model, name, lr=g["lr"], seeds=g["seeds"], steps=cfg["steps"], record_every=1).run()
        out[name] = {"norm": res.curve("weight_norm"), "loss": res.curve("loss"), "lr": res.member_values("lr")}
    return out


def _per_lr(cfg, run, values):
    """values[member] -> [step size, seed] in the order of cfg["lrs"] + [cfg["large_lr"]]."""
    lrs = [*cfg["lrs"], cfg["large_lr"]]
    return np.array([values[run["lr"] == eta] for eta in lrs])


def _measure_adam_growth(cfg, out):
    """The growth of ||w||^2 / ||w_0||^2 over the run, Adam minus AdamP, paired by seed (the same
    W_0). The failing check is the largest over the step sizes ``lrs`` of the mean over seeds (a
    percentile bootstrap over each step size's seeds): its CI below 0 means Adam grew the norm
    less than AdamP at every one of them. The two mechanism checks: AdamP never shrinks ||w||
    (sec. 3: a projected update is orthogonal to w, so ||w_{t+1}||^2 = ||w_t||^2 + ||dw_t||^2), and
    at the large step size Adam does grow ||w|| more than AdamP (its second-order growth eta^2 ||u||^2
    wins there)."""
    growth = {name: _per_lr(cfg, out[name], out[name]["norm"][:, -1] ** 2 / out[name]["norm"][:, 0] ** 2 - 1.0)
              for name in ("adam", "adamp")}
    diff = growth["adam"] - growth["adamp"]  # [P + 1, S]
    k = len(cfg["lrs"])
    stat = fit.grid_bootstrap(lambda v: np.max(v.mean(axis=1)), diff[:k])
    n = out["adamp"]["norm"]
    steps = n[:, 1:] ** 2 / n[:, :-1] ** 2 - 1.0
    loss = {name: _per_lr(cfg, out[name], out[name]["loss"][:, -1] / out[name]["loss"][:, 0])
            for name in ("adam", "adamp")}
    per_lr = {f"eta={eta:g}": {"Adam growth": float(growth["adam"][i].mean()),
                               "AdamP growth": float(growth["adamp"][i].mean()),
                               "Adam L_T / L_0": float(loss["adam"][i].mean()),
                               "AdamP L_T / L_0": float(loss["adamp"][i].mean())}
              for i, eta in enumerate(out["lrs"])}
    return {
        ADAMP_MONOTONE: Measurement.exact(
            float(steps.min()), "deterministic: noise-free runs; a projected step never shrinks ||w||, step by "
            "step, so the worst run and step is the measurement", label="worst run and step",
            details={"share of AdamP steps that shrink ||w||": float(np.mean(steps < 0)),
                     "share of Adam steps that shrink ||w||": float(np.mean(
                         out["adam"]["norm"][:, 1:] < out["adam"]["norm"][:, :-1]))}),
        LARGE_STEP: Measurement.mean_over(diff[k], label=f"eta={cfg['large_lr']:g}, mean over seeds"),
        GROWTH: Measurement.of_grid(stat, label=f"largest over eta in {cfg['lrs']} (the most favourable)",
                                    details={"per step size": per_lr}),
    }


def _plot_adam_growth(cfg, out, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for j, eta in enumerate(out["lrs"]):
        for name, ls in (("adam", "-"), ("adamp", "--")):
            n = out[name]["norm"][out[name]["lr"] == eta]
            ax.plot(np.arange(n.shape[1]), (n**2 / n[:, :1] ** 2).mean(0), ls, color=f"C{j}",
                    label=f"{name}, eta={eta:g}")
    ax.set(xlabel="step", ylabel="||w_t||^2 / ||w_0||^2 (mean over seeds)",
           title="Adam (solid) vs AdamP (dashed) on a scale-invariant loss, full-batch")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


register(Claim(
    id="adamp2021/adam-norm-growth",
    paper=ADAMP,
    reference="abstract and sec. 1-2: momentum-based optimizers 'e.g. SGD or Adam' on scale-invariant weights grow "
              "the weight norm, which AdamP's projection (sec. 3) prevents; for Adam the evidence is empirical "
              "(minibatch training of BN networks), the sec. 2 norm identity covers SGD with momentum only. Kind: "
              "a comparison, Adam's growth minus AdamP's >= 0 (a lower bound with the constant 0)",
    statement="On scale-invariant weights, Adam grows ||w|| more than AdamP does, at each step size from 0.001 to 0.03 "
              "times rms(w_0).",
    quick={"rows": 8, "cols": 6, "problem_seed": 0, "lrs": [0.001, 0.003, 0.01, 0.03], "large_lr": 0.1,
           "seeds": 8, "steps": 300},
    full={"rows": 32, "cols": 16, "problem_seed": 0, "lrs": [0.001, 0.003, 0.01, 0.03], "large_lr": 0.1,
          "seeds": 16, "steps": 2000},
    simulate=_sim_adam_growth,
    predict=lambda cfg: {ADAMP_MONOTONE: 0.0, LARGE_STEP: 0.0, GROWTH: 0.0},
    measure=_measure_adam_growth,
    tolerance={ADAMP_MONOTONE: tol.lower_bound(-1e-12, "||w_{t+1}|| >= ||w_t|| for projected steps, up to float64 "
                                                       "rounding"),
               LARGE_STEP: tol.lower_bound(0.0, "Adam grows ||w||^2 more than AdamP"),
               GROWTH: tol.lower_bound(0.0, "Adam grows ||w||^2 more than AdamP")},
    plot=_plot_adam_growth,
    expect="fail",
    failing=(GROWTH,),
    expected_failure=regime("full-batch, noise-free gradients: the paper's evidence for Adam is minibatch training "
                            "of BN networks; without gradient noise Adam's coordinate-wise scaling gives its update "
                            "an inward radial part that outweighs the second-order growth at step sizes up to "
                            "0.03 rms(w)"),
    note="Not reproduced on the paper's cosine toy (f = 1/2 ||W/||W|| - U||^2 = 1 - cos(W, U), the 2-D example of "
         "the project page in 48 and 512 dimensions) with full-batch gradients: at every step size from 0.001 to "
         "0.03 rms(w_0), plain Adam *shrinks* ||w|| (quick 8x6, 300 steps: ||w||^2 / ||w_0||^2 - 1 = -0.056, -0.22, "
         "-0.38, -0.11 at eta = 0.001, 0.003, 0.01, 0.03; full 32x16, 2000 steps: -0.42, -0.52, -0.41, -0.094) while "
         "AdamP grows it slightly (+0.0003 to +0.04), so the largest Adam - AdamP difference is decisively negative "
         "(quick -0.057 [-0.084, -0.030], full -0.133 [-0.147, -0.121]). 74% (quick) of Adam's steps shrink the "
         "norm: its coordinate-wise scaling m / sqrt(v) gives the update a radial part (the gradient itself is "
         "orthogonal to w), and here it points inwards. At eta = 0.1 rms(w_0) the second-order growth eta^2 ||u||^2 "
         "wins: Adam's ||w||^2 / ||w_0||^2 ends 1.12 (quick) and 1.15 (full) above AdamP's (a passing check: the "
         "effect the paper describes exists in this simulation). Why 'regime': the paper's evidence for Adam is minibatch training of BN "
         "networks (lr 1e-3 on weights of rms ~0.02-0.06, i.e. 0.017-0.05 rms(w)); its sec. 2 norm identity "
         "covers SGD with momentum, whose update is a sum of gradients orthogonal to w, and not Adam. An "
         "exploration outside the claim (numpy Adam/AdamP on the same toy, 8 seeds, 300 steps, minibatch-like "
         "noise sigma xi / ||w|| added to the gradient, xi ~ N(0, I) projected orthogonal to w): with noise that "
         "dominates the gradient (sigma = 1, norm ~5x the gradient's) Adam grows ||w||^2 by +0.003, +0.04, +0.33 "
         "against AdamP's +0.0002, +0.003, +0.02 at eta = 0.003, 0.01, 0.03, i.e. the paper's statement holds; "
         "with noise of the gradient's size (sigma = 0.1) Adam still shrinks the norm at eta <= 0.01. The engine "
         "has no such noise for this model, so this is a note, not a check. Until issue 36 this claim had one check (the ratio of the "
         "growths at eta = 0.01, in failing, XFAIL even on NaN); its three checks are new.",
))
