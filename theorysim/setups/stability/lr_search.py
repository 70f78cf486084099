"""The largest stable learning rate eta_max(B) of an optimizer on a least-squares problem, measured.

A log grid of learning rates x seeds is one engine call (one member each, w_0 = 0); a rate is stable
when none of its seeds failed within ``steps`` updates; bisection between the largest stable and the
smallest unstable rate refines it (each round again one engine call, over ``points`` rates inside
the bracket). Two failure criteria:

* ``"diverged"``: the loss grew past ``factor`` times the initial loss, or is not finite. The
  meaning for SGD, whose iterates grow geometrically past the stability boundary.
* ``"progress"``: diverged as above, or the mean loss over the last quarter of the run is not
  below the initial loss. Adam needs this: its steps are bounded (|m / sqrt(v)| <= ~1 per
  coordinate), so past its boundary the loss saturates at a level set by eta instead of exploding.
"""
from __future__ import annotations

import numpy as np

from theorysim.engine.experiment import Experiment

CRITERIA = ("diverged", "progress")


def stable(model, optimizer: str, lrs, batch: int, seeds, steps: int, criterion: str = "diverged",
           factor: float = 1e6) -> np.ndarray:
    """[len(lrs)] bool: no seed failed at that rate (see the module docstring for ``criterion``)."""
    if criterion not in CRITERIA:
        raise ValueError(f"criterion={criterion!r}: expected one of {', '.join(CRITERIA)}")
    if steps < 8 or steps % 8:
        raise ValueError(f"steps={steps!r}: expected a positive multiple of 8 (records every steps / 8)")
    members = [(float(lr), int(s)) for lr in lrs for s in seeds]
    res = Experiment(model, optimizer, lr=[lr for lr, _ in members], seeds=[s for _, s in members], steps=steps,
                     record_every=steps // 8, batch_size=batch, init_scale=0.0, divergence_factor=factor).run()
    ok = res.diverged_step < 0
    if criterion == "progress":
        loss = res.curve("loss")  # records at 0, steps / 8, ..., steps: the last three span the last quarter
        ok &= loss[:, -3:].mean(axis=1) < loss[:, 0]
    return ok.reshape(len(lrs), len(seeds)).all(axis=1)


def eta_max(model, optimizer: str, batch: int, seeds, steps: int, lo: float, hi: float, points: int = 12,
            rounds: int = 3, criterion: str = "diverged", factor: float = 1e6) -> tuple[float, float]:
    """(largest stable rate, smallest unstable rate above it): the bracket after ``rounds`` rounds."""
    if not (0 < lo < hi):
        raise ValueError(f"lo={lo!r}, hi={hi!r}: expected 0 < lo < hi")
    grid = np.geomspace(lo, hi, points)
    for _ in range(rounds):
        ok = stable(model, optimizer, grid, batch, seeds, steps, criterion, factor)
        if ok.all():
            raise ValueError(f"hi={grid[-1]:g}: every rate up to it is stable for {optimizer} at B = {batch}; raise hi")
        if not ok[0]:
            raise ValueError(f"lo={grid[0]:g}: already unstable for {optimizer} at B = {batch}; lower lo")
        first_bad = int(np.argmin(ok))  # the first unstable rate (rates above it are not assumed stable)
        a, b = grid[first_bad - 1], grid[first_bad]
        grid = np.geomspace(a, b, points)
    return float(a), float(b)
