"""Over-parameterized symmetric matrix sensing under the optimizer family: the best (lowest
final mean error over seeds) learning rate of each optimizer, error vs step, log-log.

Run the sweep first, then this script on its store:
    theorysim sweep experiments/matrix_sensing_optimizers.toml
    python paper_figures/xiong2023_optimizers.py matrix_sensing_optimizers.sqlite
"""
import argparse
import sys
from collections import defaultdict

import numpy as np

from _common import parse, save
from theorysim.plotting import pyplot
from theorysim.sweep.store import Store, unpack_arrays


def variant_name(cfg):
    name = cfg["optimizer"]
    if cfg.get("nesterov"):
        name += " (Nesterov)"
    elif cfg.get("momentum") and name == "sgd":
        name = f"heavy ball (beta={cfg['momentum']:g})"
    elif name == "sgd":
        name = "GD"
    return name


def best_curves(path):
    groups = defaultdict(lambda: defaultdict(list))
    store = Store(path)
    try:
        for row in store.rows():
            if row["status"] == "failed":
                continue
            arr = unpack_arrays(row["arrays"])
            groups[variant_name(row["config"])][row["config"]["lr"]].append((arr["steps"], arr["records"][:, 0]))
    finally:
        store.close()
    best = {}
    for name, by_lr in groups.items():
        finals = {lr: np.mean([c[-1] if np.isfinite(c[-1]) else np.inf for _, c in runs]) for lr, runs in by_lr.items()}
        lr = min(finals, key=finals.get)
        steps = by_lr[lr][0][0]
        best[name] = (lr, steps, np.array([c for _, c in by_lr[lr]]))
    return best


def main(path):
    plt = pyplot()
    best = best_curves(path)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, (lr, steps, curves) in sorted(best.items(), key=lambda kv: np.nanmean(kv[1][2][:, -1])):
        ok = steps > 0
        mean = np.exp(np.nanmean(np.log(curves[:, ok]), axis=0))
        line, = ax.loglog(steps[ok], mean, lw=1.4, label=f"{name}, lr={lr:g}: {mean[-1]:.1e}")
        ax.fill_between(steps[ok], np.nanmin(curves[:, ok], axis=0), np.nanmax(curves[:, ok], axis=0),
                        color=line.get_color(), alpha=0.15, lw=0)
    t = steps[steps > 0]
    ax.loglog(t, 0.55 / (0.1 * t), "k--", lw=1, label="0.55 / (eta t), GD's 1/T law at eta = 0.1")
    ax.set(xlabel="step t", ylabel="||X X^T - M*||_F (geometric mean over seeds, band = range)",
           title="over-parameterized X X^T (k = 4, r = 2): best learning rate per optimizer")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    save(fig, "xiong2023_optimizers")
    for name, (lr, steps, curves) in sorted(best.items()):
        last = curves[:, -1]
        q = curves[:, steps >= steps[-1] / 4]
        slope = np.polyfit(np.log(steps[steps >= steps[-1] / 4]), np.log(np.nanmean(q, axis=0)), 1)[0]
        print(f"{name:28s} lr={lr:<8g} final error {np.mean(last):.2e}  log-log slope on [T/4, T] {slope:+.2f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", nargs="?", default="matrix_sensing_optimizers.sqlite")
    main(parse(ap).store)
