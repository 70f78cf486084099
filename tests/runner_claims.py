"""Claims for tests/test_claim_runner.py, registered when this module is imported (the workers of
``theorysim.claims.runner`` import it by name to find them): two cheap claims, and in
:mod:`tests.runner_claims_dying` one whose worker process dies."""
import numpy as np

from theorysim.claims import Claim, Measurement, Paper, register, tol

RUNNER = Paper(key="runnertest", title="Claims for the claim runner's tests", authors="N. N.", year=2026,
               arxiv="0000.00000")


def _mean_of_squares(cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal(cfg["n"])
    return float(np.mean(x**2))


CLAIMS = [register(Claim(
    id=f"runnertest/mean-square-{n}", paper=RUNNER, reference="E[x^2] = 1", statement="The mean square is 1.",
    quick={"n": n, "seed": n}, full={"n": n, "seed": n}, simulate=_mean_of_squares, predict=lambda cfg: 1.0,
    measure=lambda cfg, r: Measurement.exact(r, "a toy value"), tolerance=tol.relative(0.1))) for n in (10000, 20000)]
