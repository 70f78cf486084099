"""The benchmark workloads (issue 9), each exactly as specified there; the same data, seeds and
hyperparameters as the JAX and PyTorch versions in ``benchmarks/``."""
from __future__ import annotations

import numpy as np

W1 = {"n": 50, "r": 3, "k": 10, "lr": 0.05, "init": 1e-3, "steps": 5000, "seeds": 64, "problem_seed": 0}
W3 = {"n": 200, "p": 2000, "m": 200, "eta": 0.05, "mu_scale": 2.5, "test": 1000, "lr": 1e-12, "omega_init": 1e-15,
      "steps": 100, "seeds": 4, "data_seed": 0}
W2 = {"d": 10, "n_context": 10, "batch": 1024, "lr": 1e-3, "init_scale": 0.02, "steps": 1000, "seeds": 4,
      "last": 50, "eval_prompts": 4096}


def lsa_step_flops(d: int, n_context: int, layers: int = 1) -> float:
    """Useful FLOPs of one LSA training step on one prompt (2 per multiply-add), D = d + 1,
    T = N + 1. The loss reads only the query's y-entry, so the last layer's useful work is the
    context Gram matrix A (D^2 N), v = Q z_q, u = A v and P[d] . u (3 D^2) forward, and
    dP[d] (D), a = A P[d] (D^2), dQ += a z_q^T (D^2) backward: 2 (D^2 N + 5 D^2 + D). Each earlier
    layer is a full token update, A, Q Z, P A, (P A)(Q Z) (D^2 N + 2 D^2 T + D^3) forward and
    twice that backward."""
    D, T = d + 1, n_context + 1
    last = 2 * (D * D * n_context + 5 * D * D + D)
    full = 3 * 2 * (D * D * n_context + 2 * D * D * T + D**3)
    return float(last + (layers - 1) * full)


def w2_icl_lsa(backend: str = "cpu"):
    """One-layer LSA, d = N = 10, fresh Gaussian prompts (w ~ N(0, I), y = w.x) every step,
    batch 1024, Adam lr 1e-3, init std 0.02, 1000 steps, 4 seeds. Result: the in-context loss
    (0.5 MSE) on 4096 fixed fresh prompts, recorded every 50 steps, at the end (the engine keeps
    per-step training losses only for its divergence test; a fresh-prompt loss estimates the
    same population loss with less noise), which should approach 0.5 d (1 - N/(N+d+1)) = 2.619."""
    from theorysim.core.experiment import Experiment
    from theorysim.models.lsa import LinearSelfAttention

    c = W2
    model = LinearSelfAttention(c["d"], c["n_context"], layers=1, batch=c["batch"], eval_prompts=c["eval_prompts"])
    res = Experiment(model, "adam", lr=c["lr"], steps=c["steps"], seeds=range(c["seeds"]), record_every=c["last"],
                     init_scale=c["init_scale"]).run()
    final = res.final("eval_loss")
    result = {"final_loss": float(np.mean(final)), "per_seed": final.tolist(),
              "one_step_gd_optimum": 0.5 * c["d"] * (1 - c["n_context"] / (c["n_context"] + c["d"] + 1))}
    flops = lsa_step_flops(c["d"], c["n_context"]) * c["batch"] * c["steps"] * c["seeds"]
    return result, float(flops)


def w1_problem():
    """M* = U U^T with U (n x r) Gaussian scaled to spectral norm 1 (so ||M*||_2 = 1), from
    ``default_rng(problem_seed)``; shared by every implementation."""
    c = W1
    U = np.random.default_rng(c["problem_seed"]).normal(size=(c["n"], c["r"]))
    U /= np.linalg.norm(U, 2)
    return U @ U.T


def w1_model(low_rank=None):
    from theorysim.models.factorized import FactorizedSensing

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
    from theorysim.core.experiment import Experiment

    c = W1
    model = w1_model(low_rank)
    flops = (w1_low_rank_step_flops(c["n"], c["k"], c["r"]) if model.low_rank else w1_step_flops(c["n"], c["k"]))
    res = Experiment(model, "sgd", lr=c["lr"], steps=c["steps"], seeds=range(c["seeds"]), record_every=c["steps"],
                     alpha=c["init"] * np.sqrt(c["n"])).run()
    final = res.final("error")
    return ({"median_final_error": float(np.median(final)), "max_final_error": float(np.max(final))},
            flops * c["steps"] * c["seeds"])


def w1_dense(backend: str = "cpu"):
    """W1 with the dense residual X X^T - M*: the same algorithm as the JAX and PyTorch versions."""
    return w1_matrix_sensing(backend, low_rank=False)


def w3_model():
    from theorysim.setups.xor_grokking import data

    c = W3
    return data.build({k: c[k] for k in ("n", "p", "m", "eta", "mu_scale", "test")}, c["data_seed"])


def w3_initial(model=None):
    """W_0 ~ N(0, omega_init^2) for every seed from the engine's counter RNG, [E, m p]."""
    c = W3
    model = model or w3_model()
    return model.init(np.arange(c["seeds"]), np.full((c["seeds"], 1), c["omega_init"]))


def w3_step_flops(n: int, p: int, m: int) -> float:
    """Useful FLOPs of one full-batch GD step: X W^T (2 n p m) and the gradient D^T X (2 n p m);
    the n x m elementwise work is lower order."""
    return 4.0 * n * p * m


def w3_span_flops(n: int, p: int, m: int, nt: int, steps: int, seeds: int) -> float:
    """Useful FLOPs of the span form (W = W_0 + C^T X): the Gram matrices X X^T and X_test X^T
    (2 n p (n + nt), once), per seed the products X W_0^T and X_test W_0^T (2 p m (n + nt)), one
    K C (2 n^2 m) per step, and the test pre-activations K_test C (2 nt n m) at the end."""
    once = 2.0 * n * p * (n + nt)
    per_seed = 2.0 * p * m * (n + nt) + steps * 2.0 * n * n * m + 2.0 * nt * n * m
    return once + seeds * per_seed


def w3_xor_relu(backend: str = "cpu", form: str = "span"):
    """XOR clusters, two-layer ReLU (second layer fixed +-1/sqrt(m)), n = 200, p = 2000, m = 200,
    flip rate 0.05, ||mu|| = 2.5 sqrt(p/n), W_0 ~ N(0, (1e-15)^2), GD step 1e-12 on the mean
    logistic loss, 100 steps, 4 seeds (one data draw), 1000 clean test points. Result: the final
    training and clean test accuracy (means over seeds).

    ``form="span"`` (what the xu2023 claims run) trains in the span of the training points
    through Gram matrices, exact for GD (:class:`~theorysim.models.two_layer.TwoLayerReLUSpan`);
    ``form="direct"`` runs the same algorithm as the JAX and PyTorch versions (two n x p by p x m
    products per step). Both are timed from the data, Gram matrices and W_0 included."""
    from theorysim.core.experiment import Experiment

    c = W3
    model = w3_model()
    if form == "span":
        model = model.span_form()
        flops = w3_span_flops(c["n"], c["p"], c["m"], c["test"], c["steps"], c["seeds"])
    elif form == "direct":
        flops = w3_step_flops(c["n"], c["p"], c["m"]) * c["steps"] * c["seeds"]
    else:
        raise ValueError(f"form={form!r}: expected 'span' or 'direct'")
    res = Experiment(model, "sgd", lr=c["lr"], steps=c["steps"], seeds=range(c["seeds"]), record_every=c["steps"],
                     omega_init=c["omega_init"], divergence_factor=0).run()
    return ({"train_acc": float(res.final("train_acc").mean()), "test_acc": float(res.final("test_acc").mean())},
            flops)


def w3_direct(backend: str = "cpu"):
    """W3 with the direct two-layer kernel: the same algorithm as the JAX and PyTorch versions."""
    return w3_xor_relu(backend, form="direct")
