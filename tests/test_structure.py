"""The package's layers (docs/history.md, "Architecture"): imports run one way, no cycles, setups own their names.

The import graph is read from the source (every ``import`` statement, including those inside
functions, so a late import kept to break a cycle still counts as an edge)."""
import ast
import re
from pathlib import Path

import pytest

from theorysim import setups

ROOT = Path(__file__).resolve().parents[1] / "theorysim"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in ROOT.rglob("*.py")}


def _imports(path: Path, name: str, modules) -> set[str]:
    """theorysim modules that ``path`` imports (a package import counts as its ``__init__``)."""
    tree = ast.parse(path.read_text())
    is_pkg = path.name == "__init__.py"
    out = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            # `from P import sub` imports the submodule (P's __init__ runs first either way, as for
            # every import of a submodule); `from P import name` imports P's __init__
            subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
            targets = subs + ([base] if len(subs) < len(node.names) else [])
        for t in targets:
            if t in modules and t != name:
                out.add(t)
    return out


@pytest.fixture(scope="module")
def graph():
    mods = _modules()
    return {name: _imports(path, name, mods) for name, path in mods.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "theorysim"


def test_no_import_cycles(graph):
    # Tarjan-free check: depth-first search with colours; report one cycle if found
    colour, stack = {}, []

    def visit(m):
        colour[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            # a package's __init__ importing its own submodules is not a cycle of layers; a
            # submodule importing its package's __init__ back would be, and is caught
            if colour.get(n) == 1:
                cycle = stack[stack.index(n):] + [n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in colour:
                visit(n)
        stack.pop()
        colour[m] = 2

    for m in sorted(graph):
        if m not in colour:
            visit(m)


ALLOWED = {  # layer -> the layers it may import (besides itself)
    "core": set(),
    "optim": {"core"},
    "models": {"core"},
    "engine": {"core", "optim", "models"},
    "cuda": {"core", "optim", "models", "engine"},
    "fit": set(),
    "plotting": set(),
    "claims": {"core", "setups", "fit", "plotting"},
    "setups": {"core", "optim", "models", "engine", "fit", "plotting", "claims"},
    "sweep": {"core", "optim", "models", "engine", "setups", "theorysim"},
    "bench": {"setups"},
}


def test_layers_import_downward_only(graph):
    bad = []
    for m, deps in graph.items():
        layer = _layer(m)
        if layer not in ALLOWED:
            continue  # the package root and the CLI sit on top
        for d in deps:
            dl = _layer(d)
            if dl != layer and dl not in ALLOWED[layer]:
                bad.append(f"{m} imports {d}")
    assert not bad, "\n".join(bad)


def test_claim_types_do_not_depend_on_setups(graph):
    """Setups use Claim, Paper, Measurement, tol; those modules must not reach back into setups."""
    for m in ("theorysim.claims", "theorysim.claims.claim", "theorysim.claims.tolerance", "theorysim.claims.figure"):
        assert not {d for d in graph[m] if d.startswith("theorysim.setups")}, m


def test_models_and_optim_import_only_the_floor(graph):
    for m, deps in graph.items():
        if _layer(m) in ("models", "optim"):
            assert {_layer(d) for d in deps} <= {"core", _layer(m)}, (m, deps)


def test_no_file_outside_setups_names_a_setup():
    """Outside ``setups/`` no code names a setup, its sweep name or a workload. Words that are also
    the name of a generic model (``quadratic``, ``scale_invariant``) or of a generic model's option
    (the MLP's ``"ntk"`` parameterization, neural-tangents' name for it) describe that and pass."""
    from theorysim import models
    from theorysim.models import mlp

    generic = {cls.name for cls in (models.Quadratic, models.LeastSquares, models.ScaleInvariant)}
    generic |= set(mlp.PARAMETERIZATIONS)
    names = [n for n in setups.names() if n not in generic]
    sweep_names = [n for n in setups.sweep_setups() if n not in generic]
    workload_names = list(setups.workloads())
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names + sweep_names)) + r")\b")
    assert {"icl", "matrix_sensing", "xor_grokking", "icl_lsa"} <= set(names + sweep_names)
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "setups":
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if pattern.search(code) or any(re.search(rf"['\"]{re.escape(w)}['\"]", code) for w in workload_names):
                offenders.append(f"{rel}:{i}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_every_setup_declares_itself_and_names_are_unique():
    found = setups.discover()
    assert sorted(found) == setups.names()
    for name, decl in found.items():
        assert decl.name == name
    # sweep names and workload names unique across setups (sweep_setups / workloads raise otherwise)
    assert len(setups.sweep_setups()) == sum(len(d.sweeps) for d in found.values())
    assert len(setups.workloads()) == sum(len(d.workloads) for d in found.values())


def test_list_setups_prints_exactly_the_sweep_setup_values(capsys):
    from theorysim import cli

    assert cli.main(["list", "--setups"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert listed == sorted(setups.sweep_setups())


def test_claims_live_one_module_per_paper():
    """The claim ids a claims module writes (``id="<paper>/<name>"``) all name one paper."""
    import importlib.util

    checked = 0
    for module in setups.claim_modules():
        path = Path(importlib.util.find_spec(module).origin)
        ids = [node.value.value for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.keyword) and node.arg == "id" and isinstance(node.value, ast.Constant)
               and isinstance(node.value.value, str) and "/" in node.value.value]
        papers = {i.split("/")[0] for i in ids}
        assert len(papers) <= 1, (module, sorted(papers))
        checked += bool(ids)
    assert checked >= 10  # the check looked at real modules


def test_every_kernel_is_built_through_the_compile_policy():
    """Numba kernels come from ``theorysim.core.config.jit`` (fastmath, cache and error model chosen
    in one place): no ``numba.njit`` / ``numba.jit`` / bare ``@njit`` elsewhere in the package.
    Device kernels (``cuda.jit``) are the CUDA backend's own."""
    pattern = re.compile(r"\bnumba\.n?jit\b|@njit\b|\bfrom numba import\b.*\bn?jit\b")
    offenders = []
    for path in ROOT.rglob("*.py"):
        if path == ROOT / "core" / "config.py":
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if pattern.search(code) and "cuda.jit" not in code and "``" not in code:
                offenders.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_kernels_divide_by_zero_as_ieee():
    """config.ERROR_MODEL = "numpy": x / 0 is inf or nan in a kernel (no ZeroDivisionError), the
    condition for LLVM to vectorise loops that divide (Adam's update, every normalisation)."""
    import math

    from theorysim.core.config import jit

    @jit(cache=False)
    def divide(a, b):
        return a / b

    assert divide(1.0, 0.0) == math.inf
    assert math.isnan(divide(0.0, 0.0))
