"""Stability of SGD minima: the sharpness and trace bounds of Wu and Su (2023) on a diagonal linear
network, with the linearised second-moment map as the stability oracle; the largest stable learning
rate against the batch size for SGD and Adam (Granziol, Zohren, Roberts 2020) on random-features
least squares."""
from theorysim.setups import Setup

SETUP = Setup(name="stability", doc=__doc__)
