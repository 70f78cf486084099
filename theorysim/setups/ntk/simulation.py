"""The trained networks several jacot2018 claims share, computed once per configuration
(:data:`RUNS`, a :class:`~theorysim.engine.cache.RunCache`)."""
from __future__ import annotations

import numpy as np

from theorysim.engine.cache import RunCache
from theorysim.engine.experiment import Experiment
from theorysim.setups.ntk import task

RUNS = RunCache("ntk: trained networks")


def train_on_circle(cfg) -> dict:
    """GD (lr ``cfg["lr"]``) for ``cfg["steps"]`` steps on ``cfg["train_points"]`` circle points,
    ``cfg["seeds"]`` initialisations of width ``cfg["width"]``; outputs on the training inputs
    recorded every step. Returns {"model", "theta0" [E, P], "result"}."""
    key = {k: cfg[k] for k in ("width", "depth", "train_points", "lr", "steps", "seeds")}

    def compute():
        X = task.circle_inputs(cfg["train_points"])
        model = task.jacot_net(cfg["width"], X, cfg["depth"], probes=X)
        seeds = np.arange(cfg["seeds"])
        theta0 = model.init(seeds, np.zeros((len(seeds), 1)))
        res = Experiment(model, "sgd", lr=cfg["lr"], steps=cfg["steps"], seeds=seeds.tolist(),
                         divergence_factor=0).run(theta0)
        return {"model": model, "theta0": theta0, "result": res}

    return RUNS.get(key, compute)
