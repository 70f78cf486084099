"""von Oswald et al. 2023, Figure 2: a one-layer LSA trained on U(-0.5, 0.5)^10 prompts (N = 10)
reaches the loss of the best one-step GD, and its predictions align with GD's.

    python paper_figures/vonoswald2023_lsa_vs_gd.py [--steps 3000] [--seeds 4]
"""
import argparse

import numpy as np

import theorysim as ts
from _common import parse, save
from theorysim.setups.icl import model as lsa
from theorysim.plotting import pyplot
from theorysim.setups.icl import algorithms as alg
from theorysim.setups.icl import task, theory


def main(steps: int, seeds: int) -> None:
    d = N = 10
    model = lsa.LinearSelfAttention(d, N, layers=1, batch=256, x_dist="uniform", eval_prompts=4096)
    res = ts.Experiment(model, "adam", lr=3e-3, steps=steps, seeds=range(seeds), record_every=max(1, steps // 100),
                        schedule="cosine").run()
    eta, gd_loss = theory.uniform_optimal_step(d, N)
    fresh = task.sample(99, 2000, d, N, x_dist="uniform")
    gd_pred = alg.predict(fresh, alg.gd(fresh, eta, 1))
    Ps, Qs = model.weights(res.theta[0])
    lsa_pred = lsa.predict(fresh.X, fresh.y, fresh.xq, Ps, Qs)
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for row in res.curve("eval_loss"):
        a1.plot(res.steps, row, lw=1, color="C0", alpha=0.7)
    a1.axhline(gd_loss, color="k", ls="--", label=f"best one-step GD (eta = {eta:.2f}): {gd_loss:.4f}")
    a1.set(yscale="log", xlabel="training step", ylabel="0.5 MSE on held-out prompts",
           title=f"1-layer LSA, {seeds} seeds (Adam, cosine)")
    a1.legend(fontsize=8)
    a2.scatter(gd_pred, lsa_pred, s=3, alpha=0.5)
    lim = np.abs(gd_pred).max()
    a2.plot([-lim, lim], [-lim, lim], "k--", lw=1)
    a2.set(xlabel="one-step GD prediction", ylabel="trained LSA prediction",
           title=f"mean |diff| = {np.mean(np.abs(lsa_pred - gd_pred)):.4f}")
    fig.tight_layout()
    save(fig, "vonoswald2023_lsa_vs_gd")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seeds", type=int, default=4)
    args = parse(ap)
    main(args.steps, args.seeds)
