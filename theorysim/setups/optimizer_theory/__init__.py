"""Optimizer theory: Lion's box constraint, AdamP's norm growth, Muon's polar factor,
annealed gradient noise."""
from theorysim.core.bounds import COUNT, SEED
from theorysim.models.scale_invariant import ScaleInvariant
from theorysim.setups import Setup, SweepSetup


def _build(cfg):
    return ScaleInvariant(int(cfg["rows"]), int(cfg["cols"]), int(cfg["problem_seed"]))


SETUP = Setup(
    name="optimizer_theory", doc=__doc__,
    sweeps=(SweepSetup("scale_invariant", {"rows": 8, "cols": 6, "problem_seed": 0}, _build, ScaleInvariant,
                       doc="a scale-invariant loss of one weight matrix (AdamP's norm-growth setting)",
                       bounds={"rows": COUNT, "cols": COUNT, "problem_seed": SEED},
                       size=lambda k: (int(k["rows"]) * int(k["cols"]), 16 * int(k["rows"]) * int(k["cols"]),
                                       float(int(k["rows"]) * int(k["cols"])))),),
)
