"""What a sweep point runs: its ``setup`` (declared by a setup package, found by
:func:`theorysim.setups.sweep_setups`) and how its keys split.

A point config has three kinds of keys: engine keys (``ENGINE_KEYS``), the setup's own keys
(``SweepSetup.keys``, which define the model) and hyperparameters (the optimizer's and the model's,
per member). Points that differ only in ``seed`` and hyperparameters share one model and are run
as members of one ensemble.

Names never collide silently: a bare key that is both a setup key or model hyperparameter and a
keyword of the point's optimizer (the matrix-sensing init scale ``alpha`` vs RMSprop's ``alpha``;
the XOR flip rate ``eta`` vs noisy SGD's ``eta``) is refused with a ValueError naming both. Write
``model.alpha`` for the setup's or model's and ``optim.alpha`` for the optimizer's (in TOML, a
dotted key ``model.alpha = 0.5`` or a quoted one ``"model.alpha" = [...]``).
"""
from __future__ import annotations

from typing import Any

from theorysim import setups
from theorysim.optim import registry

ENGINE_KEYS = {"setup": None, "optimizer": "sgd", "steps": None, "record_every": 1, "schedule": None,
               "divergence_factor": 1e12, "seed": 0}
MODEL_PREFIX, OPTIM_PREFIX = "model.", "optim."


def builder(cfg: dict) -> setups.SweepSetup:
    known = setups.sweep_setups()
    name = cfg.get("setup")
    if name not in known:
        raise ValueError(f"experiment.setup={name!r}: expected one of {', '.join(sorted(known))}")
    return known[name]


def split(cfg: dict) -> tuple[dict, dict, dict, dict]:
    """(engine keys, setup keys, model hyperparameters, optimizer hyperparameters) of one point
    config, prefixes stripped; raises ValueError for an ambiguous or misplaced key."""
    b = builder(cfg)
    engine = {k: cfg.get(k, d) for k, d in ENGINE_KEYS.items()}
    opt_name = engine["optimizer"]
    opt_keys = registry.get(opt_name).defaults if opt_name in registry.names() else {}
    model_side = set(b.keys) | set(b.hyper_names)
    setup, model_hyper, opt_hyper = dict(b.keys), {}, {}
    for key, value in cfg.items():
        if key in ENGINE_KEYS:
            continue
        if key.startswith(MODEL_PREFIX):
            name = key[len(MODEL_PREFIX):]
            if name not in model_side:
                raise ValueError(f"experiment.{key}: setup {b.name!r} has no key or model hyperparameter {name!r}; "
                                 f"valid: {', '.join(sorted(model_side))}")
        elif key.startswith(OPTIM_PREFIX):
            name = key[len(OPTIM_PREFIX):]
            if name not in opt_keys:
                raise ValueError(f"experiment.{key}: optimizer {opt_name!r} has no hyperparameter {name!r}; "
                                 f"valid: {', '.join(opt_keys)}")
            opt_hyper[name] = value
            continue
        else:
            name = key
            if name in model_side and name in opt_keys:
                what = "setup key" if name in b.keys else "model hyperparameter"
                raise ValueError(f"experiment.{key}: ambiguous: {what} {name!r} of setup {b.name!r} and "
                                 f"hyperparameter {name!r} of optimizer {opt_name!r}; write "
                                 f"{MODEL_PREFIX}{name} or {OPTIM_PREFIX}{name}")
            if name not in model_side:
                opt_hyper[name] = value
                continue
        if name in b.keys:
            setup[name] = value
        else:
            model_hyper[name] = value
    return engine, setup, model_hyper, opt_hyper


def validate(cfg: dict) -> None:
    """Raise ValueError naming the key for anything a point cannot run with."""
    b = builder(cfg)
    engine = {k: cfg.get(k, d) for k, d in ENGINE_KEYS.items()}
    if engine["optimizer"] not in registry.names():
        raise ValueError(f"experiment.optimizer={engine['optimizer']!r}: expected one of {', '.join(registry.names())}")
    engine, setup, _, opt_hyper = split(cfg)
    for key, allowed in b.choices.items():
        if setup[key] not in allowed:
            raise ValueError(f"experiment.{key}={setup[key]!r}: expected one of {', '.join(map(repr, allowed))}")
    if not isinstance(engine["steps"], int) or isinstance(engine["steps"], bool) or engine["steps"] < 1:
        raise ValueError(f"experiment.steps={engine['steps']!r}: expected a positive integer")
    rec = engine["record_every"]
    if not isinstance(rec, int) or isinstance(rec, bool) or not (1 <= rec <= engine["steps"]):
        raise ValueError(f"experiment.record_every={rec!r}: expected an integer in [1, steps={engine['steps']}]")
    spec = registry.get(engine["optimizer"])
    unknown = [k for k in opt_hyper if k not in spec.defaults]
    if unknown:
        valid = sorted(set(ENGINE_KEYS) | set(b.keys) | set(spec.defaults) | set(b.hyper_names))
        raise ValueError(f"{unknown[0]}: unknown key for setup {b.name!r} with optimizer {spec.name!r}; valid: {', '.join(valid)}")
    resolved = spec.resolve({k: tuple(v) if isinstance(v, list) else v for k, v in opt_hyper.items()})
    if b.check is not None:
        b.check(setup, spec, resolved)


def describe() -> list[tuple[str, Any]]:
    """(sweep setup name, declaration) pairs, sorted: what ``theorysim list --setups`` prints."""
    return sorted(setups.sweep_setups().items())
