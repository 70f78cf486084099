"""theorysim: check ML-theory papers by simulation.

Exactly specified small synthetic setups, trained by a fused Numba ensemble engine on many
seeds and hyperparameters at once; each paper's predictions are checked as claims
(predicted vs measured, with a confidence interval and a verdict).

    >>> import numpy as np, theorysim as ts
    >>> model = ts.models.Quadratic(np.diag([1.0, 10.0]))
    >>> result = ts.Experiment(model, "sgd", lr=[0.05, 0.1], steps=100, seeds=0).run()
"""
from theorysim.core import config
from theorysim.engine.experiment import Experiment, grid
from theorysim.core.layout import Layout
from theorysim.engine.result import Result
from theorysim import fit, models, optim, sweep

from theorysim.core.version import __version__

__all__ = ["Experiment", "Layout", "Result", "config", "fit", "grid", "models", "optim", "sweep", "__version__"]
