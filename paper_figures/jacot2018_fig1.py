"""Jacot et al. (2018), Figure 1: the NTK Theta(x0, x) of an L = 4 ReLU network (beta = 0.1, NTK
parameterization) with x0 = (1, 0) and x = (cos gamma, sin gamma), for two widths and several
initialisations, at init (solid) and after 200 GD steps at learning rate 1 on f*(x) = x1 x2 with
N(0, I_2) training inputs (dashed), beside the analytic limit (black). Default widths 500 and 2000
with 4 initialisations; --paper for n = 500 and 10000 with 10 (n = 10000 trains 2e8 parameters:
about 5 minutes and 5 GB per initialisation on 2 cores).

    python paper_figures/jacot2018_fig1.py [--widths 500 2000] [--inits 4] [--steps 200] [--paper]
"""
import argparse

import numpy as np

from _common import parse, save
from theorysim.engine.experiment import Experiment
from theorysim.plotting import pyplot
from theorysim.setups.ntk import task, theory

TRAIN_POINTS = 16  # the paper does not say how many; a reconstruction


def main(widths, inits, steps, angles=120):
    gamma = np.linspace(-np.pi, np.pi, angles)
    X = theory.circle(gamma)
    x0 = np.array([[1.0, 0.0]])
    _, limit = theory.nngp_ntk(x0, X, task.JACOT_DEPTH, "relu", 1.0, task.JACOT_BETA)
    train = task.gaussian_inputs(TRAIN_POINTS, 0)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for c, n in enumerate(widths):
        model = task.jacot_net(n, train)
        for s in range(inits):  # one member at a time: wide nets hold 8 bytes x 3 copies per parameter
            theta0 = model.init(np.array([s]), np.zeros((1, 1)))
            res = Experiment(model, "sgd", lr=1.0, steps=steps, seeds=[s], record_every=steps,
                             divergence_factor=0).run(theta0)
            before = theory.empirical_ntk(model, theta0[0], x0, X)[0]
            after = theory.empirical_ntk(model, res.theta[0], x0, X)[0]
            ax.plot(gamma, before, color=f"C{c}", lw=0.8, label=f"n = {n}, t = 0" if s == 0 else None)
            ax.plot(gamma, after, color=f"C{c}", lw=0.8, ls="--", label=f"n = {n}, t = {steps}" if s == 0 else None)
            drift = np.linalg.norm(after - before) / np.linalg.norm(before)
            print(f"n = {n:6d}, init {s}: ||Theta_t - Theta_0|| / ||Theta_0|| on the circle = {drift:.4f}, "
                  f"loss {res.curve('loss')[0, 0]:.4f} -> {res.final('loss')[0]:.2e}")
    ax.plot(gamma, limit[0], "k", lw=2, label="n -> infinity")
    ax.set(xlabel="gamma", ylabel="Theta(x0, x)", title="NTK of an L = 4 ReLU net on the unit circle (Jacot Fig. 1)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "jacot2018_fig1")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[500, 2000])
    ap.add_argument("--inits", type=int, default=4)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--paper", action="store_true")
    a = parse(ap)
    main([500, 10000] if a.paper else a.widths, 10 if a.paper else a.inits, a.steps)
