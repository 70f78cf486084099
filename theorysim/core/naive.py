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


def _hyper_kwargs(name: str, row: np.ndarray) -> dict:
    if name == "sgd":
        return {"momentum": row[slots.MOMENTUM], "dampening": row[slots.DAMPENING],
                "nesterov": bool(row[slots.NESTEROV]), "weight_decay": row[slots.WEIGHT_DECAY]}
    raise ValueError(f"naive engine: no reference for optimizer {name!r}")


def run(experiment, theta0: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Run an :class:`~theorysim.core.experiment.Experiment` the slow way; returns the same arrays."""
    model = experiment.model
    E, P, T, k = experiment.n_members, model.layout.size, experiment.steps, experiment.record_every
    theta_all = model.init(experiment.seeds, experiment.model_hyper) if theta0 is None else np.array(theta0, float)
    R = T // k + 1
    records = np.full((E, R, len(model.metric_names)), np.nan)
    param_records = np.full((E, R, P), np.nan)
    diverged_step = np.full(E, -1, dtype=np.int64)
    final = np.empty((E, P))
    for m in range(E):
        spec = experiment.specs[m]
        rule = reference.RULES[spec.name]
        row = experiment.hyper[m]
        kwargs = _hyper_kwargs(spec.name, row)
        mh = experiment.model_hyper[m]
        key = rng.key_from_seed(int(experiment.seeds[m]))
        sched = experiment.schedule[experiment.sched_index[m]]
        params = {"theta": theta_all[m].copy()}
        state = {"theta": np.zeros(P)}
        records[m, 0] = model.metrics_numpy(params["theta"], mh)
        param_records[m, 0] = params["theta"]
        loss0 = None
        for t in range(1, T + 1):
            loss, grad = model.loss_grad_numpy(params["theta"], mh, key, t)
            loss0 = loss if loss0 is None else loss0
            bound = experiment.divergence_factor * loss0
            if not math.isfinite(loss) or (experiment.divergence_factor > 0 and loss0 > 0 and loss > bound):
                diverged_step[m] = t - 1
                break
            lr = row[slots.LR] * sched[t - 1]
            params, state = rule(params, {"theta": grad}, state, t, lr, **kwargs)
            if t % k == 0:
                records[m, t // k] = model.metrics_numpy(params["theta"], mh)
                param_records[m, t // k] = params["theta"]
        else:
            if not np.all(np.isfinite(params["theta"])):
                diverged_step[m] = T
        final[m] = params["theta"]
    return {"records": records, "param_records": param_records, "theta": final, "diverged_step": diverged_step, "diverged": diverged_step >= 0}
