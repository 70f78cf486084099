"""Granziol, Zohren and Roberts (arXiv 2006.09092): the largest stable learning rate eta_max against the
batch size B, for SGD and Adam on random-features least squares, log-log. Lines: eta_max proportional
to B and to sqrt(B) through the B = 1 measurement, SGD's mean-square boundary eta*(B) from the
linearised second-moment map, and GD's limit 2 / lambda_max(G). Markers: the geometric mean over
problem draws; bars: their range.

    python paper_figures/granziol2020_lr_vs_batch.py [--draws 5] [--n 512] [--p 128] [--max-batch 256]
"""
import argparse

import numpy as np

from _common import parse, save
from theorysim.plotting import pyplot
from theorysim.setups.stability.claims import granziol2020 as claims


def main(draws, n, p, max_batch):
    batches = [int(b) for b in 2 ** np.arange(int(np.log2(max_batch)) + 1)]
    cfg = {**claims._FULL, "n": n, "p": p, "draws": list(range(draws)), "sgd_batches": batches,
           "adam_batches": batches}
    small = [b for b in batches if b <= cfg["small"][1]]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    B = np.array(batches, dtype=float)
    for c, (name, opt, power) in enumerate((("SGD", "sgd", 1.0), ("Adam", "adam", 0.5))):
        out = claims.scan(cfg, opt)
        mean = np.exp(np.log(out["table"]).mean(axis=0))
        err = [mean - out["table"].min(axis=0), out["table"].max(axis=0) - mean]
        ax.errorbar(B, mean, yerr=err, fmt="o", ms=5, color=f"C{c}", capsize=2, label=f"{name}: measured eta_max")
        ax.loglog(B, mean[0] * B**power, "--", color=f"C{c}", lw=1, label=f"{name}: proportional to B^{power:g}")
        slope = claims._slope(out, [1, small[-1]])
        print(f"{name}: eta_max = {', '.join(f'{v:.4g}' for v in mean)} at B = {batches}; "
              f"slope over B <= {small[-1]}: {slope.estimate:.3f}")
        if opt == "sgd":
            ax.loglog(B, out["oracle"].mean(axis=0), "-", color="k", lw=1, label="SGD: mean-square boundary eta*(B)")
            lam = np.mean([s["lambda_max"] for s in out["spectra"]])
            ax.axhline(2 / lam, color="gray", ls=":", label="GD: 2 / lambda_max(G)")
    ax.set(xscale="log", yscale="log", xlabel="batch size B", ylabel="largest stable learning rate",
           title=f"Random-features least squares (n = {n}, p = {p}, {draws} draws)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "granziol2020_lr_vs_batch")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--p", type=int, default=128)
    ap.add_argument("--max-batch", type=int, default=256)
    a = parse(ap)
    if a.max_batch < 4 or a.max_batch >= a.n:
        raise SystemExit(f"--max-batch={a.max_batch}: expected 4 <= max batch < n = {a.n}")
    main(a.draws, a.n, a.p, a.max_batch)
