"""The neural tangent kernel of fully connected networks (Jacot, Gabriel, Hongler 2018)."""
from theorysim.setups import Setup

SETUP = Setup(name="ntk", doc=__doc__)
