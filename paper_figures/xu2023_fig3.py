"""Xu et al. (2023), Figures 3-4: histograms of <w_j, mu_1> and <w_j, mu_2> over positive
neurons (a_j > 0) at t = 0, 1 and later: alike at t = 0 and 1, then concentrated on +-mu_1.

    python paper_figures/xu2023_fig3.py [--seed 0] [--later 15] [--paper]

``--paper``: the paper's configuration (p = 40000, n = 200, m = 1000), trained in the span form
(the inner products come from C and W_0's projections; W itself is never formed).
"""
import argparse

import numpy as np

import theorysim as ts
from _common import parse, save
from theorysim.plotting import pyplot
from theorysim.setups.xor_grokking import claims, data


def inner_products(model, theta):
    """(<w_j, mu_1>, <w_j, mu_2>) for every neuron, from either form's parameters."""
    if hasattr(model, "projections"):
        return model.projections(theta)
    W = theta.reshape(model.m, model.p)
    return W @ model.mu1, W @ model.mu2


def main(seed, later, paper=False):
    cfg = claims.FULL if paper else claims.QUICK
    model = data.build(cfg, 1000 + seed)
    if paper:
        model = model.span_form()
    res = ts.Experiment(model, "sgd", steps=later, record_every=1, lr=cfg["alpha"], omega_init=cfg["omega_init"],
                        seeds=[seed], record_params=True, divergence_factor=0).run()
    pos = model.a > 0
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, t in zip(axes, (0, 1, later)):
        d1, d2 = (d[pos] for d in inner_products(model, res.param_records[0, t]))
        bins = np.linspace(min(d1.min(), d2.min()), max(d1.max(), d2.max()), 30)
        ax.hist(d1, bins=bins, alpha=0.6, label="<w_j, mu_1>")
        ax.hist(d2, bins=bins, alpha=0.6, label="<w_j, mu_2>")
        ax.set(title=f"t = {t}", xlabel="inner product", ylabel="positive neurons")
        ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "xu2023_fig3_paper" if paper else "xu2023_fig3")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--later", type=int, default=15)
    ap.add_argument("--paper", action="store_true", help="the paper's configuration (p = 40000, n = 200, m = 1000)")
    a = parse(ap)
    main(a.seed, a.later, a.paper)
