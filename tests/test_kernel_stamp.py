"""The edit loop without recompiles (issue 39): a cached kernel is stale only when a jitted function it
depends on (its own source and the jitted functions it calls, transitively) or a constant it reads
changes (theorysim.core.kernel_stamp). On a tiny package: editing non-jitted text (a claim's note)
keeps every cache entry; editing a helper drops exactly its callers' entries, whether they call it by
name or as module.attribute; a copied tree (new mtimes) keeps them all."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HELPERS = '''
from theorysim.core.config import jit

SCALE = 2.0


@jit
def h(x):
    return SCALE * x


@jit
def unrelated(x):
    return x + 1.0
'''

KERNELS = '''
from theorysim.core.config import jit
from tinykern import helpers
from tinykern.helpers import h

NOTE = "a claim's note: text only"


def describe():
    return "a plot label"


@jit
def k_by_name(a):
    s = 0.0
    for v in a:
        s += h(v)
    return s


@jit
def k_by_attribute(a):
    return helpers.h(a[0])


@jit
def k_alone(a):
    return a.sum() + helpers.unrelated(1.0)
'''

RUN = '''
import json, numpy as np
from tinykern import kernels
out = {}
for name in ("k_by_name", "k_by_attribute", "k_alone"):
    fn = getattr(kernels, name)
    value = fn(np.ones(3))
    out[name] = [float(value), sum(fn.stats.cache_hits.values()), sum(fn.stats.cache_misses.values())]
print(json.dumps(out))
'''


def _run(pkg_root):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(pkg_root), str(ROOT)]), "THEORYSIM_CACHE": "1"}
    proc = subprocess.run([sys.executable, "-c", RUN], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    return {k: ("hit" if v[1] and not v[2] else "compiled" if v[2] and not v[1] else v) for k, v in out.items()}, \
        {k: v[0] for k, v in out.items()}


def test_only_the_callers_of_an_edited_helper_compile_again(tmp_path):
    pkg = tmp_path / "tinykern"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text(HELPERS)
    (pkg / "kernels.py").write_text(KERNELS)
    every = {"k_by_name": "compiled", "k_by_attribute": "compiled", "k_alone": "compiled"}
    hits = dict.fromkeys(every, "hit")
    assert _run(tmp_path)[0] == every
    assert _run(tmp_path)[0] == hits
    # non-jitted text in the kernels' own file (same line count): nothing compiles
    (pkg / "kernels.py").write_text(KERNELS.replace("text only", "text, edited").replace("a plot label", "a label"))
    assert _run(tmp_path)[0] == hits
    # a copied tree: new mtimes, the same code
    for f in pkg.glob("*.py"):
        os.utime(f, (2e9, 2e9))
    assert _run(tmp_path)[0] == hits
    # the helper's body: its two callers compile, the other kernel does not
    (pkg / "helpers.py").write_text(HELPERS.replace("return SCALE * x", "return SCALE * x + 1.0"))
    status, values = _run(tmp_path)
    assert status == {"k_by_name": "compiled", "k_by_attribute": "compiled", "k_alone": "hit"}
    assert values["k_by_name"] == 9.0 and values["k_by_attribute"] == 3.0  # the new code runs
    # a constant the helper reads (frozen into the machine code): its callers again
    (pkg / "helpers.py").write_text(HELPERS.replace("return SCALE * x", "return SCALE * x + 1.0")
                                    .replace("SCALE = 2.0", "SCALE = 3.0"))
    status, values = _run(tmp_path)
    assert status == {"k_by_name": "compiled", "k_by_attribute": "compiled", "k_alone": "hit"}
    assert values["k_by_name"] == 12.0
    # the unrelated helper: only the kernel that calls it
    (pkg / "helpers.py").write_text(HELPERS.replace("return SCALE * x", "return SCALE * x + 1.0")
                                    .replace("SCALE = 2.0", "SCALE = 3.0").replace("    return x + 1.0", "    return x + 2.0"))
    status, values = _run(tmp_path)
    assert status == {"k_by_name": "hit", "k_by_attribute": "hit", "k_alone": "compiled"}
    assert values["k_alone"] == 6.0  # 3 + (1 + 2)


def test_theorysim_kernels_depend_on_no_claim_or_plot_module():
    """The engine's and the models' kernels reach the rules, the RNG and the data helpers, never a claims
    module: editing a claim's text cannot move their stamps."""
    from theorysim.core import kernel_stamp
    from theorysim.models.linear import Quadratic
    from theorysim.setups.dsd.model import PatchNet

    for kernel in (*Quadratic.kernels, *PatchNet.kernels):
        if kernel is None:
            continue
        deps = kernel_stamp.dependencies(kernel.py_func)
        modules = {f.__module__ for f in deps}
        assert "theorysim.core.data" in modules and not any(".claims" in m or "plotting" in m for m in modules)
        assert kernel.py_func in kernel_stamp.STAMPED
        assert len(kernel_stamp.digest(kernel.py_func)) == 64
