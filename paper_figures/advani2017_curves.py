"""Advani and Saxe (2017), the linear teacher-student learning curves: E_g(s) and E_train(s) for
several alpha (theory lines over GD through the engine, mean and spread over draws, each draw its
own teacher, data and initialisation), and E_g(infinity) against alpha with the overtraining peak
(theory over exactly converged draws).

    python paper_figures/advani2017_curves.py [--N 400] [--seeds 20] [--alphas 0.5 1 2]
"""
import argparse
import math

import numpy as np

from _common import parse, save
from theorysim.plotting import pyplot
from theorysim.setups.teacher_student import task, theory
from theorysim.setups.teacher_student.claims import advani2017 as claims


def main(N, seeds, alphas):
    cfg = {"N": N, "seeds": seeds, "sigma_w": 1.0, "sigma_eps": math.sqrt(0.2), "ds": 0.02, "sigma_0": 0.0,
           "alphas": alphas, "times": [0.2, 0.6, 2.0, 6.0, 20.0]}
    outs = claims._sim_curves(cfg)
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    fine = np.geomspace(0.02, 20.0, 80)
    for c, (a, out) in enumerate(outs.items()):
        kw = {"sigma_w": 1.0, "sigma_eps": cfg["sigma_eps"]}
        for ax, name, fn in ((axes[0], "E_g", theory.generalization_error), (axes[1], "E_train", theory.training_error)):
            ax.loglog(fine, fn(fine, a, **kw), color=f"C{c}", lw=1.2, label=f"alpha = {a}")
            mean, sd = out[name].mean(0), out[name].std(0)
            ax.fill_between(out["s"][1:], (mean - sd)[1:], (mean + sd)[1:], color=f"C{c}", alpha=0.25)
        print(f"alpha = {a}: E_g at s = 20: simulated {out['E_g'][:, -1].mean():.4f}, "
              f"theory {theory.generalization_error(20.0, a, **kw):.4f}")
    axes[0].set(xlabel="time s", ylabel="E_g", title=f"generalisation error (N = {N}, {seeds} draws)")
    axes[1].set(xlabel="time s", ylabel="E_train", title="training error (bands: GD, +- 1 sd)")
    axes[0].legend(fontsize=8)
    peak = {"N": N, "seeds": seeds, "sigma_w": 1.0, "sigma_eps": cfg["sigma_eps"],
            "alphas": [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 1.5, 2.0, 3.0]}
    E = np.array([[task.generalization_error(task.converged(*task.draw(N, a, 1.0, cfg["sigma_eps"], seed)[:2],
                                                              np.zeros(N)),
                                             task.draw(N, a, 1.0, cfg["sigma_eps"], seed)[2], cfg["sigma_eps"])
                   for seed in range(seeds)] for a in peak["alphas"]])  # w(infinity) exactly, per draw
    axes[2].errorbar(peak["alphas"], E.mean(1), yerr=E.std(1) / math.sqrt(seeds), fmt="o", label=f"N = {N}")
    grid = np.concatenate([np.linspace(0.25, 0.97, 50), np.linspace(1.03, 3.2, 50)])
    axes[2].semilogy(grid, [theory.generalization_error(math.inf, a, 1.0, cfg["sigma_eps"]) for a in grid], "k-",
                     lw=1, label="theory")
    axes[2].set(xlabel="alpha = P / N", ylabel="E_g(infinity)", title="the overtraining peak at alpha = 1")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    save(fig, "advani2017_curves")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=400)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--alphas", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    a = parse(ap)
    main(a.N, a.seeds, a.alphas)
