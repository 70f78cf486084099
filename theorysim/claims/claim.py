"""The claim record and its verdict (README, "How to read a verdict").

A claim is data: an id ``"<paper-key>/<short-name>"``, the paper, the reference inside it
(theorem / equation / figure), a one-sentence statement, a quick and a full configuration, and
four functions::

    simulate(cfg)            -> results (anything; usually theorysim Results)
    predict(cfg)             -> value, or {check name: value}
    measure(cfg, results)    -> Measurement, or {check name: Measurement}
    plot(cfg, results, verdict) -> matplotlib Figure (optional)

with ``tolerance`` a :class:`~theorysim.claims.tolerance.Tolerance` (the statement kind and its
accepted region) or ``{check name: ...}``. Each check is judged by its CI
(:meth:`~theorysim.claims.tolerance.Tolerance.judge`: pass, fail or inconclusive); the first
check is the headline in tables.

Claim status: for ``expect="pass"`` PASS when every check passes, FAIL when any fails, else
INCONCLUSIVE. ``expect="fail"`` records a statement that the evidence (in ``note``) shows not to
hold as tested; ``failing`` names the check(s) the evidence is about and ``expected_failure``
its class (:func:`regime` or :func:`reconstruction`). It is XFAIL when a check in ``failing``
fails decisively and every check outside it (at least one: the simulation ran and shows the
mechanism) passes; FAIL when a check outside ``failing`` fails or any measurement is not a
finite number; XPASS when all pass; else INCONCLUSIVE. An ``exploratory`` claim (a statement the
paper does not make) is judged like ``expect="pass"`` but listed apart and never counted in
the exit code; ``inconclusive_ok`` names the modes where INCONCLUSIVE is acceptable.
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
from theorysim.claims.tolerance import Judgement, Tolerance

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
    """A measured value, with its CI and how the CI was made, or why it has none.

    ``ci``: ``(lo, hi)`` at level ``ci_level``, made by ``ci_method`` over ``n`` ``unit`` values
    (e.g. "BCa bootstrap", 8, "seeds"); ``shrinks``: whether more ``unit`` values narrow the CI
    like 1/sqrt(n) (a bisection bracket or a range over a fixed grid does not). Without a CI,
    ``no_ci`` says why there is none (an exact computation, a deterministic run). ``detectable``:
    for a distributional test, the smallest effect the sample detects with the stated power.
    The constructors :meth:`mean_over`, :meth:`of_fit`, :meth:`share` and :meth:`exact` fill
    these in.
    """

    value: float
    ci: tuple[float, float] | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    #: a short qualifier shown with the value in tables (e.g. "3 of 4 seeds": what the value is over)
    label: str = ""
    ci_method: str = ""
    ci_level: float = 0.95
    n: int | None = None
    unit: str = ""
    shrinks: bool = True
    no_ci: str = ""
    detectable: float | None = None

    def __post_init__(self):
        if self.ci is not None and not self.ci_method:
            raise ValueError("Measurement with a CI needs ci_method (how the CI was made) and n (over how many)")
        if self.ci is None and not self.no_ci:
            raise ValueError("Measurement without a CI needs no_ci: why it has none (e.g. 'exact computation')")

    @classmethod
    def mean_over(cls, values, unit: str = "seeds", label: str = "", details: Mapping[str, Any] | None = None,
                  confidence: float = 0.95) -> "Measurement":
        """The mean of per-``unit`` values with a BCa bootstrap CI (:func:`theorysim.fit.mean_ci`);
        non-finite values make the measurement NaN (never silently dropped)."""
        from theorysim import fit

        v = np.asarray(values, dtype=np.float64).ravel()
        if v.size == 0 or not np.all(np.isfinite(v)):
            bad = int(v.size - np.isfinite(v).sum())
            return cls(math.nan, None, {**(details or {}), "values": v.tolist()}, label,
                       no_ci=f"{bad} of {v.size} {unit} not finite" if v.size else f"no {unit}")
        mean, ci = fit.mean_ci(v, confidence)
        if ci is None:
            return cls(mean, None, dict(details or {}), label, no_ci=f"one {unit.rstrip('s')} only")
        return cls(mean, ci, dict(details or {}), label, ci_method="BCa bootstrap of the mean", ci_level=confidence,
                   n=int(v.size), unit=unit)

    @classmethod
    def of_fit(cls, seed_fit, unit: str = "seeds", label: str = "", details: Mapping[str, Any] | None = None,
               what: str = "fit") -> "Measurement":
        """A :class:`theorysim.fit.SeedFit` (a statistic fitted per seed, its mean and CI)."""
        n = int(np.size(seed_fit.per_seed))
        if seed_fit.ci is None:
            return cls(seed_fit.estimate, None, dict(details or {}), label, no_ci=f"one {unit.rstrip('s')} only")
        return cls(seed_fit.estimate, seed_fit.ci, dict(details or {}), label,
                   ci_method=f"BCa bootstrap of the mean per-{unit.rstrip('s')} {what}", n=n, unit=unit)

    @classmethod
    def of_grid(cls, stat, label: str = "", details: Mapping[str, Any] | None = None) -> "Measurement":
        """A :class:`theorysim.fit.GridStatistic` (a statistic over a grid of points, each with
        seeds; its CI a percentile bootstrap resampling each point's seeds)."""
        info = {**stat.parts, **(details or {})}
        if stat.ci is None:
            why = (f"{stat.parts['not_finite']} values not finite" if "not_finite" in stat.parts
                   else "one seed per grid point")
            return cls(stat.estimate, None, info, label, no_ci=why)
        method = ("expanded percentile bootstrap over seeds, paired across points" if stat.parts.get("paired")
                  else "expanded percentile bootstrap over each point's seeds")
        return cls(stat.estimate, stat.ci, info, label, ci_method=method, n=stat.n, unit="seeds per point")

    @classmethod
    def share(cls, k: int, n: int, unit: str = "draws", label: str = "", details: Mapping[str, Any] | None = None,
              confidence: float = 0.95) -> "Measurement":
        """The share k / n with its exact (Clopper-Pearson) CI."""
        from scipy import stats

        if n <= 0:
            return cls(math.nan, None, dict(details or {}), label, no_ci=f"no {unit}")
        ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence)
        return cls(k / n, (float(ci.low), float(ci.high)), dict(details or {}), label or f"{k} of {n} {unit}",
                   ci_method="Clopper-Pearson", ci_level=confidence, n=int(n), unit=unit)

    @classmethod
    def t_mean(cls, values, unit: str = "seeds", label: str = "", details: Mapping[str, Any] | None = None,
               confidence: float = 0.95) -> "Measurement":
        """The mean of per-``unit`` values with a Student t interval (for few values, where a
        bootstrap's CI is too narrow); non-finite values make the measurement NaN."""
        from scipy import stats

        v = np.asarray(values, dtype=np.float64).ravel()
        if v.size < 2 or not np.all(np.isfinite(v)):
            bad = int(v.size - np.isfinite(v).sum())
            return cls(math.nan if bad or v.size == 0 else float(v.mean()), None, dict(details or {}), label,
                       no_ci=f"{bad} of {v.size} {unit} not finite" if bad else f"{v.size} {unit}: no t interval")
        mean = float(v.mean())
        half = float(stats.t.ppf(0.5 + confidence / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
        return cls(mean, (mean - half, mean + half), dict(details or {}), label, ci_method="Student t interval of the mean",
                   ci_level=confidence, n=int(v.size), unit=unit)

    @classmethod
    def control_variate(cls, values, controls, unit: str = "draws", label: str = "",
                        details: Mapping[str, Any] | None = None, confidence: float = 0.95,
                        controls_are: str = "") -> "Measurement":
        """The mean of per-``unit`` values corrected by control variates of known mean 0
        (:func:`theorysim.fit.control_variate_mean`): the same expectation as the plain mean, a
        narrower t interval; ``controls_are`` names them for the record."""
        from theorysim import fit

        est, ci, n = fit.control_variate_mean(values, controls, confidence)
        info = {**(details or {}), "plain mean": float(np.mean(values))}
        if ci is None:
            return cls(est, None, info, label, no_ci=f"not finite over {n} {unit}")
        method = "control-variate regression, t interval of the intercept" + (f" ({controls_are})" if controls_are else "")
        return cls(est, ci, info, label, ci_method=method, ci_level=confidence, n=n, unit=unit)

    @classmethod
    def bracket(cls, value, lo, hi, what: str, label: str = "", details: Mapping[str, Any] | None = None
                ) -> "Measurement":
        """A deterministic bracket [lo, hi] around ``value`` (a bisection's last interval, a grid's
        neighbouring points): shown as the CI, and no number of draws narrows it (``what``: how
        it was made)."""
        return cls(value, (float(lo), float(hi)), dict(details or {}), label, ci_method=what, ci_level=1.0,
                   shrinks=False, unit="grid points")

    @classmethod
    def exact(cls, value, why: str, label: str = "", details: Mapping[str, Any] | None = None) -> "Measurement":
        """A value without a CI, and why it needs none (``why``: e.g. "deterministic: one run of a
        noise-free recursion")."""
        return cls(value, None, dict(details or {}), label, no_ci=why)


@dataclass(frozen=True)
class ExpectedFailure:
    """Why an ``expect="fail"`` claim fails (README, "How to read a verdict").

    ``cls``: ``"regime"`` (the paper's statement does not hold in the tested regime; ``reason``
    names the assumption or regime) or ``"reconstruction"`` (the claim runs our reconstruction
    of something the paper does not give: its algorithm, distribution or constants; the failure
    is the reconstruction's and never counts against the paper)."""

    cls: str
    reason: str

    def __post_init__(self):
        if self.cls not in ("regime", "reconstruction"):
            raise ValueError(f"expected failure class {self.cls!r}: expected 'regime' or 'reconstruction'")
        if not self.reason:
            raise ValueError("an expected failure needs its reason (the assumption, regime or reconstruction)")

    def to_json(self) -> dict:
        return {"class": self.cls, "reason": self.reason}


def regime(reason: str) -> ExpectedFailure:
    """The statement does not hold in the tested regime: ``reason`` names the assumption."""
    return ExpectedFailure("regime", reason)


def reconstruction(reason: str) -> ExpectedFailure:
    """The failure is our reconstruction's (``reason``: what the paper does not give us)."""
    return ExpectedFailure("reconstruction", reason)


@dataclass(frozen=True)
class Check:
    name: str
    predicted: Any
    measured: Measurement
    tolerance: Tolerance
    judgement: Judgement

    @property
    def outcome(self) -> str:
        return self.judgement.outcome

    @property
    def passed(self) -> bool:
        return self.judgement.outcome == "pass"

    @property
    def invalid(self) -> bool:
        return self.judgement.invalid

    def to_json(self) -> dict:
        m = self.measured
        return {
            "name": self.name,
            "kind": self.tolerance.kind,
            "predicted": _jsonable(self.predicted),
            "measured": _jsonable(m.value),
            "ci": None if m.ci is None else [_jsonable(c) for c in m.ci],
            "ci_method": m.ci_method or None,
            "ci_level": m.ci_level if m.ci is not None else None,
            "n": m.n,
            "unit": m.unit or None,
            "no_ci": m.no_ci or None,
            "detectable": _jsonable(m.detectable),
            "tolerance": self.tolerance.describe(),
            "statement": _jsonable(self.tolerance.to_json(self.predicted)),
            "region": _jsonable(self.tolerance.to_json(self.predicted)["region"]),
            "outcome": self.outcome,
            "why": self.judgement.why,
            "decide": self.judgement.decide or None,
            "invalid": self.invalid,
            "passed": bool(self.passed),
            "label": m.label,
            "details": _jsonable(dict(m.details)),
        }


#: the version of the JSON each verdict is written in (2: statement kinds, outcomes, INCONCLUSIVE)
SCHEMA_VERSION = 2
STATUSES = ("PASS", "FAIL", "XFAIL", "XPASS", "INCONCLUSIVE", "ERROR")


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
        """The raw outcome: every check passed."""
        return self.error is None and bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def expected(self) -> str:
        return self.claim.expect

    @property
    def status(self) -> str:
        """PASS / FAIL / INCONCLUSIVE for ``expect="pass"`` (and exploratory claims); XFAIL / XPASS
        / FAIL / INCONCLUSIVE for ``expect="fail"`` (README, "How to read a verdict")."""
        if self.error is not None:
            return "ERROR"
        if not self.checks:
            return "ERROR"
        outcomes = [c.outcome for c in self.checks]
        if self.expected == "pass":
            if "fail" in outcomes:
                return "FAIL"
            return "PASS" if all(o == "pass" for o in outcomes) else "INCONCLUSIVE"
        if any(c.invalid for c in self.checks):
            return "FAIL"  # a NaN / infinite / empty measurement is never an expected failure
        failing = set(self.claim.failing)
        outside = [c for c in self.checks if c.name not in failing]
        inside = [c for c in self.checks if c.name in failing]
        if any(c.outcome == "fail" for c in outside):
            return "FAIL"
        if all(o == "pass" for o in outcomes):
            return "XPASS"
        if outside and all(c.passed for c in outside) and any(c.outcome == "fail" for c in inside):
            return "XFAIL"
        return "INCONCLUSIVE"

    @property
    def inconclusive_ok(self) -> bool:
        """INCONCLUSIVE was declared acceptable in this mode (``Claim.inconclusive_ok``)."""
        return self.mode in self.claim.inconclusive_ok

    @property
    def unexpected(self) -> bool:
        """Counts against the exit code: a FAIL, an XPASS, an error, or an undeclared INCONCLUSIVE;
        for an exploratory claim only an error (a crash is the software's, whatever the claim)."""
        if self.claim is not None and self.claim.exploratory and self.error is None:
            return False
        s = self.status
        return s in ("FAIL", "XPASS", "ERROR") or (s == "INCONCLUSIVE" and not self.inconclusive_ok)

    @property
    def headline(self) -> Check | None:
        return self.checks[0] if self.checks else None

    def to_json(self) -> dict:
        head = self.headline
        c = self.claim
        return {
            "schema_version": SCHEMA_VERSION,
            "id": c.id,
            "paper": c.paper.to_json(),
            "reference": c.reference,
            "statement": c.statement,
            "predicted": None if head is None else _jsonable(head.predicted),
            "measured": None if head is None else _jsonable(head.measured.value),
            "ci": None if head is None or head.measured.ci is None else [_jsonable(x) for x in head.measured.ci],
            "tolerance": None if head is None else head.tolerance.describe(),
            "kind": None if head is None else head.tolerance.kind,
            "passed": bool(self.passed),
            "expected": c.expect,
            "exploratory": c.exploratory or None,
            "reconstruction": c.reconstruction or None,
            "expected_failure": None if c.expected_failure is None else c.expected_failure.to_json(),
            "inconclusive_ok": dict(c.inconclusive_ok),
            "unexpected": bool(self.unexpected),
            "seconds": round(self.seconds, 3),
            "mode": self.mode,
            "config": _jsonable(dict(c.config(self.mode))),
            "status": self.status,
            "checks": [ch.to_json() for ch in self.checks],
            "note": c.note,
            "error": self.error,
            **({"figure": self.figure} if self.figure else {}),
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
    #: with expect="fail": why (:func:`regime` or :func:`reconstruction`)
    expected_failure: ExpectedFailure | None = None
    #: a statement the paper does not make (ours: a stronger reading, a side observation): listed
    #: apart, not in the paper's tally, never affecting the exit code; the text says what it is
    exploratory: str = ""
    #: modes in which INCONCLUSIVE is acceptable, each with the reason (e.g. {"quick": "5 draws"})
    inconclusive_ok: Mapping[str, str] = field(default_factory=dict)
    #: the claim runs our reconstruction of something the paper does not give (its algorithm,
    #: distribution or constants): what it reconstructs. Its verdict is shown as the
    #: reconstruction's (e.g. PASS:reconstruction) and never counts against the paper
    reconstruction: str = ""

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
        if self.expect == "fail" and "" in self.failing:
            raise ValueError(f"claim {self.id}: expect='fail' needs a check outside failing that passes (the "
                             "simulation ran and shows the mechanism), so a single-check claim cannot be an "
                             "expected failure")
        if self.expect == "fail" and not isinstance(self.expected_failure, ExpectedFailure):
            raise ValueError(f"claim {self.id}: expect='fail' needs expected_failure=regime('...') or "
                             "reconstruction('...')")
        if self.expect == "pass" and (self.failing or self.expected_failure is not None):
            raise ValueError(f"claim {self.id}: failing / expected_failure are only for expect='fail'")
        if (self.expected_failure is not None and self.expected_failure.cls == "reconstruction"
                and not self.reconstruction):
            object.__setattr__(self, "reconstruction", self.expected_failure.reason)
        if self.exploratory and self.expect == "fail":
            raise ValueError(f"claim {self.id}: an exploratory claim is judged as stated (expect='pass')")
        bad = [m for m in self.inconclusive_ok if m not in MODES or not self.inconclusive_ok[m]]
        if bad:
            raise ValueError(f"claim {self.id}: inconclusive_ok={dict(self.inconclusive_ok)!r}: expected "
                             f"{{mode: reason}} with modes in {MODES}")

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
        if self.expect == "fail" and not [n for n in measured if n not in self.failing]:
            raise ValueError(f"claim {self.id}: every check is in failing; an expected failure needs a check "
                             "outside it that passes")
        checks = []
        for name, m in measured.items():
            if not isinstance(m, Measurement):
                raise ValueError(f"claim {self.id}: check {name!r} measured {type(m).__name__}, expected a Measurement")
            tol = tolerances[name]
            checks.append(Check(name, predicted[name], m, tol, tol.judge(predicted[name], m)))
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
