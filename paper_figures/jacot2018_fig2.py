"""Jacot et al. (2018), Figure 2: outputs f(x) on the unit circle of L = 4 ReLU networks (beta = 0.1)
of widths 50 and 1000, 10 initialisations each, trained for 1000 GD steps (learning rate 1) on 4
points of the circle with targets x1 x2, against the 10th, 50th and 90th percentiles of the t ->
infinity Gaussian (mean Theta(x, X) Theta^-1 y, covariance from the analytic NNGP Sigma and NTK Theta).

    python paper_figures/jacot2018_fig2.py [--widths 50 1000] [--inits 10] [--steps 1000]
"""
import argparse
import math

import numpy as np
from scipy import stats

from _common import parse, save
from theorysim.engine.experiment import Experiment
from theorysim.plotting import pyplot
from theorysim.setups.ntk import task, theory


def main(widths, inits, steps, angles=100):
    X = task.circle_inputs(4, math.pi / 8)
    y = task.target(X)
    gamma = np.linspace(-np.pi, np.pi, angles)
    G = theory.circle(gamma)
    both = np.concatenate([X, G])
    nngp, ntk = theory.nngp_ntk(both, None, task.JACOT_DEPTH, "relu", 1.0, task.JACOT_BETA)
    mean, cov = theory.limit_gaussian(nngp[4:, 4:], nngp[4:, :4], nngp[:4, :4], ntk[4:, :4], ntk[:4, :4], y)
    sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for q, style in ((0.1, "--"), (0.5, "-"), (0.9, "--")):
        ax.plot(gamma, mean + stats.norm.ppf(q) * sd, "k" + style, lw=1.5,
                label="limit: 10/50/90th percentiles" if q == 0.1 else None)
    for c, n in enumerate(widths):
        model = task.jacot_net(n, X, probes=G)
        res = Experiment(model, "sgd", lr=1.0, steps=steps, seeds=list(range(inits)), record_every=steps,
                         divergence_factor=0).run()
        f = res.records[:, -1, 1:]
        for s in range(inits):
            ax.plot(gamma, f[s], color=f"C{c}", lw=0.8, alpha=0.8, label=f"n = {n}" if s == 0 else None)
        inside = np.mean((f > mean + stats.norm.ppf(0.1) * sd) & (f < mean + stats.norm.ppf(0.9) * sd))
        print(f"n = {n:5d}: {inside:.1%} of the outputs inside the limit's 10-90% band (80% expected); "
              f"largest final training loss {res.final('loss').max():.2e}")
    ax.plot(np.arctan2(X[:, 1], X[:, 0]), y, "ko", ms=6, label="training points")
    ax.set(xlabel="gamma", ylabel="f(cos gamma, sin gamma)",
           title=f"trained nets vs the t -> infinity Gaussian (Jacot Fig. 2, {steps} steps)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "jacot2018_fig2")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[50, 1000])
    ap.add_argument("--inits", type=int, default=10)
    ap.add_argument("--steps", type=int, default=1000)
    a = parse(ap)
    main(a.widths, a.inits, a.steps)
