"""GD and heavy-ball on quadratics and least squares: the setup with exact closed forms."""
from theorysim.core.bounds import AT_LEAST_ONE, Bound, NONNEG, POSITIVE, SEED
from theorysim.models.linear import Quadratic
from theorysim.setups import Setup, SweepSetup
from theorysim.setups.quadratic.task import make_quadratic


def _build(cfg):
    return make_quadratic(int(cfg["dim"]), float(cfg["kappa"]), float(cfg["lambda_max"]), int(cfg["problem_seed"]),
                          float(cfg["x_star_scale"]))[0]


SETUP = Setup(
    name="quadratic", doc=__doc__,
    sweeps=(SweepSetup("quadratic", {"dim": 20, "kappa": 10.0, "lambda_max": 1.0, "problem_seed": 0,
                                     "x_star_scale": 0.0}, _build, Quadratic,
                       doc="f(x) = 1/2 (x - x*)^T A (x - x*), log-spaced spectrum of condition number kappa",
                       bounds={"dim": Bound(2.0, integer=True), "kappa": AT_LEAST_ONE, "lambda_max": POSITIVE,
                               "problem_seed": SEED, "x_star_scale": NONNEG},
                       size=lambda k: (int(k["dim"]), 8 * (int(k["dim"]) ** 2 + 2 * int(k["dim"])),
                                       float(int(k["dim"])) ** 2)),),
)
