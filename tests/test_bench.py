import json
from pathlib import Path

import numpy as np
import pytest

import theorysim as ts
from theorysim import cli
from theorysim.bench import run_workload
from theorysim.setups.icl import bench as icl_bench
from theorysim.setups.matrix_sensing import bench as sensing_bench
from theorysim.setups.xor_grokking import bench as xor_bench


def test_bad_workload_and_backend_are_rejected():
    with pytest.raises(ValueError, match="workload='W9'"):
        run_workload("W9")
    with pytest.raises(ValueError, match="backend='tpu'"):
        run_workload("W2", backend="tpu")
    with pytest.raises(ValueError, match="repeats=0"):
        run_workload("W2", repeats=0)
    assert cli.main(["bench", "W9"]) == cli.EXIT_USAGE


def test_lsa_flop_count():
    # d = N = 1: D = T = 2; last layer 2 (D^2 N + 5 D^2 + D) = 2 (4 + 20 + 2); a full layer
    # 3 x 2 (D^2 N + 2 D^2 T + D^3) = 6 (4 + 16 + 8)
    assert icl_bench.lsa_step_flops(1, 1) == 52
    assert icl_bench.lsa_step_flops(1, 1, layers=3) == 52 + 2 * 6 * 28


@pytest.mark.slow
def test_w2_reaches_the_one_step_gd_optimum():
    rec = run_workload("W2", repeats=1)
    # against the optimum's loss on the same 4096 evaluation prompts (their sampling noise, sd ~0.07, is shared)
    assert rec["result"]["final_loss"] == pytest.approx(rec["result"]["one_step_gd_on_eval_prompts"], rel=0.03)
    assert rec["result"]["one_step_gd_on_eval_prompts"] == pytest.approx(2.619, abs=4 * 0.07)
    assert rec["gflops"] > 0 and rec["seconds"] > 0


def test_w1_flop_count_and_problem():
    assert sensing_bench.w1_step_flops(50, 10) == 4 * 2500 * 10 + 2500
    M = sensing_bench.w1_problem()
    assert M.shape == (50, 50) and np.linalg.norm(M, 2) == pytest.approx(1.0)
    assert np.linalg.matrix_rank(M) == 3
    X0 = sensing_bench.w1_initial()
    assert X0.shape == (64, 500) and np.std(X0) == pytest.approx(1e-3, rel=0.05)


GOLDEN = Path(__file__).resolve().parent / "golden" / "benchmark_impls.json"


def _golden():
    """What benchmarks/torch_impl.py and jax_impl.py computed on the small W1 and W3 problems
    (tools/record_bench_goldens.py)."""
    return json.loads(GOLDEN.read_text())


def _w1_engine(case):
    M, X0 = sensing_bench.w1_problem(), sensing_bench.w1_initial()[:case["seeds"]]
    res = ts.Experiment(sensing_bench.w1_model(), "sgd", lr=case["lr"], steps=case["steps"], seeds=range(case["seeds"]),
                        record_every=case["steps"], alpha=1e-3 * np.sqrt(50)).run()
    return M, X0, float(np.median(res.final("error")))


def _w3_engine(case):
    md = xor_bench.w3_model()
    res = ts.Experiment(md, "sgd", lr=case["lr"], steps=case["steps"], seeds=range(4), record_every=case["steps"],
                        omega_init=1e-15, divergence_factor=0).run()
    return md, xor_bench.w3_initial(md), [float(res.final("train_acc").mean()), float(res.final("test_acc").mean())]


@pytest.mark.parametrize("library", ["torch", "jax"])
def test_engine_matches_the_benchmark_implementations_goldens(library):
    """The engine runs the algorithm the PyTorch and JAX benchmarks run: same median W1 error (1e-9)
    and the same W3 accuracies as those implementations recorded (no torch or JAX needed here)."""
    g = _golden()
    assert _w1_engine(g["w1_case"])[2] == pytest.approx(g[library]["w1_median_error"], rel=1e-9)
    assert _w3_engine(g["w3_case"])[2] == g[library]["w3_train_test"]


@pytest.mark.libs
@pytest.mark.parametrize("library", ["torch", "jax"])
def test_benchmark_implementations_still_give_their_goldens(library):
    """Where the library is installed (pip install -e '.[bench]'): benchmarks/<library>_impl.py still
    computes the recorded values, so the goldens above describe the code that is benchmarked."""
    pytest.importorskip(library)
    import importlib
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    impl = importlib.import_module(f"{library}_impl")
    g = _golden()
    M, X0 = sensing_bench.w1_problem(), sensing_bench.w1_initial()[:g["w1_case"]["seeds"]]
    assert impl.w1(M, X0, g["w1_case"]["lr"], g["w1_case"]["steps"]) == pytest.approx(g[library]["w1_median_error"],
                                                                                       rel=1e-12)
    md = xor_bench.w3_model()
    got = impl.w3(md.X, md.y, md.a, md.X_test, md.y_test, xor_bench.w3_initial(md), g["w3_case"]["lr"],
                  g["w3_case"]["steps"])
    assert [float(v) for v in got] == g[library]["w3_train_test"]


def test_w3_flop_count():
    assert xor_bench.w3_step_flops(200, 2000, 200) == 4 * 200 * 2000 * 200


def _benchmarks_module(name):
    import importlib
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    return importlib.import_module(name)


def test_scaling_tables_and_figure_from_a_log(tmp_path):
    """benchmarks/scaling.py rebuilds its table and figure from logged rows: seconds exactly linear in
    E read as slope 1, a 2x faster peer as 2.00x, and the block replaces itself between its markers."""
    import json

    scaling = _benchmarks_module("scaling")
    plan = scaling.QUICK
    rows = []
    for w, p in plan.items():
        for E in p["E"]:
            for impl, unit in (("theorysim", 0.01), ("jax", 0.02)):
                rows.append({"impl": impl, "workload": w, "E": E, "size": p["size"], "steps": p["steps"],
                             "seconds": unit * E, "peak_rss_mb": 100.0, "axis": "E"})
        for size in p["sizes"]:
            for impl in scaling.IMPLS:
                rows.append({"impl": impl, "workload": w, "E": p["fixed_E"], "size": size, "steps": p["steps"],
                             "seconds": 1e-4 * size ** 2, "peak_rss_mb": 50.0, "axis": p["size_name"]})
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "RESULTS.md").write_text("# Benchmark results\n\nolder text\n")
    for _ in range(2):  # twice: the second run replaces the block instead of appending another
        assert scaling.main(["--quick", "--from-log", str(log), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "RESULTS.md").read_text()
    assert text.count(scaling.BEGIN) == 1 and "older text" in text
    assert "theorysim: log-log slope 1.00 from E = 2 (cores) up" in text
    assert "| 4 | 0.04 | 100 | 0.08 | 100 | 2.00x |" in text
    assert "theorysim: log-log slope 2.00" in text  # against n: seconds ~ n^2
    assert (tmp_path / "scaling.png").stat().st_size > 10_000
    assert scaling.main(["--repeats", "0"]) == 2


def test_side_by_side_table_keeps_the_sections_below_it(tmp_path):
    run = _benchmarks_module("run")
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\nold table\n\n## GPU\n\nkept\n")
    run.write_section(path, "# Benchmark results\n\nnew table\n")
    assert path.read_text() == "# Benchmark results\n\nnew table\n\n## GPU\n\nkept\n"


def test_compile_times_are_recorded_per_function():
    import importlib
    import sys
    from pathlib import Path

    import numba

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    profile = importlib.import_module("compile_profile")

    @numba.njit
    def inner(x):
        return x * 2.0

    @numba.njit
    def outer(x):
        return inner(x) + 1.0

    with profile.CompileTimes() as times:
        assert outer(1.0) == 3.0
    names = {n.rsplit(".", 1)[-1]: n for n in times.exclusive}
    assert {"inner", "outer"} <= set(names)
    o, i = names["outer"], names["inner"]
    assert times.inclusive[o] >= times.inclusive[i] > 0  # inner compiles inside outer's compile
    assert times.exclusive[o] == pytest.approx(times.inclusive[o] - times.inclusive[i], abs=1e-9)
