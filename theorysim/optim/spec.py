"""What the engine needs to know of one optimizer: :class:`OptimizerSpec` (its rule kernel,
state rows, defaults, valid ranges, scratch and Hessian needs, reference and conventions) and the
bounds of every torch-style keyword."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from theorysim.core.bounds import BETA, BOOL, FRACTION, NONNEG, UNIT, Bound
from theorysim.optim import slots

STEPS = Bound(0.0, 100.0, integer=True)
AMSGRAD = Bound(choices=((False, 0), (True, 1), ("torch", 1), ("optax", 2)))
CONVENTION = Bound(choices=(("optax", 0), ("kozistr", 1)))
GSNR = Bound(choices=(("paper", 0), ("v1.1.0", 1), ("v1.0.3", 2)))
BITS = Bound(choices=((64, 64), (8, 8)))
BLOCKS = Bound(choices=((256, 256), (2048, 2048)))
ROUNDING = Bound(choices=(("nearest", 0), ("cpu_lut", 1)))

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
    "max_grad_norm": NONNEG, "project_momentum": BOOL, "state_block": BLOCKS, "state_rounding": ROUNDING,
}
#: every rule accepts these (off by default): global-norm clipping of the gradient
#: (torch.nn.utils.clip_grad_norm_) and coordinate-wise clipping of the update
COMMON = {"max_grad_norm": 0.0, "clip_fraction": 0.0, "clip_value": 0.0}
PAIRS = ("betas", "adam_betas")


@dataclass(frozen=True)
class OptimizerSpec:
    """What the engine needs to run one rule: its id, state rows, defaults and valid ranges."""

    name: str
    kernel: Any = field(compare=False, repr=False)  # the rule's Numba function (theorysim.optim.rules)
    rule_id: int  # its position in the dispatch table (theorysim.optim.family.KERNELS)
    state_rows: int
    defaults: Mapping[str, Any]
    reference: str
    doc: str = ""
    bounds: Mapping[str, Bound] = field(default_factory=dict)  # overrides of BOUNDS
    fixed: Mapping[int, float] = field(default_factory=dict)  # slots set by the name (AdamW's decoupling)
    check: Callable[[dict], None] | None = field(default=None, compare=False)
    needs_hessian: bool = False
    uses_scratch: bool = False  # reads the ``work`` buffer (projections, Newton-Schulz, Cholesky)
    #: coordinate i's update reads only theta[i], grad[i] and state[:, i] (with float64 state and no
    #: clipping): the rule gives the same numbers on any subset of the coordinates, so the GPU's
    #: one-member-per-block kernel lets each thread update its own share of them
    coordinatewise: bool = False
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
        row[slots.STATE_BLOCK] = 256.0
        for slot, value in self.fixed.items():
            row[slot] = value
        for key, value in resolved.items():
            cols = slots.KEYWORD_SLOTS[key]
            values = value if isinstance(value, tuple) else (value,)
            bound = self.bounds.get(key, BOUNDS[key])
            for c, v in zip(cols, values):
                row[c] = bound.check(key, v) if bound.choices or bound.boolean else float(v)
        return row
