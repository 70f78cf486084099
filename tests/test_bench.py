import pytest

from theorysim import cli
from theorysim.bench import run_workload, workloads


def test_bad_workload_and_backend_are_rejected():
    with pytest.raises(ValueError, match="workload='W9'"):
        run_workload("W9")
    with pytest.raises(ValueError, match="backend='tpu'"):
        run_workload("W2", backend="tpu")
    with pytest.raises(ValueError, match="repeats=0"):
        run_workload("W2", repeats=0)
    assert cli.main(["bench", "W9"]) == cli.EXIT_USAGE


def test_lsa_flop_count():
    # d = N = 1: D = T = 2: per layer D^2 N + 2 D^3 + D^2 T = 4 + 16 + 8 multiply-adds, x2 FLOPs, x3 fwd+bwd
    assert workloads.lsa_step_flops(1, 1) == 3 * 2 * 28
    assert workloads.lsa_step_flops(10, 10, layers=3) == 3 * workloads.lsa_step_flops(10, 10)


@pytest.mark.slow
def test_w2_reaches_the_one_step_gd_optimum():
    rec = run_workload("W2", repeats=1)
    assert rec["result"]["final_loss"] == pytest.approx(2.619, rel=0.03)
    assert rec["gflops"] > 0 and rec["seconds"] > 0
