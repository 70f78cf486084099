"""The neural tangent kernel of fully connected networks (Jacot, Gabriel, Hongler 2018): analytic
NNGP / NTK (closed form and quadrature), the empirical NTK of a finite :class:`~theorysim.models.mlp.MLP`,
training in function space, and the jacot2018 claims."""
from theorysim.setups import Setup, Workload
from theorysim.setups.ntk import bench

SETUP = Setup(
    name="ntk", doc=__doc__,
    workloads=(Workload("W4", bench.w4_analytic, "analytic NNGP and NTK, 8 ReLU layers, 4096 x 4096 input pairs, "
                                                 "d = 32"),
               Workload("W5", bench.w5_empirical, "empirical NTK of a depth-3, width-4096 ReLU MLP on 256 inputs")),
)
