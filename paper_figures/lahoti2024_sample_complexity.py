"""Lahoti, Karp, Winston, Singh, Li (2024), the DSD task: the sample complexity m* (smallest training-set
size with mean test error <= delta over seeds) of the CNN and the LCN trained by the projected first
step, against k at fixed d and against d at fixed k, log-log. Dashed: the paper's rates through the
largest point, k + d (CNN upper bound), k (k + d) (LCN upper bound) and k d (LCN lower bound). The FCN
is absent: the one-step estimator gives all its units the same weights (spec B4).

With ``--store``: the three architectures trained by GD from random init, from the sweep store of
experiments/dsd_scaling.toml (m* vs k at d = 8 and vs d at k = 8), with the paper's rates dashed
(CNN k + d, LCN k d and k (k + d), FCN k^2 d), written as lahoti2024_sample_complexity_gd.png, with
the table of m* printed.

    python paper_figures/lahoti2024_sample_complexity.py [--seeds 5] [--fixed 32] [--max 32] [--sigma 0.15]
    theorysim sweep experiments/dsd_scaling.toml
    python paper_figures/lahoti2024_sample_complexity.py --store experiments/dsd_scaling.sqlite [--test-size 8000]
"""
import argparse

import numpy as np

from _common import save
from theorysim.plotting import pyplot
from theorysim.setups.dsd import study
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


#: the paper's rates per architecture (abstract): CNN O~(k + d); LCN Omega(k d), O~(k (k + d)); FCN Omega(k^2 d)
GD_LAWS = {"cnn": [("k + d", lambda k, d: k + d)],
           "lcn": [("k d", lambda k, d: k * d), ("k (k + d)", lambda k, d: k * (k + d))],
           "fcn": [("k^2 d", lambda k, d: k * k * d)]}


def from_store(path, test_size, delta=0.05):
    """m* of every (architecture, k, d) curve in a dsd sweep store, drawn against k and against d."""
    from theorysim.sweep.store import Store, StoreError, check_store_path, unpack_arrays

    try:
        store = Store(check_store_path(path, must_exist=True), read_only=True)
    except StoreError as err:
        raise SystemExit(f"--store: {err}") from None
    try:
        points = [{"config": r["config"], "theta": unpack_arrays(r["arrays"])["theta"]} for r in store.rows()
                  if r["status"] in ("done", "diverged") and r["arrays"]]
    finally:
        store.close()
    if not points:
        raise SystemExit(f"--store={path}: no finished point with stored parameters (record.arrays = true)")
    rows = study.m_star_table(points, delta, test_size)
    table = {(r["arch"], int(r["k"]), int(r["d"])): r for r in rows}
    print(f"{'arch':5} {'k':>3} {'d':>3} {'m*':>8} draws")
    for (arch, k, d), r in sorted(table.items()):
        print(f"{arch:5} {k:3d} {d:3d} {r['m_star']:8.1f} {r['draws']}")
    ks = sorted({k for _, k, _ in table})
    ds = sorted({d for _, _, d in table})
    k_fixed = max(ks, key=lambda k: sum(1 for _, kk, _ in table if kk == k))
    d_fixed = max(ds, key=lambda d: sum(1 for _, _, dd in table if dd == d))
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, axis in zip(axes, ("k", "d")):
        for c, arch in enumerate(("cnn", "lcn", "fcn")):
            keys = sorted(key for key in table if key[0] == arch and (key[2] == d_fixed if axis == "k" else key[1] == k_fixed))
            if not keys:
                continue
            x = np.array([key[1] if axis == "k" else key[2] for key in keys], dtype=float)
            m = np.array([table[key]["m_star"] for key in keys])
            ok = np.isfinite(m)
            ax.loglog(x[ok], m[ok], "o-", color=f"C{c}", label=f"{arch.upper()} (GD)")
            if not ok.all():  # not reached on the grid: drawn at the largest size, pointing up
                top = max(int(table[key]["pool"]) for key in keys)
                ax.loglog(x[~ok], np.full((~ok).sum(), top), "^", color=f"C{c}", ms=9,
                          label=f"{arch.upper()}: not reached by m = {top}")
            if ok.sum() >= 2:  # the paper's rates, dashed through the largest finite point
                kk, dd = (x, np.full_like(x, d_fixed)) if axis == "k" else (np.full_like(x, k_fixed), x)
                for ls, (name, law) in zip(("--", ":"), GD_LAWS[arch]):
                    curve = law(kk, dd)
                    last = np.flatnonzero(ok)[-1]
                    ax.loglog(x, curve * m[last] / curve[last], ls, color=f"C{c}", lw=1,
                              label=f"{arch.upper()}: ~ {name}")
            slope, ci = claims.exponent(x[ok], m[ok])
            print(f"{arch.upper()} against {axis}: exponent {slope:.2f} over {axis} = {x[ok].astype(int).tolist()}"
                  + ("" if ok.all() else f" (not reached at {axis} = {x[~ok].astype(int).tolist()})"))
        other = f"d = {d_fixed}" if axis == "k" else f"k = {k_fixed}"
        ax.set(xlabel=axis, ylabel="m*", title=f"GD from random init: m* against {axis} ({other})")
        xs = sorted({key[1] if axis == "k" else key[2] for key in table})
        ax.set_xticks(xs, [str(v) for v in xs])
        ax.minorticks_off()
        ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, "lahoti2024_sample_complexity_gd")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--fixed", type=int, default=32, help="d of the k sweep and k of the d sweep")
    ap.add_argument("--max", type=int, default=32, help="largest k and d of the sweeps (a power of two >= 8)")
    ap.add_argument("--sigma", type=float, default=0.15)
    ap.add_argument("--store", help="a sweep store of experiments/dsd_scaling.toml: draw the GD-trained networks")
    ap.add_argument("--test-size", type=int, default=8000, help="fresh test points per (k, d) with --store")
    a = ap.parse_args()
    if a.store:
        from_store(a.store, a.test_size)
        raise SystemExit(0)
    if a.max < 8 or a.max & (a.max - 1):
        raise SystemExit(f"--max={a.max}: expected a power of two >= 8")
    main(a.seeds, a.fixed, a.max, a.sigma)
