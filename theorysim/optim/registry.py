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
    """A real interval for one hyperparameter (``integer`` / ``boolean`` restrict it further)."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False
    boolean: bool = False

    def describe(self) -> str:
        if self.boolean:
            return "True or False"
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        return f"a finite number in {left}{self.lo:g}, {self.hi:g}{right}"

    def check(self, field_name: str, value) -> float:
        if self.boolean:
            if isinstance(value, (bool, np.bool_)) or value in (0, 1):
                return float(bool(value))
            raise ValueError(f"{field_name}={value!r}: expected {self.describe()}")
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{field_name}={value!r}: expected {self.describe()}")
        v = float(value)
        ok = math.isfinite(v)
        ok = ok and (v > self.lo if self.lo_open else v >= self.lo)
        ok = ok and (v < self.hi if self.hi_open else v <= self.hi)
        if not ok:
            raise ValueError(f"{field_name}={value!r}: expected {self.describe()}")
        return v


NONNEG = Bound(0.0)
UNIT = Bound(0.0, 1.0)
UNIT_OPEN_HI = Bound(0.0, 1.0, hi_open=True)
POSITIVE = Bound(0.0, lo_open=True)
BOOL = Bound(boolean=True)


@dataclass(frozen=True)
class OptimizerSpec:
    """What the engine needs to run one rule: its id, state rows, defaults and valid ranges."""

    name: str
    rule_id: int
    state_rows: int
    defaults: Mapping[str, Any]
    bounds: Mapping[str, Bound]
    reference: str
    doc: str = ""
    check: Callable[[dict], None] | None = field(default=None, compare=False)

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
            if key == "betas":
                if not isinstance(value, (tuple, list)) or len(value) != 2:
                    raise ValueError(f"{where}betas={value!r}: expected a pair (beta1, beta2)")
                out[key] = tuple(self.bounds[key].check(f"{where}betas", b) for b in value)
            else:
                out[key] = self.bounds[key].check(f"{where}{key}", value)
        if self.check is not None:
            self.check(out)
        return out

    def hyper_row(self, resolved: Mapping[str, Any]) -> np.ndarray:
        """The ``hyper[H]`` row the kernels read (see :mod:`theorysim.optim.slots`)."""
        row = np.zeros(slots.N_SLOTS, dtype=np.float64)
        for key, value in resolved.items():
            cols = slots.KEYWORD_SLOTS[key]
            values = value if isinstance(value, tuple) else (value,)
            for c, v in zip(cols, values):
                row[c] = float(v)
        return row


def _check_sgd(h: dict) -> None:
    if h["nesterov"] and (h["momentum"] <= 0.0 or h["dampening"] != 0.0):
        raise ValueError(
            f"nesterov=True with momentum={h['momentum']!r}, dampening={h['dampening']!r}: "
            "Nesterov momentum requires momentum > 0 and dampening = 0 (as torch.optim.SGD)"
        )


_SPECS: dict[str, OptimizerSpec] = {}


def register(spec: OptimizerSpec) -> OptimizerSpec:
    if spec.name in _SPECS:
        raise ValueError(f"optimizer {spec.name!r} registered twice")
    _SPECS[spec.name] = spec
    return spec


register(
    OptimizerSpec(
        name="sgd",
        rule_id=rules.SGD,
        state_rows=1,
        defaults={"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
        bounds={"lr": NONNEG, "momentum": UNIT_OPEN_HI, "dampening": UNIT, "nesterov": BOOL, "weight_decay": NONNEG},
        reference="torch.optim.SGD (heavy ball: Polyak 1964; Nesterov: Sutskever et al. 2013)",
        doc=rules.sgd.__doc__ or "",
        check=_check_sgd,
    )
)


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
        return {"t": 0, "buffers": np.zeros((self.spec.state_rows, layout.size), dtype=np.float64)}

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], state: dict):
        """One update; returns ``(new_params, new_state)`` without touching the inputs."""
        layout = _layout_of(params)
        theta = layout.pack(params)
        grad = layout.pack(grads)
        buffers = np.array(state["buffers"], dtype=np.float64, copy=True)
        if buffers.shape != (self.spec.state_rows, layout.size):
            raise ValueError(
                f"state['buffers'] has shape {buffers.shape}, expected {(self.spec.state_rows, layout.size)}"
            )
        t = int(state["t"]) + 1
        offsets, rows, cols = layout.arrays()
        rules.apply_rule(
            self.spec.rule_id, theta, grad, buffers, self._row, self._row[slots.LR], t, offsets, rows, cols
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
