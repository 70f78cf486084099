"""The slow, obvious oracle of the engine: one member at a time, plain numpy, no Numba loop.

It uses each model's numpy ``loss_grad_numpy`` / ``metrics_numpy`` and the rules of
:mod:`theorysim.optim.reference`, and follows the engine's conventions (update t reads iterate
t-1; divergence at the iterate whose loss is not finite or exceeds the bound; iterate 0 recorded
first). Every backend is tested against it.
"""
from __future__ import annotations

import math

import numpy as np

from theorysim.core import rng
from theorysim.optim import reference, slots


def run(experiment, theta0: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Run an :class:`~theorysim.engine.experiment.Experiment` the slow way; returns the same arrays."""
    model = experiment.model
    E, P, T, k = experiment.n_members, model.layout.size, experiment.steps, experiment.record_every
    theta_all = model.init(experiment.seeds, experiment.model_hyper) if theta0 is None else np.array(theta0, float)
    R = T // k + 1
    records = np.full((E, R, len(model.metric_names)), np.nan)
    param_records = np.full((E, R, P), np.nan)
    diverged_step = np.full(E, -1, dtype=np.int64)
    final = np.empty((E, P))
    for m in range(E):
        member_model = model.for_member(m)  # its own data set when the data is per member
        spec = experiment.specs[m]
        row = experiment.hyper[m]
        hyper = experiment.resolved[m]
        mh = experiment.model_hyper[m]
        key = rng.key_from_seed(int(experiment.seeds[m]))
        sched = experiment.schedule[experiment.sched_index[m]]
        theta = theta_all[m].copy()
        state: dict = {}
        records[m, 0] = member_model.metrics_numpy(theta, mh)
        param_records[m, 0] = theta
        loss0 = None
        for t in range(1, T + 1):
            loss, grad = member_model.loss_grad_numpy(theta, mh, key, t)
            loss0 = loss if loss0 is None else loss0
            bound = experiment.divergence_factor * loss0
            if not math.isfinite(loss) or (experiment.divergence_factor > 0 and loss0 > 0 and loss > bound):
                diverged_step[m] = t - 1
                break
            lr = row[slots.LR] * sched[t - 1]
            hess = member_model.hessian_numpy(theta, mh) if spec.needs_hessian else None
            params, state = reference.step(spec.name, model.layout.unpack(theta), model.layout.unpack(grad), state, t,
                                           lr, hyper, key=key, hessian=hess, lr_factor=sched[t - 1])
            theta = model.layout.pack(params)
            if t % k == 0:
                records[m, t // k] = member_model.metrics_numpy(theta, mh)
                param_records[m, t // k] = theta
        else:
            if not np.all(np.isfinite(theta)):
                diverged_step[m] = T
        final[m] = theta
    return {"records": records, "param_records": param_records, "theta": final, "diverged_step": diverged_step, "diverged": diverged_step >= 0}
