"""Sample complexity from a sweep store (experiments/dsd_scaling.toml): each stored point is one
(architecture, k, d, training-set size m, data draw) trained by the engine; this module turns the
points' final weights into test errors and the errors into m*.

m* per curve: the mean test error over draws on the sweep's log grid of m, and m* the first grid
size with mean error <= delta, log-linearly interpolated from the size before it (the claims refine
the same grid by bisection instead, :mod:`theorysim.setups.dsd.search`). Plain data in (the
points' configs and final parameters, as ``theorysim.sweep`` stores them), plain data out: this
module does not read the store itself.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from theorysim.setups.dsd import model, search

#: the sweep setup's keys with their defaults (declared in the setup's __init__)
SWEEP_KEYS = {"arch": "lcn", "k": 8, "d": 8, "m": 100, "pool": 4000, "sigma": 0.15, "mode": "additive", "data_seed": 0,
              "learner": "gd"}
#: what identifies one m*(k, d) curve point: every setup key but m and the draw, and the training run
CURVE_KEYS = ("arch", "k", "d", "sigma", "mode", "pool", "optimizer", "lr", "steps", "b", "init_scale", "learner")


def value(cfg: dict, key: str):
    """A point's value of ``key`` as the sweep resolves it: set bare or with its model. / optim. prefix, else
    the setup's or the model's default (None for an optimizer key left at the optimizer's default)."""
    for name in (key, "model." + key, "optim." + key):
        if name in cfg:
            return cfg[name]
    if key in SWEEP_KEYS:
        return SWEEP_KEYS[key]
    if key in model.PatchNet.hyper_spec:
        return model.PatchNet.hyper_spec[key][0]
    return "sgd" if key == "optimizer" else None


def interpolated_m_star(sizes, errors, delta: float) -> float:
    """First size with error <= delta, log-linearly interpolated between it and the size before (inf if none)."""
    sizes, errors = np.asarray(sizes, dtype=np.float64), np.asarray(errors, dtype=np.float64)
    ok = np.flatnonzero(errors <= delta)
    if not len(ok):
        return math.inf
    i = int(ok[0])
    if i == 0:
        return float(sizes[0])
    e0, e1 = errors[i - 1], errors[i]
    frac = (e0 - delta) / (e0 - e1)
    return float(np.exp(np.log(sizes[i - 1]) + frac * (np.log(sizes[i]) - np.log(sizes[i - 1]))))


def curves(points, test_size: int = 4000) -> dict:
    """{curve key tuple: {m: [test error per draw]}} from stored points, each ``{"config": {...},
    "theta": final parameters}``; the test set is the claims' (search.test_set: stream 1, seed 0)."""
    out: dict = defaultdict(lambda: defaultdict(list))
    tests: dict = {}
    for p in points:
        cfg, theta = p["config"], p["theta"]
        arch, k, d, sigma, mode = (value(cfg, key) for key in ("arch", "k", "d", "sigma", "mode"))
        tkey = (int(k), int(d), float(sigma), mode)
        if tkey not in tests:
            tests[tkey] = search.test_set({"k": tkey[0], "d": tkey[1], "sigma": tkey[2], "mode": mode,
                                           "test_size": test_size})
        Xt, yt = tests[tkey]
        err = float(model.test_error(arch, theta, Xt, yt, tkey[0], tkey[1], float(value(cfg, "b")))[0])
        out[tuple(value(cfg, key) for key in CURVE_KEYS)][int(value(cfg, "m"))].append(err)
    return {key: dict(sorted(v.items())) for key, v in out.items()}


def m_star_table(points, delta: float = 0.05, test_size: int = 4000) -> list[dict]:
    """One row per curve: its keys, m*, and the mean test error at each m (over the draws)."""
    rows = []
    for key, by_m in sorted(curves(points, test_size).items(), key=lambda kv: tuple(map(str, kv[0]))):
        sizes = list(by_m)
        mean = [float(np.mean(by_m[m])) for m in sizes]
        rows.append({**dict(zip(CURVE_KEYS, key)), "m_star": interpolated_m_star(sizes, mean, delta),
                     "draws": min(len(v) for v in by_m.values()), "errors": dict(zip(sizes, np.round(mean, 5).tolist()))})
    return rows


def two_step_m_stars(points, delta: float = 1e-3) -> list[dict]:
    """The two-step learner's points (``learner = "two_step"``): each point's stored parameters are step 2
    before its projection (two_step.start_model), so the filters are projected onto the unit ball here and
    scored by the exact excess squared risk (theory.excess_risk, threshold b2 = 1e-4). One row per curve:
    its keys, m* per data draw (the first stored m with excess <= delta; inf if none) and their mean. The
    claims refine the same log grid by bisection (search.two_step_searches)."""
    from theorysim.setups.dsd import theory, two_step

    by_curve: dict = defaultdict(lambda: defaultdict(dict))
    for p in points:
        cfg = p["config"]
        if value(cfg, "learner") != "two_step":
            continue
        arch, k, d, sigma, mode = (value(cfg, key) for key in ("arch", "k", "d", "sigma", "mode"))
        W2 = two_step.project(arch, np.asarray(p["theta"]).reshape(-1), int(k), int(d), "ball")
        excess = theory.excess_risk(arch, W2, int(k), int(d), float(sigma), two_step.PAPER.b2, mode)
        key = tuple(value(cfg, name) for name in CURVE_KEYS)
        by_curve[key][int(value(cfg, "data_seed"))][int(value(cfg, "m"))] = excess
    rows = []
    for key, seeds in sorted(by_curve.items(), key=lambda kv: tuple(map(str, kv[0]))):
        per_seed = {}
        for s, by_m in sorted(seeds.items()):
            ok = [m for m in sorted(by_m) if by_m[m] <= delta]
            per_seed[s] = float(ok[0]) if ok else math.inf
        rows.append({**dict(zip(CURVE_KEYS, key)), "m_star_per_seed": per_seed,
                     "m_star": float(np.mean(list(per_seed.values())))})
    return rows
