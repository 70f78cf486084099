"""The runs several jacot2018 claims share, computed once per configuration (:data:`RUNS`, a
:class:`~theorysim.engine.cache.RunCache`): the trained networks on the circle
(``function-space-dynamics``, ``pca-decay-rates``), the kernels at init over widths
(``width-convergence`` and the exploratory ``width-fluctuation-rate``) and the kernel drift over
widths (``kernel-constancy`` and the exploratory ``kernel-drift-order``)."""
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


def kernel_errors(cfg) -> dict:
    """||Theta_n - Theta_inf||_F / ||Theta_inf||_F of the empirical NTK at init on ``cfg["points"]``
    circle points, for each width in ``cfg["widths"]`` and ``cfg["seeds"]`` initialisations:
    {"errors": [W, S]}."""
    key = {"run": "kernel_errors", **{k: cfg[k] for k in ("depth", "beta", "points", "widths", "seeds")}}

    def compute():
        X = task.circle_inputs(cfg["points"], 0.0)
        _, limit = theory.nngp_ntk(X, None, cfg["depth"], "relu", 1.0, cfg["beta"])
        errors = np.empty((len(cfg["widths"]), cfg["seeds"]))
        for i, n in enumerate(cfg["widths"]):
            model = task.jacot_net(n, X, cfg["depth"], b_std=cfg["beta"])
            theta = model.init(np.arange(cfg["seeds"]), np.zeros((cfg["seeds"], 1)))
            for s in range(cfg["seeds"]):
                K = theory.empirical_ntk(model, theta[s], X)
                errors[i, s] = np.linalg.norm(K - limit) / np.linalg.norm(limit)
        return {"errors": errors}

    return RUNS.get(key, compute)


def kernel_drift(cfg) -> dict:
    """||Theta_T - Theta_0||_F / ||Theta_0||_F on ``cfg["circle_points"]`` circle points after
    ``cfg["steps"]`` GD steps at learning rate ``cfg["lr"]`` on Fig. 1's task (``cfg["train_points"]``
    N(0, I_2) inputs, target x_1 x_2), for each width and ``cfg["seeds"]`` initialisations:
    {"drift": [W, S], "loss_ratio": final / initial training loss [W, S]}."""
    key = {"run": "kernel_drift", **{k: cfg[k] for k in ("depth", "train_points", "data_seed", "circle_points",
                                                         "lr", "steps", "widths", "seeds")}}

    def compute():
        X = task.gaussian_inputs(cfg["train_points"], cfg["data_seed"])
        Xc = task.circle_inputs(cfg["circle_points"], 0.0)
        drift = np.empty((len(cfg["widths"]), cfg["seeds"]))
        loss = np.empty_like(drift)
        for i, n in enumerate(cfg["widths"]):
            model = task.jacot_net(n, X, cfg["depth"])
            seeds = np.arange(cfg["seeds"])
            theta0 = model.init(seeds, np.zeros((len(seeds), 1)))
            res = Experiment(model, "sgd", lr=cfg["lr"], steps=cfg["steps"], seeds=seeds.tolist(),
                             record_every=cfg["steps"], divergence_factor=0).run(theta0)
            loss[i] = res.final("loss") / res.curve("loss")[:, 0]
            for s in range(cfg["seeds"]):
                K0 = theory.empirical_ntk(model, theta0[s], Xc)
                drift[i, s] = np.linalg.norm(theory.empirical_ntk(model, res.theta[s], Xc) - K0) / np.linalg.norm(K0)
        return {"drift": drift, "loss_ratio": loss}

    return RUNS.get(key, compute)
