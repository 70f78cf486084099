"""The browsable report (issue 40): ``index.html`` from the verdicts' JSON, self-contained, opened from disk
in headless Chromium: it renders, has one row per claim and the verdict plot, sorts and filters (driven by
the URL fragment, read back with --dump-dom), and the page requests nothing from the network; two runs
compared list exactly the claims whose status changed."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from theorysim.claims.html_report import anchor, compare, margin, write_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps"]
browser = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("THEORYSIM_REQUIRE_BROWSER"),
                             reason="no Chromium here (.ci/run installs Debian's)")


def check(name, kind, measured, ci, region, outcome):
    return {"name": name, "kind": kind, "predicted": 1.0, "measured": measured, "ci": ci, "region": region,
            "tolerance": "t", "outcome": outcome, "passed": outcome == "pass", "details": {"per seed": [1, 2]}}


def row(cid, status, seconds, measured=1.0, ci=(0.9, 1.1), exploratory=None):
    outcome = {"PASS": "pass", "FAIL": "fail", "INCONCLUSIVE": "inconclusive"}.get(status, "fail")
    return {"id": cid, "paper": {"key": cid.split("/")[0], "title": "T", "authors": "A", "year": 2024,
                                  "arxiv": "2401.00001", "venue": None},
            "reference": "Thm 1", "statement": "x is 1 | not 2", "predicted": 1.0, "measured": measured,
            "ci": list(ci), "kind": "value", "status": status, "mode": "quick", "seconds": seconds,
            "config": {"n": 3}, "note": "a note", "exploratory": exploratory, "setup": cid.split("/")[0],
            "checks": [check("c", "value", measured, list(ci), [0.5, 1.5], outcome)]}


RUN = [row("p1/a", "PASS", 3.0), row("p1/b", "FAIL", 1.0, 3.0, (2.9, 3.1)), row("p2/c", "INCONCLUSIVE", 2.0, 1.4, (1.3, 1.6)),
       row("p2/d", "PASS", 0.5, exploratory="a side observation")]


def test_margin_puts_the_ci_rule_on_one_scale():
    inside = margin(check("", "value", 1.0, [0.9, 1.1], [0.5, 1.5], "pass"))
    assert inside[0] == pytest.approx(1.0) and inside[1][0] > 0  # centre of a two-sided region: margin 1
    across = margin(check("", "value", 1.45, [1.4, 1.6], [0.5, 1.5], "inconclusive"))
    assert across[1][0] < 0 < across[1][1]
    lower = margin(check("", "lower_bound", 0.6, [0.55, 0.65], [0.5, None], "pass"))
    assert lower[0] == pytest.approx(0.2) and lower[1][0] > 0
    upper = margin(check("", "upper_bound", 2.5, [2.2, 2.8], [None, 2.0], "fail"))
    assert upper[1][1] < 0
    assert margin(check("", "value", None, None, [0, 1], "fail")) is None


def test_page_has_every_claim_a_section_each_and_escapes(tmp_path):
    page = write_html(RUN, tmp_path).read_text()
    assert len(re.findall(r"<tr data-status=", page)) == 4
    for r in RUN:
        assert f'id="{anchor(r["id"])}"' in page
    assert "x is 1 | not 2" in page and "arxiv.org/abs/2401.00001" in page and 'id="verdict-plot"' in page
    assert "<script src" not in page and "<link" not in page and "@import" not in page  # nothing to fetch


def test_comparison_lists_exactly_the_changed_claims(tmp_path):
    old = [dict(r) for r in RUN] + [row("p3/gone", "PASS", 1.0)]
    new = [dict(r) for r in RUN]
    new[1] = {**new[1], "status": "PASS"}  # p1/b: FAIL -> PASS
    new[2] = {**new[2], "measured": 1.0}  # p2/c: moved by 0.4 > its CI half-width 0.15, status unchanged
    new.append(row("p3/new", "PASS", 1.0))
    diff = compare(old, new)
    assert diff["status_changed"] == [("p1/b", "FAIL", "PASS")]
    assert [m[0] for m in diff["moved"]] == ["p2/c"]
    assert diff["new"] == ["p3/new"] and diff["gone"] == ["p3/gone"]
    page = write_html(new, tmp_path, previous=old, previous_name="old.json").read_text()
    changed = re.search(r'<ul class=changed>(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r'href="#([^"]+)"', changed) == [anchor("p1/b")]


def _run_report(tmp_path, rows):
    src = tmp_path / "run.json"
    src.write_text(json.dumps(rows))
    out = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "theorysim.cli", "report", str(src), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out / "index.html"


def _dom(page: Path, fragment: str = "") -> str:
    proc = subprocess.run([CHROMIUM, *FLAGS, "--dump-dom", page.resolve().as_uri() + fragment], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _visible(dom: str) -> list[str]:
    return [re.search(r'data-claim="([^"]*)"', r).group(1) for r in re.findall(r"<tr ([^>]*data-status[^>]*)>", dom)
            if "hidden" not in r]


@browser
def test_sorting_and_filtering_in_chromium(tmp_path):
    page = _run_report(tmp_path, RUN)
    assert _visible(_dom(page)) == ["p1/a", "p1/b", "p2/c", "p2/d"]
    assert _visible(_dom(page, "#status=FAIL")) == ["p1/b"]
    assert _visible(_dom(page, "#paper=p2&sort=seconds")) == ["p2/d", "p2/c"]
    assert _visible(_dom(page, "#sort=seconds&desc=1")) == ["p1/a", "p2/c", "p1/b", "p2/d"]
    assert _visible(_dom(page, "#q=inconclusive")) == ["p2/c"]


def _screenshot_is_a_page(page: Path, shot: Path, width=1280, height=1600) -> None:
    from PIL import Image

    proc = subprocess.run([CHROMIUM, *FLAGS, f"--window-size={width},{height}", f"--screenshot={shot}", page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and shot.stat().st_size > 10_000, proc.stderr[-2000:]
    gray = Image.open(shot).convert("L")
    lo, hi = gray.getextrema()
    assert hi - lo > 100  # text on a background, not a blank page


@browser
def test_the_page_renders_at_laptop_and_phone_width_and_fetches_nothing(tmp_path):
    page = _run_report(tmp_path, RUN)
    _screenshot_is_a_page(page, tmp_path / "wide.png")
    _screenshot_is_a_page(page, tmp_path / "phone.png", width=390, height=844)
    log = tmp_path / "net.json"
    subprocess.run([CHROMIUM, *FLAGS, f"--log-net-log={log}", "--dump-dom", page.as_uri()], capture_output=True,
                   timeout=120)
    events = json.loads(log.read_text())
    start = events["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    fetched = [e["params"]["url"] for e in events["events"] if e["type"] == start
               and e.get("params", {}).get("initiator") == "null" and not e["params"]["url"].startswith("file:")]
    assert fetched == []  # the page's own requests (a file page's initiator is "null"); Chromium's are not
    doctored = tmp_path / "doctored.html"  # the same check catches a page that fetches
    doctored.write_text(page.read_text().replace("<main>", '<main><img src="https://example.invalid/x.png" alt="">'))
    subprocess.run([CHROMIUM, *FLAGS, f"--log-net-log={log}", "--dump-dom", doctored.as_uri()], capture_output=True,
                   timeout=120)
    events = json.loads(log.read_text())
    assert any(e["type"] == start and e.get("params", {}).get("initiator") == "null"
               and "example.invalid" in e["params"]["url"] for e in events["events"])


@browser
def test_the_quick_runs_report_opens_with_every_claim(tmp_path):
    """CI writes the quick run's report (THEORYSIM_QUICK_REPORT): every claim a row, its figures inline, the
    verdict plot present, and the page renders. Without that folder (a plain `pytest`), one paper's quick run
    writes the report here instead, so the test never skips."""
    folder = os.environ.get("THEORYSIM_QUICK_REPORT")
    if not folder:
        folder = tmp_path / "report"
        proc = subprocess.run([sys.executable, "-m", "theorysim.cli", "check", "--paper", "quadratic", "--json",
                               str(tmp_path / "verdicts.json"), "--report", str(folder)],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
    page = Path(folder) / "index.html"
    verdicts = json.loads((Path(folder).parent / "verdicts.json").read_text())
    dom = _dom(page)
    assert len(_visible(dom)) == len(verdicts)
    assert 'id="verdict-plot"' in dom and "<svg" in dom
    assert dom.count("data:image/png;base64,") >= sum(1 for v in verdicts if v.get("figure"))
    _screenshot_is_a_page(page, tmp_path / "quick.png")
