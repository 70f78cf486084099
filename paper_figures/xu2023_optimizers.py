"""Beyond Xu et al. (2023): train accuracy at t = 1 and clean test accuracy vs t for each
optimizer of experiments/xor_optimizers.toml (mean and range over data draws).

    theorysim sweep experiments/xor_optimizers.toml
    python paper_figures/xu2023_optimizers.py xor_optimizers.sqlite
"""
import argparse
import sys
from collections import defaultdict

import numpy as np

from _common import parse, save
from theorysim.setups.xor_grokking.model import TwoLayerReLU
from theorysim.plotting import pyplot
from theorysim.sweep.store import Store, unpack_arrays

COLS = {n: i for i, n in enumerate(TwoLayerReLU.metric_names)}


def name_of(cfg):
    name = cfg["optimizer"] + (f" (momentum {cfg['momentum']:g})" if cfg.get("momentum") else "")
    return f"{name}, lr={cfg['lr']:g}"


def main(path):
    runs = defaultdict(list)
    store = Store(path)
    try:
        for row in store.rows():
            if row["status"] != "failed":
                arr = unpack_arrays(row["arrays"])
                runs[name_of(row["config"])].append((arr["steps"], arr["records"]))
    finally:
        store.close()
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4))
    for name, rs in sorted(runs.items()):
        t = rs[0][0]
        rec = np.stack([r for _, r in rs])  # [draws, R, metrics]
        for ax, col in ((a1, "train_acc"), (a2, "test_acc")):
            c = rec[:, :, COLS[col]]
            line, = ax.plot(np.log(t + 1), c.mean(axis=0), label=name)
            ax.fill_between(np.log(t + 1), c.min(axis=0), c.max(axis=0), color=line.get_color(), alpha=0.12, lw=0)
        tr, te = rec[:, :, COLS["train_acc"]], rec[:, :, COLS["test_acc"]]
        print(f"{name:30s} train t=1 {tr[:, 1].mean():.3f}  test t=1 {te[:, 1].mean():.3f}  t=5 {te[:, 5].mean():.3f}  "
              f"t=40 {te[:, -1].mean():.3f}  min train over t>=1 {tr[:, 1:].min():.2f}")
    a1.set(xlabel="log(t + 1)", ylabel="training accuracy (noisy labels)", title="fit", ylim=(0.4, 1.02))
    a2.set(xlabel="log(t + 1)", ylabel="clean test accuracy", title="generalisation", ylim=(0.4, 1.02))
    a2.legend(fontsize=7)
    fig.tight_layout()
    save(fig, "xu2023_optimizers")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", nargs="?", default="xor_optimizers.sqlite")
    main(parse(ap).store)
