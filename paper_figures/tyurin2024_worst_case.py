"""Tyurin (2024), Theorem 5.1: iterations to separate the worst-case data set vs n, per method,
log-log (Batch Perceptron and large-step LR+GD grow like n; the normalized methods stay flat).

    python paper_figures/tyurin2024_worst_case.py
"""
import argparse
import numpy as np

from _common import parse, save
from theorysim.plotting import pyplot
from theorysim.setups.large_step_lr import data
from theorysim.setups.large_step_lr import methods as M

RUNS = {"Batch Perceptron": ("batch_perceptron", 1.0), "LR+GD, gamma = 100": ("lr_gd", 100.0),
        "LR+GD, gamma = 1e4": ("lr_gd", 1e4), "Normalized Batch Perceptron": ("normalized_batch_perceptron", 1.0),
        "NLR+GD, gamma = 1": ("nlr_gd", 1.0), "NLR+GD, gamma = 100": ("nlr_gd", 100.0)}


def main():
    ns = np.unique(np.geomspace(10, 3000, 12).astype(int))
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, (method, g) in RUNS.items():
        its = [M.run(method, *data.worst_case(int(n)), gamma=g)[0] for n in ns]
        ax.loglog(ns, its, "o-", ms=3, label=name)
        print(f"{name:30s} " + " ".join(map(str, its)))
    ax.loglog(ns, 0.3 * ns, "k--", lw=1, label="0.3 n")
    ax.set(xlabel="n", ylabel="iterations to separate", title="Theorem 5.1 worst case")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "tyurin2024_worst_case")


if __name__ == "__main__":
    parse(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    main()
