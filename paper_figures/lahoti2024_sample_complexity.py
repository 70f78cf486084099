"""Lahoti, Karp, Winston, Singh, Li (2024), the DSD task: the sample complexity m* (smallest training-set
size with mean test error <= delta over seeds) of the CNN and the LCN trained by the projected first
step, against k at fixed d and against d at fixed k, log-log. Dashed: the paper's rates through the
largest point, k + d (CNN upper bound), k (k + d) (LCN upper bound) and k d (LCN lower bound). The FCN
is absent: the one-step estimator gives all its units the same weights (spec B4).

    python paper_figures/lahoti2024_sample_complexity.py [--seeds 5] [--fixed 32] [--max 32] [--sigma 0.15]
"""
import argparse

import numpy as np

from _common import save
from theorysim.plotting import pyplot
from theorysim.setups.dsd.claims import lahoti2024 as claims


def main(seeds, fixed, largest, sigma):
    sizes = [int(v) for v in 2 ** np.arange(2, int(np.log2(largest)) + 1)]
    cfg = {**claims.QUICK, "seeds": list(range(seeds)), "sigma": sigma,
           "k_sweep": {"d": fixed, "k": sizes}, "d_sweep": {"k": fixed, "d": sizes}}
    res = {arch: claims.step_searches(cfg, arch) for arch in ("cnn", "lcn")}
    laws = {"cnn": [("k + d", lambda k, d: k + d)],
            "lcn": [("k (k + d)", lambda k, d: k * (k + d)), ("k d", lambda k, d: k * d)]}
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, axis in zip(axes, ("k", "d")):
        for c, arch in enumerate(("cnn", "lcn")):
            x, m = claims.sweeps(cfg, claims._m_star(res, arch))[axis]
            x, m = np.array(x, dtype=float), np.array(m, dtype=float)
            ax.loglog(x, m, "o-", color=f"C{c}", label=f"{arch.upper()} (measured)")
            slope, ci = claims.exponent(x, m)
            print(f"{arch.upper()} against {axis}: m* = {m.astype(int).tolist()} at {axis} = {x.astype(int).tolist()}; "
                  f"exponent {slope:.2f}")
            for ls, (name, law) in zip(("--", ":"), laws[arch]):
                kk, dd = (x, np.full_like(x, fixed)) if axis == "k" else (np.full_like(x, fixed), x)
                curve = law(kk, dd)
                ax.loglog(x, curve * m[-1] / curve[-1], ls, color=f"C{c}", lw=1, label=f"{arch.upper()}: ~ {name}")
        other = f"d = {fixed}" if axis == "k" else f"k = {fixed}"
        ax.set(xlabel=axis, ylabel="m*", title=f"m* against {axis} ({other}, sigma = {sigma})")
        ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, "lahoti2024_sample_complexity")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--fixed", type=int, default=32, help="d of the k sweep and k of the d sweep")
    ap.add_argument("--max", type=int, default=32, help="largest k and d of the sweeps (a power of two >= 8)")
    ap.add_argument("--sigma", type=float, default=0.15)
    a = ap.parse_args()
    if a.max < 8 or a.max & (a.max - 1):
        raise SystemExit(f"--max={a.max}: expected a power of two >= 8")
    main(a.seeds, a.fixed, a.max, a.sigma)
