"""Large-step logistic regression becomes the perceptron (Tyurin 2024, arXiv 2412.08424)."""
from theorysim.setups import Setup

SETUP = Setup(name="large_step_lr", doc=__doc__)
