"""Statement kinds: what a check tests, its accepted region, and how the CI decides it.

Every check declares the **kind** of statement it tests (README, "How to read a verdict"):

=================  ==========================================================================
kind               helpers (region of the measured value)
=================  ==========================================================================
``value``          an exact value within a tolerance: :func:`relative`, :func:`absolute`,
                   :func:`interval` (a prediction that is a range), :func:`error_at_most` (an
                   identity measured as an error, predicted 0), :func:`equal`.
``upper_bound``    ``measured <= C`` with the paper's constant: :func:`upper_bound`; with an
                   unknown constant (an O statement), :func:`upper_bound_fitted`.
``lower_bound``    ``measured >= c``: :func:`lower_bound`; unknown constant (Omega):
                   :func:`lower_bound_fitted`.
``rate``           an order statement y = Theta(x^p): :func:`exponent`, the fitted exponent
                   within a band that comes from the statement and the grid (:data:`RATE_FACTOR`);
                   :func:`order_constant` (a Theta constant within that factor);
                   :func:`rate_at_least` / :func:`rate_at_most` (a rate bounded away from 0).
``monotone``       monotone in a parameter: :func:`increasing`, :func:`decreasing` (the
                   measurement is the smallest consecutive step in the stated direction);
                   :func:`falls_with` (a fitted slope below 0, for limit statements).
``distribution``   a distributional statement: :func:`not_rejected` (a test's p-value, and
                   the power the sample has).
=================  ==========================================================================

**The CI decides** (:meth:`Tolerance.judge`). A check whose measurement has a CI passes when
the whole CI (and the estimate) lies in the accepted region, fails when the whole CI lies
outside it, and is otherwise ``inconclusive``. For a one-sided region this is "the CI's end
nearer the boundary is inside" for a pass and "the far end is outside" for a fail. The estimate
must agree: inside for a pass, outside for a fail (a percentile CI of a max or an argmax can sit on
one side of its own estimate). A check without a CI (an exact or deterministic computation, stated in its ``no_ci``) is judged on its
value. A measurement that is not a finite number (NaN, infinity, empty) always fails, and is
marked ``invalid``, so that no expected failure can rest on it.

The constant rule for bounds with unknown constants (O, Omega)
--------------------------------------------------------------
An O(f) statement fixes no constant. The constant is fitted on a declared part of the grid (the
smaller sizes) as the largest (upper bound) or smallest (lower bound) ratio measured / f there,
and the check tests that it holds on the held-out rest: the measurement is
``max over held-out points of (measured / f) / C_fit`` (upper) or ``min ... / c_fit`` (lower),
computed by :func:`theorysim.fit.held_out_bound` with a bootstrap CI over seeds, and its region
is ``<= FITTED_SLACK`` (upper) or ``>= 1 / FITTED_SLACK`` (lower). ``FITTED_SLACK = 2``: a bound
that is tight (measured = Theta(f)) gives a ratio near 1 with noise, which a slack of 1 would
leave inconclusive for ever, while a measured quantity that outgrows f by more than a factor 2
over the held-out sizes fails. Log factors are part of f exactly as the formal statement has
them. Every bound check also needs a finite measurement (an infinite m* satisfies any lower
bound): the invalid rule above.

The band of an order statement
------------------------------
y = Theta(x^p) allows y / x^p to vary between two constants. Over a grid spanning
``span = x_max / x_min``, a ratio that varies by a factor ``RATE_FACTOR`` moves the fitted
log-log slope by at most ``ln(RATE_FACTOR) / ln(span)`` on two points, and by up to about 1.5 times
that on a dense grid (:func:`rate_band` computes the worst case for the fit's own grid); that is
the band (``RATE_FACTOR = 2``). A short grid gives a wide band, as it should: it cannot pin an
exponent. A growth comparison
against a bound's own growth is only for Theta statements; an O bound is tested by the constant
rule.

Monotone statements
-------------------
"y increases with x" is tested step by step: the measurement is the smallest consecutive step
(in the stated direction) of y over the ordered grid (:func:`theorysim.fit.smallest_step`), with a
bootstrap CI over seeds; the region is ``> 0`` (a flat sequence is not monotone). A decisive
reversal (the whole CI below 0) fails. The measurement's direction must be the statement's.

Distributional statements
-------------------------
A test that does not reject proves nothing unless it could have: :func:`not_rejected` passes when
``p >= alpha`` **and** the sample detects, with power :data:`POWER` at level ``alpha``, an effect
no larger than the statement's ``effect`` (the measurement's ``detectable``); it fails when
``p < alpha`` and is inconclusive when the test does not reject but lacks the power.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
from typing import Any, Mapping

KINDS = ("value", "upper_bound", "lower_bound", "rate", "monotone", "distribution")
OUTCOMES = ("pass", "fail", "inconclusive")

#: the factor by which a held-out ratio may exceed a fitted constant (the constant rule)
FITTED_SLACK = 2.0
#: the factor by which y / x^p may vary over the grid of an order statement
RATE_FACTOR = 2.0
#: the power at which :func:`not_rejected` asks for the detectable effect
POWER = 0.8

INF = math.inf
#: the smallest positive float: "> 0" as a closed region (a flat sequence is not monotone)
STRICT = 5e-324


@dataclass(frozen=True)
class Judgement:
    """The outcome of one check: ``pass``, ``fail`` or ``inconclusive``; ``invalid`` when the
    measurement is not a finite number; ``why`` in words; ``decide``: what would decide an
    inconclusive check."""

    outcome: str
    why: str
    invalid: bool = False
    decide: str = ""


@dataclass(frozen=True)
class Tolerance:
    """A statement kind with its accepted region (see the module docstring).

    ``rule`` says how the region is formed: ``relative`` (predicted +- value * abs(predicted)),
    ``absolute`` (predicted +- value), ``range`` ([lo, hi], independent of the prediction).
    ``params`` carries the kind's parameters for the JSON (constant, exponent, band, ...).
    """

    kind: str
    rule: str = "range"
    value: float = math.nan
    lo: float = -INF
    hi: float = INF
    text: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"tolerance kind {self.kind!r}: expected one of {', '.join(KINDS)}")
        if self.rule not in ("relative", "absolute", "range"):
            raise ValueError(f"tolerance rule {self.rule!r}: expected relative, absolute or range")
        # the direction is part of the kind: an upper bound's region is (-inf, C], a lower bound's
        # [c, inf); a lower bound wired as an upper one is refused here
        if self.kind == "upper_bound" and not (self.rule == "range" and self.lo == -INF and math.isfinite(self.hi)):
            raise ValueError(f"an upper bound's region is (-inf, C]: got [{self.lo}, {self.hi}]")
        if self.kind == "lower_bound" and not (self.rule == "range" and self.hi == INF and math.isfinite(self.lo)):
            raise ValueError(f"a lower bound's region is [c, inf): got [{self.lo}, {self.hi}]")
        if self.kind == "monotone" and self.params.get("direction") not in ("increasing", "decreasing"):
            raise ValueError("a monotone statement needs params['direction']: 'increasing' or 'decreasing'")

    # -- the accepted region -----------------------------------------------------------------
    def region(self, predicted) -> tuple[float, float]:
        """[lo, hi] of the measured value (infinite ends for one-sided kinds)."""
        if self.rule == "range":
            return self.lo, self.hi
        p = _number(predicted, "predicted")
        half = self.value * abs(p) if self.rule == "relative" else self.value
        return p - half, p + half

    def judge(self, predicted, measurement) -> Judgement:
        """The outcome of this statement on ``measurement`` (a
        :class:`~theorysim.claims.claim.Measurement`)."""
        x = measurement.value
        self._check_direction(measurement)
        if not _finite(x):
            return Judgement("fail", f"the measurement is {_show(x)}, not a finite number", invalid=True)
        x = float(x)
        lo, hi = self.region(predicted)
        inside = lo <= x <= hi
        if self.kind == "distribution":
            return self._judge_test(x, measurement)
        ci = measurement.ci
        if ci is None:
            why = f"{_show(x)} {'in' if inside else 'outside'} {_interval(lo, hi)} (no CI: {measurement.no_ci})"
            return Judgement("pass" if inside else "fail", why)
        c_lo, c_hi = (float(c) if _finite(c) else (-INF if i == 0 else INF) for i, c in enumerate(ci))
        if c_lo > c_hi:
            c_lo, c_hi = -INF, INF  # a reversed CI says nothing
        if inside and lo <= c_lo and c_hi <= hi:
            return Judgement("pass", f"CI [{_show(c_lo)}, {_show(c_hi)}] inside {_interval(lo, hi)}")
        if not inside and (c_hi < lo or c_lo > hi):
            return Judgement("fail", f"CI [{_show(c_lo)}, {_show(c_hi)}] outside {_interval(lo, hi)}")
        return Judgement("inconclusive", f"CI [{_show(c_lo)}, {_show(c_hi)}] overlaps the boundary of "
                                         f"{_interval(lo, hi)}", decide=_decide(x, (c_lo, c_hi), lo, hi, measurement))

    def _check_direction(self, m) -> None:
        """A monotone statement and its measurement must agree on the direction (a smallest step
        computed as an increase cannot test "decreasing"): a wiring error, refused."""
        said = (m.details or {}).get("direction") if isinstance(m.details, Mapping) else None
        if self.kind == "monotone" and said is not None and said != self.params["direction"]:
            raise ValueError(f"a {self.params['direction']} statement measured as {said}: the measurement's "
                             "direction must be the statement's")

    def _judge_test(self, p: float, m) -> Judgement:
        alpha, effect = self.params["alpha"], self.params["effect"]
        if p < alpha:
            return Judgement("fail", f"p = {_show(p)} < alpha = {alpha:g}: rejected")
        detectable = m.detectable
        if detectable is None or not _finite(detectable):
            return Judgement("inconclusive", f"p = {_show(p)} >= {alpha:g}, but the measurement states no "
                                             "detectable effect (power unknown)",
                             decide="state the smallest effect the sample detects")
        if detectable <= effect:
            return Judgement("pass", f"p = {_show(p)} >= {alpha:g}, and the sample detects an effect of "
                                     f"{_show(detectable)} <= {_show(effect)} with power {POWER:g}")
        n_more = "" if not m.n else f" (about {math.ceil(m.n * (detectable / effect) ** 2)} {m.unit or 'draws'})"
        return Judgement("inconclusive", f"p = {_show(p)} >= {alpha:g}, but the sample detects only effects "
                                         f">= {_show(detectable)} > {_show(effect)} with power {POWER:g}",
                         decide=f"more {m.unit or 'draws'}{n_more}")

    # -- words and data ------------------------------------------------------------------------
    def describe(self, predicted=None) -> str:
        """The region in words, e.g. ``rel 1%`` or ``upper bound <= 2 (fitted constant rule)``."""
        return self.text

    def to_json(self, predicted=None) -> dict:
        try:
            lo, hi = self.region(predicted)
        except ValueError:
            lo, hi = math.nan, math.nan
        out = {"kind": self.kind, "rule": self.rule, "text": self.describe(),
               "region": [_json_end(lo), _json_end(hi)], "params": {k: _json_end(v) if isinstance(v, float) else v
                                                                    for k, v in self.params.items()}}
        if self.rule != "range":
            out["value"] = self.value
        return out


# -- helpers ---------------------------------------------------------------------------------------

def _finite(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)) and math.isfinite(x)


def _number(x, name: str) -> float:
    if not _finite(x):
        raise ValueError(f"{name}={x!r}: expected a finite number")
    return float(x)


def _show(x) -> str:
    if isinstance(x, float) and math.isfinite(x):
        return f"{x:.4g}"
    return str(x)


def _json_end(x):
    return x if not isinstance(x, float) or math.isfinite(x) else None


def _interval(lo: float, hi: float) -> str:
    if lo == -INF:
        return f"<= {_show(hi)}"
    if hi == INF:
        return f">= {_show(lo)}"
    return f"[{_show(lo)}, {_show(hi)}]"


def _decide(x, ci, lo, hi, m) -> str:
    """What would decide an inconclusive check: more of what the CI is over (with an estimate
    where the CI shrinks like 1/sqrt(n)), or nothing."""
    if not m.shrinks:
        return f"not by more draws: a finer {m.ci_method}"
    gap = min(abs(x - b) for b in (lo, hi) if math.isfinite(b))
    half = max(x - ci[0], ci[1] - x)
    unit = m.unit or "draws"
    if gap <= 1e-12 * max(1.0, abs(x)):
        return f"cannot be decided by more {unit}: the estimate sits on the boundary"
    ratio = m.n * (half / gap) ** 2 if m.n else math.inf
    if not math.isfinite(ratio):
        return f"more {unit}"
    return f"more {unit}: about {math.ceil(ratio)} instead of {m.n} (the CI shrinks like 1/sqrt(n))"


def _pct(x: float) -> str:
    return f"{100 * x:.3g}%" if x >= 1e-4 else f"{x:.1e}"


def _nonneg(name: str, x: float) -> float:
    if not _finite(x) or x < 0:
        raise ValueError(f"tolerance {name}={x!r}: expected a finite number >= 0")
    return float(x)


# -- value: an exact value within a tolerance --------------------------------------------------------

def relative(r: float) -> Tolerance:
    """Exact value: ``|measured - predicted| <= r |predicted|``."""
    r = _nonneg("relative", r)
    return Tolerance("value", "relative", r, text=f"rel {_pct(r)}", params={"relative": r})


def absolute(a: float) -> Tolerance:
    """Exact value: ``|measured - predicted| <= a``."""
    a = _nonneg("absolute", a)
    return Tolerance("value", "absolute", a, text=f"abs {a:.3g}", params={"absolute": a})


def interval(lo: float, hi: float) -> Tolerance:
    """Exact value given as a range: ``lo <= measured <= hi`` (e.g. an argmax at 1 +- 0.1)."""
    if not (lo <= hi):
        raise ValueError(f"tolerance interval [{lo}, {hi}]: expected lo <= hi")
    return Tolerance("value", lo=float(lo), hi=float(hi), text=f"in [{lo:.4g}, {hi:.4g}]")


def error_at_most(e: float) -> Tolerance:
    """Exact identity measured as an error (predicted 0): ``measured <= e``."""
    e = _nonneg("error_at_most", e)
    return Tolerance("value", hi=e, text=f"error <= {e:.4g}", params={"error": e})


def equal() -> Tolerance:
    """Exact value, no tolerance: ``measured == predicted`` (integers, counts)."""
    return Tolerance("value", "absolute", 0.0, text="exact")


# -- bounds ------------------------------------------------------------------------------------------

def upper_bound(c: float, what: str = "") -> Tolerance:
    """An upper bound with a known constant: ``measured <= c`` (``measured`` is the bounded
    quantity, or its ratio to the bound with ``c`` the paper's constant)."""
    c = _number(c, "upper_bound")
    return Tolerance("upper_bound", hi=c, text=f"upper bound <= {c:.4g}" + (f" ({what})" if what else ""),
                     params={"constant": c, "constant_from": "given", **({"bound": what} if what else {})})


def lower_bound(c: float, what: str = "") -> Tolerance:
    """A lower bound with a known constant: ``measured >= c``."""
    c = _number(c, "lower_bound")
    return Tolerance("lower_bound", lo=c, text=f"lower bound >= {c:.4g}" + (f" ({what})" if what else ""),
                     params={"constant": c, "constant_from": "given", **({"bound": what} if what else {})})


def upper_bound_fitted(bound: str) -> Tolerance:
    """An O(``bound``) statement, constant unknown: the held-out worst ratio over the constant
    fitted on the declared part of the grid is at most :data:`FITTED_SLACK` (the constant rule;
    the measurement from :func:`theorysim.fit.held_out_bound`)."""
    return Tolerance("upper_bound", hi=FITTED_SLACK,
                     text=f"O({bound}): held-out ratio / fitted C <= {FITTED_SLACK:g}",
                     params={"bound": bound, "constant_from": "fitted", "slack": FITTED_SLACK})


def lower_bound_fitted(bound: str) -> Tolerance:
    """An Omega(``bound``) statement, constant unknown: the held-out smallest ratio over the
    constant fitted on the declared part is at least 1 / :data:`FITTED_SLACK`."""
    return Tolerance("lower_bound", lo=1.0 / FITTED_SLACK,
                     text=f"Omega({bound}): held-out ratio / fitted c >= {1 / FITTED_SLACK:g}",
                     params={"bound": bound, "constant_from": "fitted", "slack": FITTED_SLACK})


# -- rate: an order statement ------------------------------------------------------------------------

def rate_band(grid) -> float:
    """The band of an order statement's exponent on ``grid`` (the x values of the fit; a number is
    read as the span x_max / x_min of a two-point grid): the largest change of the least-squares
    log-log slope when y / x^p varies by a factor :data:`RATE_FACTOR`, i.e.
    ln(RATE_FACTOR) * 1/2 sum_i abs(u_i - mean u) / sum_i (u_i - mean u)^2 with u = ln x (the worst
    case puts the factor on the points above the mean of u, or below). Two points give
    ln(RATE_FACTOR) / ln(span); more points spread over the same span give a wider band."""
    if isinstance(grid, numbers.Real):
        if not _finite(grid) or grid <= 1:
            raise ValueError(f"span={grid!r}: expected x_max / x_min > 1")
        grid = [1.0, float(grid)]
    u = np.log(np.asarray(grid, dtype=np.float64))
    if u.ndim != 1 or len(u) < 2 or not np.all(np.isfinite(u)) or np.ptp(u) == 0:
        raise ValueError(f"grid={list(grid)!r}: expected at least two distinct positive x values")
    d = u - u.mean()
    return float(math.log(RATE_FACTOR) * 0.5 * np.abs(d).sum() / (d @ d))


def exponent(p: float, grid, what: str = "x") -> Tolerance:
    """y = Theta(``what``^p): the fitted log-log slope over ``grid`` (its x values, or the span of a
    two-point grid) within ``p +- rate_band(grid)``."""
    p = _number(p, "exponent")
    band = rate_band(grid)
    span = float(grid) if isinstance(grid, numbers.Real) else float(np.max(grid) / np.min(grid))
    return Tolerance("rate", lo=p - band, hi=p + band,
                     text=f"Theta({what}^{p:g}): slope in {p:g} +- {band:.3g}",
                     params={"exponent": p, "band": band, "span": span, "rate_factor": RATE_FACTOR,
                             **({} if isinstance(grid, numbers.Real) else {"grid": [float(x) for x in grid]})})


def order_constant(c: float, what: str) -> Tolerance:
    """The constant of an order statement y = Theta(c f(x)) measured as a slope or a ratio (e.g.
    "each layer computes roughly c iterations"): within the factor :data:`RATE_FACTOR` of ``c``,
    region [c / RATE_FACTOR, c RATE_FACTOR] (``c`` > 0)."""
    c = _number(c, "order_constant")
    if c <= 0:
        raise ValueError(f"order_constant={c!r}: expected a number > 0")
    lo, hi = c / RATE_FACTOR, c * RATE_FACTOR
    return Tolerance("rate", lo=lo, hi=hi, text=f"{what}: Theta({c:g}), in [{lo:.4g}, {hi:.4g}]",
                     params={"constant": c, "rate_factor": RATE_FACTOR, "what": what})


def rate_at_least(r: float, what: str) -> Tolerance:
    """An order statement bounded away from zero (e.g. linear convergence at a rate that does not
    vanish): ``measured >= r`` with ``r`` stated from the order, not fitted."""
    r = _number(r, "rate_at_least")
    return Tolerance("rate", lo=r, text=f"{what} >= {r:.4g}", params={"at_least": r, "what": what})


def rate_at_most(r: float, what: str) -> Tolerance:
    """An order statement bounded above (e.g. a rate's spread across a parameter it does not
    depend on): ``measured <= r``."""
    r = _number(r, "rate_at_most")
    return Tolerance("rate", hi=r, text=f"{what} <= {r:.4g}", params={"at_most": r, "what": what})


# -- monotone ------------------------------------------------------------------------------------------

def increasing(parameter: str) -> Tolerance:
    """Increasing in ``parameter``: the smallest consecutive increase is > 0."""
    return Tolerance("monotone", lo=STRICT, text=f"increasing in {parameter}: smallest step > 0",
                     params={"direction": "increasing", "parameter": parameter})


def decreasing(parameter: str) -> Tolerance:
    """Decreasing in ``parameter``: the smallest consecutive decrease is > 0."""
    return Tolerance("monotone", lo=STRICT, text=f"decreasing in {parameter}: smallest step > 0",
                     params={"direction": "decreasing", "parameter": parameter})


def falls_with(parameter: str, measure: str = "log-log slope") -> Tolerance:
    """A decreasing trend measured by a fitted slope (``measure``, e.g. the log-log slope of
    :func:`theorysim.fit.loglog_slope`), not by its smallest step: the slope's CI lies below 0. For
    limit statements ("y -> 0 as n grows"), which do not promise a fall at every step."""
    return Tolerance("monotone", hi=-STRICT, text=f"falls with {parameter}: {measure} < 0",
                     params={"direction": "decreasing", "parameter": parameter, "measure": measure})


def rank_correlation_at_least(rho: float, parameter: str) -> Tolerance:
    """A monotone trend measured by a rank correlation (Spearman) with ``parameter``: at least
    ``rho`` (1 for a strict trend on a deterministic sequence)."""
    rho = _number(rho, "rank_correlation_at_least")
    return Tolerance("monotone", lo=rho, text=f"Spearman rho with {parameter} >= {rho:g}",
                     params={"direction": "increasing", "parameter": parameter, "rho": rho})


def rank_correlation_at_most(rho: float, parameter: str) -> Tolerance:
    """A decreasing trend measured by a rank correlation with ``parameter``: at most ``rho``."""
    rho = _number(rho, "rank_correlation_at_most")
    return Tolerance("monotone", hi=rho, text=f"Spearman rho with {parameter} <= {rho:g}",
                     params={"direction": "decreasing", "parameter": parameter, "rho": rho})


# -- distribution ----------------------------------------------------------------------------------------

def not_rejected(alpha: float, effect: float, test: str) -> Tolerance:
    """A distributional statement tested by ``test``: the measured p-value is at least ``alpha``
    and the sample detects an effect of ``effect`` (in the test's own units, e.g. a standardised
    mean difference) with power :data:`POWER` (the measurement's ``detectable``)."""
    alpha = _number(alpha, "alpha")
    effect = _number(effect, "effect")
    if not 0 < alpha < 1:
        raise ValueError(f"tolerance alpha={alpha!r}: expected a number in (0, 1)")
    return Tolerance("distribution", lo=alpha, hi=1.0,
                     text=f"{test}: p >= {alpha:g}, detects {effect:g} with power {POWER:g}",
                     params={"alpha": alpha, "effect": effect, "power": POWER, "test": test})
