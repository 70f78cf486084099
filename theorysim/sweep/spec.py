"""Sweep specs: a TOML file -> validated points (README, "A short tour"; the store: docs/history.md, "Design").

    [experiment]            # base config: setup, optimizer, steps, record_every, schedule, ...
    setup = "quadratic"     # `theorysim list --setups` (declared by the setup packages)
    optimizer = "sgd"
    steps = 2000
    dim = 20                # setup keys
    lr = 0.1                # optimizer / model hyperparameters (model.NAME / optim.NAME when both take NAME)
    [grid]                  # cartesian axes over any key not fixed in [experiment]
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
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from theorysim.optim.spec import PAIRS
from theorysim.sweep import builders

TOP_KEYS = ("experiment", "grid", "zip", "seeds", "record", "variant")
MAX_SEED = 2**63 - 1  # seeds are int64 in the kernels
MAX_SPEC_BYTES = 16 * 2**20
MAX_POINTS = 10**7  # a spec's points are built and validated in memory
RECORD_KEYS = ("arrays",)

#: what each top-level key and ``[record]`` key means (the reference, docs/sweeps.rst, lists them from here)
KEY_DOCS = {
    "experiment": "table: the base config of every point: setup, optimizer, steps and the setup's, the model's and "
                  "the optimizer's keys (a key here may not also be a [grid] or [zip] axis)",
    "grid": "table of axes: the cartesian product of their values (lists)",
    "zip": "table of axes zipped together (equal lengths)",
    "seeds": "a positive count n (seeds 0 ... n - 1) or a list of distinct integers in [0, 2^63 - 1]: one point per "
             "seed",
    "record": "table: what each point stores",
    "variant": "array of tables ([[variant]]): sub-sweeps, each with its own fixed keys (scalars override "
               "[experiment]) and its own axes (lists)",
    "record.arrays": "true: store each point's curves and final parameters (npz); false: its metrics only",
}


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


def _shown(path) -> str:
    """A path as error lines quote it: at most ~200 characters (the end kept: the file's name)."""
    text = str(path)
    return text if len(text) <= 200 else "..." + text[-197:]


def _err(path, key, reason) -> SpecError:
    return SpecError(f"{_shown(path)}: {key}: {reason}")


def _read(path: Path) -> dict:
    """The spec's TOML, read only from a regular file of at most MAX_SPEC_BYTES (``/dev/zero`` or
    a FIFO would be read without end)."""
    try:
        if path.is_dir():
            raise SpecError(f"{_shown(path)}: is a directory; expected a TOML sweep spec such as experiments/NAME.toml")
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise SpecError(f"{_shown(path)}: not a regular file; expected a TOML sweep spec such as experiments/NAME.toml")
        if st.st_size > MAX_SPEC_BYTES:
            raise SpecError(f"{_shown(path)}: {st.st_size / 2**20:.1f} MiB; a sweep spec is at most "
                            f"{MAX_SPEC_BYTES // 2**20} MiB (axes are lists of values, not data)")
        with open(path, "rb") as f:
            data = f.read(MAX_SPEC_BYTES + 1)
        if len(data) > MAX_SPEC_BYTES:  # grew since the stat
            raise SpecError(f"{_shown(path)}: more than {MAX_SPEC_BYTES // 2**20} MiB; a sweep spec is at most that")
        return tomllib.loads(data.decode())
    except FileNotFoundError:
        raise SpecError(f"{_shown(path)}: no such file") from None
    except (PermissionError, UnicodeDecodeError) as err:
        raise SpecError(f"{_shown(path)}: cannot be read as text ({err.__class__.__name__})") from None
    except OSError as err:  # a symlink loop, a name too long, a file used as a directory, ...
        raise SpecError(f"{_shown(path)}: cannot be read ({err.strerror or err.__class__.__name__})") from None
    except RecursionError:
        raise SpecError(f"{_shown(path)}: nested too deeply to be a sweep spec") from None
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{_shown(path)}: not valid TOML: {err}") from None


def _is_pair(key: str) -> bool:
    return key.rsplit(".", 1)[-1] in PAIRS


def _check_values(path, where: str, key: str, values: list) -> None:
    """An axis: scalars (a pair for ``betas``), no value twice."""
    if key == "seed":
        raise _err(path, where, "`seed` is set by the top-level `seeds` (a count or a list), not by an axis")
    seen: set = set()  # linear in the axis' length (a list's `in` made a 300000-value axis take minutes)
    for v in values:
        pair = _is_pair(key) and isinstance(v, list) and len(v) == 2 and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
        if isinstance(v, (list, dict)) and not pair:
            raise _err(path, where, f"value {_short(v)} is a {'list' if isinstance(v, list) else 'table'}; an axis "
                                    "holds scalars (a [b1, b2] pair only for betas)")
        h = tuple(v) if pair else v
        if h in seen:
            raise _err(path, where, f"value {_short(v)} appears twice; each point would run twice")
        seen.add(h)


def _check_fixed(path, where: str, key: str, value) -> None:
    if key == "seed":
        raise _err(path, where, "`seed` is set by the top-level `seeds` (a count or a list)")
    if isinstance(value, list) and not (_is_pair(key) or key == "schedule"):
        raise _err(path, where, f"a list ({_short(value)}); axes go in [grid] or [zip]")
    if isinstance(value, dict) and key != "schedule":
        raise _err(path, where, f"a table ({_short(value)}); expected a scalar")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load_spec(path) -> Spec:
    """Load and validate a spec: its structure, then every point it expands to (all keys and
    values, the model each builds, the memory each needs), so that a bad point is refused
    before the first point runs. Raises :class:`SpecError` naming the file and the key."""
    path = Path(path)
    raw = _read(path)
    for key in raw:
        if key not in TOP_KEYS:
            raise _err(path, key, f"unknown top-level key; allowed: {', '.join(TOP_KEYS)}")
    if "experiment" not in raw or not isinstance(raw["experiment"], dict):
        raise _err(path, "experiment", "missing table [experiment]")
    experiment = _flatten(raw["experiment"])
    for key, value in experiment.items():
        _check_fixed(path, f"experiment.{key}", key, value)
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
            if name == "grid":
                _check_values(path, f"{name}.{key}", key, values)
            else:
                _check_fixed(path, f"{name}.{key}", key, None)
    lengths = {len(v) for v in zipped.values()}
    if len(lengths) > 1:
        raise _err(path, "zip", f"axes must have equal lengths, got {sorted(lengths)}")
    if zipped:
        for z in range(lengths.pop()):
            for key, values in zipped.items():
                _check_values(path, f"zip.{key}", key, [values[z]])
        combos = [tuple(map(repr, c)) for c in zip(*zipped.values())]
        if len(set(combos)) < len(combos):
            raise _err(path, "zip", f"a combination of ({', '.join(zipped)}) appears twice; each point would run twice")
    overlap = set(grid) & set(zipped)
    if overlap:
        raise _err(path, f"zip.{sorted(overlap)[0]}", "also a [grid] axis")
    for name, table in (("grid", grid), ("zip", zipped)):  # one value would win silently: say which to keep
        fixed = sorted(set(table) & set(experiment))
        if fixed:
            raise _err(path, f"{name}.{fixed[0]}", f"given twice: also fixed in [experiment] "
                                                   f"({fixed[0]} = {_short(experiment[fixed[0]])}); keep one")
    seeds = raw.get("seeds", [0])
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 1:
        if seeds > MAX_POINTS:
            raise _err(path, "seeds", f"{seeds} seeds; a spec expands to at most {MAX_POINTS} points")
        seeds = list(range(seeds))
    if not isinstance(seeds, list) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= MAX_SEED for s in seeds):
        raise _err(path, "seeds", f"expected a positive count or a list of integers in [0, 2^63 - 1], got "
                                  f"{_short(seeds)}")
    seen_seeds: set[int] = set()  # linear: a spec of 10^6 seeds validates in about a second
    for s in seeds:
        if s in seen_seeds:
            raise _err(path, "seeds", f"seed {s} appears twice; each point would run twice")
        seen_seeds.add(s)
    record = raw.get("record", {})
    if not isinstance(record, dict):
        raise _err(path, "record", "expected a table")
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
            if isinstance(values, list) and not (_is_pair(key) and values and not isinstance(values[0], list)):
                _check_values(path, f"variant[{i}].{key}", key, values)
            else:
                _check_fixed(path, f"variant[{i}].{key}", key, values)
    spec = Spec(str(path), experiment, dict(grid), dict(zipped), list(seeds), dict(record), list(variants))
    n = _point_count(spec)
    if n > MAX_POINTS:
        raise _err(path, "grid", f"the axes expand to {n} points; a spec holds at most {MAX_POINTS} (split it)")
    _validate_points(spec)
    return spec


def _point_count(spec: Spec) -> int:
    """How many points :meth:`Spec.points` builds, from the axes' lengths (nothing built)."""
    per_variant = 0
    for variant in spec.variants or [{}]:
        n = 1
        for v in variant.values():
            if isinstance(v, list):  # Spec.points takes every list of a variant as an axis
                n *= len(v)
        per_variant += n
    n = per_variant * len(spec.seeds)
    for values in spec.grid.values():
        n *= len(values)
    if spec.zipped:
        n *= len(next(iter(spec.zipped.values())))
    return n


def _origin(spec: Spec, key: str, variant: int | None) -> str | None:
    """Which table of the spec sets ``key`` for a point of ``variant``."""
    if key in spec.grid:
        return "grid"
    if key in spec.zipped:
        return "zip"
    if variant is not None and key in spec.variants[variant]:
        return f"variant[{variant}]"
    return None


def _validate_points(spec: Spec) -> None:
    """Every distinct point (seeds aside) through :func:`builders.validate`; the error names the
    table that set the offending key, and the point's axis values where a combination is at fault."""
    seen: set[str] = set()
    keys: dict[str, dict] = {}
    for v_index, variant in enumerate(spec.variants or [{}]):
        sub = Spec(spec.path, spec.experiment, spec.grid, spec.zipped, spec.seeds[:1], spec.record, [variant])
        for cfg in sub.points():
            ident = canonical(cfg)
            if ident in seen:
                continue
            seen.add(ident)
            try:
                builders.validate(cfg)
            except ValueError as err:
                raise SpecError(_locate(spec, cfg, v_index if spec.variants else None, str(err))) from None
    for cfg in spec.points():  # the same point twice (two variants that coincide, say)
        k = point_key(cfg)
        if k in keys:
            raise SpecError(f"{spec.path}: the point {_short(cfg)} appears twice (variants or axes that coincide)")
        keys[k] = cfg


def _locate(spec: Spec, cfg: dict, variant: int | None, message: str) -> str:
    m = re.match(r"(?:experiment\.)?([A-Za-z_][\w.]*)(?:=|:)", message)
    key = m.group(1) if m else None
    origin = _origin(spec, key, variant) if key else None
    if origin is not None:
        value = f"{key}={cfg[key]!r}: "
        for head in (f"experiment.{value}", value):  # the value is named once
            if message.startswith(head):
                message = message[len(head):]
        return f"{spec.path}: {origin}.{key}={cfg[key]!r}: {message}"
    axes = list(spec.grid) + list(spec.zipped) + (list(spec.variants[variant]) if variant is not None else [])
    where = ", ".join(f"{k}={cfg[k]!r}" for k in axes if k in cfg)
    return f"{spec.path}: {message}" + (f" (at the point {where})" if where else "")
