"""Fu et al. 2023: relative error to the OLS weights vs iteration, for GD (optimal constant step)
and Iterative Newton, across condition numbers (d = 20, n = 40, median over prompts).

    python paper_figures/fu2023_newton_vs_gd.py [--prompts 100]
"""
import argparse

import numpy as np

from _common import parse, save
from theorysim.plotting import pyplot
from theorysim.setups.icl import algorithms as alg
from theorysim.setups.icl.simulation import ill_conditioned_prompts as _ill_conditioned_prompts


def main(prompts: int) -> None:
    d, n = 20, 40
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for i, kappa in enumerate([1, 10, 100, 1000]):
        p = _ill_conditioned_prompts(0, prompts, d, n, kappa)
        w_ols = alg.ols(p)
        nrm = np.linalg.norm(w_ols, axis=1)
        W = alg.iterative_newton(p, 40, return_all=True)
        a1.semilogy(np.median(np.linalg.norm(W - w_ols, axis=2) / nrm, axis=1), color=f"C{i}", label=f"kappa(Sigma)={kappa}")
        S = np.einsum("bni,bnj->bij", p.X, p.X) / n
        lam = np.linalg.eigvalsh(S)
        eta = 2 / (lam[:, -1] + lam[:, 0])
        h = np.einsum("bn,bni->bi", p.y, p.X) / n
        w = np.zeros_like(w_ols)
        errs = []
        for _ in range(5000):
            w = w - eta[:, None] * (np.einsum("bij,bj->bi", S, w) - h)
            errs.append(np.median(np.linalg.norm(w - w_ols, axis=1) / nrm))
        a2.semilogy(errs, color=f"C{i}", label=f"kappa(Sigma)={kappa}")
    for ax, title in ((a1, "Iterative Newton"), (a2, "GD, step 2/(lambda_max + lambda_min)")):
        ax.axhline(1e-3, color="k", lw=0.8, ls=":")
        ax.set(xlabel="iteration", ylabel="median ||w_k - w_OLS|| / ||w_OLS||", title=title)
        ax.legend(fontsize=8)
    a2.set_xscale("log")
    fig.tight_layout()
    save(fig, "fu2023_newton_vs_gd")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=100)
    main(parse(ap).prompts)
