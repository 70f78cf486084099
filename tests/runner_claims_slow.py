"""A claim that takes minutes (it sleeps), for the Ctrl-C test of tests/test_claim_runner.py;
registered when imported."""
import time

from theorysim.claims import Claim, Measurement, register, tol
from tests.runner_claims import RUNNER


def _sleep(cfg):
    time.sleep(cfg["seconds"])
    return 1.0


CLAIMS = [register(Claim(
    id="runnertest/sleeps", paper=RUNNER, reference="-", statement="Finishes only after minutes.",
    quick={"seconds": 300}, full={"seconds": 300}, simulate=_sleep, predict=lambda cfg: 1.0,
    measure=lambda cfg, r: Measurement.exact(r, "a toy value"), tolerance=tol.relative(0.1)))]
