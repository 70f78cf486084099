"""Lahoti, Karp, Winston, Singh, Li (2024), the DSD task: the sample complexity m* of the CNN and the LCN
trained by the paper's two-step projected GD learner (our reconstruction, theorysim.setups.dsd.two_step).

Default: two figures from the claims' own simulation (m* per seed: the smallest m whose exact excess
squared risk over the floor c^2 is <= 1e-3):
* ``lahoti2024_sample_complexity``: the bounds' regime sigma = 0.5 / sqrt(k): m* against k (d = 16) and
  against d (k = 8), mean over seeds with the spread of the seeds (bars: 2.5% / 97.5% of the seeds'
  m*); filled markers are the points the constants are fitted on (k d <= 64), open ones are held out;
  dashed: the upper bounds (CNN sigma^2 (k + d) ln kd, LCN sigma^2 k (k + d) ln kd) times their fitted
  constants; dotted: the LCN's lower bound sigma^2 k d times its fitted constant (lahoti2024/cnn-upper-bound,
  lahoti2024/lcn-sandwich);
* ``lahoti2024_trends``: sigma = 0.15 fixed on k, d <= 30, with the experiments' reported trends (~k and ~d
  for the CNN, ~k^2 and ~d for the LCN) dashed through the first point (lahoti2024/experiments-trends).

With ``--store``: a dsd sweep store. Two-step points (experiments/dsd_scaling.toml) give m* per draw from the
stored steps (the first grid size within delta), drawn like the default figure with its held-out rule
(``lahoti2024_sample_complexity_sweep``); GD points (experiments/dsd_gd.toml: the three architectures from a
random init) give ``lahoti2024_sample_complexity_gd`` as before, with the table of m* printed.

    python paper_figures/lahoti2024_sample_complexity.py [--seeds 10]
    theorysim sweep experiments/dsd_scaling.toml
    python paper_figures/lahoti2024_sample_complexity.py --store experiments/dsd_scaling.sqlite
    python paper_figures/lahoti2024_sample_complexity.py --store experiments/dsd_gd.sqlite [--test-size 8000]
"""
import argparse
import math

import numpy as np

from _common import parse, save
from theorysim.plotting import pyplot
from theorysim.setups.dsd import study
from theorysim.setups.dsd.claims import lahoti2024 as claims


def main(seeds):
    for name, base in (("lahoti2024_sample_complexity", claims.BOUNDS_QUICK), ("lahoti2024_trends", claims.TRENDS_QUICK)):
        cfg = {**base, "seeds": list(range(seeds))}
        res = claims._simulate(cfg)
        for arch in ("cnn", "lcn"):
            ms = {kd: np.mean([s.m_star for s in seeds_]) for kd, seeds_ in res[arch].items()}
            print(f"{name} {arch.upper()}: " + ", ".join(f"(k={k}, d={d}) {m:.1f}" for (k, d), m in ms.items()))
        fig = (claims._plot_bounds if base is claims.BOUNDS_QUICK else claims._plot_trends)(cfg, res, None)
        save(fig, name)


def two_step_from_rows(rows):
    """The sweep's two-step curves as the claims' result shape, {arch: {(k, d): [per-seed objects]}}, and a cfg."""
    class Seed:
        def __init__(self, m_star):
            self.m_star = m_star
    res = {"cnn": {}, "lcn": {}}
    for r in rows:
        res[r["arch"]][(int(r["k"]), int(r["d"]))] = [Seed(v) for v in r["m_star_per_seed"].values()]
    return res


#: the paper's rates per architecture (abstract): CNN O~(k + d); LCN Omega(k d), O~(k (k + d)); FCN Omega(k^2 d)
GD_LAWS = {"cnn": [("k + d", lambda k, d: k + d)],
           "lcn": [("k d", lambda k, d: k * d), ("k (k + d)", lambda k, d: k * (k + d))],
           "fcn": [("k^2 d", lambda k, d: k * k * d)]}


def from_store(path, test_size, delta=0.05):
    """Every curve of a dsd sweep store: the two-step learner's and GD's, each drawn against k and d."""
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
    two = [p for p in points if study.value(p["config"], "learner") == "two_step"]
    gd = [p for p in points if study.value(p["config"], "learner") != "two_step"]
    if two:
        rows = study.two_step_m_stars(two, claims.BOUNDS_QUICK["delta"])
        print(f"{'arch':5} {'k':>3} {'d':>3} {'m*':>8} draws (two-step learner)")
        for r in rows:
            print(f"{r['arch']:5} {int(r['k']):3d} {int(r['d']):3d} {r['m_star']:8.1f} {len(r['m_star_per_seed'])}")
        res = two_step_from_rows(rows)
        kd = sorted(res["lcn"] or res["cnn"])
        ks, ds = sorted({k for k, _ in kd}), sorted({d for _, d in kd})
        d_fixed = max(ds, key=lambda d: sum(1 for _, dd in kd if dd == d))
        k_fixed = max(ks, key=lambda k: sum(1 for kk, _ in kd if kk == k))
        sigma = {int(r["k"]): float(r["sigma"]) for r in rows}
        c = {round(s * math.sqrt(k), 9) for k, s in sigma.items()}
        cfg = {**claims.BOUNDS_QUICK, "c": c.pop() if len(c) == 1 else None,
               "sigma": None if len(c) == 0 else next(iter(sigma.values())),
               "k_sweep": {"d": d_fixed, "k": [k for k in ks if (k, d_fixed) in kd]},
               "d_sweep": {"k": k_fixed, "d": [d for d in ds if (k_fixed, d) in kd]}}
        if all(res[a] for a in ("cnn", "lcn")) and all(math.isfinite(s.m_star) for a in res for v in res[a].values()
                                                      for s in v):
            save(claims._plot_bounds(cfg, res, None), "lahoti2024_sample_complexity_sweep")
        else:
            print("not drawn: a curve is missing an architecture or some draw never reached delta on the grid")
    if gd:
        gd_figure(gd, test_size, delta)


def gd_figure(points, test_size, delta):
    """m* of every (architecture, k, d) GD curve, drawn against k and against d."""
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
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--store", help="a dsd sweep store (experiments/dsd_scaling.toml or dsd_gd.toml)")
    ap.add_argument("--test-size", type=int, default=8000, help="fresh test points per (k, d) for GD points")
    a = parse(ap)
    if a.seeds < 2:
        raise SystemExit(f"--seeds={a.seeds}: expected at least 2")
    if a.store:
        from_store(a.store, a.test_size)
        raise SystemExit(0)
    main(a.seeds)
