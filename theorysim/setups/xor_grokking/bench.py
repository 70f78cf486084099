"""The `theorysim bench` workloads of this setup (performance issue 9), exactly as specified there:
the same data, seeds and hyperparameters as the JAX and PyTorch versions in ``benchmarks/``."""
from __future__ import annotations

import numpy as np

from theorysim.engine.experiment import Experiment
from theorysim.setups.xor_grokking import data

W3 = {"n": 200, "p": 2000, "m": 200, "eta": 0.05, "mu_scale": 2.5, "test": 1000, "lr": 1e-12, "omega_init": 1e-15,
      "steps": 100, "seeds": 4, "data_seed": 0}


def w3_model():
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


def w3_xor_relu(backend: str = "cpu", form: str = "span", seeds: int | None = None):
    """XOR clusters, two-layer ReLU (second layer fixed +-1/sqrt(m)), n = 200, p = 2000, m = 200,
    flip rate 0.05, ||mu|| = 2.5 sqrt(p/n), W_0 ~ N(0, (1e-15)^2), GD step 1e-12 on the mean
    logistic loss, 100 steps, 4 seeds (one data draw), 1000 clean test points. Result: the final
    training and clean test accuracy (means over seeds).

    ``form="span"`` (what the xu2023 claims run) trains in the span of the training points
    through Gram matrices, exact for GD (:class:`~theorysim.setups.xor_grokking.model.TwoLayerReLUSpan`);
    ``form="direct"`` runs the same algorithm as the JAX and PyTorch versions (two n x p by p x m
    products per step). Both are timed from the data, Gram matrices and W_0 included. ``seeds``:
    the number of W_0 draws (members) on the one data draw (default W3's 4)."""
    c = {**W3, "seeds": W3["seeds"] if seeds is None else seeds}
    model = w3_model()
    if form == "span":
        model = model.span_form()
        flops = w3_span_flops(c["n"], c["p"], c["m"], c["test"], c["steps"], c["seeds"])
    elif form == "direct":
        flops = w3_step_flops(c["n"], c["p"], c["m"]) * c["steps"] * c["seeds"]
    else:
        raise ValueError(f"form={form!r}: expected 'span' or 'direct'")
    res = Experiment(model, "sgd", lr=c["lr"], steps=c["steps"], seeds=range(c["seeds"]), record_every=c["steps"],
                     omega_init=c["omega_init"], divergence_factor=0, backend=backend).run()
    return ({"train_acc": float(res.final("train_acc").mean()), "test_acc": float(res.final("test_acc").mean())},
            flops)


def w3_direct(backend: str = "cpu"):
    """W3 with the direct two-layer kernel: the same algorithm as the JAX and PyTorch versions."""
    return w3_xor_relu(backend, form="direct")


#: the GPU-sized W3 (issue 17): 256 draws of W_0 on W3's data draw, one ensemble call
W3_ENSEMBLE_SEEDS = 256


def w3_ensemble(backend: str = "cpu"):
    """W3 (span form) on E = 256 members: seeds 0..255 of W_0 on the same data (the result is the
    mean final training and clean test accuracy over them)."""
    return w3_xor_relu(backend, seeds=W3_ENSEMBLE_SEEDS)
