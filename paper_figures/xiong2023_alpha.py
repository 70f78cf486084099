"""Xiong, Ding, Du (2023), Theorem 1.3: the linear rate of over-parameterized asymmetric GD
(F G^T, k = 4 > r = 2) against the initialisation scale alpha, with the alpha^2 line.

    python paper_figures/xiong2023_alpha.py [--seeds 3]
"""
import argparse

import numpy as np

from _common import parse, save
from theorysim.plotting import pyplot
from theorysim.setups.matrix_sensing import problem
from theorysim.setups.matrix_sensing.claims import linear_rates

CFG = {"n": 10, "r": 2, "m": 300, "problem_seed": 0}


def main(seeds: int):
    plt = pyplot()
    alphas = [0.07, 0.1, 0.14, 0.2, 0.28, 0.4]
    eta = 0.2
    mdl = problem.model(CFG, 4, "FGT")
    res, g = problem.run(mdl, alphas, [eta], seeds, 80000, 50)
    curves = problem.group_curves(res, g)
    rates = np.array([linear_rates(res.steps, curves[(a, eta)], 1e-9, 1e-4) for a in alphas])  # [alpha, seed]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    a = np.array(alphas)
    ax.loglog(a, rates.mean(axis=1), "o", label="measured (mean over seeds)")
    ax.errorbar(a, rates.mean(axis=1), yerr=rates.std(axis=1), fmt="none", ecolor="C0")
    c = np.mean(rates.mean(axis=1) / (eta * a**2))
    ax.loglog(a, c * eta * a**2, "k--", lw=1, label=f"{c:.3f} eta alpha^2")
    ax.set(xlabel="initialisation scale alpha", ylabel="linear rate -d log err / dt",
           title="F G^T, k = 4 > r = 2: rate proportional to alpha^2")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "xiong2023_alpha")
    for ai, r in zip(alphas, rates.mean(axis=1)):
        print(f"alpha={ai:<5g} rate={r:.3e} rate/(eta alpha^2)={r / (eta * ai**2):.3f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    main(parse(ap).seeds)
