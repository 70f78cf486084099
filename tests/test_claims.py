"""Claims: tolerance rules, verdict states, the JSON schema, the report, and every quick claim."""
import json
import math
import os
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from theorysim.claims import Claim, Measurement, Paper, tol
from theorysim.claims.claim import _jsonable
from theorysim.claims.registry import all_claims, papers, select
from theorysim.claims.report import table, write_report

SCHEMA = json.loads((Path(__file__).parents[1] / "theorysim" / "claims" / "verdict.schema.json").read_text())
TOY = Paper(key="toy", title="A toy paper", authors="N. N.", year=2026, arxiv="0000.00000")


def toy_claim(measured, expect="pass", note="", short="c", plot=None):
    return Claim(id=f"toy/{short}", paper=TOY, reference="Eq. 1", statement="x equals 1.", quick={"v": measured},
                 full={"v": measured}, simulate=lambda cfg: cfg["v"], predict=lambda cfg: 1.0,
                 measure=lambda cfg, r: Measurement(r, (r - 0.1, r + 0.1)), tolerance=tol.relative(0.05),
                 expect=expect, note=note, plot=plot, failing=("",) if expect == "fail" else ())


def two_check_claim(a, b, failing=("a",)):
    """Checks "a" and "b" (each: the value equals 1 within 5%); expected to fail in ``failing``."""
    return Claim(id="toy/two", paper=TOY, reference="Eq. 2", statement="a and b equal 1.", quick={"v": (a, b)},
                 full={"v": (a, b)}, simulate=lambda cfg: cfg["v"], predict=lambda cfg: {"a": 1.0, "b": 1.0},
                 measure=lambda cfg, r: {"a": Measurement(r[0]), "b": Measurement(r[1])},
                 tolerance=tol.relative(0.05), expect="fail", note="evidence", failing=failing)


def test_an_expected_fail_claim_fails_only_in_its_named_checks():
    assert two_check_claim(2.0, 1.0).check().status == "XFAIL"      # a fails, as the evidence says
    assert two_check_claim(1.0, 1.0).check().status == "XPASS"      # nothing fails any more
    broken = two_check_claim(2.0, 2.0).check()                      # b, which holds, now fails too
    assert broken.status == "FAIL" and broken.unexpected
    assert two_check_claim(1.0, 2.0).check().status == "FAIL"       # only the unnamed check fails
    with pytest.raises(ValueError, match="failing names check 'c'"):
        two_check_claim(2.0, 1.0, failing=("c",)).check()
    with pytest.raises(ValueError, match="needs failing="):
        two_check_claim(2.0, 1.0, failing=())
    with pytest.raises(ValueError, match="only for expect='fail'"):
        Claim(id="toy/x", paper=TOY, reference="", statement="", quick={}, full={}, simulate=None, predict=None,
              measure=None, tolerance=tol.equal(), failing=("a",))


@pytest.mark.parametrize("rule,pred,meas,ok", [
    (tol.relative(0.01), 2.0, 2.019, True), (tol.relative(0.01), 2.0, 2.021, False),
    (tol.relative(0.01), -2.0, -2.019, True),
    (tol.absolute(1e-3), 0.0, -9e-4, True), (tol.absolute(1e-3), 0.0, 2e-3, False),
    (tol.interval(-1.1, -0.9), -1.0, -0.95, True), (tol.interval(-1.1, -0.9), -1.0, -0.85, False),
    (tol.at_most(1e-10), 0.0, 1e-11, True), (tol.at_most(1e-10), 0.0, 1e-9, False),
    (tol.at_least(10.0), 10.0, 12.0, True), (tol.at_least(10.0), 10.0, 9.0, False),
    (tol.relative(0.5), 1.0, math.nan, False), (tol.at_most(1.0), 0.0, math.inf, False),
    (tol.equal(), 0.0, 0.0, True), (tol.equal(), 0.0, 1.0, False),
])
def test_tolerance_rules(rule, pred, meas, ok):
    assert rule.passed(pred, meas) is ok


def test_verdict_states():
    assert toy_claim(1.01).check().status == "PASS"
    fail = toy_claim(1.2).check()
    assert fail.status == "FAIL" and fail.unexpected and not fail.passed
    xfail = toy_claim(1.2, expect="fail", note="evidence").check()
    assert xfail.status == "XFAIL" and not xfail.unexpected
    xpass = toy_claim(1.0, expect="fail", note="evidence").check()
    assert xpass.status == "XPASS" and xpass.unexpected


def test_claim_validation():
    with pytest.raises(ValueError, match="needs the evidence"):
        toy_claim(1.0, expect="fail")
    with pytest.raises(ValueError, match="paper key"):
        Claim(id="other/c", paper=TOY, reference="", statement="", quick={}, full={}, simulate=None,
              predict=None, measure=None, tolerance=tol.equal())
    with pytest.raises(ValueError, match="mode"):
        toy_claim(1.0).config("medium")


def test_json_matches_schema_and_report_is_written(tmp_path):
    import matplotlib.pyplot as plt

    def plot(cfg, r, verdict):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [r, r])
        return fig

    verdicts = [toy_claim(1.01, plot=plot).check(figure_dir=tmp_path), toy_claim(1.3, short="d").check()]
    payload = [v.to_json() for v in verdicts]
    jsonschema.validate(payload, SCHEMA)
    assert payload[0]["passed"] is True and payload[1]["passed"] is False
    assert payload[0]["ci"] == pytest.approx([0.91, 1.11])
    json.dumps(payload)  # plain JSON types only
    path = write_report(verdicts, tmp_path)
    text = path.read_text()
    assert "toy/c" in text and "toy/d: FAIL" in text and "](toy__c.png)" in text
    assert (tmp_path / "toy__c.png").stat().st_size > 1000
    assert "1 PASS, 1 FAIL" in table(verdicts)


def test_registry_selection():
    assert "quadratic" in papers()
    assert {c.id for c in select(paper="quadratic")} >= {"quadratic/gd-rate", "quadratic/heavy-ball-rate"}
    with pytest.raises(ValueError, match="valid: .*quadratic"):
        select(paper="nosuch")
    with pytest.raises(ValueError, match="valid: .*quadratic/gd-rate"):
        select(claim="quadratic/nosuch")


# CI runs every quick claim once: `.ci/run` runs the README's `theorysim check --quick --json FILE` first
# and points this variable at FILE, so the test below judges the verdicts the installed command
# produced (same code, same run) instead of computing them a second time. Without it (the README's
# plain `pytest`), the test runs each claim itself.
QUICK_VERDICTS = os.environ.get("THEORYSIM_QUICK_VERDICTS")


@pytest.fixture(scope="module")
def cli_quick_verdicts():
    if not QUICK_VERDICTS:
        return None
    path = Path(QUICK_VERDICTS)
    if not path.is_file():
        raise FileNotFoundError(f"THEORYSIM_QUICK_VERDICTS={QUICK_VERDICTS}: no such file (write it with "
                                "`theorysim check --quick --json FILE`, or unset the variable)")
    rows = json.loads(path.read_text())
    jsonschema.validate(rows, SCHEMA)
    return {r["id"]: r for r in rows}


def _quick_outcome(claim, cli_rows):
    """(status, [(check name, passed, measured)], the verdict's JSON) for the claim's quick run."""
    if cli_rows is None:
        verdict = claim.check("quick")
        row = verdict.to_json()
        return verdict.status, [(c.name, c.passed, c.measured.value) for c in verdict.checks], row
    assert claim.id in cli_rows, f"{claim.id}: not in {QUICK_VERDICTS} (a stale file, or the check run was cut short)"
    row = cli_rows[claim.id]
    assert row["mode"] == "quick" and not row.get("interrupted"), row
    assert row["config"] == json.loads(json.dumps(_jsonable(dict(claim.config("quick"))))), (
        f"{claim.id}: {QUICK_VERDICTS} was written for another configuration (stale file)")
    measured = [math.nan if c["measured"] is None else c["measured"] for c in row["checks"]]
    return row["status"], [(c["name"], c["passed"], m) for c, m in zip(row["checks"], measured)], row


@pytest.mark.parametrize("claim", all_claims(), ids=lambda c: c.id)
def test_quick_claim_has_its_expected_outcome(claim, cli_quick_verdicts):
    status, checks, row = _quick_outcome(claim, cli_quick_verdicts)
    assert status in ("PASS", "XFAIL"), row
    assert checks, row
    if claim.expect == "fail":  # the checks expected to hold do hold
        assert {name for name, passed, _ in checks if not passed} <= set(claim.failing)
    for name, _, value in checks:  # the numbers behind a verdict are real numbers, not placeholders
        assert isinstance(value, (int, float)) and np.isfinite(value), (claim.id, name, value)


@pytest.mark.slow
@pytest.mark.parametrize("claim", all_claims(), ids=lambda c: c.id)
def test_full_claim_has_its_expected_outcome(claim):
    verdict = claim.check("full")
    assert verdict.status in ("PASS", "XFAIL"), verdict.to_json()
