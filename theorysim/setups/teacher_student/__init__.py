"""Teacher-student dynamics: the linear high-dimensional learning curves of Advani and Saxe (2017)
(closed forms over the Marchenko-Pastur law, exact gradient flow, GD through the engine with
per-member teachers and data), and grokking as the lazy-to-rich transition of Kumar et al. (2023)
(a two-layer network with frozen readouts, its exact test loss from sufficient statistics, and its
linearisation's exact test loss for the kernel-regression comparison)."""
from theorysim.setups import Setup

SETUP = Setup(name="teacher_student", doc=__doc__)
