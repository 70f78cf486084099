"""Matrix sensing: how over-parameterization slows GD (Xiong, Ding, Du 2023)."""
from theorysim.core.bounds import COUNT, COUNT0, SEED
from theorysim.setups import Setup, SweepSetup, Workload
from theorysim.setups.matrix_sensing import bench, problem
from theorysim.setups.matrix_sensing.model import FactorizedSensing


def _build(cfg):
    return problem.model({"n": int(cfg["n"]), "r": int(cfg["r"]), "m": int(cfg["m"]),
                          "problem_seed": int(cfg["problem_seed"])},
                         int(cfg["k"]), cfg["factorization"], truth=cfg["truth"] or None, sensing=cfg["sensing"] or None)


def _check(keys, spec, resolved):
    n, r, k = int(keys["n"]), int(keys["r"]), int(keys["k"])
    if r > n:
        raise ValueError(f"experiment.r={keys['r']!r}: expected a rank in [1, n={n}]")
    if k < r:
        raise ValueError(f"experiment.k={keys['k']!r}: below the truth's rank r={r}; the model cannot reach it "
                         f"(need k >= {r})")


def _size(keys):
    """m sensing matrices of n x n (m = 0: the population loss, no matrices), the truth's n x r
    factors; a step contracts every measurement with the n x n product."""
    n, r, k, m = int(keys["n"]), int(keys["r"]), int(keys["k"]), int(keys["m"])
    params = (1 if keys["factorization"] == "XXT" else 2) * n * k
    return params, 8 * (m * n * n + 2 * n * n + 2 * n * r), float(max(m, 1)) * n * (n + k)


SETUP = Setup(
    name="matrix_sensing", doc=__doc__,
    sweeps=(SweepSetup("matrix_sensing", {"n": 10, "r": 2, "k": 4, "m": 300, "factorization": "XXT", "truth": "",
                                          "sensing": "", "problem_seed": 0}, _build, FactorizedSensing,
                       choices={"factorization": ("XXT", "FGT"), "truth": ("", "symmetric", "asymmetric"),
                                "sensing": ("", "symmetric", "gaussian")},
                       check=_check, size=_size,
                       bounds={"n": COUNT, "r": COUNT, "k": COUNT, "m": COUNT0, "problem_seed": SEED},
                       doc="X X^T or F G^T factorization of a rank-r truth, m Gaussian measurements (0: population)"),),
    workloads=(Workload("W1", bench.w1_matrix_sensing, "matrix sensing, low-rank form: n = 50, r = 3, k = 10, GD, "
                                                       "5000 steps, 64 seeds"),
               Workload("W1-dense", bench.w1_dense, "W1 with the dense residual (the JAX / PyTorch algorithm)"),
               Workload("W1-4096", bench.w1_ensemble, "W1 on E = 4096 members (lr x init scale x 256 seeds): "
                                                      "the GPU-sized ensemble")),
)
