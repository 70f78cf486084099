"""In-context linear regression: linear self-attention vs GD, preconditioned GD, GD++,
Iterative Newton, ridge and the Bayes posterior mean (shared/papers/icl.md)."""
import numpy as np

from theorysim.core.bounds import AT_LEAST_ONE, COUNT, NONNEG, SEED
from theorysim.setups import Setup, SweepSetup, Workload
from theorysim.setups.icl import bench, task
from theorysim.setups.icl.model import LinearSelfAttention


def _size(cfg):
    """Each step draws ``batch`` fresh prompts of T tokens of dimension D and runs them through the
    L layers (the activations of every layer kept for the backward pass); the evaluation prompts
    are held for the run."""
    D, T, L = int(cfg["d"]) + 1, int(cfg["n_context"]) + 1, int(cfg["layers"])
    batch = int(cfg["batch"])
    params = 2 * L * D * D
    scratch = batch * T * D * (L + 1)
    return params, 8 * (int(cfg["eval_prompts"]) * T * D + 2 * D * D + scratch), float(params) * batch * T


def _build(cfg):
    d = int(cfg["d"])
    sigma = None
    if float(cfg["kappa"]) != 1.0:
        sigma = task.spectrum_covariance(d, np.geomspace(1.0, float(cfg["kappa"]), d), int(cfg["problem_seed"]))
    return LinearSelfAttention(d, int(cfg["n_context"]), layers=int(cfg["layers"]), batch=int(cfg["batch"]),
                               x_dist=cfg["x_dist"], sigma=sigma, noise_std=float(cfg["noise_std"]),
                               response=cfg["response"], eval_prompts=int(cfg["eval_prompts"]),
                               token_clip=float(cfg["token_clip"]))


SETUP = Setup(
    name="icl", doc=__doc__,
    sweeps=(SweepSetup("icl_lsa", {"d": 5, "n_context": 20, "layers": 1, "batch": 256, "x_dist": "gaussian",
                                   "kappa": 1.0, "problem_seed": 0, "noise_std": 0.0, "response": "linear",
                                   "eval_prompts": 2048, "token_clip": 0.0}, _build, LinearSelfAttention,
                       choices={"x_dist": task.X_DISTS, "response": task.RESPONSES},
                       bounds={"d": COUNT, "n_context": COUNT, "layers": COUNT, "batch": COUNT, "kappa": AT_LEAST_ONE,
                               "problem_seed": SEED, "noise_std": NONNEG, "eval_prompts": COUNT, "token_clip": NONNEG},
                       size=_size,
                       doc="K-layer linear self-attention trained on fresh in-context regression prompts"),),
    workloads=(Workload("W2", bench.w2_icl_lsa, "in-context LSA: d = N = 10, batch 1024, Adam, 1000 steps, 4 seeds"),
               Workload("W2-1024", bench.w2_ensemble, "W2 on E = 1024 members (4 learning rates x 256 seeds): the "
                                                      "GPU-sized ensemble")),
)
