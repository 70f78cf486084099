"""The DSD task of Lahoti, Karp, Winston, Singh, Li (2024): sample complexity of CNNs, LCNs and
FCNs with the LSA activation on k patches of dimension d, by closed-form projected steps and by GD
through the engine with one member per (training-set size, seed)."""
from theorysim.setups import Setup

SETUP = Setup(name="dsd", doc=__doc__)
