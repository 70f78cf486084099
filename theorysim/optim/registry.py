"""Optimizer names -> specs (:mod:`theorysim.optim.family`) and the contract API.

``make(name, **hyper)`` validates every hyperparameter (a bad one raises ``ValueError`` naming
the field, the value and what is allowed) and returns an :class:`Optimizer` whose ``step`` runs
the very same Numba rule as the ensemble engine.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from theorysim.core.layout import Layout
from theorysim.optim import slots
from theorysim.optim.dispatch import apply_rule, quiet_compile, work_size
from theorysim.optim.family import SPECS as _SPECS
from theorysim.optim.spec import BOUNDS, COMMON, PAIRS, OptimizerSpec

__all__ = ["BOUNDS", "COMMON", "PAIRS", "Optimizer", "OptimizerSpec", "get", "make", "names", "specs"]


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
    """One rule with fixed hyperparameters, for one parameter set (the optimizer API contract: README, "Optimizers")."""

    def __init__(self, spec: OptimizerSpec, hyper: Mapping[str, Any]):
        from theorysim.core.config import check_environment

        check_environment()
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
        work = np.zeros(work_size(layout.size, rows, cols))
        key = np.zeros(2, dtype=np.uint64) if key is None else np.asarray(key, dtype=np.uint64)
        with quiet_compile():  # the first call compiles apply_rule
            apply_rule(
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
