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

**Setups outside the package** follow the same contract and are found in two more places:

* an **entry point** of the group ``theorysim.setups`` (``[project.entry-points."theorysim.setups"]``
  in the plugin's ``pyproject.toml``: ``mysetup = "mypackage.mysetup"``), whose name is the setup's
  name and whose value is the setup package;
* a **folder of setups** named in ``THEORYSIM_SETUPS`` (``dir1:dir2``, :data:`os.pathsep`-separated;
  the CLI's ``--setups-path DIR`` adds to it), each subfolder with an ``__init__.py`` a setup. Each
  folder gets its own import namespace (``theorysim_setups_<hash of the folder>``), so a folder named
  ``quadratic/`` shadows nothing; a setup's modules import each other relatively (``from . import
  model``).

Every process that runs claims or sweep points finds the same setups: worker processes inherit
``THEORYSIM_SETUPS`` and read the same entry points. A name that collides with another setup's is
refused in one line naming both; a plugin whose import fails is named in one line
(:func:`broken`) and the other setups still load.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import pkgutil
import sys
import types
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
    #: ``build_members(keys, seeds) -> Model`` with per-member data (``data_members = len(seeds)``), member
    #: i's drawn from ``seeds[i]`` (convention: :data:`theorysim.core.rng.STREAM_DATA`), so that a sweep point
    #: and a claim's member with the same seed train on the same data while a group stays one ensemble;
    #: when set, the sweep builds each group's model with it instead of ``build``
    build_members: Callable[[dict, list], Model] | None = None

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


ENTRY_POINT_GROUP = "theorysim.setups"
PATH_ENV = "THEORYSIM_SETUPS"


@dataclass(frozen=True)
class Source:
    """Where a setup comes from: its name, its importable package and a description for messages."""

    name: str
    module: str
    origin: str

    @property
    def builtin(self) -> bool:
        return self.module.startswith(__name__ + ".")


def names() -> list[str]:
    """The built-in setup packages under ``theorysim.setups``, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)


def setup_folders() -> list[str]:
    """The folders of setups named in ``THEORYSIM_SETUPS`` (absolute, in order, without repeats)."""
    raw = os.environ.get(PATH_ENV, "")
    out: list[str] = []
    for part in raw.split(os.pathsep):
        if part.strip():
            folder = os.path.abspath(os.path.expanduser(part.strip()))
            if folder not in out:
                out.append(folder)
    return out


def _folder_namespace(folder: str) -> str:
    """A private package whose ``__path__`` is ``folder``: the import namespace of its setups."""
    name = "theorysim_setups_" + hashlib.sha256(folder.encode()).hexdigest()[:12]
    if name not in sys.modules:
        package = types.ModuleType(name, f"theorysim setups in {folder}")
        package.__path__ = [folder]
        sys.modules[name] = package
    return name


def _external_sources() -> list[Source]:
    """Entry points, then each ``THEORYSIM_SETUPS`` folder's setup subfolders (sorted)."""
    out = []
    for ep in entry_points():
        out.append(Source(ep.name, ep.module, f"entry point {ep.name!r} = {ep.value!r}"))
    for folder in setup_folders():
        if not os.path.isdir(folder):
            raise ValueError(f"{PATH_ENV}: {folder[:200]}: not a folder (expected folders of setup packages, "
                             f"separated by {os.pathsep!r})")
        namespace = _folder_namespace(folder)
        for entry in sorted(os.listdir(folder)):
            if entry.isidentifier() and os.path.isfile(os.path.join(folder, entry, "__init__.py")):
                out.append(Source(entry, f"{namespace}.{entry}", f"folder {os.path.join(folder, entry)}"))
    return out


_SOURCES: dict[str, Source] = {}
_BROKEN: dict[str, str] = {}
_DECLARED: dict[str, Setup] = {}
_STATE: list = []  # (the setup folders, the entry points) the cached discovery was made with


_ENTRY_POINTS: list = []  # read once per process: scanning every installed distribution costs ~0.1 s


def entry_points() -> tuple:
    """The ``theorysim.setups`` entry points, read once per process (:func:`refresh` reads them again)."""
    if not _ENTRY_POINTS:
        _ENTRY_POINTS.append(tuple(sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
                                          key=lambda e: e.name)))
    return _ENTRY_POINTS[0]


def refresh() -> None:
    """Forget the entry points read so far (after installing a plugin into a running process)."""
    _ENTRY_POINTS.clear()


def _environment_key():
    return (tuple(setup_folders()), tuple((e.name, e.value) for e in entry_points()))


def _scan() -> None:
    """Import every setup package once (again when THEORYSIM_SETUPS or the entry points change)."""
    key = _environment_key()
    if _STATE and _STATE[0] == key:
        return
    sources = [Source(n, f"{__name__}.{n}", "built-in") for n in names()] + _external_sources()
    found: dict[str, Source] = {}
    declared: dict[str, Setup] = {}
    broken: dict[str, str] = {}
    for src in sources:
        if src.name in found:
            raise ValueError(f"setup {src.name!r}: {src.origin} collides with the setup of the same name "
                             f"({found[src.name].origin}); rename one")
        found[src.name] = src
        try:
            module = importlib.import_module(src.module)
        except Exception as err:  # noqa: BLE001 - a plugin's import can fail in any way; say which, go on
            if src.builtin:
                raise
            broken[src.name] = f"setup {src.name!r} ({src.origin}) failed to import: {type(err).__name__}: " \
                               f"{str(err).strip().splitlines()[0][:200] if str(err).strip() else ''}"
            continue
        setup = getattr(module, "SETUP", None)
        if not isinstance(setup, Setup):
            message = f"{module.__name__}: expected SETUP = theorysim.setups.Setup(...) in its __init__.py"
            if src.builtin:
                raise TypeError(message)
            broken[src.name] = f"setup {src.name!r} ({src.origin}): {message}"
            continue
        declared[src.name] = setup
    _SOURCES.clear(), _SOURCES.update(found)
    _DECLARED.clear(), _DECLARED.update(declared)
    _BROKEN.clear(), _BROKEN.update(broken)
    _STATE[:] = [key]


def sources() -> dict[str, Source]:
    """Every setup's source by name: built-in, entry points, ``THEORYSIM_SETUPS`` folders."""
    _scan()
    return dict(_SOURCES)


def broken() -> dict[str, str]:
    """name -> one line, for each plugin setup whose import failed (the others load)."""
    _scan()
    return dict(_BROKEN)


def discover() -> dict[str, Setup]:
    """Every setup's declaration by name (imports each package's ``__init__``), the built-in ones and
    those found through entry points and ``THEORYSIM_SETUPS``; a broken plugin is left out
    (:func:`broken`)."""
    _scan()
    return dict(_DECLARED)


def setup_of_module(module: str) -> str | None:
    """The setup whose package holds ``module`` (None if none does)."""
    best = None
    for src in sources().values():
        if module == src.module or module.startswith(src.module + "."):
            if best is None or len(src.module) > len(best.module):
                best = src
    return best.name if best else None


def _collect(attr: str, what: str) -> dict:
    """name -> declaration over every setup's ``attr`` (``sweeps`` or ``workloads``); names are unique."""
    out: dict = {}
    where: dict = {}
    src = sources()
    for name, setup in discover().items():
        for decl in getattr(setup, attr):
            if decl.name in out:
                raise ValueError(f"{what} {decl.name!r} declared twice: by setup {where[decl.name]!r} "
                                 f"({src[where[decl.name]].origin}) and by setup {name!r} ({src[name].origin})")
            out[decl.name] = decl
            where[decl.name] = name
    return out


def sweep_setups() -> dict[str, SweepSetup]:
    """Sweep-spec ``setup`` value -> its declaration, over every setup (names must be unique)."""
    return _collect("sweeps", "sweep setup")


def workloads() -> dict[str, Workload]:
    """Bench workload name -> its declaration, over every setup."""
    return _collect("workloads", "workload")


def claim_modules() -> list[str]:
    """Every claims module: ``<setup>.claims``, or each module of a ``<setup>/claims/`` package; the
    built-in setups' first."""
    out = []
    declared = discover()
    for src in sources().values():
        if src.name not in declared:
            continue
        module = f"{src.module}.claims"
        spec = importlib.util.find_spec(module)  # imports the setup package, not its claims
        if spec is None:
            continue
        out.append(module)  # a module, or a package (whose __init__ may register claims too)
        if spec.submodule_search_locations is not None:  # a package: one module per paper
            out += [f"{module}.{m.name}" for m in sorted(pkgutil.iter_modules(spec.submodule_search_locations),
                                                         key=lambda m: m.name)]
    return out
