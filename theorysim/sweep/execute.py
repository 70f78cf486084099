"""Run one group of points (same model, different seeds and hyperparameters) as one ensemble.

This is what every executor ships to a worker: plain data in, plain data out, so it pickles
for process pools and Dask alike.
"""
from __future__ import annotations

import time
import traceback

import numpy as np

from theorysim.sweep import builders


def run_group(configs: list[dict], backend: str = "cpu", threads: int | None = None) -> list[dict]:
    """Results for each config, in order: ``{"status", "seconds", "metrics", "arrays", "error"}``.
    ``backend``: the engine for models with GPU kernels (the others run on the CPU). ``threads``:
    the engine's threads in the calling thread (Numba's count is per thread, so a Dask worker
    thread sets its own; None leaves it as it is)."""
    from theorysim.core import config

    config.set_backend(backend)
    if threads is not None:
        import numba

        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    t0 = time.perf_counter()
    try:
        results = _ensemble(configs)
    except Exception:
        if len(configs) == 1:
            return [{"status": "failed", "seconds": time.perf_counter() - t0, "metrics": None, "arrays": None,
                     "error": traceback.format_exc()}]
        return [r for cfg in configs for r in run_group([cfg], backend)]  # isolate the point that fails
    seconds = (time.perf_counter() - t0) / len(configs)
    for r in results:
        r["seconds"] = seconds
    return results


def _ensemble(configs: list[dict]) -> list[dict]:
    from theorysim.engine.experiment import Experiment

    engine, setup, _, _ = builders.split(configs[0])
    decl = builders.builder(configs[0])
    if decl.build_members is not None:  # per-member data from each member's seed (one ensemble still)
        model = decl.build_members(setup, [cfg["seed"] for cfg in configs])
        if getattr(model, "data_members", 0) != len(configs):
            raise ValueError(f"setup {decl.name!r}: build_members gave a model with data_members="
                             f"{getattr(model, 'data_members', 0)}; expected one data set per member ({len(configs)})")
    else:
        model = decl.build(setup)
    parts = [builders.split(cfg) for cfg in configs]
    model_hyper = _per_member([p[2] for p in parts])
    opt_hyper = _per_member([p[3] for p in parts])
    exp = Experiment(model, engine["optimizer"], steps=engine["steps"], record_every=engine["record_every"],
                     schedule=engine["schedule"], divergence_factor=engine["divergence_factor"],
                     seeds=[cfg["seed"] for cfg in configs], progress=False, model_hyper=model_hyper, **opt_hyper)
    res = exp.run()
    out = []
    for m in range(len(configs)):
        metrics = {name: _num(res.records[m, -1, j]) for j, name in enumerate(res.metric_names)}
        metrics["diverged_step"] = int(res.diverged_step[m])
        arrays = {"steps": res.steps, "records": res.records[m], "theta": res.theta[m]}
        out.append({"status": "diverged" if res.diverged[m] else "done", "metrics": metrics, "arrays": arrays,
                    "error": None})
    return out


def _per_member(rows: list[dict]) -> dict[str, list]:
    """{key: one value per point} from each point's {key: value} (every point must set the same keys)."""
    out = {}
    for k in sorted({k for row in rows for k in row}):
        values = [row.get(k) for row in rows]
        if any(v is None for v in values):
            raise ValueError(f"hyperparameter {k!r} is set for some points of a group and not others")
        out[k] = [tuple(v) if isinstance(v, list) else v for v in values]
    return out


def _num(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None
