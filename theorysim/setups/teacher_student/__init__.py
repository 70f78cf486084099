"""Teacher-student dynamics: the linear high-dimensional learning curves of Advani and Saxe (2017)
(closed forms over the Marchenko-Pastur law, exact gradient flow, GD through the engine with
per-member teachers and data). Kumar et al. (2023), grokking as lazy-to-rich, is not built yet."""
from theorysim.setups import Setup

SETUP = Setup(name="teacher_student", doc=__doc__)
