"""Record analytic NNGP / NTK values from neural-tangents itself (the independent implementation).

    python -m venv /tmp/ntvenv && /tmp/ntvenv/bin/pip install "jax[cpu]==0.4.30" neural-tangents
    /tmp/ntvenv/bin/python tools/record_ntk_goldens.py      # writes tests/golden/ntk_neural_tangents.json

Networks: ``depth`` x (Dense(512, W_std, b_std, parameterization), Relu() or Erf()), then
Dense(1, W_std, b_std, parameterization), float64 (jax_enable_x64), on fixed random inputs (the
inputs are stored too). tests/test_ntk.py compares theorysim.setups.ntk.theory.nngp_ntk against
this file on every run, with no JAX installed.
"""
from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "tests" / "golden" / "ntk_neural_tangents.json"
WIDTH = 512
STDS = ((1.0, 0.1), (1.4, 0.3))


def main() -> None:
    from jax import config

    config.update("jax_enable_x64", True)
    from neural_tangents import stax

    gen = np.random.default_rng(2018)
    X1 = gen.normal(size=(5, 4)) * gen.uniform(0.5, 2.0, size=(5, 1))
    X2 = gen.normal(size=(3, 4))
    cases = []
    for activation in ("relu", "erf"):
        for parameterization in ("ntk", "standard"):
            for W_std, b_std in STDS:
                for depth in range(1, 9):
                    layers = []
                    for _ in range(depth):
                        layers += [stax.Dense(WIDTH, W_std, b_std, parameterization=parameterization),
                                   stax.Relu() if activation == "relu" else stax.Erf()]
                    layers.append(stax.Dense(1, W_std, b_std, parameterization=parameterization))
                    kernel_fn = stax.serial(*layers)[2]
                    k = kernel_fn(X1, X2, ("nngp", "ntk"))
                    cases.append({"activation": activation, "parameterization": parameterization, "W_std": W_std,
                                  "b_std": b_std, "depth": depth, "width": WIDTH,
                                  "nngp": np.asarray(k.nngp).tolist(), "ntk": np.asarray(k.ntk).tolist()})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"library": "neural-tangents", "version": importlib.metadata.version("neural-tangents"),
                               "jax": importlib.metadata.version("jax"), "X1": X1.tolist(), "X2": X2.tolist(),
                               "cases": cases}, indent=None))
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
