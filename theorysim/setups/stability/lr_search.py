"""The largest stable learning rate eta_max(B) of an optimizer on a least-squares problem, measured:
a log grid of learning rates x seeds is one engine call (one member each), a rate counts as stable
when none of its seeds diverged (loss above ``factor`` times the initial loss, or not finite) within
``steps`` updates, and bisection between the largest stable and the smallest unstable rate refines it
(each refinement step again one engine call, over ``points`` rates inside the bracket)."""
from __future__ import annotations

import numpy as np

from theorysim.engine.experiment import Experiment
from theorysim.models import LeastSquares


def stable(model, optimizer: str, lrs, batch: int, seeds, steps: int, factor: float) -> np.ndarray:
    """[len(lrs)] bool: no seed diverged at that rate."""
    members = [(float(lr), int(s)) for lr in lrs for s in seeds]
    res = Experiment(model, optimizer, lr=[lr for lr, _ in members], seeds=[s for _, s in members], steps=steps,
                     record_every=steps, batch_size=batch, divergence_factor=factor).run()
    ok = (res.diverged_step < 0).reshape(len(lrs), len(seeds))
    return ok.all(axis=1)


def eta_max(model, optimizer: str, batch: int, seeds, steps: int, lo: float, hi: float, points: int = 12,
            rounds: int = 3, factor: float = 1e6) -> tuple[float, float]:
    """(largest stable rate found, smallest unstable rate found): the bracket after ``rounds`` rounds."""
    grid = np.geomspace(lo, hi, points)
    for _ in range(rounds):
        ok = stable(model, optimizer, grid, batch, seeds, steps, factor)
        if ok.all():
            raise ValueError(f"every rate up to hi={hi:g} is stable at B = {batch}: raise hi")
        if not ok[0]:
            raise ValueError(f"lo={lo:g} already diverges at B = {batch}: lower lo")
        first_bad = int(np.argmin(ok))  # the first unstable rate (rates above it are not assumed stable)
        a, b = grid[first_bad - 1], grid[first_bad]
        grid = np.geomspace(a, b, points)
    return float(a), float(b)
