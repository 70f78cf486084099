"""Wu and Su (2023), the implicit regularization of dynamical stability: at the interpolating minima
that SGD (batch size 1) and GD reach on the diagonal linear network, tr(G), ||G||_F and lambda_max(G)
against 2 / eta (the line is the bound 2 / eta), and ||a * b||_1 against eta. One engine ensemble per
optimizer: every (eta, seed) is a member.

    python paper_figures/wu2023_trace_vs_lr.py [--seeds 5] [--steps 30000] [--n 60] [--d 200]
"""
import argparse

import numpy as np

from _common import parse, save
from theorysim.plotting import pyplot
from theorysim.setups.stability.claims import wu2023 as claims


def main(seeds, steps, n, d):
    cfg = {"n": n, "d": d, "sparsity": 3, "init_scale": 1.0, "seeds": list(range(seeds))}
    etas = [0.002, 0.0028, 0.004, 0.0057, 0.008, 0.011, 0.016]
    runs = {"SGD, B = 1": claims.train(cfg, etas, 1, steps), "GD": claims.train(cfg, etas, 0, steps)}
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(18, 4))
    for c, (name, out) in enumerate(runs.items()):
        rows = [r for r in out["rows"] if r["converged"]]
        x = np.array([2 / r["eta"] for r in rows])
        for ax, key in zip(axes[:3], ("trace", "frobenius", "lambda_max")):
            ax.loglog(x, [r[key] for r in rows], "o", ms=4, color=f"C{c}", label=name)
        e = np.array([r["eta"] for r in rows])
        axes[3].semilogx(e, [r["l1"] for r in rows], "o", ms=4, color=f"C{c}", label=name)
        worst = max((r["eta"] * r["trace"] / 2 for r in rows), default=float("nan"))
        print(f"{name}: {len(rows)} of {len(out['rows'])} runs interpolated (loss < 1e-8); "
              f"max eta tr(G) / 2 = {worst:.3f}")
    grid = np.geomspace(2 / max(etas), 2 / min(etas), 20)
    for ax, title in zip(axes[:3], ("tr(G)", "||G||_F", "lambda_max(G)")):
        ax.loglog(grid, grid, "k-", lw=1, label="2 / eta")
        ax.set(xlabel="2 / eta", ylabel=title, title=f"{title} at the endpoint")
        ax.legend(fontsize=8)
    axes[3].set(xlabel="eta", ylabel="||a * b||_1", title=f"l1 norm of the predictor (d = {d}, n = {n})")
    axes[3].legend(fontsize=8)
    fig.tight_layout()
    save(fig, "wu2023_trace_vs_lr")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--d", type=int, default=200)
    a = parse(ap)
    main(a.seeds, a.steps, a.n, a.d)
