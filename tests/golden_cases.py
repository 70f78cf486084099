"""The golden-trajectory cases: one problem, and for each rule the theorysim hyperparameters and the
reference library's call that the trajectories in ``tests/golden/optimizers.json`` were recorded
from (by ``tools/record_goldens.py``, where the libraries are installed; the tests compare against
the stored file and never skip).

Problem: f(x) = 1/2 x^T A x - b^T x on x = (vec W, b) with W a 3 x 3 matrix block and b a
3-vector block (so matrix-aware rules act per block), A SPD with spectrum in [0.2, 2], x_0 and b
from ``tests.helpers.random_spd_problem(12, 0.2, 2.0, seed=3)``; deterministic gradients A x - b;
50 steps, every iterate stored; non-default hyperparameters throughout.
"""
from __future__ import annotations

import numpy as np

STEPS = 50

# (case id, theorysim rule, theorysim hyperparameters, library, library call and its keywords)
CASES = [
    ("sgd-dampening-wd", "sgd", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
     "torch", ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01))),
    ("sgd-nesterov", "sgd", dict(lr=0.05, momentum=0.9, nesterov=True),
     "torch", ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True))),
    ("adagrad", "adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1),
     "torch", ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1))),
    ("rmsprop-centered", "rmsprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.01),
     "torch", ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.01))),
    ("adam-wd", "adam", dict(lr=0.01, betas=(0.9, 0.99), weight_decay=0.01),
     "torch", ("Adam", dict(lr=0.01, betas=(0.9, 0.99), weight_decay=0.01))),
    ("adam-amsgrad", "adam", dict(lr=0.01, amsgrad=True), "torch", ("Adam", dict(lr=0.01, amsgrad=True))),
    ("adamw", "adamw", dict(lr=0.01, weight_decay=0.1), "torch", ("AdamW", dict(lr=0.01, weight_decay=0.1))),
    ("nadam", "nadam", dict(lr=0.01, weight_decay=0.01), "torch", ("NAdam", dict(lr=0.01, weight_decay=0.01))),
    ("lion", "lion", dict(lr=0.003, betas=(0.9, 0.99), weight_decay=0.1),
     "optax", ("lion", dict(learning_rate=0.003, b1=0.9, b2=0.99, weight_decay=0.1))),
    ("lamb", "lamb", dict(lr=0.01, weight_decay=0.01),
     "optax", ("lamb", dict(learning_rate=0.01, eps=1e-6, weight_decay=0.01))),
    ("lars", "lars", dict(lr=0.5, weight_decay=0.01, trust_coefficient=0.01, momentum=0.9),
     "optax", ("lars", dict(learning_rate=0.5, weight_decay=0.01, trust_coefficient=0.01, momentum=0.9))),
    ("signum", "signum", dict(lr=0.003, momentum=0.9), "optax", ("signum", dict(learning_rate=0.003, beta=0.9))),
    ("signsgd", "signsgd", dict(lr=0.003), "optax", ("sign_sgd", dict(learning_rate=0.003))),
    ("adabelief-optax", "adabelief", dict(lr=0.01, rectify=False, weight_decouple=False),
     "optax", ("adabelief", dict(learning_rate=0.01))),
    ("amsgrad-optax", "amsgrad", dict(lr=0.01, amsgrad="optax"), "optax", ("amsgrad", dict(learning_rate=0.01))),
    ("adamp", "adamp", dict(lr=0.01, weight_decay=0.01, delta=1.0, nesterov=True),
     "adamp", ("AdamP", dict(lr=0.01, weight_decay=0.01, delta=1.0, nesterov=True))),
    ("sgdp", "sgdp", dict(lr=0.05, momentum=0.9, weight_decay=0.01, delta=1.0),
     "adamp", ("SGDP", dict(lr=0.05, momentum=0.9, weight_decay=0.01, delta=1.0))),
    ("adabelief-official", "adabelief", dict(lr=0.01, weight_decay=0.01),
     "adabelief_pytorch", ("AdaBelief", dict(lr=0.01, weight_decay=0.01, eps=1e-16, weight_decouple=True,
                                             rectify=True, fixed_decay=False, amsgrad=False, print_change_log=False))),
    ("sgd_sai-v1.0.3", "sgd_sai", dict(lr=0.01, momentum=0.9, weight_decay=0.01, gsnr_version="v1.0.3"),
     "sgd_sai", ("SGD_sai", dict(lr=0.01, momentum=0.9, weight_decay=0.01))),
    ("diffgrad-wd", "diffgrad", dict(lr=0.01, weight_decay=0.01, betas=(0.9, 0.99)),
     "pytorch_optimizer", ("DiffGrad", dict(lr=0.01, weight_decay=0.01, weight_decouple=False, betas=(0.9, 0.99)))),
    ("lamb-kozistr", "lamb", dict(lr=0.01, weight_decay=0.01, convention="kozistr"),
     "pytorch_optimizer", ("Lamb", dict(lr=0.01, weight_decay=0.01, eps=1e-6))),
    ("lars-kozistr", "lars", dict(lr=0.5, weight_decay=0.01, trust_coefficient=0.01, momentum=0.9,
                                  convention="kozistr"),
     "pytorch_optimizer", ("LARS", dict(lr=0.5, weight_decay=0.01, trust_coefficient=0.01, momentum=0.9))),
]


def problem():
    from tests.helpers import random_spd_problem

    return random_spd_problem(12, 0.2, 2.0, seed=3)


def split(x: np.ndarray) -> dict[str, np.ndarray]:
    return {"W": x[:9].reshape(3, 3).copy(), "b": x[9:].copy()}


def flat(params) -> np.ndarray:
    return np.concatenate([np.asarray(params["W"]).ravel(), np.asarray(params["b"])])


def theorysim_trajectory(rule: str, hyper: dict) -> np.ndarray:
    """[STEPS, 12] iterates of theorysim's rule on the problem (the Optimizer API, same kernels as the engine)."""
    from theorysim import optim

    A, B, X0 = problem()
    opt = optim.make(rule, **hyper)
    params = split(X0)
    state = opt.init(params)
    out = []
    for _ in range(STEPS):
        params, state = opt.step(params, split(A @ flat(params) - B), state)
        out.append(flat(params))
    return np.array(out)


# 8-bit state against bitsandbytes (its CPU backend computes in float32): one vector of 8192
# entries (two 8-bit blocks of bitsandbytes' min_8bit_size 4096), 10 steps, lr 0.01, default betas.
BNB_SIZE, BNB_STEPS, BNB_LR = 8192, 10, 0.01


def bnb_problem():
    """x_0 and the gradients, float32-representable, from numpy's PCG64 (the same on every platform)."""
    g = np.random.default_rng(0)
    x0 = g.normal(size=BNB_SIZE).astype(np.float32).astype(np.float64)
    return x0, [g.normal(size=BNB_SIZE).astype(np.float32).astype(np.float64) for _ in range(BNB_STEPS)]


def bnb_theorysim(rule: str, state_block: int = 256, state_bits: int = 8, state_rounding: str = "nearest") -> np.ndarray:
    from theorysim import optim

    x0, grads = bnb_problem()
    opt = optim.make(rule, lr=BNB_LR, state_bits=state_bits, state_block=state_block, state_rounding=state_rounding)
    params = {"w": x0.copy()}
    state = opt.init(params)
    for gr in grads:
        params, state = opt.step(params, {"w": gr}, state)
    return params["w"]


# Issue 37's case: a gradient that feeds back on the parameters, g = h p - 0.3 + 0.1 sin(p) with
# h ~ U(0.1, 2) (float32), 8192 entries, 10 steps, lr 0.01, three betas. Here the rounding rule
# matters: bitsandbytes' CPU LUT (state_rounding="cpu_lut") against the nearest code ("nearest").
BNB_FEEDBACK_BETAS = ((0.9, 0.999), (0.9, 0.99), (0.0, 0.99))


def bnb_feedback_problem():
    """(x_0, h) float32, from numpy's PCG64 (the same on every platform)."""
    g = np.random.default_rng(0)
    return g.normal(size=BNB_SIZE).astype(np.float32), g.uniform(0.1, 2.0, size=BNB_SIZE).astype(np.float32)


def bnb_feedback_grad(p: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The gradient in float32 from float32-rounded parameters (what the library sees)."""
    p = np.asarray(p, dtype=np.float32)
    return (h * p - np.float32(0.3) + np.float32(0.1) * np.sin(p)).astype(np.float32)


def bnb_feedback_theorysim(betas, state_rounding: str) -> np.ndarray:
    from theorysim import optim

    x0, h = bnb_feedback_problem()
    opt = optim.make("adam", lr=BNB_LR, betas=betas, state_bits=8, state_rounding=state_rounding)
    params = {"w": x0.astype(np.float64)}
    state = opt.init(params)
    for _ in range(BNB_STEPS):
        params, state = opt.step(params, {"w": bnb_feedback_grad(params["w"], h).astype(np.float64)}, state)
    return params["w"]
