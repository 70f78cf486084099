"""The neural tangent kernel of fully connected networks (Jacot, Gabriel, Hongler 2018): analytic
NNGP / NTK (closed form and quadrature), the empirical NTK of a finite :class:`~theorysim.models.mlp.MLP`,
training in function space, and the jacot2018 claims."""
from theorysim.core.bounds import COUNT, NONNEG, POSITIVE
from theorysim.models.mlp import MLP
from theorysim.setups import Setup, SweepSetup, Workload
from theorysim.setups.ntk import bench, task


def _build(keys):
    X = task.circle_inputs(int(keys["train_points"]))
    widths = (2,) + (int(keys["width"]),) * int(keys["depth"]) + (1,)
    return MLP(widths, X, task.target(X), keys["activation"], keys["parameterization"], float(keys["W_std"]),
               float(keys["b_std"]))


def _size(keys):
    w, depth, N = int(keys["width"]), int(keys["depth"]), int(keys["train_points"])
    params = 3 * w + (depth - 1) * (w * w + w) + w + 1
    return params, 8 * (3 * N + 2 * (depth + 1)) + 8 * N * (2 * depth * w + 1), float(params) * N


SETUP = Setup(
    name="ntk", doc=__doc__,
    sweeps=(SweepSetup("mlp_circle", {"width": 256, "depth": 3, "train_points": 8, "activation": "relu",
                                      "parameterization": "ntk", "W_std": 1.0, "b_std": 0.1}, _build, MLP,
                       choices={"activation": ("relu", "erf"), "parameterization": ("ntk", "standard")},
                       bounds={"width": COUNT, "depth": COUNT, "train_points": COUNT, "W_std": POSITIVE,
                               "b_std": NONNEG},
                       size=_size,
                       doc="MLP (depth hidden layers of one width) on points of the unit circle, target x1 x2 "
                           "(Jacot et al. 2018, sec. 6)"),),
    workloads=(Workload("W4", bench.w4_analytic, "analytic NNGP and NTK, 8 ReLU layers, 4096 x 4096 input pairs, "
                                                 "d = 32", backends=("cpu",)),
               Workload("W5", bench.w5_empirical, "empirical NTK of a depth-3, width-4096 ReLU MLP on 256 inputs",
                        backends=("cpu",))),
)
