"""Tyurin (2024), Figure 1 on bundled data: logistic loss and training accuracy vs iteration of
LR+GD for steps gamma = 0.001 ... 100 on two classes of scikit-learn's digits (+ bias feature).
Large steps reach accuracy 1.0 first while their loss is the largest and oscillates.

    python paper_figures/tyurin2024_fig1.py [--classes 3 8] [--iters 300]
"""
import argparse

import numpy as np

from _common import parse, save
from theorysim.plotting import pyplot
from theorysim.setups.large_step_lr import data
from theorysim.setups.large_step_lr import methods as M


def main(classes, iters):
    A, y = data.digits(tuple(classes))
    A = data.with_bias(A)
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for g in (0.001, 0.01, 0.1, 1.0, 10.0, 100.0):
        _, P = M.run("lr_gd", A, y, g, max_iter=iters, stop=False, record=True)
        loss = [M.loss(p, A, y) for p in P]
        acc = [np.mean(y * (A @ p) > 0) for p in P]
        a1.semilogy(loss, lw=1, label=f"gamma={g:g}")
        a2.plot(acc, lw=1, label=f"gamma={g:g}")
        hit = next((t for t, a in enumerate(acc) if a == 1.0), None)
        print(f"gamma={g:<6g} accuracy 1.0 at t={hit}, loss at t=10: {loss[min(10, iters)]:.3g}")
    a1.set(xlabel="iteration", ylabel="logistic loss f(theta_t)", title=f"digits {classes[0]} vs {classes[1]}: loss")
    a2.set(xlabel="iteration", ylabel="training accuracy", title="accuracy", ylim=(0.4, 1.02))
    a2.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "tyurin2024_fig1")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--classes", type=int, nargs=2, default=[3, 8])
    ap.add_argument("--iters", type=int, default=300)
    a = parse(ap)
    main(a.classes, a.iters)
