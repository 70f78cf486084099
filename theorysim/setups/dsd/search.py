"""Sample complexity m*(k, d): the smallest training-set size whose test error, averaged over seeds,
is at most delta (spec B4). A log grid brackets it and bisection refines it; each evaluation is one
row of (m, seed) pairs: the closed-form step evaluates all sizes of a seed in one pass, the engine
trains every pair as one member of one ensemble (per-member training sets, padded to the largest m)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from theorysim.setups.dsd import data, estimators, model


@dataclass
class Search:
    """m* (inf when even the largest size fails) and every evaluated size's mean test error."""

    m_star: float
    errors: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"m_star": self.m_star, "errors": {str(m): round(e, 5) for m, e in sorted(self.errors.items())}}


def sample_complexity(mean_error, lo: int, hi: int, delta: float, points: int = 12, rel_tol: float = 0.05,
                      beyond: int | None = None) -> Search:
    """m* for ``mean_error(sizes) -> errors`` (mean over seeds, assumed to fall with m): the first size
    of a log grid over [lo, hi] with error <= delta, refined by bisection against the size before it
    until the bracket is within ``rel_tol`` (or 1). The grid is evaluated in one call, or with ``beyond``
    size by size, stopping ``beyond`` sizes after the first that passes (the same m*; the sizes after it
    only check that the error stays within delta)."""
    if not (1 <= lo <= hi) or not 0 < delta < 1:
        raise ValueError(f"lo={lo!r}, hi={hi!r}, delta={delta!r}: expected 1 <= lo <= hi and 0 < delta < 1")
    grid = np.unique(np.round(np.geomspace(lo, hi, points)).astype(np.int64))
    if beyond is None:
        errs = np.asarray(mean_error(grid), dtype=np.float64)
    else:
        values, stop = [], len(grid)
        for j, m in enumerate(grid):
            if j >= stop:
                break
            values.append(float(np.asarray(mean_error(np.array([m])))[0]))
            if values[-1] <= delta and stop == len(grid):
                stop = min(len(grid), j + 1 + beyond)
        grid, errs = grid[:len(values)], np.array(values)
    found = Search(math.inf, dict(zip(grid.tolist(), errs.tolist())))
    passing = np.flatnonzero(errs <= delta)
    if not len(passing):
        return found
    i = int(passing[0])
    if i == 0:
        found.m_star = float(grid[0])
        return found
    a, c = int(grid[i - 1]), int(grid[i])
    while c - a > max(1, rel_tol * a):
        mid = (a + c) // 2
        e = float(np.asarray(mean_error(np.array([mid])))[0])
        found.errors[mid] = e
        if e <= delta:
            c = mid
        else:
            a = mid
    found.m_star = float(c)
    return found


def test_set(cfg):
    """The shared fresh test set (stream 1; training draws use stream 0)."""
    return data.sample(cfg["test_size"], cfg["k"], cfg["d"], cfg["sigma"], cfg["mode"], seed=0, stream=1)[:2]


def step_errors(cfg, arch: str, hi: int):
    """mean_error for the closed-form projected step (estimators.projected_step), threshold cfg["b"]."""
    k, d = cfg["k"], cfg["d"]
    draws = [data.sample(hi, k, d, cfg["sigma"], cfg["mode"], seed=s)[:2] for s in cfg["seeds"]]
    Xt, yt = test_set(cfg)

    def mean_error(sizes):
        errs = [model.test_error(arch, estimators.projected_step(arch, X, y, k, d, sizes), Xt, yt, k, d, cfg["b"])
                for X, y in draws]
        return np.mean(errs, axis=0)

    return mean_error


def gd_errors(cfg, arch: str, hi: int):
    """mean_error for GD through the engine from random init: one member per (size, seed), per-member
    training sets (each seed's draw, its first m rows); cfg["optimizer"], cfg["lr"], cfg["steps"],
    cfg["b"], cfg["init_scale"]."""
    from theorysim.engine.experiment import Experiment

    k, d = cfg["k"], cfg["d"]
    draws = [data.sample(hi, k, d, cfg["sigma"], cfg["mode"], seed=s)[:2] for s in cfg["seeds"]]
    Xt, yt = test_set(cfg)

    def mean_error(sizes):
        sizes = [int(m) for m in sizes]
        members = [(m, i) for m in sizes for i in range(len(draws))]
        n_max = max(sizes)
        net = model.PatchNet(arch, k, d, np.stack([draws[i][0][:n_max] for _, i in members]),
                             np.stack([draws[i][1][:n_max] for _, i in members]), n_used=[m for m, _ in members])
        res = Experiment(net, cfg["optimizer"], lr=cfg["lr"], steps=cfg["steps"],
                         seeds=[cfg["seeds"][i] for _, i in members], record_every=cfg["steps"],
                         b=cfg["b"], init_scale=cfg["init_scale"], divergence_factor=0).run()
        err = model.test_error(arch, res.theta, Xt, yt, k, d, cfg["b"]).reshape(len(sizes), len(draws))
        return err.mean(axis=1)

    return mean_error


def sigma_of(cfg, k: int) -> float:
    """The noise level at k: cfg["sigma"] if fixed, else cfg["c"] / sqrt(k) (the bounds' regime
    sigma = O~(1 / sqrt(k)))."""
    return float(cfg["sigma"]) if cfg.get("sigma") is not None else float(cfg["c"]) / math.sqrt(k)


@dataclass
class SeedSearch:
    """One seed's m* for the two-step learner, the excess risk at every evaluated size, the 0-1 test
    error at m* (nan when m* is infinite) and the sizes above m* (the bisection's and the two grid sizes
    after the first that passes) whose excess is still above delta (bisection assumes none)."""

    m_star: float
    excess: dict
    zero_one_at_m_star: float
    non_monotone: int

    def to_json(self) -> dict:
        return {"m_star": self.m_star, "zero_one_at_m_star": self.zero_one_at_m_star,
                "non_monotone": self.non_monotone,
                "excess": {str(m): float(f"{e:.4g}") for m, e in sorted(self.excess.items())}}


def two_step_searches(cfg, arch: str, k: int, d: int) -> list[SeedSearch]:
    """Per seed (cfg["seeds"]): m* of the two-step learner (:mod:`two_step`, cfg["scheme"] or the
    paper's) on that seed's draw of cfg["hi"] samples (prefixes; the init from the same seed), the
    excess squared risk over the floor (:func:`theory.excess_risk`, exact, no test set) <= cfg["delta"]."""
    from theorysim.setups.dsd import theory, two_step

    scheme = cfg.get("scheme") or two_step.PAPER
    sigma, mode, delta = sigma_of(cfg, k), cfg["mode"], cfg["delta"]
    Xt, yt = data.sample(cfg["test_size"], k, d, sigma, mode, seed=0, stream=1)[:2]
    out = []
    for s in cfg["seeds"]:
        X, y, _ = data.sample(cfg["hi"], k, d, sigma, mode, seed=s)
        learned = {}

        def excess(sizes):
            errs = []
            for m in sizes:
                steps = two_step.learn(arch, X[:m], y[:m], k, d, s, scheme)
                learned[int(m)] = steps.W2
                errs.append(theory.excess_risk(arch, steps.W2, k, d, sigma, steps.b2, mode))
            return np.array(errs)

        found = sample_complexity(excess, 1, cfg["hi"], delta, points=cfg.get("grid_points", 16), beyond=2)
        zero_one = math.nan
        if math.isfinite(found.m_star):
            zero_one = float(model.test_error(arch, learned[int(found.m_star)], Xt, yt, k, d, scheme.b2)[0])
        above = [e for m, e in found.errors.items() if m > found.m_star and e > delta]
        out.append(SeedSearch(found.m_star, found.errors, zero_one, len(above)))
    return out
