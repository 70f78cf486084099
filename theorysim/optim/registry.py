"""Optimizer names -> specs (rule id, defaults, valid ranges, state size) and the contract API.

``make(name, **hyper)`` validates every hyperparameter (a bad one raises ``ValueError`` naming
the field, the value and what is allowed) and returns an :class:`Optimizer` whose ``step`` runs
the very same Numba rule as the ensemble engine.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from theorysim.core.layout import Layout
from theorysim.optim import rules, slots


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
STEPS = Bound(0.0, 100.0, integer=True)
FRACTION = Bound(0.0, 1.0, hi_open=True)
AMSGRAD = Bound(choices=((False, 0), (True, 1), ("torch", 1), ("optax", 2)))
CONVENTION = Bound(choices=(("optax", 0), ("kozistr", 1)))
GSNR = Bound(choices=(("v1.0.4", 0), ("v1.1.0", 1)))
BITS = Bound(choices=((64, 64), (8, 8)))

#: bounds by keyword, shared by every rule (a rule may override one)
BOUNDS: dict[str, Bound] = {
    "lr": NONNEG, "momentum": BETA, "dampening": UNIT, "nesterov": BOOL, "weight_decay": NONNEG,
    "betas": BETA, "eps": NONNEG, "lr_decay": NONNEG, "initial_accumulator_value": NONNEG,
    "alpha": UNIT, "centered": BOOL, "amsgrad": AMSGRAD, "momentum_decay": NONNEG,
    "weight_decouple": BOOL, "fixed_decay": BOOL, "rectify": BOOL, "degenerated_to_sgd": BOOL,
    "delta": NONNEG, "wd_ratio": NONNEG, "trust_coefficient": NONNEG, "convention": CONVENTION,
    "ns_steps": STEPS, "adam_lr": NONNEG, "adam_betas": BETA, "adam_eps": NONNEG,
    "adam_weight_decay": NONNEG, "gamma": NONNEG, "eta": NONNEG, "gsnr_version": GSNR,
    "clip_fraction": FRACTION, "clip_value": NONNEG, "state_bits": BITS, "damped": BOOL, "ridge": NONNEG,
    "max_grad_norm": NONNEG,
}
#: every rule accepts these (off by default): global-norm clipping of the gradient
#: (torch.nn.utils.clip_grad_norm_) and coordinate-wise clipping of the update
COMMON = {"max_grad_norm": 0.0, "clip_fraction": 0.0, "clip_value": 0.0}
PAIRS = ("betas", "adam_betas")


@dataclass(frozen=True)
class OptimizerSpec:
    """What the engine needs to run one rule: its id, state rows, defaults and valid ranges."""

    name: str
    rule_id: int
    state_rows: int
    defaults: Mapping[str, Any]
    reference: str
    doc: str = ""
    bounds: Mapping[str, Bound] = field(default_factory=dict)  # overrides of BOUNDS
    fixed: Mapping[int, float] = field(default_factory=dict)  # slots set by the name (AdamW's decoupling)
    check: Callable[[dict], None] | None = field(default=None, compare=False)
    needs_hessian: bool = False
    conventions: str = ""  # one line for the README table

    def resolve(self, hyper: Mapping[str, Any], where: str = "") -> dict[str, Any]:
        """Defaults overlaid with ``hyper``, every field validated (scalars only)."""
        unknown = [k for k in hyper if k not in self.defaults]
        if unknown:
            raise ValueError(
                f"{where}optimizer {self.name!r} has no hyperparameter {unknown[0]!r}; "
                f"valid: {', '.join(self.defaults)}"
            )
        out = dict(self.defaults)
        out.update(hyper)
        for key, value in out.items():
            bound = self.bounds.get(key, BOUNDS[key])
            if key in PAIRS:
                if not isinstance(value, (tuple, list)) or len(value) != 2:
                    raise ValueError(f"{where}{key}={value!r}: expected a pair (beta1, beta2)")
                for b in value:
                    try:
                        bound.check(key, b)
                    except ValueError:
                        raise ValueError(f"{where}{key}={tuple(value)!r}: expected a pair of values, "
                                         f"each {bound.describe()}") from None
                out[key] = tuple(float(b) for b in value)
            else:
                bound.check(f"{where}{key}", value)
        if self.check is not None:
            self.check(out)
        return out

    def hyper_row(self, resolved: Mapping[str, Any]) -> np.ndarray:
        """The ``hyper[H]`` row the kernels read (see :mod:`theorysim.optim.slots`)."""
        row = np.zeros(slots.N_SLOTS, dtype=np.float64)
        row[slots.STATE_BITS] = 64.0
        for slot, value in self.fixed.items():
            row[slot] = value
        for key, value in resolved.items():
            cols = slots.KEYWORD_SLOTS[key]
            values = value if isinstance(value, tuple) else (value,)
            bound = self.bounds.get(key, BOUNDS[key])
            for c, v in zip(cols, values):
                row[c] = bound.check(key, v) if bound.choices or bound.boolean else float(v)
        return row


_SPECS: dict[str, OptimizerSpec] = {}


def register(spec: OptimizerSpec) -> OptimizerSpec:
    if spec.name in _SPECS:
        raise ValueError(f"optimizer {spec.name!r} registered twice")
    _SPECS[spec.name] = spec
    return spec


from theorysim.optim.family import register_family  # noqa: E402

register_family(register)


def names() -> list[str]:
    """Registered optimizer names, sorted."""
    return sorted(_SPECS)


def specs() -> dict[str, OptimizerSpec]:
    return dict(_SPECS)


def get(name: str) -> OptimizerSpec:
    if not isinstance(name, str) or name not in _SPECS:
        raise ValueError(f"optimizer={name!r}: unknown; valid: {', '.join(names())}")
    return _SPECS[name]


class Optimizer:
    """One rule with fixed hyperparameters, for one parameter set (the DESIGN section 3 contract)."""

    def __init__(self, spec: OptimizerSpec, hyper: Mapping[str, Any]):
        self.spec = spec
        self.hyper = spec.resolve(hyper)
        self._row = spec.hyper_row(self.hyper)

    @property
    def name(self) -> str:
        return self.spec.name

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        return f"make({self.name!r}, {args})"

    def init(self, params: Mapping[str, np.ndarray]) -> dict:
        layout = _layout_of(params)
        return {"t": 0, "buffers": np.zeros((max(self.spec.state_rows, 1), layout.size), dtype=np.float64)}

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], state: dict, *,
             lr_factor: float = 1.0, key=None, hessian=None):
        """One update; returns ``(new_params, new_state)`` without touching the inputs.

        ``lr_factor`` is the schedule's factor for this step; ``key`` the Philox key (2 uint64)
        for noisy SGD; ``hessian`` the (P, P) Hessian of the flat parameters for Newton.
        """
        layout = _layout_of(params)
        theta = layout.pack(params)
        grad = layout.pack(grads)
        buffers = np.array(state["buffers"], dtype=np.float64, copy=True)
        if buffers.shape != (max(self.spec.state_rows, 1), layout.size):
            raise ValueError(
                f"state['buffers'] has shape {buffers.shape}, expected {(max(self.spec.state_rows, 1), layout.size)}"
            )
        t = int(state["t"]) + 1
        offsets, rows, cols = layout.arrays()
        if self.spec.needs_hessian:
            if hessian is None:
                raise ValueError(f"optimizer {self.name!r} needs hessian=... (a dict of the flat (P, P) Hessian under 'H')")
            hess = np.array(hessian, dtype=np.float64, copy=True).reshape(layout.size, layout.size)
        else:
            hess = np.zeros((0, 0))
        work = np.zeros(rules.work_size(layout.size, rows, cols))
        key = np.zeros(2, dtype=np.uint64) if key is None else np.asarray(key, dtype=np.uint64)
        rules.apply_rule(
            self.spec.rule_id, theta, grad, buffers, self._row, self._row[slots.LR] * lr_factor, t,
            offsets, rows, cols, key[0], key[1], work, hess,
        )
        new_params = {k: v.copy() for k, v in layout.unpack(theta).items()}
        return new_params, {"t": t, "buffers": buffers}


def _layout_of(params: Mapping[str, np.ndarray]) -> Layout:
    if not isinstance(params, Mapping) or not params:
        raise ValueError(f"params: expected a non-empty dict name -> array, got {type(params).__name__}")
    return Layout.of({k: np.shape(v) for k, v in params.items()})


def make(name: str, **hyper) -> Optimizer:
    """An :class:`Optimizer` by name with torch-style hyperparameters (``lr``, ``momentum``, ...)."""
    return Optimizer(get(name), hyper)
