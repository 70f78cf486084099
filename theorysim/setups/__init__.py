"""Theory setups, one package each; everything of one setup lives in its folder.

A setup package ``theorysim/setups/<name>/`` holds its own models (``model.py``), data or task,
closed forms (``theory.py``), claims (``claims.py`` or a ``claims/`` package with one module per
paper), the simulations its claims share, and, in its ``__init__.py``, one declaration::

    SETUP = Setup(
        name="<name>", doc="...",
        sweeps=(SweepSetup(...),),      # what `setup = "..."` in a sweep spec builds
        workloads=(Workload(...),),     # what `theorysim bench W` runs
    )

:func:`discover` finds every declaration; the claims registry, the sweep runner, ``theorysim
bench`` and ``theorysim list`` read it and name no setup themselves. Adding a setup is one folder
here plus its tests: no edit anywhere else. Claims are found in ``<name>.claims`` (a module, or a
package whose modules are all imported), and register themselves on import.
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from theorysim.core.bounds import Bound
from theorysim.models.base import Model


@dataclass(frozen=True)
class SweepSetup:
    """What a sweep point with ``setup = name`` builds.

    ``keys`` are the setup's own config keys with their defaults (they define the model; points
    that differ only in seed and hyperparameters share it); ``choices`` restricts keys to a set of
    values; ``build(keys) -> Model``; ``model`` is the model class (or classes), whose
    ``hyper_spec`` names the per-member model hyperparameters a point may set; ``check(keys,
    optimizer_spec, resolved_hyper)`` raises ValueError for a combination the model refuses (run
    at spec load, without building the model); ``size`` declares what a point holds and computes
    (see the field), covering every key that sets a size.
    """

    name: str
    keys: Mapping[str, Any]
    build: Callable[[dict], Model]
    model: type[Model] | tuple[type[Model], ...]
    choices: Mapping[str, tuple] = field(default_factory=dict)
    check: Callable[[dict, Any, dict], None] | None = None
    doc: str = ""
    bounds: Mapping[str, Bound] = field(default_factory=dict)
    #: ``size(keys) -> (parameters, data bytes, work per step)``: what one point holds and computes,
    #: from every key that sets a size (the data bytes include per-step scratch such as a batch of
    #: prompts; the work per step is in parameter-updates: parameters x examples per step). A
    #: two-tuple means one example per step. Used for ``--dry-run``'s estimates and the memory check.
    size: Callable[[dict], tuple[int, int] | tuple[int, int, float]] | None = None

    @property
    def metric_count(self) -> int:
        classes = self.model if isinstance(self.model, tuple) else (self.model,)
        return max(len(cls.metric_names) for cls in classes)

    @property
    def has_hessian(self) -> bool:
        """Whether every model class of the setup has a Hessian kernel (what Newton's rule needs)."""
        classes = self.model if isinstance(self.model, tuple) else (self.model,)
        return all(len(cls.kernels) > 2 and cls.kernels[2] is not None for cls in classes)

    @property
    def hyper_names(self) -> tuple[str, ...]:
        """The model's per-member hyperparameters (the union over its model classes)."""
        classes = self.model if isinstance(self.model, tuple) else (self.model,)
        names: dict[str, None] = {}
        for cls in classes:
            names.update(dict.fromkeys(cls.hyper_spec))
        return tuple(names)


@dataclass(frozen=True)
class Workload:
    """A ``theorysim bench`` workload: ``run(backend) -> (result dict, useful flops)``; ``backends``:
    the engines it runs on (a workload that computes without the engine, e.g. a closed form, is
    ``("cpu",)``, and ``bench --backend cuda`` refuses it instead of timing the CPU)."""

    name: str
    run: Callable[[str], tuple[dict, float]]
    doc: str = ""
    backends: tuple[str, ...] = ("cpu", "cuda")


@dataclass(frozen=True)
class Setup:
    name: str
    doc: str
    sweeps: tuple[SweepSetup, ...] = ()
    workloads: tuple[Workload, ...] = ()


def names() -> list[str]:
    """The setup packages under ``theorysim.setups``, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)


def discover() -> dict[str, Setup]:
    """Every setup's declaration by package name (imports each package's ``__init__``)."""
    out = {}
    for name in names():
        module = importlib.import_module(f"{__name__}.{name}")
        setup = getattr(module, "SETUP", None)
        if not isinstance(setup, Setup):
            raise TypeError(f"{module.__name__}: expected SETUP = theorysim.setups.Setup(...) in its __init__.py")
        out[name] = setup
    return out


def _collect(attr: str, what: str) -> dict:
    """name -> declaration over every setup's ``attr`` (``sweeps`` or ``workloads``); names are unique."""
    out: dict = {}
    for setup in discover().values():
        for decl in getattr(setup, attr):
            if decl.name in out:
                raise ValueError(f"{what} {decl.name!r} declared twice (second in theorysim.setups.{setup.name})")
            out[decl.name] = decl
    return out


def sweep_setups() -> dict[str, SweepSetup]:
    """Sweep-spec ``setup`` value -> its declaration, over every setup (names must be unique)."""
    return _collect("sweeps", "sweep setup")


def workloads() -> dict[str, Workload]:
    """Bench workload name -> its declaration, over every setup."""
    return _collect("workloads", "workload")


def claim_modules() -> list[str]:
    """Every claims module: ``<setup>.claims``, or each module of a ``<setup>/claims/`` package."""
    out = []
    for name in names():
        module = f"{__name__}.{name}.claims"
        if importlib.util.find_spec(module) is None:
            continue
        mod = importlib.import_module(module)
        if hasattr(mod, "__path__"):  # a package: one module per paper
            out += [f"{module}.{m.name}" for m in sorted(pkgutil.iter_modules(mod.__path__), key=lambda m: m.name)]
        else:
            out.append(module)
    return out
