"""Kumar, Bordelon, Gershman, Pehlevan (2023), grokking as the lazy-to-rich transition: train (dashed)
and test (solid) loss against GD step for several output scales alpha, with the test loss of ridgeless
kernel regression with the initial NTK (red) and of the network linearised at init (dotted, for the
largest alpha); right, the grokking ratio t_test(10%) / t_train(10%) and the relative weight movement
against alpha (mean over seeds). One engine ensemble per figure: every (alpha, seed) is a member
with its own data, teacher and initial weights; eta = c H / alpha^2. Exact test losses (no test set).

    python paper_figures/kumar2023_grokking.py [--D 30] [--H 50] [--P 300] [--eps 0.25]
                                               [--alphas 0.5 1 2 4 8] [--seeds 3] [--steps 20000]
"""
import argparse

import numpy as np

from _common import parse, save
from theorysim.plotting import pyplot
from theorysim.setups.teacher_student import grokking
from theorysim.setups.teacher_student.claims import kumar2023 as claims


def main(D, H, P, eps, alphas, seeds, steps, c):
    cfg = {"D": D, "H": H, "P": P, "eps": eps, "c": c, "steps": steps, "record_every": max(1, steps // 2000),
           "alphas": alphas, "seeds": list(range(seeds)), "fraction": 0.1}
    out = claims.train(cfg, alphas, cfg["seeds"])
    plt = pyplot()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.5))
    steps_ = out["steps"][1:]
    for k, a in enumerate(alphas):
        m = out["members"].index((float(a), 0))
        y0 = out["test_loss"][m, 0]
        ax.loglog(steps_, out["loss"][m, 1:] / out["loss"][m, 0], "--", color=f"C{k}")
        ax.loglog(steps_, out["test_loss"][m, 1:] / y0, color=f"C{k}", label=f"alpha = {a:g}")
    X, beta, W0 = out["model"].member_arrays(out["members"].index((float(alphas[-1]), 0)))
    y0 = out["test_loss"][out["members"].index((float(alphas[-1]), 0)), 0]
    kr = grokking.linearised_test_loss(W0, X, beta, alphas[-1], eps)[0] / y0
    grid = np.unique(np.geomspace(1, steps, 60).astype(int))
    lin = grokking.linearised_test_loss(W0, X, beta, alphas[-1], eps, c * H / alphas[-1] ** 2, grid) / y0
    ax.loglog(grid, lin, "k:", label=f"linearised network, alpha = {alphas[-1]:g}")
    ax.axhline(kr, color="r", lw=1, label="ridgeless K0 regression")
    ax.set(xlabel="GD step", ylabel="loss / initial loss",
           title=f"seed 0: D = {D}, H = {H}, P = {P}, eps = {eps}, eta = {c:g} H / alpha^2")
    ax.legend(fontsize=8)
    R = claims.grokking_ratios(cfg, out)
    mv = out["movement"][:, -1].reshape(len(alphas), seeds).T
    ax2.semilogx(alphas, R.mean(0), "o-", label="t_test(10%) / t_train(10%)")
    ax2.set(xlabel="alpha", ylabel="grokking ratio", title=f"mean over {seeds} seeds")
    ax3 = ax2.twinx()
    ax3.loglog(alphas, mv.mean(0), "s--", color="C3", label="||W - W0||^2 / ||W0||^2 (end)")
    ax3.set_ylabel("relative movement")
    ax2.set_xticks(alphas, [f"{a:g}" for a in alphas])
    ax2.minorticks_off()
    ax2.legend(loc="upper left", fontsize=8)
    ax3.legend(loc="upper right", fontsize=8)
    for a, r, v in zip(alphas, R.mean(0), mv.mean(0)):
        print(f"alpha = {a:g}: ratio {r:.3f}, movement {v:.4f}")
    print(f"ridgeless K0 regression: {kr:.4f} of the initial test loss")
    fig.tight_layout()
    save(fig, "kumar2023_grokking")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--D", type=int, default=30)
    ap.add_argument("--H", type=int, default=50)
    ap.add_argument("--P", type=int, default=300)
    ap.add_argument("--eps", type=float, default=0.25)
    ap.add_argument("--alphas", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0, 8.0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--c", type=float, default=0.5, help="eta = c H / alpha^2")
    a = parse(ap)
    main(a.D, a.H, a.P, a.eps, a.alphas, a.seeds, a.steps, a.c)
