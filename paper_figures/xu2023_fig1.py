"""Xu et al. (2023), Figure 1: training accuracy (noisy labels), accuracy on the flipped subset
and clean test accuracy vs log(t + 1), mean and range over data draws (quick configuration by
default; --paper for p = 40000, n = 200, m = 1000, which takes minutes per draw on 2 cores).

    python paper_figures/xu2023_fig1.py [--seeds 5] [--steps 40] [--alpha 1e-12] [--paper]
"""
import argparse

import numpy as np

from _common import save
from theorysim.plotting import pyplot
from theorysim.setups.xor_grokking import claims


def main(seeds, steps, alpha, paper):
    cfg = {**(claims.FULL if paper else claims.QUICK), "seeds": seeds, "steps": steps, "alpha": alpha}
    out = claims.run(cfg)
    t = np.asarray(out["steps"])
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, label in (("train_acc", "train (noisy labels)"), ("flipped_acc", "train, flipped subset"),
                        ("test_acc", "clean test")):
        c = out["metrics"][name][0]
        mean = np.nanmean(c, axis=0)
        line, = ax.plot(np.log(t + 1), mean, label=label)
        ax.fill_between(np.log(t + 1), np.nanmin(c, axis=0), np.nanmax(c, axis=0), color=line.get_color(), alpha=0.2, lw=0)
        print(f"{label:22s} " + " ".join(f"{v:.3f}" for v in mean[[0, 1, 2, 5, min(10, steps), steps]]))
    ax.set(xlabel="log(t + 1)", ylabel="accuracy", ylim=(0.3, 1.02),
           title=f"XOR clusters, n={cfg['n']}, p={cfg['p']}, m={cfg['m']}, alpha={alpha:g}, {seeds} draws")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "xu2023_fig1" + ("_paper" if paper else ""))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--alpha", type=float, default=1e-12)
    ap.add_argument("--paper", action="store_true")
    a = ap.parse_args()
    main(a.seeds, a.steps, a.alpha, a.paper)
