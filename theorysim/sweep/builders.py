"""Setups a sweep can run: ``setup`` name -> the model it builds and the keys it takes.

A point config has three kinds of keys: engine keys (``ENGINE_KEYS``), the setup's own keys
(``Builder.keys``, which define the model) and hyperparameters (the optimizer's and the model's,
per member). Points that differ only in ``seed`` and hyperparameters share one model and are run
as members of one ensemble.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from theorysim.models.base import Model
from theorysim.optim import registry

ENGINE_KEYS = {"setup": None, "optimizer": "sgd", "steps": None, "record_every": 1, "schedule": None,
               "divergence_factor": 1e12, "seed": 0}


@dataclass(frozen=True)
class Builder:
    name: str
    keys: dict[str, Any]  # setup key -> default
    build: Callable[[dict], Model]
    hyper_names: tuple[str, ...]  # the model's per-member hyperparameters
    choices: dict[str, tuple] = None  # setup keys with a fixed set of allowed values


def _quadratic(cfg):
    from theorysim.setups.quadratic.task import make_quadratic

    return make_quadratic(int(cfg["dim"]), float(cfg["kappa"]), float(cfg["lambda_max"]), int(cfg["problem_seed"]),
                          float(cfg["x_star_scale"]))[0]


def _scale_invariant(cfg):
    from theorysim.models.scale_invariant import ScaleInvariant

    return ScaleInvariant(int(cfg["rows"]), int(cfg["cols"]), int(cfg["problem_seed"]))


def _icl_lsa(cfg):
    from theorysim.models.lsa import LinearSelfAttention
    from theorysim.setups.icl import task

    d = int(cfg["d"])
    sigma = None
    if float(cfg["kappa"]) != 1.0:
        sigma = task.spectrum_covariance(d, np.geomspace(1.0, float(cfg["kappa"]), d), int(cfg["problem_seed"]))
    return LinearSelfAttention(d, int(cfg["n_context"]), layers=int(cfg["layers"]), batch=int(cfg["batch"]),
                               x_dist=cfg["x_dist"], sigma=sigma, noise_std=float(cfg["noise_std"]),
                               response=cfg["response"], eval_prompts=int(cfg["eval_prompts"]),
                               token_clip=float(cfg["token_clip"]))


def _matrix_sensing(cfg):
    from theorysim.setups.matrix_sensing import problem

    fac = cfg["factorization"]
    return problem.model({"n": int(cfg["n"]), "r": int(cfg["r"]), "m": int(cfg["m"]), "problem_seed": int(cfg["problem_seed"])},
                         int(cfg["k"]), fac, truth=cfg["truth"] or None, sensing=cfg["sensing"] or None)


def _xor_grokking(cfg):
    from theorysim.setups.xor_grokking import data

    keys = ("n", "p", "m", "test")
    net = data.build({**{k: int(cfg[k]) for k in keys}, "eta": float(cfg["eta"]), "mu_scale": float(cfg["mu_scale"])},
                     int(cfg["data_seed"]))
    return net.span_form() if cfg["form"] == "span" else net


BUILDERS = {
    "quadratic": Builder("quadratic", {"dim": 20, "kappa": 10.0, "lambda_max": 1.0, "problem_seed": 0,
                                       "x_star_scale": 0.0}, _quadratic, ("noise_std", "init_scale")),
    "scale_invariant": Builder("scale_invariant", {"rows": 8, "cols": 6, "problem_seed": 0}, _scale_invariant,
                               ("init_scale",)),
    "icl_lsa": Builder("icl_lsa", {"d": 5, "n_context": 20, "layers": 1, "batch": 256, "x_dist": "gaussian",
                                   "kappa": 1.0, "problem_seed": 0, "noise_std": 0.0, "response": "linear",
                                   "eval_prompts": 2048, "token_clip": 0.0}, _icl_lsa, ("init_scale",)),
    "matrix_sensing": Builder("matrix_sensing", {"n": 10, "r": 2, "k": 4, "m": 300, "factorization": "XXT",
                                                 "truth": "", "sensing": "", "problem_seed": 0},
                              _matrix_sensing, ("alpha",),
                              {"factorization": ("XXT", "FGT"), "truth": ("", "symmetric", "asymmetric"),
                               "sensing": ("", "symmetric", "gaussian")}),
    "xor_grokking": Builder("xor_grokking", {"n": 50, "p": 2500, "m": 100, "eta": 0.05, "mu_scale": 2.5, "test": 500,
                                             "data_seed": 1000, "form": "direct"}, _xor_grokking, ("omega_init",),
                            {"form": ("direct", "span")}),
}


def builder(cfg: dict) -> Builder:
    name = cfg.get("setup")
    if name not in BUILDERS:
        raise ValueError(f"experiment.setup={name!r}: expected one of {', '.join(sorted(BUILDERS))}")
    return BUILDERS[name]


def split(cfg: dict) -> tuple[dict, dict, dict]:
    """(engine keys, setup keys, hyperparameters) of one point config."""
    b = builder(cfg)
    engine = {k: cfg.get(k, d) for k, d in ENGINE_KEYS.items()}
    setup = {k: cfg.get(k, d) for k, d in b.keys.items()}
    hyper = {k: v for k, v in cfg.items() if k not in ENGINE_KEYS and k not in b.keys}
    return engine, setup, hyper


def validate(cfg: dict) -> None:
    """Raise ValueError naming the key for anything a point cannot run with."""
    b = builder(cfg)
    engine, setup, hyper = split(cfg)
    for key, allowed in (b.choices or {}).items():
        if setup[key] not in allowed:
            raise ValueError(f"experiment.{key}={setup[key]!r}: expected one of {', '.join(map(repr, allowed))}")
    if not isinstance(engine["steps"], int) or isinstance(engine["steps"], bool) or engine["steps"] < 1:
        raise ValueError(f"experiment.steps={engine['steps']!r}: expected a positive integer")
    rec = engine["record_every"]
    if not isinstance(rec, int) or isinstance(rec, bool) or not (1 <= rec <= engine["steps"]):
        raise ValueError(f"experiment.record_every={rec!r}: expected an integer in [1, steps={engine['steps']}]")
    if engine["optimizer"] not in registry.names():
        raise ValueError(f"experiment.optimizer={engine['optimizer']!r}: expected one of {', '.join(registry.names())}")
    spec = registry.get(engine["optimizer"])
    opt_hyper = {k: v for k, v in hyper.items() if k not in b.hyper_names}
    unknown = [k for k in opt_hyper if k not in spec.defaults]
    if unknown:
        valid = sorted(set(ENGINE_KEYS) | set(b.keys) | set(spec.defaults) | set(b.hyper_names))
        raise ValueError(f"{unknown[0]}: unknown key for setup {b.name!r} with optimizer {spec.name!r}; valid: {', '.join(valid)}")
    resolved = spec.resolve({k: tuple(v) if isinstance(v, list) else v for k, v in opt_hyper.items()})
    if setup.get("form") == "span":  # the span form's own check, without building the model
        from theorysim.models.two_layer import TwoLayerReLUSpan

        TwoLayerReLUSpan.check_optimizer(spec, resolved, where="experiment.")
