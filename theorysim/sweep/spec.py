"""Sweep specs: a TOML file -> validated points (README, "A short tour"; the store: README, "Design").

    [experiment]            # base config: setup, optimizer, steps, record_every, schedule, ...
    setup = "quadratic"     # `theorysim list --setups` (declared by the setup packages)
    optimizer = "sgd"
    steps = 2000
    dim = 20                # setup keys
    lr = 0.1                # optimizer / model hyperparameters (model.NAME / optim.NAME when both take NAME)
    [grid]                  # cartesian axes over any key
    lr = [0.05, 0.1, 0.2]
    [zip]                   # axes zipped together (equal lengths)
    kappa = [10.0, 100.0]
    momentum = [0.0, 0.9]
    seeds = [0, 1, 2]       # top level, before the tables: one point per seed (`seeds = 4`: 0..3)
    [[variant]]             # optional, repeatable: a sub-sweep with its own fixed keys and axes
    optimizer = "adam"      # (scalars override [experiment]; lists are axes of this variant only,
    lr = [1e-3, 1e-2]       #  so each optimizer gets its own learning-rate grid)
    [record]
    arrays = true           # store each point's curves and final parameters (npz); false: metrics only

A point is one full config (experiment keys with the axes' values and one ``seed``); its key is
the sha256 of its canonical JSON. Unknown keys are errors naming the file and the key.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from theorysim.sweep import builders

TOP_KEYS = ("experiment", "grid", "zip", "seeds", "record", "variant")
RECORD_KEYS = ("arrays",)


class SpecError(ValueError):
    """A bad sweep spec: the message names the file and the key."""


@dataclass
class Spec:
    path: str
    experiment: dict[str, Any]
    grid: dict[str, list] = field(default_factory=dict)
    zipped: dict[str, list] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    record: dict[str, Any] = field(default_factory=dict)
    variants: list[dict[str, Any]] = field(default_factory=list)

    def points(self) -> list[dict[str, Any]]:
        """Every point config, in a fixed order (variant, its axes, grid, zip, seed)."""
        out = []
        for variant in self.variants or [{}]:
            fixed = {k: v for k, v in variant.items() if not isinstance(v, list)}
            axes = {k: v for k, v in variant.items() if isinstance(v, list)}
            for vvals in itertools.product(*axes.values()):
                base = {**self.experiment, **fixed, **dict(zip(axes, vvals))}
                out.extend(self._expand(base))
        return out

    def _expand(self, base: dict[str, Any]) -> list[dict[str, Any]]:
        gkeys = list(self.grid)
        zkeys = list(self.zipped)
        zlen = len(next(iter(self.zipped.values()))) if self.zipped else 1
        out = []
        for gvals in itertools.product(*(self.grid[k] for k in gkeys)):
            for z in range(zlen):
                for seed in self.seeds:
                    cfg = dict(base)
                    cfg.update(zip(gkeys, gvals))
                    cfg.update({k: self.zipped[k][z] for k in zkeys})
                    cfg["seed"] = seed
                    out.append(cfg)
        return out


def canonical(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


def point_key(config: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(config).encode()).hexdigest()


def _flatten(table: dict) -> dict:
    """``model.alpha = 0.5`` (a TOML dotted key, i.e. a nested table) -> ``{"model.alpha": 0.5}``:
    the namespaced form of a key (:mod:`theorysim.sweep.builders`)."""
    out = {}
    for key, value in table.items():
        if key in ("model", "optim") and isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def _err(path, key, reason) -> SpecError:
    return SpecError(f"{path}: {key}: {reason}")


def load_spec(path) -> Spec:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path}: not valid TOML: {err}") from None
    for key in raw:
        if key not in TOP_KEYS:
            raise _err(path, key, f"unknown top-level key; allowed: {', '.join(TOP_KEYS)}")
    if "experiment" not in raw or not isinstance(raw["experiment"], dict):
        raise _err(path, "experiment", "missing table [experiment]")
    experiment = _flatten(raw["experiment"])
    grid = raw.get("grid", {})
    zipped = raw.get("zip", {})
    grid = _flatten(grid) if isinstance(grid, dict) else grid
    zipped = _flatten(zipped) if isinstance(zipped, dict) else zipped
    for name, table in (("grid", grid), ("zip", zipped)):
        if not isinstance(table, dict):
            raise _err(path, name, "expected a table of axes")
        for key, values in table.items():
            if not isinstance(values, list) or not values:
                raise _err(path, f"{name}.{key}", "expected a non-empty list of values")
    lengths = {len(v) for v in zipped.values()}
    if len(lengths) > 1:
        raise _err(path, "zip", f"axes must have equal lengths, got {sorted(lengths)}")
    overlap = set(grid) & set(zipped)
    if overlap:
        raise _err(path, f"zip.{sorted(overlap)[0]}", "also a [grid] axis")
    seeds = raw.get("seeds", [0])
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 1:
        seeds = list(range(seeds))
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise _err(path, "seeds", f"expected a positive count or a list of non-negative integers, got {seeds!r}")
    record = raw.get("record", {})
    for key, value in record.items():
        if key not in RECORD_KEYS:
            raise _err(path, f"record.{key}", f"unknown key; allowed: {', '.join(RECORD_KEYS)}")
        if not isinstance(value, bool):
            raise _err(path, f"record.{key}", f"expected true or false, got {value!r}")
    variants = raw.get("variant", [])
    if not isinstance(variants, list) or not all(isinstance(v, dict) and v for v in variants):
        raise _err(path, "variant", "expected [[variant]] tables, each with at least one key")
    variants = [_flatten(v) for v in variants]
    for i, v in enumerate(variants):
        for key, values in v.items():
            if key in grid or key in zipped:
                raise _err(path, f"variant[{i}].{key}", "also a [grid] or [zip] axis")
            if isinstance(values, list) and not values:
                raise _err(path, f"variant[{i}].{key}", "expected a non-empty list of values")
    spec = Spec(str(path), experiment, dict(grid), dict(zipped), list(seeds), dict(record), list(variants))
    # each axis value on its own first, so the error names the axis; then the corner points
    for name, table in (("grid", grid), ("zip", zipped)):
        for key, values in table.items():
            for v in values:
                try:
                    builders.validate({**spec.experiment, key: v, "seed": spec.seeds[0]})
                except ValueError as err:
                    raise SpecError(f"{path}: {name}.{key}={v!r}: {err}") from None
    firsts = []
    for v in variants or [{}]:
        sub = Spec(spec.path, experiment, dict(grid), dict(zipped), list(seeds), dict(record), [v]).points()
        firsts += [(v, sub[0]), (v, sub[-1])]
    for v, cfg in firsts:
        try:
            builders.validate(cfg)
        except ValueError as err:
            where = f" variant {v}" if v else ""
            raise SpecError(f"{path}:{where} {err}") from None
    for cfg in spec.points()[:1] + spec.points()[-1:]:
        try:
            builders.validate(cfg)
        except ValueError as err:
            raise SpecError(f"{path}: {err}") from None
    return spec
