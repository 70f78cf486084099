"""Matrix sensing: how over-parameterization slows GD (Xiong, Ding, Du 2023)."""
from theorysim.setups import Setup, SweepSetup, Workload
from theorysim.setups.matrix_sensing import bench, problem
from theorysim.setups.matrix_sensing.model import FactorizedSensing


def _build(cfg):
    return problem.model({"n": int(cfg["n"]), "r": int(cfg["r"]), "m": int(cfg["m"]),
                          "problem_seed": int(cfg["problem_seed"])},
                         int(cfg["k"]), cfg["factorization"], truth=cfg["truth"] or None, sensing=cfg["sensing"] or None)


SETUP = Setup(
    name="matrix_sensing", doc=__doc__,
    sweeps=(SweepSetup("matrix_sensing", {"n": 10, "r": 2, "k": 4, "m": 300, "factorization": "XXT", "truth": "",
                                          "sensing": "", "problem_seed": 0}, _build, FactorizedSensing,
                       choices={"factorization": ("XXT", "FGT"), "truth": ("", "symmetric", "asymmetric"),
                                "sensing": ("", "symmetric", "gaussian")},
                       doc="X X^T or F G^T factorization of a rank-r truth, m Gaussian measurements (0: population)"),),
    workloads=(Workload("W1", bench.w1_matrix_sensing, "matrix sensing, low-rank form: n = 50, r = 3, k = 10, GD, "
                                                       "5000 steps, 64 seeds"),
               Workload("W1-dense", bench.w1_dense, "W1 with the dense residual (the JAX / PyTorch algorithm)")),
)
