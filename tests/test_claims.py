"""Claims: tolerance rules, verdict states, the JSON schema, the report, and every quick claim."""
import json
import math
import os
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from theorysim.claims import Claim, Measurement, Paper, reconstruction, regime, tol
from theorysim.claims.claim import _jsonable
from theorysim.claims.registry import all_claims, papers, select
from theorysim.claims.report import table, write_report

SCHEMA = json.loads((Path(__file__).parents[1] / "theorysim" / "claims" / "verdict.schema.json").read_text())
TOY = Paper(key="toy", title="A toy paper", authors="N. N.", year=2026, arxiv="0000.00000")


def _ci(r, half=0.01, n=8):
    return Measurement(r, (r - half, r + half), ci_method="t", n=n, unit="seeds")


def toy_claim(measured, expect="pass", note="", short="c", plot=None, half=0.01):
    """x equals 1 within 5%, CI +- ``half``; expect="fail" adds a mechanism check that passes."""
    failing = expect == "fail"

    def measure(cfg, r):
        m = _ci(r, half)
        return {"x": m, "ran": Measurement.exact(1.0, "a count")} if failing else m

    return Claim(id=f"toy/{short}", paper=TOY, reference="Eq. 1", statement="x equals 1.", quick={"v": measured},
                 full={"v": measured}, simulate=lambda cfg: cfg["v"],
                 predict=lambda cfg: {"x": 1.0, "ran": 1.0} if failing else 1.0,
                 measure=measure, tolerance=tol.relative(0.05),
                 expect=expect, note=note, plot=plot, failing=("x",) if failing else (),
                 expected_failure=regime("assumption A1 broken") if failing else None)


def two_check_claim(a, b, failing=("a",), c=1.0):
    """Checks "a" and "b" (each: the value equals 1 within 5%) and "c" (the mechanism); expected to
    fail in ``failing``."""
    return Claim(id="toy/two", paper=TOY, reference="Eq. 2", statement="a and b equal 1.", quick={"v": (a, b, c)},
                 full={"v": (a, b, c)}, simulate=lambda cfg: cfg["v"],
                 predict=lambda cfg: {"a": 1.0, "b": 1.0, "c": 1.0},
                 measure=lambda cfg, r: {"a": _ci(r[0]), "b": _ci(r[1]), "c": _ci(r[2])},
                 tolerance=tol.relative(0.05), expect="fail", note="evidence", failing=failing,
                 expected_failure=reconstruction("our reading of eq. 2"))


def test_an_expected_fail_claim_fails_only_in_its_named_checks():
    assert two_check_claim(2.0, 1.0).check().status == "XFAIL"      # a fails, as the evidence says
    assert two_check_claim(1.0, 1.0).check().status == "XPASS"      # nothing fails any more
    broken = two_check_claim(2.0, 2.0).check()                      # b, which holds, now fails too
    assert broken.status == "FAIL" and broken.unexpected
    assert two_check_claim(1.0, 2.0).check().status == "FAIL"       # only the unnamed check fails
    assert two_check_claim(1.045, 1.0).check().status == "INCONCLUSIVE"  # a's CI straddles 1.05
    assert two_check_claim(2.0, 1.045).check().status == "INCONCLUSIVE"  # the mechanism is not shown
    with pytest.raises(ValueError, match="failing names check 'd'"):
        two_check_claim(2.0, 1.0, failing=("d",)).check()
    with pytest.raises(ValueError, match="every check is in failing"):
        two_check_claim(2.0, 1.0, failing=("a", "b", "c")).check()
    with pytest.raises(ValueError, match="needs failing="):
        two_check_claim(2.0, 1.0, failing=())
    with pytest.raises(ValueError, match="only for expect='fail'"):
        Claim(id="toy/x", paper=TOY, reference="", statement="", quick={}, full={}, simulate=None, predict=None,
              measure=None, tolerance=tol.equal(), failing=("a",))
    with pytest.raises(ValueError, match="needs expected_failure"):
        Claim(id="toy/x", paper=TOY, reference="", statement="", quick={}, full={}, simulate=None, predict=None,
              measure=None, tolerance=tol.equal(), expect="fail", note="n", failing=("a",))
    with pytest.raises(ValueError, match="single-check claim cannot be an expected failure"):
        Claim(id="toy/x", paper=TOY, reference="", statement="", quick={}, full={}, simulate=None, predict=None,
              measure=None, tolerance=tol.equal(), expect="fail", note="n", failing=("",),
              expected_failure=regime("A1"))


def _m(value, ci=None):
    if ci is None:
        return Measurement.exact(value, "canned")
    return Measurement(value, ci, ci_method="canned", n=10, unit="seeds")


@pytest.mark.parametrize("rule,pred,meas,outcome", [
    (tol.relative(0.01), 2.0, _m(2.019), "pass"), (tol.relative(0.01), 2.0, _m(2.021), "fail"),
    (tol.relative(0.01), -2.0, _m(-2.019), "pass"),
    (tol.absolute(1e-3), 0.0, _m(-9e-4), "pass"), (tol.absolute(1e-3), 0.0, _m(2e-3), "fail"),
    (tol.interval(-1.1, -0.9), -1.0, _m(-0.95), "pass"), (tol.interval(-1.1, -0.9), -1.0, _m(-0.85), "fail"),
    (tol.error_at_most(1e-10), 0.0, _m(1e-11), "pass"), (tol.error_at_most(1e-10), 0.0, _m(1e-9), "fail"),
    (tol.lower_bound(10.0), None, _m(12.0), "pass"), (tol.lower_bound(10.0), None, _m(9.0), "fail"),
    (tol.relative(0.5), 1.0, _m(math.nan), "fail"), (tol.upper_bound(1.0), None, _m(math.inf), "fail"),
    (tol.equal(), 0.0, _m(0.0), "pass"), (tol.equal(), 0.0, _m(1.0), "fail"),
    # the CI decides: inside passes, outside fails, across the boundary is inconclusive
    (tol.relative(0.05), 1.0, _m(1.0, (0.97, 1.03)), "pass"),
    (tol.relative(0.05), 1.0, _m(1.0, (0.9, 1.1)), "inconclusive"),
    (tol.relative(0.05), 1.0, _m(1.2, (1.1, 1.3)), "fail"),
    # one-sided: the CI's end nearer the boundary decides a pass, the far end a fail
    (tol.upper_bound(1.0), None, _m(0.5, (0.2, 0.9)), "pass"),
    (tol.upper_bound(1.0), None, _m(0.9, (0.8, 1.1)), "inconclusive"),
    (tol.upper_bound(1.0), None, _m(1.5, (1.1, 1.9)), "fail"),
    (tol.lower_bound(1.0), None, _m(1.5, (1.1, 1.9)), "pass"),
    (tol.lower_bound(1.0), None, _m(1.05, (0.9, 1.2)), "inconclusive"),
    (tol.lower_bound(1.0), None, _m(math.inf, (1.1, math.inf)), "fail"),   # an infinite m* is no lower bound
    (tol.exponent(-0.5, 16), None, _m(-0.5, (-0.6, -0.4)), "pass"),
    (tol.exponent(-0.5, 16), None, _m(-1.0, (-1.13, -0.88)), "fail"),
    (tol.increasing("x"), None, _m(0.2, (0.1, 0.3)), "pass"),
    (tol.increasing("x"), None, _m(0.0, (-0.1, 0.1)), "inconclusive"),
    (tol.increasing("x"), None, _m(-0.2, (-0.3, -0.1)), "fail"),
])
def test_statement_kinds_judge_by_the_ci(rule, pred, meas, outcome):
    assert rule.judge(pred, meas).outcome == outcome


def test_a_distributional_check_passes_only_with_power():
    rule = tol.not_rejected(0.01, 0.5, "z-test")
    assert rule.judge(None, Measurement(0.3, no_ci="a p-value", detectable=0.3)).outcome == "pass"
    weak = rule.judge(None, Measurement(0.3, no_ci="a p-value", detectable=1.0, n=20, unit="seeds"))
    assert weak.outcome == "inconclusive" and "80 seeds" in weak.decide
    assert rule.judge(None, Measurement(0.001, no_ci="a p-value", detectable=0.3)).outcome == "fail"
    assert rule.judge(None, Measurement(0.3, no_ci="a p-value")).outcome == "inconclusive"


def test_a_bound_direction_is_data_and_checked():
    with pytest.raises(ValueError, match="lower bound's region"):
        tol.Tolerance("lower_bound", hi=2.0)        # a lower bound wired as an upper bound
    with pytest.raises(ValueError, match="upper bound's region"):
        tol.Tolerance("upper_bound", lo=0.5)
    lower, upper = tol.lower_bound(1.0).to_json(), tol.upper_bound(1.0).to_json()
    assert lower["region"] == [1.0, None] and upper["region"] == [None, 1.0]
    below = _m(0.5, (0.4, 0.6))
    assert tol.lower_bound(1.0).judge(None, below).outcome == "fail"
    assert tol.upper_bound(1.0).judge(None, below).outcome == "pass"


def test_the_constant_rule_fails_a_constant_that_does_not_hold_out():
    from theorysim import fit

    f = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    noise = np.array([1.0, 1.05, 0.95, 1.02, 0.98])
    part = [True, True, True, False, False]
    tight = fit.held_out_bound(np.outer(f, noise), f, part, "upper")       # measured = Theta(f): holds
    assert tol.upper_bound_fitted("f").judge(None, Measurement.of_grid(tight)).outcome == "pass"
    faster = fit.held_out_bound(np.outer(f ** 2, noise), f, part, "upper")  # outgrows f on the held-out part
    assert faster.estimate > 2 and tol.upper_bound_fitted("f").judge(None, Measurement.of_grid(faster)).outcome == "fail"
    slower = fit.held_out_bound(np.outer(np.ones_like(f), noise), f, part, "lower")  # does not grow: not Omega(f)
    assert tol.lower_bound_fitted("f").judge(None, Measurement.of_grid(slower)).outcome == "fail"
    inf = fit.held_out_bound(np.outer(f, noise) * np.array([1, 1, 1, 1, np.inf])[:, None], f, part, "lower")
    assert tol.lower_bound_fitted("f").judge(None, Measurement.of_grid(inf)).invalid


def test_verdict_states():
    assert toy_claim(1.01).check().status == "PASS"
    fail = toy_claim(1.2).check()
    assert fail.status == "FAIL" and fail.unexpected and not fail.passed
    xfail = toy_claim(1.2, expect="fail", note="evidence").check()
    assert xfail.status == "XFAIL" and not xfail.unexpected
    xpass = toy_claim(1.0, expect="fail", note="evidence").check()
    assert xpass.status == "XPASS" and xpass.unexpected
    unsure = toy_claim(1.04, half=0.03).check()
    assert unsure.status == "INCONCLUSIVE" and unsure.unexpected and "more seeds" in unsure.checks[0].judgement.decide


def test_inconclusive_declared_and_exploratory_claims_do_not_count():
    import dataclasses

    unsure = toy_claim(1.04, half=0.03)
    declared = dataclasses.replace(unsure, inconclusive_ok={"quick": "8 seeds"})
    v = declared.check("quick")
    assert v.status == "INCONCLUSIVE" and not v.unexpected
    assert declared.check("full").unexpected                       # full must decide
    explore = dataclasses.replace(toy_claim(1.3), exploratory="a stronger reading than the paper's")
    v = explore.check()
    assert v.status == "FAIL" and not v.unexpected and "exploratory" in table([v]).lower()
    with pytest.raises(ValueError, match="inconclusive_ok"):
        dataclasses.replace(unsure, inconclusive_ok={"medium": "x"})


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.array([])], ids=["nan", "inf", "-inf", "empty"])
def test_a_non_finite_measurement_is_never_an_expected_failure(bad):
    two = two_check_claim(1.0, 1.0)
    canned = {"a": Measurement(bad, no_ci="canned"), "b": _ci(1.0), "c": _ci(1.0)}
    import dataclasses

    v = dataclasses.replace(two, measure=lambda cfg, r: canned).check()
    assert v.status == "FAIL" and v.unexpected and v.checks[0].invalid


def _canned_for(tolerance, predicted, inside: bool):
    """A measurement with a tight CI inside (or, with inside=False, not finite) for the check."""
    if not inside:
        return Measurement(math.nan, no_ci="canned")
    if tolerance.kind == "distribution":
        return Measurement(0.5, no_ci="canned p-value", detectable=tolerance.params["effect"] / 2)
    lo, hi = tolerance.region(predicted)
    x = (lo + hi) / 2 if math.isfinite(lo) and math.isfinite(hi) else (hi - 1 if math.isfinite(hi) else lo + 1)
    return Measurement.exact(x, "canned")


@pytest.mark.parametrize("claim", [c for c in all_claims() if c.expect == "fail"], ids=lambda c: c.id)
@pytest.mark.parametrize("bad", [math.nan, math.inf, np.array([])], ids=["nan", "inf", "empty"])
def test_every_expected_failure_with_a_non_finite_measurement_is_a_fail(claim, bad):
    """Canned measurements, no simulation: the claim's failing checks read NaN / infinity / an empty
    array while every other check passes; the verdict is FAIL, never XFAIL."""
    import dataclasses

    cfg = claim.config("quick")
    predicted = claim.predict(cfg)
    tolerances = claim.tolerance if isinstance(claim.tolerance, dict) else dict.fromkeys(predicted, claim.tolerance)
    canned = {name: (Measurement(bad, no_ci="canned") if name in claim.failing
                     else _canned_for(tolerances[name], predicted[name], True)) for name in predicted}
    v = dataclasses.replace(claim, simulate=lambda cfg: None, measure=lambda cfg, r: canned).check()
    assert v.status == "FAIL", [(c.name, c.outcome) for c in v.checks]
    empty = dataclasses.replace(claim, simulate=lambda cfg: None, measure=lambda cfg, r: {})
    from theorysim.claims.runner import check_one

    assert check_one(empty, "quick").status in ("FAIL", "ERROR")


def test_claim_validation():
    with pytest.raises(ValueError, match="needs the evidence"):
        toy_claim(1.0, expect="fail")
    with pytest.raises(ValueError, match="paper key"):
        Claim(id="other/c", paper=TOY, reference="", statement="", quick={}, full={}, simulate=None,
              predict=None, measure=None, tolerance=tol.equal())
    with pytest.raises(ValueError, match="mode"):
        toy_claim(1.0).config("medium")
    with pytest.raises(ValueError, match="needs ci_method"):
        Measurement(1.0, (0.9, 1.1))
    with pytest.raises(ValueError, match="needs no_ci"):
        Measurement(1.0)


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
    assert payload[0]["ci"] == pytest.approx([1.0, 1.02])
    assert payload[0]["schema_version"] == 2 and payload[0]["checks"][0]["kind"] == "value"
    assert payload[0]["checks"][0]["region"] == pytest.approx([0.95, 1.05]) and payload[0]["checks"][0]["outcome"] == "pass"
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


def declared_outcomes(claim, mode: str) -> set[str]:
    """The statuses a claim declares for ``mode``: PASS (expect="pass") or XFAIL (expect="fail"), plus
    INCONCLUSIVE where ``inconclusive_ok`` names the mode; an exploratory claim may end any way but
    in an error."""
    if claim.exploratory:
        return {"PASS", "FAIL", "INCONCLUSIVE"}
    out = {"PASS"} if claim.expect == "pass" else {"XFAIL"}
    if mode in claim.inconclusive_ok:
        out.add("INCONCLUSIVE")
    return out


def _quick_outcome(claim, cli_rows):
    """(status, [(check name, outcome, measured)], the verdict's JSON) for the claim's quick run."""
    if cli_rows is None:
        verdict = claim.check("quick")
        row = verdict.to_json()
        return verdict.status, [(c.name, c.outcome, c.measured.value) for c in verdict.checks], row
    assert claim.id in cli_rows, f"{claim.id}: not in {QUICK_VERDICTS} (a stale file, or the check run was cut short)"
    row = cli_rows[claim.id]
    assert row["mode"] == "quick" and not row.get("interrupted"), row
    assert row["config"] == json.loads(json.dumps(_jsonable(dict(claim.config("quick"))))), (
        f"{claim.id}: {QUICK_VERDICTS} was written for another configuration (stale file)")
    measured = [math.nan if c["measured"] is None else c["measured"] for c in row["checks"]]
    return row["status"], [(c["name"], c["outcome"], m) for c, m in zip(row["checks"], measured)], row


@pytest.mark.parametrize("claim", all_claims(), ids=lambda c: c.id)
def test_quick_claim_has_its_expected_outcome(claim, cli_quick_verdicts):
    status, checks, row = _quick_outcome(claim, cli_quick_verdicts)
    assert status in declared_outcomes(claim, "quick"), row
    assert checks, row
    if status == "XFAIL":  # the checks expected to hold do hold, and one expected to fail fails decisively
        assert all(outcome == "pass" for name, outcome, _ in checks if name not in claim.failing)
        assert any(outcome == "fail" for name, outcome, _ in checks if name in claim.failing)
    for name, _, value in checks:  # the numbers behind a verdict are real numbers, not placeholders
        assert isinstance(value, (int, float)) and np.isfinite(value), (claim.id, name, value)


@pytest.mark.slow
@pytest.mark.parametrize("claim", all_claims(), ids=lambda c: c.id)
def test_full_claim_has_its_expected_outcome(claim):
    verdict = claim.check("full")
    assert verdict.status in declared_outcomes(claim, "full"), verdict.to_json()


def test_judging_edge_cases():
    rel = tol.relative(0.05)
    # an estimate inside its region with a CI outside it (a biased percentile CI) decides nothing
    assert rel.judge(1.0, _m(1.0, (1.06, 1.2))).outcome == "inconclusive"
    assert rel.judge(1.0, _m(1.0, (1.1, 0.9))).outcome == "inconclusive"        # a reversed CI says nothing
    assert rel.judge(1.0, _m(1.0, (math.nan, 1.01))).outcome == "inconclusive"  # a NaN end is unbounded
    assert rel.judge(1.0, _m(np.float32(1.01))).outcome == "pass"               # numpy scalars are numbers
    assert rel.judge(1.0, _m(np.int64(1))).outcome == "pass"
    assert tol.increasing("x").judge(None, _m(0.0)).outcome == "fail"          # a flat sequence is not monotone
    assert tol.falls_with("n").judge(None, _m(0.0, (-0.1, 0.0))).outcome == "inconclusive"
    rising = Measurement.exact(0.1, "canned", details={"direction": "increasing"})
    with pytest.raises(ValueError, match="decreasing statement measured as increasing"):
        tol.decreasing("x").judge(None, rising)


def test_the_rate_band_is_the_worst_case_of_the_grid():
    """The band is the largest change of the least-squares log-log slope when y / x^p varies by the
    factor RATE_FACTOR over the grid: brute force over every assignment of the factor to the points."""
    import itertools

    for grid in ([1, 16], [1, 2, 4, 8, 16], [100, 250, 500, 1000, 2000], [0.03, 0.1, 0.3, 1.0]):
        u = np.log(grid)
        worst = max(abs(np.polyfit(u, np.log(tol.RATE_FACTOR) * np.array(b), 1)[0])
                    for b in itertools.product([0, 1], repeat=len(grid)))
        assert tol.rate_band(grid) == pytest.approx(worst)
    assert tol.rate_band(16.0) == pytest.approx(np.log(2) / np.log(16))
    with pytest.raises(ValueError, match="distinct"):
        tol.rate_band([3.0, 3.0])


def test_an_exploratory_crash_counts_and_a_reconstruction_is_labelled():
    import dataclasses

    from theorysim.claims.report import counts_line, status_text
    from theorysim.claims.runner import check_one

    crash = dataclasses.replace(toy_claim(1.0), exploratory="a side observation", simulate=lambda cfg: 1 / 0)
    assert check_one(crash, "quick").unexpected
    recon = dataclasses.replace(toy_claim(1.01), reconstruction="our stand-in for eq. 1")
    v = recon.check()
    assert v.status == "PASS" and status_text(v) == "PASS:reconstruction" and v.to_json()["reconstruction"]
    assert "1 PASS (1 on reconstructions)" in counts_line([v])
    xfail = two_check_claim(2.0, 1.0).check()  # class reconstruction: labelled the same way
    assert xfail.claim.reconstruction == "our reading of eq. 2" and status_text(xfail) == "XFAIL:reconstruction"


def test_few_seeds_give_a_wide_grid_ci():
    """The expanded percentile interval: with 3 seeds it reaches the bootstrap's extremes, with 30 it
    is close to the plain percentile interval."""
    from theorysim import fit

    gen = np.random.default_rng(0)
    few = fit.grid_bootstrap(lambda v: v.mean(), gen.normal(size=(2, 3)))
    many = fit.grid_bootstrap(lambda v: v.mean(), gen.normal(size=(2, 30)))
    values = gen.normal(size=(2, 3))
    expanded = fit.grid_bootstrap(lambda v: v.mean(), values)
    boot = [values[:, idx].mean() for idx in np.random.default_rng(0).integers(0, 3, (2000, 3))]
    plain = np.percentile(boot, [2.5, 97.5])
    assert expanded.ci[1] - expanded.ci[0] > plain[1] - plain[0]  # wider than the plain percentile CI
    assert few.ci[1] - few.ci[0] > 0 and many.ci[1] - many.ci[0] < 0.6


def test_setups_start_longest_first_by_recorded_seconds(tmp_path, monkeypatch):
    from theorysim.claims import runner

    claims = all_claims()
    monkeypatch.setattr(runner, "_seconds_path", lambda: tmp_path / "claim-seconds.json")
    by_count = runner.groups_of(claims, "quick")
    assert [len(g) for g in by_count] == sorted((len(g) for g in by_count), reverse=True)  # nothing recorded
    fake = [type("V", (), {"claim": c, "seconds": 1000.0 if c.id.startswith("quadratic/") else 0.1,
                           "error": None})() for c in claims]
    quadratic = [c for c in claims if c.id.startswith("quadratic/")]
    runner.record_seconds(fake, "quick")
    assert runner.recorded_seconds("quick")[quadratic[0].id] == 1000.0
    first = runner.groups_of(claims, "quick")[0]
    assert first[0].id.startswith("quadratic/")
    assert runner.groups_of(claims, "full")[0] == by_count[0]  # per mode
    (tmp_path / "claim-seconds.json").write_text("not json")
    assert runner.recorded_seconds("quick") == {}


def test_report_escapes_every_cell_and_shows_details_and_configuration(tmp_path):
    """Labels with `|` (a norm, ||w - beta||) stay inside their cells; each check's details and the
    claim's configuration are in the report."""
    def measure(cfg, r):
        return {"||w - beta|| / ||beta||": Measurement(r, (r - 0.01, r + 0.01), ci_method="t", n=8, unit="seeds",
                                                       label="|err| of ||w||", details={"per seed": [r, r]})}

    claim = Claim(id="toy/pipes", paper=TOY, reference="Eq. |3|", statement="s.", quick={"v": 1.0, "tag": "a|b"},
                  full={"v": 1.0, "tag": "a|b"}, simulate=lambda cfg: cfg["v"],
                  predict=lambda cfg: {"||w - beta|| / ||beta||": 1.0}, measure=measure,
                  tolerance={"||w - beta|| / ||beta||": tol.interval(0.9, 1.1)})
    text = write_report([claim.check()], tmp_path).read_text()
    rows = [ln for ln in text.splitlines() if ln.startswith("| ")]
    header_cells = {ln.replace("\\|", "").count("|") for ln in rows if ln.startswith("| claim") or ln.startswith("| check")}
    for ln in rows:
        cells = ln.replace("\\|", "").count("|")
        assert cells in header_cells, ln  # no unescaped | splits a cell
    assert "<details><summary>details: ||w - beta|| / ||beta||</summary>" in text and '"per seed"' in text
    assert "<details><summary>configuration (quick)</summary>" in text and '"tag": "a|b"' in text
