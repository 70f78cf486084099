"""The GD runs the xu2023 claims share: several claims read the same configuration's curves, so
:func:`run` keeps them in :data:`RUNS` (a :class:`~theorysim.engine.cache.RunCache` keyed by the
configuration and the member list)."""
from __future__ import annotations

import numpy as np

from theorysim.engine.cache import RunCache
from theorysim.engine.experiment import Experiment
from theorysim.setups.xor_grokking import data

#: curves by (configuration, members)
RUNS = RunCache("xor_grokking: GD curves per data draw")


def run(cfg, members=None) -> dict:
    """Full-batch GD (lr = alpha) from N(0, omega_init^2) on ``cfg["seeds"]`` independent data
    draws; ``members``: a list of {"alpha", "omega_init"} run together on each draw (default the
    config's pair). Returns {"steps", "metrics": {name: [member, seed, R]}}; kept in :data:`RUNS`."""
    members = members or [{"alpha": cfg["alpha"], "omega_init": cfg["omega_init"]}]

    def compute():
        curves, steps = [], None
        for s in range(cfg["seeds"]):
            model = data.build(cfg, 1000 + s).span_form()  # GD in the span of the data: exact, p / n x fewer flops
            res = Experiment(model, "sgd", steps=cfg["steps"], record_every=1, divergence_factor=0,
                             lr=[mb["alpha"] for mb in members], omega_init=[mb["omega_init"] for mb in members],
                             seeds=[s] * len(members)).run()
            curves.append(res.records)
            steps = res.steps
            names = model.metric_names
        rec = np.stack(curves, axis=1)  # [member, seed, R, metric]
        return {"steps": steps, "metrics": {n: rec[..., i] for i, n in enumerate(names)}}

    return RUNS.get([cfg, members], compute)
