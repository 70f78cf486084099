"""Tolerance rules: when does a measured value agree with the prediction?

Each rule judges the point estimate; the CI is reported beside it (and a claim that needs the
statistical error to be small checks that as a separate line, e.g. :func:`at_most` on the CI
half-width).
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    kind: str
    value: float = math.nan
    lo: float = math.nan
    hi: float = math.nan

    def passed(self, predicted, measured: float) -> bool:
        if measured is None or not isinstance(measured, (int, float)) or not math.isfinite(measured):
            return False
        if self.kind == "relative":
            return abs(measured - predicted) <= self.value * abs(predicted)
        if self.kind == "absolute":
            return abs(measured - predicted) <= self.value
        if self.kind == "interval":
            return self.lo <= measured <= self.hi
        if self.kind == "at_most":
            return measured <= self.value
        if self.kind == "at_least":
            return measured >= self.value
        if self.kind == "equal":
            return measured == predicted
        raise ValueError(f"tolerance kind {self.kind!r}: unknown")

    def describe(self) -> str:
        if self.kind == "relative":
            return f"rel {_pct(self.value)}"
        if self.kind == "absolute":
            return f"abs {self.value:.3g}"
        if self.kind == "interval":
            return f"in [{self.lo:.4g}, {self.hi:.4g}]"
        if self.kind == "at_most":
            return f"<= {self.value:.4g}"
        if self.kind == "at_least":
            return f">= {self.value:.4g}"
        return "exact"

    def to_json(self) -> dict:
        out = {"kind": self.kind, "text": self.describe()}
        if self.kind in ("relative", "absolute", "at_most", "at_least"):
            out["value"] = self.value
        if self.kind == "interval":
            out["lo"], out["hi"] = self.lo, self.hi
        return out


def _pct(x: float) -> str:
    return f"{100 * x:.3g}%" if x >= 1e-4 else f"{x:.1e}"


def _positive(name: str, x: float) -> float:
    if not isinstance(x, (int, float)) or not math.isfinite(x) or x < 0:
        raise ValueError(f"tolerance {name}={x!r}: expected a finite number >= 0")
    return float(x)


def relative(r: float) -> Tolerance:
    """|measured - predicted| <= r |predicted|."""
    return Tolerance("relative", _positive("relative", r))


def absolute(a: float) -> Tolerance:
    """|measured - predicted| <= a."""
    return Tolerance("absolute", _positive("absolute", a))


def interval(lo: float, hi: float) -> Tolerance:
    """lo <= measured <= hi (the prediction is a range, e.g. a slope near -1)."""
    if not (lo <= hi):
        raise ValueError(f"tolerance interval [{lo}, {hi}]: expected lo <= hi")
    return Tolerance("interval", lo=float(lo), hi=float(hi))


def at_most(x: float) -> Tolerance:
    return Tolerance("at_most", float(x))


def at_least(x: float) -> Tolerance:
    return Tolerance("at_least", float(x))


def equal() -> Tolerance:
    return Tolerance("equal")
