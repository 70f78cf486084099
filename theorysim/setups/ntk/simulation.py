"""The trained networks several jacot2018 claims share, computed once per configuration
(:data:`RUNS`, a :class:`~theorysim.engine.cache.RunCache`)."""
from __future__ import annotations

import numpy as np

from theorysim.engine.cache import RunCache
from theorysim.engine.experiment import Experiment
from theorysim.setups.ntk import task, theory

RUNS = RunCache("ntk: trained networks")


def train_on_circle(cfg) -> dict:
    """GD (lr ``cfg["lr"]``) for ``cfg["steps"]`` steps on ``cfg["train_points"]`` circle points,
    ``cfg["seeds"]`` initialisations of width ``cfg["width"]``; outputs on the training inputs
    recorded every step. Returns {"model", "theta0" [E, P], "result", "theta0_kernels": each member's
    empirical NTK at init on the training inputs [E, N, N]} (the kernels once here, not in every claim
    that reads the run)."""
    key = {k: cfg[k] for k in ("width", "depth", "train_points", "lr", "steps", "seeds")}

    def compute():
        X = task.circle_inputs(cfg["train_points"])
        model = task.jacot_net(cfg["width"], X, cfg["depth"], probes=X)
        seeds = np.arange(cfg["seeds"])
        theta0 = model.init(seeds, np.zeros((len(seeds), 1)))
        res = Experiment(model, "sgd", lr=cfg["lr"], steps=cfg["steps"], seeds=seeds.tolist(),
                         divergence_factor=0).run(theta0)
        kernels = np.stack([theory.empirical_ntk(model, t, X) for t in theta0])
        return {"model": model, "theta0": theta0, "result": res, "theta0_kernels": kernels}

    return RUNS.get(key, compute)
