"""Xu et al. (2023), Figure 1: training accuracy (noisy labels), accuracy on the flipped subset
and clean test accuracy vs log(t + 1), mean and range over data draws (quick configuration by
default; --paper for p = 40000, n = 200, m = 1000, which takes minutes per draw on 2 cores).

    python paper_figures/xu2023_fig1.py [--seeds 5] [--steps 40] [--alpha 1e-12] [--paper]
"""
import argparse

import numpy as np

from _common import parse, save
from theorysim.setups.xor_grokking import claims


def main(seeds, steps, alpha, paper):
    cfg = {**(claims.FULL if paper else claims.QUICK), "seeds": seeds, "steps": steps, "alpha": alpha}
    out = claims.run(cfg)
    fig = claims.plot_accuracy_curves(cfg, out)
    for name, label in (("train_acc", "train (noisy labels)"), ("flipped_acc", "train, flipped subset"),
                        ("test_acc", "clean test")):
        mean = np.nanmean(out["metrics"][name][0], axis=0)
        print(f"{label:22s} " + " ".join(f"{v:.3f}" for v in mean[[0, 1, 2, 5, min(10, steps), steps]]))
    save(fig, "xu2023_fig1" + ("_paper" if paper else ""))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--alpha", type=float, default=1e-12)
    ap.add_argument("--paper", action="store_true")
    a = parse(ap)
    main(a.seeds, a.steps, a.alpha, a.paper)
