"""``theorysim new setup NAME``: a working setup skeleton outside the package.

The skeleton is a folder of setups' member (``DIR/NAME/``, found through ``THEORYSIM_SETUPS=DIR`` or
``--setups-path DIR``) holding everything a setup holds in-tree: its problem (``task.py``), closed
form (``theory.py``), one claim with a CI under its own paper key (``claims/KEY.py``), its test
(``test_NAME.py``), a sweep declaration and a spec (``NAME.toml``) and a bench workload. As written it
passes ``theorysim check --claim KEY/gd-rate``; the claim is a textbook fact to replace with yours (GD
on a quadratic contracts its error by max_i abs(1 - eta lambda_i) per step).

What a plugin may rely on (versioned by :data:`PLUGIN_API`, raised on any incompatible change): the
``Setup`` / ``SweepSetup`` / ``Workload`` declarations, the Claim API (``Claim``, ``Measurement``,
``tol``, ``register``, ``fit``), the models' kernel signatures and data packing (``core.data``,
``core.layout``), ``config.jit`` and ``RunCache``.
"""
from __future__ import annotations

import keyword
import re
from pathlib import Path

#: the plugin contract's version: a setup written for it runs on every theorysim with the same major number
PLUGIN_API = "1.0"

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

INIT = '''"""{name}: GD on a diagonal quadratic (the skeleton of `theorysim new setup`; replace with your setup).

A theorysim setup outside the package (plugin API {api}): ``SETUP`` declares what a sweep spec's
``setup = "{name}"`` builds and the ``theorysim bench {name}-gd`` workload; ``claims/`` holds one module per
paper. Modules of this folder import each other relatively (``from . import task``).
"""
from theorysim.core.bounds import AT_LEAST_ONE, Bound
from theorysim.models.linear import Quadratic
from theorysim.setups import Setup, SweepSetup, Workload

from . import task


def _build(keys):
    return task.make_problem(int(keys["dim"]), float(keys["kappa"]))


def _bench(backend):
    from theorysim.engine.experiment import Experiment

    model = task.make_problem(50, 100.0)
    res = Experiment(model, "sgd", lr=1.0, steps=2000, seeds=range(64), record_every=2000, backend=backend,
                     progress=False).run()
    return {{"final_error": float(res.curve("error_norm")[:, -1].mean())}}, 2.0 * 50 * 2000 * 64


SETUP = Setup(
    name="{name}", doc=__doc__,
    sweeps=(SweepSetup("{name}", {{"dim": 20, "kappa": 10.0}}, _build, Quadratic,
                       bounds={{"dim": Bound(2.0, integer=True), "kappa": AT_LEAST_ONE}},
                       size=lambda k: (int(k["dim"]), 8 * (int(k["dim"]) ** 2 + 2 * int(k["dim"])),
                                       float(int(k["dim"])) ** 2),
                       doc="f(x) = 1/2 x^T A x, A diagonal with a log-spaced spectrum of condition number kappa"),),
    workloads=(Workload("{name}-gd", _bench, doc="GD on a 50-dimensional quadratic, 64 seeds x 2000 steps"),),
)
'''

TASK = '''"""The problem: f(x) = 1/2 x^T A x with A = diag(lambda), lambda log-spaced from 1 / kappa to 1."""
import numpy as np

from theorysim.models.linear import Quadratic


def spectrum(dim: int, kappa: float) -> np.ndarray:
    return np.geomspace(1.0 / kappa, 1.0, dim)


def make_problem(dim: int, kappa: float) -> Quadratic:
    return Quadratic(np.diag(spectrum(dim, kappa)))
'''

THEORY = '''"""Closed forms: GD with step eta on f(x) = 1/2 x^T A x has x_t = (I - eta A)^t x_0, so its error
contracts by rho(eta) = max_i |1 - eta lambda_i| per step once the slowest mode dominates."""
import numpy as np


def gd_rate(eig, eta: float) -> float:
    return float(np.max(np.abs(1.0 - eta * np.asarray(eig))))
'''

CLAIMS = '''"""Claims of {key}: replace the paper and the claim with yours (each check says its statement's kind)."""
from theorysim import fit
from theorysim.claims import Claim, Measurement, Paper, register, tol
from theorysim.engine.experiment import Experiment

from .. import task, theory

PAPER = Paper(
    key="{key}",
    title="Gradient descent on quadratics (textbook; replace with your paper's title)",
    authors="replace with the authors",
    year=2026,
)


def _simulate(cfg):
    model = task.make_problem(cfg["dim"], cfg["kappa"])
    return Experiment(model, "sgd", lr=cfg["eta"], steps=cfg["steps"], seeds=range(cfg["seeds"]),
                      record_every=cfg["record_every"]).run()


def _measure(cfg, res):
    window = (cfg["steps"] // 2, cfg["steps"])
    rate = fit.exp_rate(res.steps, res.curve("error_norm"), window)
    return Measurement.of_fit(rate.factor, what="per-step factor exp(slope) on [T/2, T]")


register(Claim(
    id="{key}/gd-rate",
    paper=PAPER,
    reference="GD on a quadratic: e_t = (I - eta A)^t e_0 (kind: exact value, a rate within 1%)",
    statement="GD's error contracts by max_i |1 - eta lambda_i| per step (fitted over the second half of the run, "
              "mean over seeds with its CI, within 1%).",
    quick={{"dim": 20, "kappa": 10.0, "eta": 1.0, "steps": 400, "record_every": 10, "seeds": 8}},
    full={{"dim": 50, "kappa": 100.0, "eta": 1.0, "steps": 4000, "record_every": 20, "seeds": 32}},
    simulate=_simulate,
    predict=lambda cfg: theory.gd_rate(task.spectrum(cfg["dim"], cfg["kappa"]), cfg["eta"]),
    measure=_measure,
    tolerance=tol.relative(0.01),
    note="The skeleton's claim: replace it with your paper's statement.",
))
'''

TEST = '''"""Tests of the {name} setup (run: THEORYSIM_SETUPS={folder} pytest {folder}/{name})."""
import numpy as np

from theorysim import setups
from theorysim.claims.registry import get_claim
from theorysim.claims.runner import check_one


def test_the_setup_is_found():
    assert "{name}" in setups.sweep_setups() and "{name}-gd" in setups.workloads()


def test_the_claim_passes():
    verdict = check_one(get_claim("{key}/gd-rate"), "quick")
    assert verdict.status == "PASS", verdict.checks
    assert np.isfinite(verdict.checks[0].measured.value)
'''

SPEC = '''# A sweep of the {name} setup: GD's final error over step sizes and seeds.
#   THEORYSIM_SETUPS={folder} theorysim sweep {name}/{name}.toml --executor serial
seeds = 4

[experiment]
setup = "{name}"
dim = 20
kappa = 10.0
optimizer = "sgd"
steps = 400
record_every = 20

[grid]
lr = [0.5, 1.0, 1.5]
'''


def check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or keyword.iskeyword(name):
        raise ValueError(f"{what} {str(name)[:60]!r}: expected a lower-case identifier (letters, digits, _; "
                         "starting with a letter; at most 40 characters)")
    return name


def new_setup(name: str, paper: str | None = None, folder=".") -> Path:
    """Write the skeleton of setup ``name`` (claims under paper key ``paper``, default ``name``) into
    ``folder/name``; refuses a name or key a setup or paper already uses, and an existing folder."""
    from theorysim import setups
    from theorysim.claims import registry

    check_name(name, "NAME")
    key = check_name(paper or name, "--paper")
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"--dir {str(folder)[:200]}: not a folder")
    target = folder / name
    if target.exists():
        raise ValueError(f"{str(target)[:200]}: already exists; choose another NAME or --dir")
    known = setups.sources()
    if name in known:
        raise ValueError(f"NAME {name!r}: a setup of that name exists ({known[name].origin})")
    if key in registry.papers():
        raise ValueError(f"--paper {key!r}: a paper key theorysim already has; choose your own")
    values = {"name": name, "key": key, "api": PLUGIN_API, "folder": str(folder.resolve())}
    files = {"__init__.py": INIT, "task.py": TASK, "theory.py": THEORY, "claims/__init__.py": "",
             f"claims/{key}.py": CLAIMS, f"test_{name}.py": TEST, f"{name}.toml": SPEC}
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(**values) if text else "")
    return target
