"""The optimizer family: exact update rules, shared by the ensemble engine and a per-parameter-set API.

    opt = theorysim.optim.make("sgd", lr=0.1, momentum=0.9)
    state = opt.init(params)                   # params: dict[str, np.ndarray]
    params, state = opt.step(params, grads, state)
    theorysim.optim.names()
"""
from theorysim.optim.registry import Optimizer, OptimizerSpec, get, make, names, specs
from theorysim.optim import schedules

__all__ = ["Optimizer", "OptimizerSpec", "get", "make", "names", "schedules", "specs"]
