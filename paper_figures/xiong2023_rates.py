"""Xiong, Ding, Du (2023), rates: error vs iteration for k = r vs k > r, symmetric X X^T vs
asymmetric F G^T, semilog and log-log, geometric mean and range over seeds.

    python paper_figures/xiong2023_rates.py [--seeds 5] [--steps 20000]
"""
import argparse

import numpy as np

from _common import parse, save
from theorysim.plotting import pyplot
from theorysim.setups.matrix_sensing import problem

CFG = {"n": 10, "r": 2, "m": 300, "problem_seed": 0}


def main(seeds: int, steps: int):
    plt = pyplot()
    runs = {}
    for fac, eta in (("XXT", 0.1), ("FGT", 0.1)):
        for k in (2, 4):
            mdl = problem.model(CFG, k, fac, truth="symmetric")
            res, _ = problem.run(mdl, [0.5], [eta], seeds, steps, max(1, steps // 400))
            runs[(fac, k)] = (res.steps, res.curve("error"))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, log_t in zip(axes, (False, True)):
        for (fac, k), (t, c) in runs.items():
            ok = t > 0 if log_t else t >= 0
            name = ("X X^T" if fac == "XXT" else "F G^T") + f", k = {k}" + (" (exact)" if k == 2 else " (over-param.)")
            mean = np.exp(np.mean(np.log(c[:, ok]), axis=0))
            line, = ax.plot(t[ok], mean, label=name)
            ax.fill_between(t[ok], c[:, ok].min(axis=0), c[:, ok].max(axis=0), color=line.get_color(), alpha=0.2, lw=0)
        ax.set_yscale("log")
        if log_t:
            ax.set_xscale("log")
            tt = t[t > 0]
            ax.plot(tt, 0.55 / (0.1 * tt), "k--", lw=1, label="0.55 / (eta t)")
        ax.set(xlabel="GD step t", ylabel="||M_t - M*||_F", ylim=(1e-16, 10),
               title="symmetric M*, r = 2, alpha = 0.5, eta = 0.1" + (" (log-log)" if log_t else " (semilog)"))
        ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "xiong2023_rates")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20000)
    a = parse(ap)
    main(a.seeds, a.steps)
