"""W4 and W5 with neural-tangents (the field's reference, JAX-only) on the same inputs, float64, CPU.

neural-tangents 0.6.5 needs an old JAX (it imports names removed in JAX 0.5), so it runs in its own
environment:

    python -m venv /tmp/ntvenv && /tmp/ntvenv/bin/pip install "jax[cpu]==0.4.30" neural-tangents
    /tmp/ntvenv/bin/python benchmarks/ntk_neural_tangents.py W4 W5

Each workload: one warm-up call (jit compilation), then the median of ``--repeats`` (3), with the result summary
(to compare with ``theorysim bench W4`` / ``W5``) and the peak RSS of the process.
"""
from __future__ import annotations

import json
import resource
import statistics
import sys
import time

import numpy as np

W4 = {"points": 4096, "dim": 32, "depth": 8, "W_std": 1.0, "b_std": 0.1, "input_seed": 0}
W5 = {"points": 256, "dim": 32, "depth": 3, "width": 4096, "W_std": 1.0, "b_std": 0.1, "input_seed": 0}


def inputs(points, dim, seed):
    X = np.random.default_rng(seed).normal(size=(points, dim))
    return X / np.linalg.norm(X, axis=1, keepdims=True) * np.sqrt(dim)


def _summary(K):
    K = np.asarray(K)
    return {"mean": float(K.mean()), "trace": float(np.trace(K)), "min": float(K.min()), "max": float(K.max())}


def w4():
    from neural_tangents import stax

    c = W4
    layers = []
    for _ in range(c["depth"]):
        layers += [stax.Dense(512, c["W_std"], c["b_std"]), stax.Relu()]
    kernel_fn = stax.serial(*layers, stax.Dense(1, c["W_std"], c["b_std"]))[2]
    import jax

    fn = jax.jit(kernel_fn, static_argnames="get")
    X = inputs(c["points"], c["dim"], c["input_seed"])

    def run():
        k = fn(X, None, get=("nngp", "ntk"))
        return {"nngp": _summary(k.nngp), "ntk": _summary(k.ntk)}

    return run


def w5():
    """Jacobian contraction (implementation 1, the default) tiled by neural-tangents' own ``nt.batch``
    in blocks of 16 inputs: unbatched, it would hold the 256 x 3.4e7 Jacobian (69 GB); NTK-vector
    products (2) unbatched asks for 43 GB and fails; structured derivatives (3, documented as the
    fastest for dense networks) fails with jax 0.4.30 (AttributeError: jax.interpreters.ad has no
    source_info_util)."""
    import jax
    import neural_tangents as nt
    from neural_tangents import stax

    c = W5
    layers = []
    for _ in range(c["depth"]):
        layers += [stax.Dense(c["width"], c["W_std"], c["b_std"]), stax.Relu()]
    init_fn, apply_fn, _ = stax.serial(*layers, stax.Dense(1, c["W_std"], c["b_std"]))
    IMPLEMENTATION = nt.NtkImplementation.JACOBIAN_CONTRACTION
    X = inputs(c["points"], c["dim"], c["input_seed"])
    _, params = init_fn(jax.random.PRNGKey(0), X.shape)
    ntk_fn = nt.batch(jax.jit(nt.empirical_ntk_fn(apply_fn, trace_axes=(-1,), implementation=IMPLEMENTATION)),
                      batch_size=16, store_on_device=False)

    def run():
        return {"ntk": _summary(ntk_fn(X, None, params))}

    return run


def main(names, repeats=3):
    from jax import config

    config.update("jax_enable_x64", True)
    import importlib.metadata

    for name in names:
        run = {"W4": w4, "W5": w5}[name]()
        t0 = time.perf_counter()
        run()
        first = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            result = run()
            times.append(time.perf_counter() - t0)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"workload": name, "implementation": "neural-tangents "
                          + importlib.metadata.version("neural-tangents") + ", jax " + importlib.metadata.version("jax"),
                          "seconds": statistics.median(times), "first_run_seconds": first, "peak_rss_mb": rss,
                          "result": result, "runs": times}))


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workloads", nargs="*", default=["W4", "W5"])
    ap.add_argument("--repeats", type=int, default=3, help="timed runs after the warm-up (median)")
    a = ap.parse_args()
    main(a.workloads, a.repeats)
