import numpy as np
import pytest

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
    assert rec["result"]["final_loss"] == pytest.approx(2.619, rel=0.03)
    assert rec["gflops"] > 0 and rec["seconds"] > 0


def test_w1_flop_count_and_problem():
    assert sensing_bench.w1_step_flops(50, 10) == 4 * 2500 * 10 + 2500
    M = sensing_bench.w1_problem()
    assert M.shape == (50, 50) and np.linalg.norm(M, 2) == pytest.approx(1.0)
    assert np.linalg.matrix_rank(M) == 3
    X0 = sensing_bench.w1_initial()
    assert X0.shape == (64, 500) and np.std(X0) == pytest.approx(1e-3, rel=0.05)


@pytest.mark.parametrize("library", ["torch", "jax"])
def test_benchmark_implementations_match_the_engine(library):
    """benchmarks/<library>_impl.py runs the same GD from the same X_0: same median error."""
    pytest.importorskip(library)
    import importlib
    import sys
    from pathlib import Path

    import theorysim as ts

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    impl = importlib.import_module(f"{library}_impl")
    M, X0 = sensing_bench.w1_problem(), sensing_bench.w1_initial()[:8]
    res = ts.Experiment(sensing_bench.w1_model(), "sgd", lr=0.05, steps=200, seeds=range(8), record_every=200,
                        alpha=1e-3 * np.sqrt(50)).run()
    assert impl.w1(M, X0, 0.05, 200) == pytest.approx(float(np.median(res.final("error"))), rel=1e-9)



def test_w3_flop_count():
    assert xor_bench.w3_step_flops(200, 2000, 200) == 4 * 200 * 2000 * 200


@pytest.mark.parametrize("library", ["torch", "jax"])
def test_w3_benchmark_implementations_match_the_engine(library):
    pytest.importorskip(library)
    import importlib
    import sys
    from pathlib import Path

    import theorysim as ts

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    impl = importlib.import_module(f"{library}_impl")
    md = xor_bench.w3_model()
    W0 = xor_bench.w3_initial(md)
    res = ts.Experiment(md, "sgd", lr=1e-12, steps=3, seeds=range(4), record_every=3, omega_init=1e-15,
                        divergence_factor=0).run()
    train, test = impl.w3(md.X, md.y, md.a, md.X_test, md.y_test, W0, 1e-12, 3)
    assert (train, test) == (float(res.final("train_acc").mean()), float(res.final("test_acc").mean()))
