"""The benchmark workloads (issue 9), each exactly as specified there; the same data, seeds and
hyperparameters as the JAX and PyTorch versions in ``benchmarks/``."""
from __future__ import annotations

import numpy as np

W2 = {"d": 10, "n_context": 10, "batch": 1024, "lr": 1e-3, "init_scale": 0.02, "steps": 1000, "seeds": 4,
      "last": 50, "eval_prompts": 4096}


def lsa_step_flops(d: int, n_context: int, layers: int = 1) -> float:
    """Useful FLOPs of one LSA training step on one prompt (forward + backward, backward = 2x
    forward): per layer, G = Z M Z^T (D^2 N multiply-adds), P G Q (2 D^3) and (P G Q) Z (D^2 T),
    D = d + 1, T = N + 1; 2 FLOPs per multiply-add."""
    D, T = d + 1, n_context + 1
    return 3 * 2 * layers * (D * D * n_context + 2 * D**3 + D * D * T)


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
