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

import math
from typing import Any

from theorysim import setups
from theorysim.core.config import gib, machine_memory
from theorysim.optim import registry, schedules
from theorysim.optim.spec import BOUNDS as _OPT_BOUNDS

ENGINE_KEYS = {"setup": None, "optimizer": "sgd", "steps": None, "record_every": 1, "schedule": None,
               "divergence_factor": 1e12, "seed": 0}
#: what each engine key of [experiment] means (the reference lists them from here)
ENGINE_KEY_DOCS = {
    "setup": "the sweep setup a point builds (`theorysim list --setups`)",
    "optimizer": "the update rule (`theorysim list --optimizers`); its hyperparameters are keys of the point "
                 "(optim.NAME where the model has a key of the same name)",
    "steps": "optimizer steps per run (a positive integer)",
    "record_every": "record the metrics every this many steps (1 ... steps)",
    "schedule": "the learning-rate factor per step: a schedule name with its options (linear, cosine, "
                "warmup_cosine; factors finite and >= 0) or an explicit list of steps factors",
    "divergence_factor": "a run whose loss exceeds this factor times its first is stopped as diverged (0: off)",
    "seed": "set by the spec's top-level seeds, never a key of its own",
}
MODEL_PREFIX, OPTIM_PREFIX = "model.", "optim."


def builder(cfg: dict) -> setups.SweepSetup:
    known = setups.sweep_setups()
    name = cfg.get("setup")
    if name is None:
        raise ValueError(f"experiment.setup: missing; expected one of {', '.join(sorted(known))}")
    if not isinstance(name, str) or name not in known:
        raise ValueError(f"experiment.setup={name!r}: expected one of {', '.join(sorted(known))}")
    return known[name]


def split(cfg: dict) -> tuple[dict, dict, dict, dict]:
    """(engine keys, setup keys, model hyperparameters, optimizer hyperparameters) of one point
    config, prefixes stripped; raises ValueError for an ambiguous or misplaced key."""
    b = builder(cfg)
    engine = {k: cfg.get(k, d) for k, d in ENGINE_KEYS.items()}
    opt_name = engine["optimizer"]
    opt_keys = registry.get(opt_name).defaults if isinstance(opt_name, str) and opt_name in registry.names() else {}
    model_side = set(b.keys) | set(b.hyper_names)
    setup, model_hyper, opt_hyper = dict(b.keys), {}, {}
    given: dict[tuple[str, str], str] = {}  # (side, name) -> the key that set it

    def once(side: str, name: str, key: str) -> None:
        """The same setting under two keys (``lr`` and ``optim.lr``) is refused: one would win silently."""
        if (side, name) in given:
            raise ValueError(f"experiment.{key}: {name!r} is also given as {given[side, name]!r}; the same "
                             f"{'optimizer hyperparameter' if side == 'optim' else 'setting'} given twice, give it once")
        given[side, name] = key

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
            once("optim", name, key)
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
                once("optim", name, key)
                opt_hyper[name] = value
                continue
        once("model", name, key)
        if name in b.keys:
            setup[name] = value
        else:
            model_hyper[name] = value
    return engine, setup, model_hyper, opt_hyper


def validate(cfg: dict) -> None:
    """Raise ValueError naming the key for anything a point cannot run with: the setup, the
    optimizer and its hyperparameters, every setup key and model hyperparameter against its
    bounds, ``steps``, ``record_every``, ``divergence_factor``, ``schedule``, and the memory the
    point needs (:func:`memory_bytes`) against this machine's."""
    b = builder(cfg)
    engine = {k: cfg.get(k, d) for k, d in ENGINE_KEYS.items()}
    opt = engine["optimizer"]
    if not isinstance(opt, str) or opt not in registry.names():
        raise ValueError(f"experiment.optimizer={opt!r}: expected one of {', '.join(registry.names())}")
    spec = registry.get(opt)
    if spec.needs_hessian and not b.has_hessian:
        with_one = sorted(name for name, s in setups.sweep_setups().items() if s.has_hessian)
        raise ValueError(f"experiment.optimizer={opt!r}: needs the model's Hessian, which setup {b.name!r} does not "
                         f"give; setups with one: {', '.join(with_one)}")
    engine, setup, model_hyper, opt_hyper = split(cfg)
    _check_setup_keys(b, setup)
    _check_model_hyper(b, model_hyper)
    steps = engine["steps"]
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"experiment.steps={steps!r}: expected a positive integer")
    rec = engine["record_every"]
    if not isinstance(rec, int) or isinstance(rec, bool) or not (1 <= rec <= steps):
        raise ValueError(f"experiment.record_every={rec!r}: expected an integer in [1, steps={steps}]")
    div = engine["divergence_factor"]
    if isinstance(div, bool) or not isinstance(div, (int, float)) or not (div == 0 or 1 < div < math.inf):
        raise ValueError(f"experiment.divergence_factor={div!r}: expected 0 (off) or a finite number > 1")
    for key, value in opt_hyper.items():  # an integral float for an integer keyword makes another point key
        bound = spec.bounds.get(key) or _OPT_BOUNDS.get(key)
        integer = bound is not None and (bound.integer or any(isinstance(v, int) and not isinstance(v, bool)
                                                               for v, _ in bound.choices))
        if integer and _integral_float(value):
            raise _integral_float_error(key, value)
    unknown = [k for k in opt_hyper if k not in spec.defaults]
    if unknown:
        valid = sorted(set(ENGINE_KEYS) | set(b.keys) | set(spec.defaults) | set(b.hyper_names))
        raise ValueError(f"{unknown[0]}: unknown key for setup {b.name!r} with optimizer {spec.name!r}; valid: {', '.join(valid)}")
    resolved = spec.resolve({k: tuple(v) if isinstance(v, list) else v for k, v in opt_hyper.items()})
    if b.check is not None:
        b.check(setup, spec, resolved)
    need = memory_bytes(cfg)
    have = machine_memory()
    if need is not None and have is not None and need > have:
        params = b.size(setup)[0]
        raise ValueError(f"experiment: one point needs about {gib(need)} of memory ({params} parameters, "
                         f"steps={steps}, record_every={rec}); this machine has {gib(have)}")
    sched = engine["schedule"]
    if sched is not None:
        if isinstance(sched, list) and len(sched) != steps:
            raise ValueError(f"experiment.schedule: an explicit list must have steps={steps} entries, got {len(sched)}")
        try:
            schedules.build(sched, steps)
        except (ValueError, TypeError) as err:
            raise ValueError(f"experiment.schedule={_short(sched)}: {err}") from None


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_setup_keys(b: setups.SweepSetup, setup: dict) -> None:
    for key, value in setup.items():
        default = b.keys[key]
        if key in b.choices:
            if not isinstance(value, type(default)) or value not in b.choices[key]:
                raise ValueError(f"experiment.{key}={value!r}: expected one of {', '.join(map(repr, b.choices[key]))}")
        elif key in b.bounds:
            b.bounds[key].check(f"experiment.{key}", value)
        elif isinstance(default, str) != isinstance(value, str) or isinstance(value, (bool, list, dict)):
            raise ValueError(f"experiment.{key}={value!r}: expected a value like the default {default!r}")
        if _integral_float(value) and (isinstance(default, int) and not isinstance(default, bool)
                                       or key in b.bounds and b.bounds[key].integer):
            raise _integral_float_error(key, value)


def _integral_float(value) -> bool:
    return isinstance(value, float) and value.is_integer()


def _integral_float_error(key: str, value: float) -> ValueError:
    """One rule for integer keys given as integral floats: refused (``4.0`` makes another point key
    than ``4``, so a resume would not find the finished point)."""
    return ValueError(f"experiment.{key}={value!r}: expected an integer (write {int(value)}: a float makes a "
                      "different point key, so a resume would not find the finished point)")


def _check_model_hyper(b: setups.SweepSetup, model_hyper: dict) -> None:
    classes = b.model if isinstance(b.model, tuple) else (b.model,)
    for key, value in model_hyper.items():
        for cls in classes:
            if key in cls.hyper_spec:
                bound = cls.hyper_spec[key][1]
                bound.check(f"experiment.{key}", value)
                if bound.integer and _integral_float(value):
                    raise _integral_float_error(key, value)


def memory_bytes(cfg: dict) -> int | None:
    """Bytes one point needs (float64): its parameters, optimizer state and scratch (~8 P each),
    its records ``(steps / record_every + 1) x metrics``, its schedule (steps) and the model's
    data; None for a setup that declares no ``size``. An estimate to refuse absurd sizes early,
    not a promise."""
    b = builder(cfg)
    if b.size is None:
        return None
    engine, setup, _, _ = split(cfg)
    params, data = b.size(setup)[:2]
    spec = registry.get(engine["optimizer"])
    rows = 4 + spec.state_rows + (params if spec.needs_hessian else 0)
    records = (int(engine["steps"]) // int(engine["record_every"]) + 1) * b.metric_count
    return 8 * (params * rows + records + int(engine["steps"])) + int(data)


def work(cfg: dict) -> float | None:
    """Parameter-updates of one point: steps x the setup's work per step (parameters x examples
    per step; :attr:`theorysim.setups.SweepSetup.size`), the unit ``--dry-run`` reports. A setup that
    declares no work per step (a two-tuple) is counted as touching every parameter and every number of
    its data once per step: max(parameters, data bytes / 8)."""
    b = builder(cfg)
    if b.size is None:
        return None
    engine, setup, _, _ = split(cfg)
    size = b.size(setup)
    per_step = float(size[2]) if len(size) > 2 else max(float(size[0]), float(size[1]) / 8.0)
    return float(engine["steps"]) * per_step


def describe() -> list[tuple[str, Any]]:
    """(sweep setup name, declaration) pairs, sorted: what ``theorysim list --setups`` prints."""
    return sorted(setups.sweep_setups().items())
