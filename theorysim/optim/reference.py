"""Plain-numpy reference of every rule, written from the equations, independently of rules.py.

The test suite checks :mod:`theorysim.optim.rules` (and so the engine) against these functions.
Each takes whole arrays and returns new ones (no in-place updates), per named parameter block.
"""
from __future__ import annotations

import numpy as np


def sgd(params, grads, state, t, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    """torch.optim.SGD: g = grad + wd p; b_1 = g, b_t = mu b + (1 - tau) g; d = g + mu b (Nesterov) or b."""
    new_params, new_state = {}, {}
    for name, p in params.items():
        g = grads[name] + weight_decay * p if weight_decay != 0.0 else grads[name]
        if momentum != 0.0:
            b = g if t == 1 else momentum * state[name] + (1.0 - dampening) * g
            new_state[name] = b
            g = g + momentum * b if nesterov else b
        new_params[name] = p - lr * g
    return new_params, new_state


RULES = {"sgd": sgd}
