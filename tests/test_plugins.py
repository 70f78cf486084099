"""Setups outside the package (issue 39): a folder of setups through THEORYSIM_SETUPS / --setups-path
and a setup package through the ``theorysim.setups`` entry point group, with the same contract as an
in-tree setup (claims, sweep declarations, bench workloads), reaching the worker processes; the
skeleton ``theorysim new setup`` writes passes as generated; collisions and broken plugins are one line."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(args, env_extra=None, cwd=None, timeout=900):
    env = {**os.environ, **(env_extra or {})}
    env.pop("THEORYSIM_QUICK_VERDICTS", None)
    return subprocess.run([sys.executable, "-m", "theorysim.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd)


@pytest.fixture(scope="module")
def skeleton(tmp_path_factory):
    folder = tmp_path_factory.mktemp("setups")
    proc = run(["new", "setup", "quadratic_mine", "--paper", "mine2026", "--dir", str(folder)])
    assert proc.returncode == 0, proc.stderr
    return folder


def test_the_skeleton_passes_its_claim_as_generated_with_two_workers(skeleton, tmp_path):
    """Folder named by --setups-path; a second copy of the setup files a claim under the same paper key, so
    the paper's claims come from two setups and run on two worker processes: the path reaches them."""
    import shutil

    out = tmp_path / "v.json"
    proc = run(["check", "--setups-path", str(skeleton), "--paper", "mine2026", "--json", str(out)])
    assert proc.returncode == 0, proc.stderr + proc.stdout
    (verdict,) = json.loads(out.read_text())
    assert verdict["id"] == "mine2026/gd-rate" and verdict["status"] == "PASS"
    two = tmp_path / "two"
    shutil.copytree(skeleton, two)
    second = two / "quadratic_mine_b"
    shutil.copytree(two / "quadratic_mine", second)
    for path in (second / "__init__.py", second / "claims" / "mine2026.py"):
        path.write_text(path.read_text().replace("quadratic_mine", "quadratic_mine_b")
                        .replace('"mine2026/gd-rate"', '"mine2026/gd-rate-b"'))
    proc = run(["check", "--setups-path", str(two), "--paper", "mine2026", "--json", str(out), "--jobs", "2"])
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert [(v["id"], v["status"]) for v in json.loads(out.read_text())] == [
        ("mine2026/gd-rate", "PASS"), ("mine2026/gd-rate-b", "PASS")]
    assert "2 worker" in proc.stdout or "2 worker" in proc.stderr, proc.stdout[-500:]
    proc = run(["list", "--claims"], {"THEORYSIM_SETUPS": str(skeleton)})
    assert "mine2026/gd-rate" in proc.stdout and proc.returncode == 0
    proc = run(["list", "--setups"], {"THEORYSIM_SETUPS": str(skeleton)})
    assert "quadratic_mine" in proc.stdout


def test_the_skeleton_sweep_bench_and_test_run(skeleton, tmp_path):
    spec = skeleton / "quadratic_mine" / "quadratic_mine.toml"
    proc = run(["sweep", str(spec), "--setups-path", str(skeleton), "--store", str(tmp_path / "s.sqlite"),
                "--executor", "local", "--workers", "2"])
    assert proc.returncode == 0 and "12 done" in proc.stdout, proc.stderr + proc.stdout
    proc = run(["sweep", str(spec), "--store", str(tmp_path / "d.sqlite"), "--executor", "dask", "--workers", "1"],
               {"THEORYSIM_SETUPS": str(skeleton)})  # a local Dask cluster's worker processes inherit the path
    assert proc.returncode == 0 and "12 done" in proc.stdout, proc.stderr[-2000:] + proc.stdout
    proc = run(["bench", "quadratic_mine-gd", "--setups-path", str(skeleton), "--repeats", "1", "--json"])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["workload"] == "quadratic_mine-gd"
    env = {**os.environ, "THEORYSIM_SETUPS": str(skeleton)}
    env.pop("THEORYSIM_QUICK_VERDICTS", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(skeleton / "quadratic_mine")], capture_output=True, text=True, timeout=900, env=env,
                          cwd=tmp_path)
    assert proc.returncode == 0 and "2 passed" in proc.stdout, proc.stdout + proc.stderr


def test_a_folder_named_like_a_module_shadows_nothing(tmp_path):
    """A plugin folder called ``json`` (or ``quadratic``) lives in its own namespace."""
    folder = tmp_path / "plugins"
    (folder / "json").mkdir(parents=True)
    (folder / "json" / "__init__.py").write_text(textwrap.dedent('''
        from theorysim.setups import Setup
        SETUP = Setup(name="json", doc="a setup whose folder is named like the standard library's json")
    '''))
    proc = run(["list", "--claims"], {"THEORYSIM_SETUPS": str(folder)})
    assert proc.returncode == 0, proc.stderr  # the CLI itself imports json: not shadowed
    code = ("import json, theorysim.setups as s; s.discover(); "
            "print(json.__file__.endswith('json/__init__.py') and 'site' not in json.__file__, "
            "s.sources()['json'].module.startswith('theorysim_setups_'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "THEORYSIM_SETUPS": str(folder)})
    assert proc.stdout.split() == ["True", "True"], proc.stdout + proc.stderr


CLAIM = """
from theorysim.claims import Claim, Measurement, register, tol
from theorysim.setups.quadratic.claims import PAPER

register(Claim(id="{claim_id}", paper=PAPER, reference="r", statement="s", quick={{}}, full={{}},
               simulate=lambda c: 0, predict=lambda c: 0.0, measure=lambda c, r: Measurement.exact(0.0, "exact"),
               tolerance=tol.absolute(0.1)))
"""


@pytest.mark.parametrize("kind, message", [
    ("setup-name", r"setup 'quadratic': folder .* collides with the setup of the same name \(built-in\)"),
    ("paper-key", r"claim 'quadratic/mine-new' of setup 'mine' .* uses the built-in paper key 'quadratic'"),
    ("claim-id", r"setup 'mine' .*: claim 'quadratic/gd-rate' registered twice: its id collides"),
])
def test_collisions_with_built_ins_are_one_line(tmp_path, kind, message):
    folder = tmp_path / "plugins"
    name = "quadratic" if kind == "setup-name" else "mine"
    (folder / name / "claims").mkdir(parents=True)
    (folder / name / "__init__.py").write_text(f"from theorysim.setups import Setup\nSETUP = Setup(name={name!r}, doc='x')\n")
    if kind != "setup-name":
        claim_id = "quadratic/mine-new" if kind == "paper-key" else "quadratic/gd-rate"
        (folder / name / "claims" / "__init__.py").write_text(CLAIM.format(claim_id=claim_id))
    proc = run(["list", "--claims"], {"THEORYSIM_SETUPS": str(folder)})
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1, proc.stderr
    assert re.search(message, err[0]), err[0]


def test_a_broken_plugin_is_named_and_the_rest_runs(tmp_path):
    folder = tmp_path / "plugins"
    (folder / "broken").mkdir(parents=True)
    (folder / "broken" / "__init__.py").write_text("import numpy_that_does_not_exist\n")
    proc = run(["check", "--claim", "quadratic/gd-rate"], {"THEORYSIM_SETUPS": str(folder)})
    assert proc.returncode == 0, proc.stderr
    warnings = [ln for ln in proc.stderr.splitlines() if "warning" in ln]
    assert len(warnings) == 1 and "setup 'broken'" in warnings[0] and "ModuleNotFoundError" in warnings[0]
    proc = run(["check", "--paper", "broken"], {"THEORYSIM_SETUPS": str(folder)})
    errors = [ln for ln in proc.stderr.splitlines() if "error" in ln]
    assert proc.returncode == 2 and len(errors) == 1 and "setup 'broken'" in errors[0], proc.stderr


def test_an_entry_point_plugin_without_reinstalling(tmp_path, skeleton):
    """A package on sys.path with a hand-made .dist-info declaring the entry point (what `pip install`
    of a plugin writes), no THEORYSIM_SETUPS."""
    site = tmp_path / "site"
    pkg = site / "mineplugin"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    import shutil

    shutil.copytree(skeleton / "quadratic_mine", pkg / "quadratic_ep")
    claims = pkg / "quadratic_ep" / "claims"
    (claims / "mine2026.py").rename(claims / "mine2027.py")
    text = (claims / "mine2027.py").read_text().replace('"mine2026', '"mine2027')
    (claims / "mine2027.py").write_text(text)
    init = (pkg / "quadratic_ep" / "__init__.py")
    init.write_text(init.read_text().replace('"quadratic_mine', '"quadratic_ep'))
    dist = site / "mineplugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mineplugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[theorysim.setups]\nquadratic_ep = mineplugin.quadratic_ep\n")
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "v.json"
    proc = run(["check", "--paper", "mine2027", "--json", str(out)], env)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert [v["status"] for v in json.loads(out.read_text())] == ["PASS"]
