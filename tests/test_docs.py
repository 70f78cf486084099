"""The reference (docs/, issue 39): it builds with Sphinx with warnings as errors; every CLI option and
every key the spec loader accepts has its description; every public contract has an entry."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))

import generate  # noqa: E402  (docs/generate.py)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q", str(ROOT / "docs"),
                           str(out)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def test_every_cli_option_has_its_description():
    pages = generate.cli_page()
    for name, sub in generate.subcommands().items():
        assert sub.description or True
        for action in generate.options(sub):
            assert action.help, (name, action.option_strings or action.dest)
            for flag in action.option_strings:
                assert f"``{flag}" in pages, (name, flag)


def test_every_spec_key_has_its_description():
    from theorysim.sweep import builders, spec

    assert set(spec.KEY_DOCS) == set(spec.TOP_KEYS) | {f"record.{k}" for k in spec.RECORD_KEYS}
    assert set(builders.ENGINE_KEY_DOCS) == set(builders.ENGINE_KEYS)
    page = generate.sweep_keys_page()
    from theorysim import setups
    from theorysim.optim import registry

    for key in (*spec.TOP_KEYS, *builders.ENGINE_KEYS):
        assert f"``{key}``" in page or f"``{key}`` (default" in page, key
    for name, decl in setups.sweep_setups().items():
        assert decl.doc, name
        for key in decl.keys:
            assert f"``{key}``" in page, (name, key)
    for name in registry.names():
        assert f"``{name}``" in page


PUBLIC = [
    "theorysim.claims.claim.Claim", "theorysim.claims.claim.Measurement", "theorysim.claims.claim.Paper",
    "theorysim.claims.claim.register", "theorysim.claims.tolerance.Tolerance", "theorysim.claims.tolerance.exponent",
    "theorysim.claims.tolerance.upper_bound_fitted", "theorysim.claims.tolerance.not_rejected",
    *[f"theorysim.fit.{n}" for n in __import__("theorysim.fit", fromlist=["__all__"]).__all__],
    "theorysim.models.base.Model", "theorysim.core.data.pack", "theorysim.core.data.pack_members",
    "theorysim.core.layout.Layout", "theorysim.core.bounds.Bound", "theorysim.core.config.jit",
    "theorysim.engine.cache.RunCache", "theorysim.engine.experiment.Experiment", "theorysim.setups.Setup",
    "theorysim.setups.SweepSetup", "theorysim.setups.Workload", "theorysim.scaffold.new_setup",
    "theorysim.plotting.pyplot", "theorysim.sweep.spec.load_spec", "theorysim.sweep.store.Store",
    "theorysim.sweep.runner.run_sweep",
]


def test_every_public_contract_has_a_reference_entry(built):
    html = "".join(p.read_text() for p in built.glob("*.html"))
    missing = [name for name in PUBLIC if f'id="{name}"' not in html]
    assert not missing, missing
    assert "theorysim sweep" in (built / "cli.html").read_text()
    assert "record.arrays" in (built / "sweeps.html").read_text()
