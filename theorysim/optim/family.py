"""The optimizer family, registered once: each entry names its rule kernel (:mod:`theorysim.optim.rules`),
state rows, defaults (torch.optim's where torch has the optimizer, else the official implementation
named in ``shared/papers/optimizers.md``), bounds, scratch and Hessian needs, reference and
conventions; its numpy reference is ``theorysim.optim.reference`` under the same name.

Rule ids are positions in :data:`KERNELS`, the distinct kernels in registration order (AdamW and
AMSGrad share Adam's kernel, with fixed slots). Adding a rule: write its kernel in ``rules.py``,
one ``_register(...)`` line here, and its numpy reference; the dispatch is built from this table.
"""
from __future__ import annotations

import numpy as np

from theorysim.optim import rules, slots
from theorysim.optim.spec import COMMON, OptimizerSpec

#: name -> spec, in registration order
SPECS: dict[str, OptimizerSpec] = {}
#: the distinct rule kernels; a spec's rule_id is its kernel's index here
KERNELS: list = []


def _register(name, state_rows, defaults, reference, conventions, *, fn=None, doc=None, **kw) -> OptimizerSpec:
    if name in SPECS:
        raise ValueError(f"optimizer {name!r} registered twice")
    kernel = getattr(rules, fn or name)
    if kernel not in KERNELS:
        KERNELS.append(kernel)
    spec = OptimizerSpec(name=name, kernel=kernel, rule_id=KERNELS.index(kernel), state_rows=state_rows,
                    defaults={**defaults, **COMMON}, reference=reference, conventions=conventions,
                    doc=doc or kernel.__doc__ or "", **kw)
    SPECS[name] = spec
    return spec


def _check_nesterov(h: dict) -> None:
    if h["nesterov"] and (h["momentum"] <= 0.0 or h["dampening"] != 0.0):
        raise ValueError(
            f"nesterov=True with momentum={h['momentum']!r}, dampening={h['dampening']!r}: "
            "Nesterov momentum requires momentum > 0 and dampening = 0 (as torch.optim.SGD)"
        )


def _check_sgd_sai(h: dict) -> None:
    if h["momentum"] <= 0.0:
        raise ValueError(f"momentum={h['momentum']!r}: SGD-SaI needs momentum in (0, 1) (the reference has no buffer otherwise)")


ADAM_DEFAULTS = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}


_register("sgd", 1,
          {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
          "torch.optim.SGD", "b_1 = g (no dampening at t = 1); coupled L2; PyTorch Nesterov form",
          check=_check_nesterov, coordinatewise=True)
_register("adagrad", 1,
          {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0, "eps": 1e-10},
          "torch.optim.Adagrad", "eps outside the sqrt (optax: inside, s_0 = 0.1)", coordinatewise=True)
_register("rmsprop", 3,
          {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": False},
          "torch.optim.RMSprop", "eps outside the sqrt; no bias correction; momentum buffer b = mu b + g / d",
          coordinatewise=True)
_register("adam", 3, {**ADAM_DEFAULTS, "amsgrad": False, "state_bits": 64, "state_block": 256, "state_rounding": "nearest"},
          "torch.optim.Adam", "coupled L2; eps after bias correction, outside the sqrt; state_bits=8 emulates bitsandbytes",
          fixed={slots.DECOUPLED: 0.0}, coordinatewise=True)
_register("adamw", 3, {**ADAM_DEFAULTS, "weight_decay": 1e-2, "amsgrad": False, "state_bits": 64, "state_block": 256, "state_rounding": "nearest"},
          "torch.optim.AdamW", "theta *= 1 - lr wd first (optax default wd is 1e-4, torch 1e-2)",
          fixed={slots.DECOUPLED: 1.0}, fn="adam", coordinatewise=True)
_register("amsgrad", 3, {**ADAM_DEFAULTS, "amsgrad": "torch"},
          "torch.optim.Adam(amsgrad=True)", "amsgrad='torch': max of raw v; amsgrad='optax': max of bias-corrected v",
          fixed={slots.DECOUPLED: 0.0}, fn="adam", coordinatewise=True)
_register("nadam", 3, {**ADAM_DEFAULTS, "lr": 2e-3, "momentum_decay": 4e-3},
          "torch.optim.NAdam", "Dozat's momentum schedule mu_t = b1 (1 - 0.5 * 0.96^(t psi))")
_register("adabelief", 3,
          {**ADAM_DEFAULTS, "eps": 1e-16, "amsgrad": False, "weight_decouple": True, "fixed_decay": False,
           "rectify": True, "degenerated_to_sgd": True},
          "adabelief_pytorch 0.2.1 (official)", "eps added into s and again outside the sqrt; RAdam rectification on by default")
_register("diffgrad", 3, dict(ADAM_DEFAULTS),
          "diffGrad_v2.py (official)", "friction sigmoid(|g_prev - g|), g_0 = 0; sqrt(bc2)/bc1 step, eps on sqrt(v)")
_register("adamp", 2, {**ADAM_DEFAULTS, "delta": 0.1, "wd_ratio": 0.1, "nesterov": False},
          "clovaai/AdamP adamp.py (official)", "projection with the raw gradient; channel view, then layer view", uses_scratch=True)
_register("sgdp", 1,
          {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False,
           "eps": 1e-8, "delta": 0.1, "wd_ratio": 0.1, "project_momentum": True},
          "clovaai/AdamP sgdp.py (official)", "b_0 = 0, so b_1 = (1 - tau) g (unlike torch); wd / (1 - mu); the stored "
          "momentum is the projected one (official code; project_momentum=False: the paper's Algorithm 2)",
          uses_scratch=True)
_register("lion", 1, {"lr": 1e-4, "betas": (0.9, 0.99), "weight_decay": 0.0, "state_bits": 64, "state_block": 256, "state_rounding": "nearest"},
          "google/automl lion_pytorch.py (official)", "decoupled wd x lr; sign(0) = 0; optax default wd is 1e-3")
_register("lars", 1,
          {"lr": 1e-3, "weight_decay": 0.0, "momentum": 0.9, "dampening": 0.0, "nesterov": False,
           "trust_coefficient": 1e-3, "eps": 0.0, "convention": "optax"},
          "optax.lars", "ratio tc ||w|| / (||g + wd w|| + eps); convention='kozistr' (pytorch-optimizer 4.1.0): "
          "tc ||w|| / (||g|| + wd ||w||), matrices only, b_0 = 0", uses_scratch=True)
_register("lamb", 2, {**ADAM_DEFAULTS, "eps": 1e-6, "convention": "optax"},
          "TF-Addons LAMB = optax.lamb", "phi = identity; convention='kozistr': no de-biasing of v, phi = min(., 10)", uses_scratch=True)
_register("muon", 2,
          {"lr": 0.02, "momentum": 0.95, "nesterov": True, "ns_steps": 5, "weight_decay": 0.0,
           "adam_lr": 3e-4, "adam_betas": (0.9, 0.95), "adam_eps": 1e-10, "adam_weight_decay": 0.0},
          "KellerJordan/Muon muon.py (MuonWithAuxAdam)", "NS5 in float64 (reference: bf16); sqrt(max(1, rows/cols)); vectors -> AdamW", uses_scratch=True)
_register("auon", 1, {"lr": 0.24, "momentum": 0.95, "weight_decay": 0.0, "gamma": 1.5},
          "ryyzn9/AuON optimizer.py (official)", "cosh brake r = sqrt(mean cosh^2(gamma G/||G||)); G not normalised")
_register("signsgd", 0, {"lr": 1e-3}, "optax.sign_sgd", "sign(0) = 0", fn="signsgd", coordinatewise=True)
_register("signum", 1, {"lr": 1e-3, "momentum": 0.9}, "optax.signum (beta = momentum)",
          "m = beta m + (1 - beta) g, no debiasing", coordinatewise=True)
_register("normalized_gd", 0, {"lr": 1e-3, "eps": 1e-6},
          "optax.normalize_by_update_norm", "global norm over all blocks")
_register("noisy_sgd", 0, {"lr": 1e-3, "eta": 0.01, "gamma": 0.55},
          "optax.noisy_sgd (Neelakantan et al. 2015)", "variance eta / t^gamma, t from 1; Philox noise")
_register("sgd_sai", 2,
          {"lr": 1e-2, "momentum": 0.9, "eps": 1e-8, "weight_decay": 1e-2, "gsnr_version": "paper"},
          "arXiv 2412.11768 Algorithm 1; AnonymousAlethiometer/SGD_SaI (official) releases 1.0.3 and 1.1.0",
          "gsnr at t = 1: 'paper' ||g|| / (std + eps) divided by the max over blocks (Algorithm 1, line 14); "
          "'v1.0.3' (the PyPI package) the same without the max; 'v1.1.0' sqrt(numel)",
          check=_check_sgd_sai)
_register("newton", 0, {"lr": 1.0, "damped": False, "ridge": 0.0},
          "textbook (Nesterov 2004, sec. 4.1.5 for the damped step)", "needs the model's Hessian; Cholesky solve",
          needs_hessian=True, uses_scratch=True)


def coordinatewise_rule_ids() -> list[int]:
    """The rule ids (indices into :data:`KERNELS`) whose every registered name is ``coordinatewise``."""
    return [r for r in range(len(KERNELS)) if all(s.coordinatewise for s in SPECS.values() if s.rule_id == r)]


def coordinatewise_members(rule_id, hyper):
    """Per member (rows of ``rule_id [E]`` and ``hyper [E, slots]``), 1 where its update is
    coordinate-wise: a rule registered ``coordinatewise`` (every name sharing its kernel is), with
    float64 state (8-bit state is quantised in blocks) and no clipping (global-norm clipping reads
    the whole gradient, update clipping a quantile of the whole update); else 0."""
    import numpy as np

    flag = np.zeros(len(KERNELS), dtype=bool)
    flag[coordinatewise_rule_ids()] = True
    hyper = np.asarray(hyper)
    plain = ((hyper[:, slots.MAX_GRAD_NORM] == 0.0) & (hyper[:, slots.CLIP_FRACTION] == 0.0)
             & (hyper[:, slots.CLIP_VALUE] == 0.0) & (hyper[:, slots.STATE_BITS] != 8.0))
    return (flag[np.asarray(rule_id)] & plain).astype(np.int64)
