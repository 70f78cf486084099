"""Ahn et al. 2023, Theorem 1: the preconditioner learned by a one-layer LSA on x ~ N(0, Sigma)
(kappa(Sigma) = 10) next to the closed form Gamma* = [((n+1)/n) Sigma + (tr Sigma/n) I]^(-1).

    python paper_figures/ahn2023_preconditioner.py [--steps 6000]
"""
import argparse

import numpy as np

from _common import parse, save
from theorysim.plotting import pyplot
from theorysim.setups.icl import simulation


def main(steps: int) -> None:
    cfg = {**simulation.TRAIN_QUICK, "kappa": 10.0, "steps": steps, "seeds": 1}
    out = simulation.sim_trained(cfg)
    Ps, Qs = out["model"].weights(out["result"].theta[0])
    learned = simulation.effective_preconditioner(Ps[0], Qs[0])
    target = simulation.optimal_target(cfg)
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    vmax = np.abs(target).max()
    for ax, M, title in zip(axes, (learned, target, learned - target),
                            ("learned Gamma_eff = -P[d,d] Q[:d,:d]^T", "closed form Gamma*", "difference")):
        im = ax.imshow(M, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_title(title, fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046)
    rel = np.linalg.norm(learned - target) / np.linalg.norm(target)
    fig.suptitle(f"d = {cfg['d']}, n = {cfg['n_context']}, kappa(Sigma) = 10: relative Frobenius error {rel:.3f}")
    fig.tight_layout()
    save(fig, "ahn2023_preconditioner")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=6000)
    main(parse(ap).steps)
