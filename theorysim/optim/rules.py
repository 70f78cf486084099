"""Update rules, as scalar loops over one member's flat parameter vector.

Every rule has the signature used by the engine's step loop::

    rule(theta[P], grad[P], state[S, P], hyper[H], lr, t, offsets, rows, cols)

``t`` counts updates from 1; ``lr`` is the scheduled learning rate of this step (``hyper[LR]``
times the schedule factor); ``state`` rows are the rule's buffers (zero-initialised); the layout
arrays let matrix-aware rules act per block. :func:`apply_rule` dispatches on an integer rule id,
so one model's training loop compiles once whatever rules and hyperparameters a sweep uses. The
rules mutate ``theta`` and ``state`` in place and allocate nothing.
"""
from __future__ import annotations

from theorysim.config import jit
from theorysim.optim import slots

SGD = 0

N_RULES = 1


@jit
def sgd(theta, grad, state, hyper, lr, t, offsets, rows, cols):
    """SGD with heavy-ball or Nesterov momentum, torch.optim.SGD semantics.

    With mu = momentum, tau = dampening, lambda = weight_decay (coupled L2)::

        g   = grad + lambda theta
        b_1 = g;  b_t = mu b_{t-1} + (1 - tau) g   (t > 1; dampening is not applied at t = 1)
        d   = g + mu b_t  if nesterov  else  b_t    (d = g when mu = 0)
        theta <- theta - lr d

    With tau = 0 this is Polyak's heavy ball, theta_{t+1} = theta_t - lr g_t + mu (theta_t -
    theta_{t-1}) (Polyak 1964, eq. 9), with theta_{-1} = theta_0. References: torch.optim.SGD
    (docs pseudo-code); optax.sgd(lr, momentum) is the same step for step. State row 0: b.
    """
    mu = hyper[slots.MOMENTUM]
    tau = hyper[slots.DAMPENING]
    nesterov = hyper[slots.NESTEROV] != 0.0
    wd = hyper[slots.WEIGHT_DECAY]
    P = theta.shape[0]
    for i in range(P):
        g = grad[i]
        if wd != 0.0:
            g = g + wd * theta[i]
        if mu != 0.0:
            if t == 1:
                b = g
            else:
                b = mu * state[0, i] + (1.0 - tau) * g
            state[0, i] = b
            if nesterov:
                g = g + mu * b
            else:
                g = b
        theta[i] = theta[i] - lr * g


@jit
def apply_rule(rule_id, theta, grad, state, hyper, lr, t, offsets, rows, cols):
    """Dispatch one update by rule id (ids are the constants above)."""
    if rule_id == SGD:
        sgd(theta, grad, state, hyper, lr, t, offsets, rows, cols)
