"""The `theorysim bench` workload of this setup (performance issue 9), exactly as specified there:
the same data, seeds and hyperparameters as the JAX and PyTorch versions in ``benchmarks/``."""
from __future__ import annotations

import numpy as np

from theorysim.engine.experiment import Experiment, grid
from theorysim.setups.icl import algorithms, theory
from theorysim.setups.icl.model import LinearSelfAttention

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
    same population loss with less noise), which should approach 0.5 d (1 - N/(N+d+1)) = 2.619, the
    one-step GD optimum's population loss; on these 4096 prompts the optimum itself scores
    ``one_step_gd_on_eval_prompts`` (the sample's own noise, standard deviation ~0.07 across
    prompt sets, is shared by every seed, so that is the value to compare with)."""
    c = W2
    model = LinearSelfAttention(c["d"], c["n_context"], layers=1, batch=c["batch"], eval_prompts=c["eval_prompts"])
    res = Experiment(model, "adam", lr=c["lr"], steps=c["steps"], seeds=range(c["seeds"]), record_every=c["last"],
                     init_scale=c["init_scale"], backend=backend, progress=False).run()
    final = res.final("eval_loss")
    gamma = theory.optimal_preconditioner(np.eye(c["d"]), c["n_context"])
    on_eval = algorithms.icl_loss(model.eval, algorithms.predict(model.eval, algorithms.preconditioned_gd(model.eval, [gamma])))
    result = {"final_loss": float(np.mean(final)), "one_step_gd_on_eval_prompts": on_eval, "per_seed": final.tolist(),
              "one_step_gd_optimum": 0.5 * c["d"] * (1 - c["n_context"] / (c["n_context"] + c["d"] + 1))}
    flops = lsa_step_flops(c["d"], c["n_context"]) * c["batch"] * c["steps"] * c["seeds"]
    return result, float(flops)


#: the GPU-sized W2 (issue 17): learning rate x seed, 4 x 256 = 1024 members
W2_ENSEMBLE = {"lr": (3e-4, 1e-3, 3e-3, 1e-2), "seeds": 256}


def w2_ensemble(backend: str = "cpu"):
    """W2's model, prompts and step count on E = 1024 members (:data:`W2_ENSEMBLE`), one ensemble
    call. Result: the mean final in-context loss of each learning rate over its 256 seeds."""
    c, g = W2, W2_ENSEMBLE
    model = LinearSelfAttention(c["d"], c["n_context"], layers=1, batch=c["batch"], eval_prompts=c["eval_prompts"])
    members = grid(lr=g["lr"], seeds=range(g["seeds"]))
    res = Experiment(model, "adam", lr=members["lr"], steps=c["steps"], seeds=members["seeds"],
                     record_every=c["steps"], init_scale=c["init_scale"], backend=backend, progress=False).run()
    final = res.final("eval_loss")
    lr = np.array(members["lr"])
    result = {f"final_loss_lr{v:g}": float(np.mean(final[lr == v])) for v in g["lr"]}
    return result, float(lsa_step_flops(c["d"], c["n_context"]) * c["batch"] * c["steps"] * len(lr))
