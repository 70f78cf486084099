"""Record what the PyTorch and JAX benchmark implementations (benchmarks/torch_impl.py, jax_impl.py)
compute on the small W1 and W3 problems that tests/test_bench.py also runs through the engine.

    /work/goldvenv/bin/python tools/record_bench_goldens.py     # an environment with torch and jax[cpu]

writes tests/golden/benchmark_impls.json. The tests compare the engine against these values on every
run (no torch or JAX needed), and, where a library is installed, the library against them too.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "golden" / "benchmark_impls.json"
#: the small problems: W1 on its first 8 initial points, GD lr 0.05, 200 steps; W3 at lr 1e-12, 3 steps
W1_CASE = {"seeds": 8, "lr": 0.05, "steps": 200}
W3_CASE = {"lr": 1e-12, "steps": 3}


def main() -> None:
    from theorysim.setups.matrix_sensing import bench as sensing_bench
    from theorysim.setups.xor_grokking import bench as xor_bench

    sys.path.insert(0, str(ROOT / "benchmarks"))
    M, X0 = sensing_bench.w1_problem(), sensing_bench.w1_initial()[:W1_CASE["seeds"]]
    md = xor_bench.w3_model()
    W0 = xor_bench.w3_initial(md)
    out = {"w1_case": W1_CASE, "w3_case": W3_CASE}
    for library in ("torch", "jax"):
        impl = importlib.import_module(f"{library}_impl")
        w1 = float(impl.w1(M, X0, W1_CASE["lr"], W1_CASE["steps"]))
        w3 = [float(v) for v in impl.w3(md.X, md.y, md.a, md.X_test, md.y_test, W0, W3_CASE["lr"], W3_CASE["steps"])]
        out[library] = {"version": importlib.metadata.version(library), "w1_median_error": w1, "w3_train_test": w3}
        print(library, out[library])
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", OUT, np.__version__)


if __name__ == "__main__":
    main()
