"""A claim whose simulation kills its process (as the out-of-memory killer would), for
tests/test_claim_runner.py; registered when imported."""
import os

from theorysim.claims import Claim, Measurement, register, tol
from tests.runner_claims import RUNNER


def _die(cfg):
    os._exit(3)


CLAIMS = [register(Claim(
    id="runnertest/kills-its-process", paper=RUNNER, reference="-", statement="Never finishes.", quick={}, full={},
    simulate=_die, predict=lambda cfg: 1.0, measure=lambda cfg, r: Measurement.exact(r, "a toy value"), tolerance=tol.relative(0.1)))]
