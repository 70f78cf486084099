"""Valid values of hyperparameters and model settings: real intervals, integer ranges, booleans,
named choices. Every layer validates through these, so a bad value always raises the same
one-line ``ValueError`` naming the field, the value and what is allowed."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Bound:
    """Valid values of one hyperparameter: a real interval, an integer range, a boolean, or a
    set of named choices (stored in the kernel row as the mapped number)."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False
    boolean: bool = False
    integer: bool = False
    choices: tuple = ()  # ((value, code), ...)

    def describe(self) -> str:
        if self.boolean:
            return "True or False"
        if self.choices:
            return "one of " + ", ".join(repr(v) for v, _ in self.choices)
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        kind = "an integer" if self.integer else "a finite number"
        return f"{kind} in {left}{self.lo:g}, {self.hi:g}{right}"

    def check(self, field_name: str, value) -> float:
        if self.choices:
            for v, code in self.choices:
                if type(v) is type(value) and v == value:
                    return float(code)
                if isinstance(v, (int, float)) and not isinstance(v, bool) and isinstance(
                    value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)) and v == value:
                    return float(code)
            raise ValueError(f"{field_name}={value!r}: expected {self.describe()}")
        if self.boolean:
            if isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer)) and value in (0, 1)):
                return float(bool(value))
            raise ValueError(f"{field_name}={value!r}: expected {self.describe()}")
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{field_name}={value!r}: expected {self.describe()}")
        v = float(value)
        ok = math.isfinite(v)
        ok = ok and (v > self.lo if self.lo_open else v >= self.lo)
        ok = ok and (v < self.hi if self.hi_open else v <= self.hi)
        ok = ok and (not self.integer or v == int(v))
        if not ok:
            raise ValueError(f"{field_name}={value!r}: expected {self.describe()}")
        return v


NONNEG = Bound(0.0)
UNIT = Bound(0.0, 1.0)
UNIT_OPEN_HI = Bound(0.0, 1.0, hi_open=True)
POSITIVE = Bound(0.0, lo_open=True)
BOOL = Bound(boolean=True)
BETA = Bound(0.0, 1.0, hi_open=True)
FRACTION = Bound(0.0, 1.0, hi_open=True)
COUNT = Bound(1.0, integer=True)          # a size: 1, 2, ...
COUNT0 = Bound(0.0, integer=True)         # a size where 0 means "none" or "the population"
SEED = Bound(0.0, 2.0**63 - 1, integer=True)
AT_LEAST_ONE = Bound(1.0)                 # a condition number
