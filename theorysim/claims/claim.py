"""The claim record and its verdict (README, "Claims" and "Design").

A claim is data: an id ``"<paper-key>/<short-name>"``, the paper, the reference inside it
(theorem / equation / figure), a one-sentence statement, a quick and a full configuration, and
four functions::

    simulate(cfg)            -> results (anything; usually theorysim Results)
    predict(cfg)             -> value, or {check name: value}
    measure(cfg, results)    -> Measurement, or {check name: Measurement}
    plot(cfg, results, verdict) -> matplotlib Figure (optional)

with ``tolerance`` a :class:`~theorysim.claims.tolerance.Tolerance` or ``{check name: ...}``.
A claim with several checks passes when all pass; the first is the headline in tables.
``expect="fail"`` records a statement that the evidence (in ``note``) shows not to hold as
tested, and ``failing`` names the check(s) the evidence is about (``""`` is a single-check
claim's one check): the verdict is XFAIL when some of those fail and every other check passes,
XPASS when all pass, and FAIL when a check outside ``failing`` fails (a regression in a part of
the claim that holds).
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from theorysim.claims.figure import save_figure
from theorysim.core import config
from theorysim.claims.tolerance import Tolerance

MODES = ("quick", "full")


@dataclass(frozen=True)
class Paper:
    key: str
    title: str
    authors: str = ""
    year: int | None = None
    arxiv: str | None = None
    venue: str = ""

    def to_json(self) -> dict:
        return {"key": self.key, "title": self.title, "authors": self.authors, "year": self.year,
                "arxiv": self.arxiv, "venue": self.venue}

    def cite(self) -> str:
        where = f"arXiv:{self.arxiv}" if self.arxiv else self.venue
        return f"{self.authors} ({self.year}). {self.title}. {where}".strip()


@dataclass(frozen=True)
class Measurement:
    value: float
    ci: tuple[float, float] | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    #: a short qualifier shown with the value in tables (e.g. "3 of 4 seeds": what the value is over)
    label: str = ""


@dataclass(frozen=True)
class Check:
    name: str
    predicted: Any
    measured: Measurement
    tolerance: Tolerance
    passed: bool

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "predicted": _jsonable(self.predicted),
            "measured": _jsonable(self.measured.value),
            "ci": None if self.measured.ci is None else [_jsonable(c) for c in self.measured.ci],
            "tolerance": self.tolerance.describe(),
            "passed": bool(self.passed),
            "label": self.measured.label,
            "details": _jsonable(dict(self.measured.details)),
        }


@dataclass
class Verdict:
    claim: "Claim"
    mode: str
    checks: list[Check]
    seconds: float
    error: str | None = None
    figure: str | None = None
    #: why the figure could not be saved (the verdict stands: a figure never changes it)
    figure_error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def expected(self) -> str:
        return self.claim.expect

    @property
    def status(self) -> str:
        if self.error is not None:
            return "ERROR"
        if self.expected == "pass":
            return "PASS" if self.passed else "FAIL"
        if self.passed:
            return "XPASS"
        failed = {c.name for c in self.checks if not c.passed}
        return "XFAIL" if self.checks and failed <= set(self.claim.failing) else "FAIL"

    @property
    def unexpected(self) -> bool:
        """Counts against the exit code: a FAIL, an XPASS or an error."""
        return self.status in ("FAIL", "XPASS", "ERROR")

    @property
    def headline(self) -> Check | None:
        return self.checks[0] if self.checks else None

    def to_json(self) -> dict:
        head = self.headline
        c = self.claim
        return {
            "id": c.id,
            "paper": c.paper.to_json(),
            "reference": c.reference,
            "statement": c.statement,
            "predicted": None if head is None else _jsonable(head.predicted),
            "measured": None if head is None else _jsonable(head.measured.value),
            "ci": None if head is None or head.measured.ci is None else [_jsonable(x) for x in head.measured.ci],
            "tolerance": None if head is None else head.tolerance.describe(),
            "passed": bool(self.passed),
            "expected": c.expect,
            "seconds": round(self.seconds, 3),
            "mode": self.mode,
            "config": _jsonable(dict(c.config(self.mode))),
            "status": self.status,
            "checks": [ch.to_json() for ch in self.checks],
            "note": c.note,
            "error": self.error,
            **({"figure_error": self.figure_error} if self.figure_error else {}),
        }


@dataclass
class Claim:
    id: str
    paper: Paper
    reference: str
    statement: str
    quick: Mapping[str, Any]
    full: Mapping[str, Any]
    simulate: Callable[[Mapping[str, Any]], Any]
    predict: Callable[[Mapping[str, Any]], Any]
    measure: Callable[[Mapping[str, Any], Any], Any]
    tolerance: Tolerance | Mapping[str, Tolerance]
    plot: Callable[..., Any] | None = None
    expect: str = "pass"
    note: str = ""
    #: with expect="fail": the names of the checks expected to fail ("" for a single-check claim)
    failing: tuple[str, ...] = ()

    def __post_init__(self):
        key, _, short = self.id.partition("/")
        if not key or not short or key != self.paper.key:
            raise ValueError(f"claim id {self.id!r}: expected '<paper-key>/<short-name>' with paper key {self.paper.key!r}")
        if self.expect not in ("pass", "fail"):
            raise ValueError(f"claim {self.id}: expect={self.expect!r}: expected 'pass' or 'fail'")
        if self.expect == "fail" and not self.note:
            raise ValueError(f"claim {self.id}: expect='fail' needs the evidence in note")
        if self.expect == "fail" and not self.failing:
            raise ValueError(f"claim {self.id}: expect='fail' needs failing=(names of the checks expected to fail; "
                             "'' for a single-check claim)")
        if self.expect == "pass" and self.failing:
            raise ValueError(f"claim {self.id}: failing={self.failing!r} is only for expect='fail'")

    @property
    def paper_key(self) -> str:
        return self.paper.key

    def config(self, mode: str) -> Mapping[str, Any]:
        if mode not in MODES:
            raise ValueError(f"mode={mode!r}: expected one of {', '.join(MODES)}")
        return self.quick if mode == "quick" else self.full

    def evaluate(self, cfg: Mapping[str, Any], results: Any) -> list[Check]:
        predicted = self.predict(cfg)
        measured = self.measure(cfg, results)
        if isinstance(measured, Measurement):
            measured = {"": measured}
            predicted = {"": predicted}
        if not isinstance(self.tolerance, Tolerance):
            tolerances = self.tolerance
        else:
            tolerances = {name: self.tolerance for name in measured}
        missing = [n for n in measured if n not in predicted or n not in tolerances]
        if missing:
            raise ValueError(f"claim {self.id}: check {missing[0]!r} lacks a prediction or a tolerance")
        unknown = [n for n in self.failing if n not in measured]
        if unknown:
            raise ValueError(f"claim {self.id}: failing names check {unknown[0]!r}, which it does not measure; "
                             f"checks: {', '.join(map(repr, measured))}")
        checks = []
        for name, m in measured.items():
            tol = tolerances[name]
            checks.append(Check(name, predicted[name], m, tol, bool(tol.passed(predicted[name], m.value))))
        return checks

    def check(self, mode: str = "quick", figure_dir=None) -> Verdict:
        """Run the claim; with ``figure_dir``, also save its figure as ``<id>.png`` there."""
        cfg = self.config(mode)
        t0 = time.perf_counter()
        with config.one_blas_thread():  # the same bits on every machine (see one_blas_thread)
            results = self.simulate(cfg)
            checks = self.evaluate(cfg, results)
        verdict = Verdict(self, mode, checks, time.perf_counter() - t0)
        if figure_dir is not None and self.plot is not None:
            try:
                verdict.figure = save_figure(self, cfg, results, verdict, figure_dir)
            except Exception as err:  # the verdict is computed; a plot or a disk problem must not lose it
                verdict.figure_error = f"{err.__class__.__name__}: {err}".splitlines()[0]
        return verdict


#: every claim registered so far, by id (setups' claims modules register on import; the registry
#: module imports them all)
REGISTERED: dict[str, Claim] = {}
#: the module that registered each claim, by id (claims of one setup share its simulation caches)
REGISTERED_BY: dict[str, str] = {}


def register(claim: Claim) -> Claim:
    """Add a claim to :data:`REGISTERED` (its id must be new)."""
    if claim.id in REGISTERED and REGISTERED[claim.id] is not claim:
        raise ValueError(f"claim {claim.id!r} registered twice")
    REGISTERED[claim.id] = claim
    REGISTERED_BY[claim.id] = sys._getframe(1).f_globals.get("__name__", "")
    return claim


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else None
    return x
