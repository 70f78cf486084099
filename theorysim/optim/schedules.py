"""Learning-rate schedules as per-step multiplier arrays.

A schedule of length T gives the factor ``s[t-1]`` applied at update t (t = 1..T), i.e. the
learning rate of update t is ``lr * s[t-1]``, evaluated at count ``t - 1`` as optax and torch do
(optax's count starts at 0; torch's scheduler steps after the optimizer). Factors are relative to
the member's ``lr`` (the peak for warmup schedules).
"""
from __future__ import annotations

import numpy as np

KINDS = ("constant", "step", "linear", "cosine", "warmup_linear", "warmup_cosine")


def _count(steps: int) -> np.ndarray:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps={steps!r}: expected a positive integer")
    return np.arange(int(steps), dtype=np.float64)


def _factor(name: str, value) -> float:
    """A schedule's factor option: a finite number >= 0 (a negative factor turns descent into
    ascent; NaN or infinity would read as a divergence)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}={value!r}: expected a finite number >= 0")
    return float(value)


def constant(steps: int) -> np.ndarray:
    return np.ones(len(_count(steps)))


def step(steps: int, step_size: int, gamma: float = 0.1) -> np.ndarray:
    """torch StepLR: factor gamma ** floor(count / step_size)."""
    c = _count(steps)
    if not isinstance(step_size, (int, np.integer)) or step_size < 1:
        raise ValueError(f"step_size={step_size!r}: expected a positive integer")
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.integer, np.floating)) or not (0.0 < gamma <= 1.0):
        raise ValueError(f"gamma={gamma!r}: expected a number in (0, 1]")
    return gamma ** np.floor(c / step_size)


def linear(steps: int, end_factor: float = 0.0) -> np.ndarray:
    """Linear decay 1 -> end_factor over the run: 1 - (1 - end) * count / T (Defazio et al. 2023)."""
    c = _count(steps)
    end_factor = _factor("end_factor", end_factor)
    return 1.0 - (1.0 - end_factor) * c / len(c)


def cosine(steps: int, alpha: float = 0.0) -> np.ndarray:
    """optax cosine_decay_schedule: (1 - alpha) * (1 + cos(pi * count / T)) / 2 + alpha."""
    c = _count(steps)
    alpha = _factor("alpha", alpha)
    return (1.0 - alpha) * 0.5 * (1.0 + np.cos(np.pi * c / len(c))) + alpha


def _warmup(steps: int, warmup: int, tail) -> np.ndarray:
    c = _count(steps)
    if not isinstance(warmup, (int, np.integer)) or not (0 <= warmup < len(c)):
        raise ValueError(f"warmup={warmup!r}: expected an integer in [0, steps)")
    out = np.empty(len(c))
    out[:warmup] = c[:warmup] / max(warmup, 1)
    rest = len(c) - warmup
    out[warmup:] = tail(np.arange(rest, dtype=np.float64), rest)
    return out


def warmup_linear(steps: int, warmup: int) -> np.ndarray:
    """Linear warmup 0 -> 1 over ``warmup`` updates, then linear decay to 0 over the rest."""
    return _warmup(steps, warmup, lambda c, n: 1.0 - c / n)


def warmup_cosine(steps: int, warmup: int, alpha: float = 0.0) -> np.ndarray:
    """optax warmup_cosine_decay_schedule (init 0, decay over steps - warmup)."""
    alpha = _factor("alpha", alpha)
    return _warmup(steps, warmup, lambda c, n: (1.0 - alpha) * 0.5 * (1.0 + np.cos(np.pi * c / n)) + alpha)


def build(spec, steps: int) -> np.ndarray:
    """A schedule from a name, a ``{"kind": ..., **options}`` dict or an explicit array."""
    if spec is None:
        return constant(steps)
    if isinstance(spec, str):
        spec = {"kind": spec}
    if isinstance(spec, dict):
        options = dict(spec)
        kind = options.pop("kind", None)
        if kind not in KINDS:
            raise ValueError(f"schedule kind={kind!r}: expected one of {', '.join(KINDS)}")
        try:
            return globals()[kind](steps, **options)
        except TypeError as err:
            raise ValueError(f"schedule {kind!r}: {err}") from None
    raw = np.asarray(spec)
    if np.iscomplexobj(raw) or (raw.dtype == object and any(isinstance(v, complex) for v in raw.ravel())):
        raise ValueError("schedule: an explicit array must be real, got complex values")
    arr = np.asarray(spec, dtype=np.float64)
    if arr.shape != (steps,) or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(
            f"schedule: an explicit array must have shape ({steps},) with finite values >= 0, got shape {arr.shape}"
        )
    return arr
