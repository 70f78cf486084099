"""Benchmark driver: one warm-up run (compilation included), then the median of ``repeats`` runs.

Each workload is a function ``(backend) -> (result dict, flops)`` whose ``flops`` counts the
useful floating-point work of the algorithm (multiply and add counted separately), so GFLOP/s
compares fairly across implementations that do the same algorithm.
"""
from __future__ import annotations

import resource
import statistics
import sys
import time

from theorysim import setups


def workloads() -> dict:
    """Workload name -> declaration, from every setup (:func:`theorysim.setups.workloads`)."""
    return setups.workloads()


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 2**20


def validate(name: str, backend: str = "cpu", repeats: int = 3):
    """The workload ``name`` after checking the arguments (one-line ValueError naming the bad one)."""
    known = workloads()
    if name not in known:
        raise ValueError(f"workload={name!r}: expected one of {', '.join(sorted(known))}")
    if backend not in ("cpu", "cuda"):
        raise ValueError(f"backend={backend!r}: expected 'cpu' or 'cuda'")
    if backend not in known[name].backends:
        raise ValueError(f"backend={backend!r}: workload {name} runs on {', '.join(map(repr, known[name].backends))} "
                         "only (it does not train through the engine)")
    if not (isinstance(repeats, int) and repeats >= 1):
        raise ValueError(f"repeats={repeats!r}: expected a positive integer")
    return known[name]


def run_workload(name: str, backend: str = "cpu", repeats: int = 3) -> dict:
    """Time workload ``name`` (``theorysim list --workloads``) and return the bench JSON record."""
    fn = validate(name, backend, repeats).run
    t0 = time.perf_counter()
    fn(backend)
    first = time.perf_counter() - t0
    times, result, flops = [], None, 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        result, flops = fn(backend)
        times.append(time.perf_counter() - t0)
    seconds = statistics.median(times)
    return {"workload": name, "backend": backend, "seconds": seconds,
            "compile_seconds": max(0.0, first - seconds), "result": result,
            "gflops": flops / seconds / 1e9, "peak_rss_mb": _peak_rss_mb(), "runs": times}
