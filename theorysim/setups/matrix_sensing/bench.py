"""The `theorysim bench` workloads of this setup (performance issue 9), exactly as specified there:
the same data, seeds and hyperparameters as the JAX and PyTorch versions in ``benchmarks/``."""
from __future__ import annotations

import numpy as np

from theorysim.engine.experiment import Experiment, grid
from theorysim.setups.matrix_sensing.model import FactorizedSensing

W1 = {"n": 50, "r": 3, "k": 10, "lr": 0.05, "init": 1e-3, "steps": 5000, "seeds": 64, "problem_seed": 0}


def w1_problem():
    """M* = U U^T with U (n x r) Gaussian scaled to spectral norm 1 (so ||M*||_2 = 1), from
    ``default_rng(problem_seed)``; shared by every implementation."""
    c = W1
    U = np.random.default_rng(c["problem_seed"]).normal(size=(c["n"], c["r"]))
    U /= np.linalg.norm(U, 2)
    return U @ U.T


def w1_model(low_rank=None):
    return FactorizedSensing(w1_problem(), W1["k"], A=None, symmetric=True, loss_scale=0.25, low_rank=low_rank)


def w1_initial():
    """X_0 = 1e-3 * Gaussian for every seed (the engine's counter RNG), [E, n k]; the JAX and
    PyTorch versions start from these same arrays."""
    c = W1
    model = w1_model()
    alpha = c["init"] * np.sqrt(c["n"])  # the model draws alpha / sqrt(n) * z
    return model.init(np.arange(c["seeds"]), np.full((c["seeds"], 1), alpha))


def w1_step_flops(n: int, k: int) -> float:
    """Useful FLOPs of one GD step on f = 1/4 ||X X^T - M*||_F^2: X X^T (2 n^2 k), the residual
    (n^2) and the gradient (X X^T - M*) X (2 n^2 k)."""
    return 4.0 * n * n * k + n * n


def w1_low_rank_step_flops(n: int, k: int, r: int) -> float:
    """Useful FLOPs of one GD step in the low-rank form grad = X S - V diag(w) P: S = X^T X (one
    triangle, k (k + 1) n), P = V^T X (2 r k n), X S and V (w P) (2 (k + r) k n); the loss from S
    and P is lower order."""
    return float(k * (k + 1) * n + 2 * r * k * n + 2 * (k + r) * k * n)


def w1_matrix_sensing(backend: str = "cpu", low_rank=None):
    """Symmetric matrix sensing, population loss 1/4 ||X X^T - M*||_F^2, n = 50, r = 3, k = 10,
    GD lr 0.05, 5000 steps, 64 seeds from X_0 = 1e-3 Gaussian. Result: the median final
    ||X X^T - M*||_F over seeds.

    By default the model trains through M* = V diag(w) V^T (rank 3: it never forms the n x n
    residual, ~5x fewer flops); ``low_rank=False`` runs the dense residual, the algorithm of the
    JAX and PyTorch versions."""
    c = W1
    model = w1_model(low_rank)
    flops = (w1_low_rank_step_flops(c["n"], c["k"], c["r"]) if model.low_rank else w1_step_flops(c["n"], c["k"]))
    res = Experiment(model, "sgd", lr=c["lr"], steps=c["steps"], seeds=range(c["seeds"]), record_every=c["steps"],
                     alpha=c["init"] * np.sqrt(c["n"]), backend=backend, progress=False).run()
    final = res.final("error")
    return ({"median_final_error": float(np.median(final)), "max_final_error": float(np.max(final))},
            flops * c["steps"] * c["seeds"])


#: the GPU-sized W1 (issue 17): learning rate x initial scale x seed, 4 x 4 x 256 = 4096 members
W1_ENSEMBLE = {"lr": (0.02, 0.05, 0.1, 0.2), "init": (1e-4, 3e-4, 1e-3, 3e-3), "seeds": 256}


def w1_ensemble(backend: str = "cpu"):
    """W1's problem and step count on E = 4096 members (:data:`W1_ENSEMBLE`): one ensemble call.
    Result: the median final ||X X^T - M*||_F of each learning rate, over initial scales and seeds."""
    c, g = W1, W1_ENSEMBLE
    model = w1_model()
    members = grid(lr=g["lr"], init=g["init"], seeds=range(g["seeds"]))
    alpha = [a * np.sqrt(c["n"]) for a in members["init"]]
    res = Experiment(model, "sgd", lr=members["lr"], steps=c["steps"], seeds=members["seeds"],
                     record_every=c["steps"], alpha=alpha, backend=backend, progress=False).run()
    final = res.final("error")
    lr = np.array(members["lr"])
    E = len(lr)
    return ({f"median_final_error_lr{v:g}": float(np.median(final[lr == v])) for v in g["lr"]},
            w1_low_rank_step_flops(c["n"], c["k"], c["r"]) * c["steps"] * E)


def w1_dense(backend: str = "cpu"):
    """W1 with the dense residual X X^T - M*: the same algorithm as the JAX and PyTorch versions."""
    return w1_matrix_sensing(backend, low_rank=False)
