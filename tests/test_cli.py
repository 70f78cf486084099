"""CLI exit codes and output (README, "A short tour")."""
import json
import subprocess
import sys

import pytest

from theorysim import cli
from theorysim.claims import registry
from tests.test_claims import SCHEMA, toy_claim


def test_unknown_paper_exits_2_and_lists_keys(capsys):
    assert cli.main(["check", "--paper", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "nosuch" in err and "quadratic" in err


def test_bad_usage_exits_2(capsys):
    assert cli.main(["check", "--quick", "--full"]) == 2
    assert cli.main(["frobnicate"]) == 2
    assert cli.main(["check", "--threads", "0"]) == 2


def test_check_one_claim_writes_json_and_report(tmp_path, capsys):
    out = tmp_path / "v.json"
    rc = cli.main(["check", "--claim", "quadratic/gd-exact-trajectory", "--json", str(out), "--report", str(tmp_path / "r")])
    assert rc == 0
    payload = json.loads(out.read_text())
    import jsonschema

    jsonschema.validate(payload, SCHEMA)
    assert [p["id"] for p in payload] == ["quadratic/gd-exact-trajectory"] and payload[0]["mode"] == "quick"
    assert (tmp_path / "r" / "report.md").exists() and (tmp_path / "r" / "quadratic__gd-exact-trajectory.png").exists()
    text = capsys.readouterr().out
    row = [line for line in text.splitlines() if line.startswith("quadratic/gd-exact-trajectory")]
    assert len(row) == 1 and row[0].split()[-2] == "PASS" and text.startswith("claim") and "predicted" in text


@pytest.fixture
def toy_registry(monkeypatch):
    claims = {c.id: c for c in (toy_claim(1.0, short="ok"), toy_claim(2.0, short="bad"),
                                toy_claim(2.0, short="known", expect="fail", note="evidence"))}
    registry.all_claims()  # load the real ones first
    monkeypatch.setattr(registry, "REGISTERED", {**registry.REGISTERED, **claims})
    return claims


def test_exit_1_on_an_unexpected_failure(toy_registry, capsys):
    assert cli.main(["check", "--paper", "toy"]) == 1
    out = capsys.readouterr().out
    status = {line.split()[0]: line.split()[-2].split(":")[0] for line in out.splitlines() if line.startswith("toy/")}
    assert status == {"toy/ok": "PASS", "toy/bad": "FAIL", "toy/known": "XFAIL"}
    assert "1 PASS, 1 FAIL, 1 XFAIL" in out


def test_exit_0_when_only_expected_failures(toy_registry):
    assert cli.main(["check", "--claim", "toy/known"]) == 0
    assert cli.main(["check", "--claim", "toy/ok"]) == 0


def test_a_crashing_claim_is_an_error_not_a_crash(monkeypatch, capsys):
    bad = toy_claim(1.0, short="boom")
    object.__setattr__(bad, "simulate", lambda cfg: 1 / 0)
    registry.all_claims()
    monkeypatch.setattr(registry, "REGISTERED", {**registry.REGISTERED, bad.id: bad})
    assert cli.main(["check", "--claim", "toy/boom"]) == 1
    assert "ZeroDivisionError" in capsys.readouterr().out


@pytest.mark.parametrize("what,expect", [("--papers", "quadratic"), ("--claims", "quadratic/gd-rate"),
                                         ("--optimizers", "sgd"), ("--setups", "quadratic")])
def test_list(what, expect, capsys):
    assert cli.main(["list", what]) == 0
    assert expect in capsys.readouterr().out


def test_console_script_entry_point():
    proc = subprocess.run([sys.executable, "-m", "theorysim.cli", "list", "--papers"], capture_output=True, text=True)
    assert proc.returncode == 0 and "Polyak" in proc.stdout
