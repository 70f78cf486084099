"""The DSD issue's sensitivity table: m* of the two-step learner (theorysim.setups.dsd.two_step) under each
reading the sources leave open (two_step.SENSITIVITY, plus replace-mode patches), at the bound claims'
settings (sigma = 0.5 / sqrt(k), excess squared risk <= 1e-3) on a few (k, d).

    python tools/dsd_sensitivity.py [--seeds 10] [--points 4x16,8x16,32x16,8x64]

Prints a Markdown table: per reading and architecture, the mean m* over seeds at each point ("inf": some
seed never reached delta by m = hi) and the mean cos(w, w*) of the learned filters at m = 200.
"""
import argparse
import math

import numpy as np

from theorysim.setups.dsd import data, search, two_step
from theorysim.setups.dsd.claims import lahoti2024


def main(seeds, points):
    rows = [(label, scheme, "additive") for label, scheme in two_step.SENSITIVITY]
    rows.append(("replace-mode patches (Karp et al.'s code)", two_step.PAPER, "replace"))
    head = " | ".join(f"{a.upper()} m* k={k},d={d}" for a in ("cnn", "lcn") for k, d in points)
    print(f"| reading | {head} | CNN cos at m=200 (k=8,d=16) | LCN cos at m=200 (k=8,d=16) |")
    print("|---" * (2 + 2 * len(points) + 1) + "|")
    for label, scheme, mode in rows:
        cfg = {**lahoti2024.BOUNDS_QUICK, "seeds": list(range(seeds)), "scheme": scheme, "mode": mode}
        cells = []
        for arch in ("cnn", "lcn"):
            for k, d in points:
                ms = [s.m_star for s in search.two_step_searches(cfg, arch, k, d)]
                cells.append("inf" if not all(map(math.isfinite, ms)) else f"{np.mean(ms):.1f}")
        coss = []
        for arch in ("cnn", "lcn"):
            k, d = 8, 16
            X, y, _ = data.sample(200, k, d, search.sigma_of(cfg, k), mode, seed=0)
            W = two_step.filters(arch, two_step.learn(arch, X, y, k, d, 0, scheme).W2, k, d)
            norms = np.linalg.norm(W, axis=1)
            cos = (W @ data.signal(d)) / np.where(norms > 0, norms, 1.0)
            coss.append(f"{np.mean(cos):.3f}")
        print(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(coss) + " |", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--points", default="4x16,8x16,32x16,8x64")
    a = ap.parse_args()
    main(a.seeds, [tuple(int(v) for v in p.split("x")) for p in a.points.split(",")])
