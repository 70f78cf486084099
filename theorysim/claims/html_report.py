"""``index.html``: one self-contained page of a check's verdicts (figures inline, no network).

Made from the verdicts' JSON rows (what ``theorysim check --json`` writes), so ``check --report DIR``
and ``theorysim report A.json [B.json]`` draw the same page:

* a summary line (counts per status, mode, commit, machine, time) and a table of every claim (paper,
  claim, setup, kind, status, headline predicted / measured [CI], seconds), sortable by any column and
  filterable by status, paper, setup and kind, with a text search. The page reads its state from the
  URL's fragment too (``#status=FAIL&paper=xu2023&sort=seconds&desc=1&q=grok``), so a link keeps a view;
* the **verdict plot**: every claim's headline check on one scale, its **margin**: the signed distance
  of the estimate from the accepted region's boundary, positive inside, in units of the region
  (two-sided region [lo, hi]: the half-width, so the centre sits at 1; one-sided: the bound's own size
  ``|b|``, or the CI's half-width when the bound is 0). The CI is drawn on the same scale, so a bar wholly
  right of 0 passes, wholly left fails and one across 0 is INCONCLUSIVE: what the CI rule decides, at a
  glance, and near-boundary verdicts sit near the line. Values beyond +-5 are drawn at the edge
  (an arrow); per paper, a forest plot of all its checks on the same scale;
* one section per claim (anchor ``#claim-<paper>-<name>``): citation with its arXiv link, reference,
  statement, every check (kind, predicted, measured, CI, region, outcome), details, configuration, note
  and figure;
* with an earlier run (``theorysim report OLD.json NEW.json``): the claims whose status changed, whose
  headline moved by more than its CI half-width, and the new and gone ones.

Plots are matplotlib SVG from the same rows as the tables; the page's script is a few lines of plain
JavaScript written here (no framework, nothing fetched).
"""
from __future__ import annotations

import base64
import datetime
import html
import io
import json
import math
import os
import platform
import subprocess
from pathlib import Path
from typing import Sequence

from theorysim.claims.report import fmt

STATUS_COLOURS = {"PASS": "#2e7d32", "FAIL": "#c62828", "XFAIL": "#6a1b9a", "XPASS": "#ef6c00",
                  "INCONCLUSIVE": "#f9a825", "ERROR": "#424242"}
CLIP = 5.0


def anchor(claim_id: str) -> str:
    return "claim-" + "".join(ch if ch.isalnum() else "-" for ch in claim_id)


def margin(check: dict) -> tuple[float, tuple[float, float] | None] | None:
    """(margin of the estimate, margin interval of the CI) on the verdict plot's scale (module
    docstring); None for a check without a finite estimate or a numeric region."""
    x, region, ci = check.get("measured"), check.get("region"), check.get("ci")
    if not isinstance(x, (int, float)) or isinstance(x, bool) or not math.isfinite(x) or not region:
        return None
    lo, hi = region[0], region[1]
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    if math.isinf(lo) and math.isinf(hi):
        return None
    half_ci = (ci[1] - ci[0]) / 2 if ci and all(isinstance(c, (int, float)) for c in ci) else 0.0
    if math.isfinite(lo) and math.isfinite(hi):
        scale = (hi - lo) / 2 or 1.0

        def m(v):
            return min(v - lo, hi - v) / scale
    else:
        bound = lo if math.isfinite(lo) else hi
        scale = abs(bound) or half_ci or abs(x) or 1.0
        sign = 1.0 if math.isfinite(lo) else -1.0

        def m(v):
            return sign * (v - bound) / scale
    est = m(x)
    if not ci or ci[0] is None or ci[1] is None:
        return est, None
    a, b = m(ci[0]), m(ci[1])
    top = max(a, b)
    if math.isfinite(lo) and math.isfinite(hi) and ci[0] <= (lo + hi) / 2 <= ci[1]:
        top = 1.0  # the CI contains the centre, the point of largest margin
    return est, (min(a, b), top)


def _clip(v: float) -> float:
    return max(-CLIP, min(CLIP, v))


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def margin_plot(items: Sequence[tuple[str, str, dict]], title: str) -> str:
    """An SVG forest plot: one row per (label, status, check) on the margin scale."""
    from theorysim.plotting import pyplot

    import warnings

    plt = pyplot()
    rows = [(label, status, margin(check)) for label, status, check in items]
    warnings.filterwarnings("ignore", message="Tight layout not applied", category=UserWarning)
    fig, ax = plt.subplots(figsize=(8.5, 0.6 + 0.22 * max(len(rows), 1)))
    ax.axvspan(0, CLIP + 0.5, color="#e8f5e9", zorder=0)
    ax.axvline(0, color="k", lw=1)
    for i, (label, status, mg) in enumerate(rows):
        y = len(rows) - 1 - i
        colour = STATUS_COLOURS.get(status, "#000000")
        if mg is None:
            ax.text(-CLIP, y, "no numeric region", fontsize=6, va="center", color="#757575")
            continue
        est, ci = mg
        if ci is not None:
            ax.plot([_clip(ci[0]), _clip(ci[1])], [y, y], color=colour, lw=2)
        marker = ">" if est > CLIP else "<" if est < -CLIP else "o"
        ax.plot([_clip(est)], [y], marker, color=colour, ms=4)
    ax.set_yticks(range(len(rows)), [r[0] for r in reversed(rows)], fontsize=6)
    ax.set_xlim(-CLIP - 0.5, CLIP + 0.5)
    ax.set_ylim(-1, len(rows))
    ax.set_xlabel("margin: distance of the estimate (dot) and CI (bar) from the accepted region's boundary, "
                  "in units of the region; inside > 0 (shaded)", fontsize=7)
    ax.set_title(title, fontsize=9)
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2, label=s) for s, c in STATUS_COLOURS.items()]
    ax.legend(handles=handles, fontsize=6, loc="lower left", ncol=3)
    fig.tight_layout()
    text = _svg(fig)
    plt.close(fig)
    return text


def compare(old: Sequence[dict], new: Sequence[dict]) -> dict:
    """What changed from ``old`` to ``new``: status changes, headlines that moved by more than the new
    CI's half-width (or the old one's, when the new has none), new and gone claims."""
    before = {v["id"]: v for v in old}
    after = {v["id"]: v for v in new}
    changed, moved = [], []
    for cid in sorted(set(before) & set(after)):
        a, b = before[cid], after[cid]
        if a.get("status") != b.get("status"):
            changed.append((cid, a.get("status"), b.get("status")))
        x, y = a.get("measured"), b.get("measured")
        ci = b.get("ci") or a.get("ci")
        if (isinstance(x, (int, float)) and isinstance(y, (int, float)) and ci and None not in ci
                and abs(y - x) > (ci[1] - ci[0]) / 2):
            moved.append((cid, x, y, (ci[1] - ci[0]) / 2))
    return {"status_changed": changed, "moved": moved, "new": sorted(set(after) - set(before)),
            "gone": sorted(set(before) - set(after))}


def run_facts(rows: Sequence[dict]) -> dict:
    """Counts per status, modes, commit, machine, time."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.get("status", "?")] = counts.get(r.get("status", "?"), 0) + 1
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
                                cwd=Path(__file__).resolve().parent).stdout.strip() or "not a git checkout"
    except (OSError, subprocess.SubprocessError):
        commit = "not a git checkout"
    return {"counts": counts, "modes": sorted({r.get("mode", "?") for r in rows}), "commit": commit,
            "machine": f"{platform.node()} ({os.cpu_count()} cores, {platform.machine()})",
            "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "dates": sorted({r["run_date"] for r in rows if r.get("run_date")})}


def _figure(row: dict, folder: Path | None) -> str:
    name = row.get("figure")
    if not name or folder is None or not (folder / name).is_file():
        return "<p class=muted>No figure.</p>" if not row.get("figure_error") else \
            f"<p class=muted>Figure not saved: {html.escape(row['figure_error'])}</p>"
    data = base64.b64encode((folder / name).read_bytes()).decode()
    return (f'<figure><img src="data:image/png;base64,{data}" alt="figure of {html.escape(row["id"])}: '
            f'{html.escape(row.get("statement", "")[:200])}"></figure>')


def _check_rows(row: dict) -> str:
    out = []
    for ch in row.get("checks") or []:
        ci = ch.get("ci")
        ci_text = (f"{fmt(ci)} ({ch.get('ci_method') or ''}, n = {ch.get('n')} {ch.get('unit') or ''})" if ci
                   else f"none: {ch.get('no_ci') or ''}")
        out.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
            ch.get("name") or "(the claim's check)", ch.get("kind"), fmt(ch.get("predicted")),
            fmt(ch.get("measured")) + (f" ({ch['label']})" if ch.get("label") else ""), ci_text,
            ch.get("tolerance"), ch.get("outcome", "pass" if ch.get("passed") else "fail"))) + "</tr>")
        if ch.get("details"):
            out.append(f'<tr><td colspan=7><details><summary>details of {html.escape(ch.get("name") or "the check")}'
                       f'</summary><pre>{html.escape(json.dumps(ch["details"], indent=1))}</pre></details></td></tr>')
    return "\n".join(out)


def _section(row: dict, folder: Path | None) -> str:
    paper = row.get("paper") or {}
    link = (f' <a href="https://arxiv.org/abs/{html.escape(paper["arxiv"])}">arXiv:{html.escape(paper["arxiv"])}</a>'
            if paper.get("arxiv") else "")
    cite = html.escape(f"{paper.get('authors', '')} ({paper.get('year', '')}). {paper.get('title', '')}. "
                       f"{paper.get('venue') or ''}")
    status = row.get("status", "?")
    extra = []
    for key, label in (("exploratory", "Exploratory"), ("reconstruction", "Runs a reconstruction")):
        if row.get(key):
            extra.append(f"<p><strong>{label}:</strong> {html.escape(str(row[key]))}</p>")
    if row.get("expected_failure"):
        ef = row["expected_failure"]
        extra.append(f"<p><strong>Expected failure ({html.escape(ef['class'])}):</strong> "
                     f"{html.escape(ef['reason'])}</p>")
    return f"""
<section id="{anchor(row['id'])}" aria-labelledby="{anchor(row['id'])}-h">
<h3 id="{anchor(row['id'])}-h">{html.escape(row['id'])} <span class="badge" style="background:{STATUS_COLOURS.get(status, '#000')}">{html.escape(status)}</span></h3>
<p class=cite>{cite}{link}</p>
<p><strong>Reference:</strong> {html.escape(row.get('reference') or '')}</p>
<p><strong>Statement:</strong> {html.escape(row.get('statement') or '')}</p>
{''.join(extra)}
<div class=scroll><table class=checks><caption>Checks of {html.escape(row['id'])}</caption>
<thead><tr><th scope=col>check</th><th scope=col>kind</th><th scope=col>predicted</th><th scope=col>measured</th>
<th scope=col>CI</th><th scope=col>accepted region</th><th scope=col>outcome</th></tr></thead>
<tbody>{_check_rows(row)}</tbody></table></div>
<details><summary>configuration ({html.escape(row.get('mode') or '')})</summary><pre>{html.escape(json.dumps(row.get('config'), indent=1))}</pre></details>
{f"<p><strong>Note:</strong> {html.escape(row['note'])}</p>" if row.get('note') else ''}
{f"<pre class=error>{html.escape(row['error'])}</pre>" if row.get('error') else ''}
{_figure(row, folder)}
<p><a href="#top">back to the table</a></p>
</section>"""


def _comparison(diff: dict, old_name: str) -> str:
    def items(rows, fmt):
        return "".join(f"<li>{fmt(r)}</li>" for r in rows) or "<li>none</li>"

    return f"""
<section id="comparison" aria-labelledby="comparison-h"><h2 id="comparison-h">Changes since {html.escape(old_name)}</h2>
<h3>Status changed</h3><ul class=changed>{items(diff['status_changed'], lambda r: f'<a href="#{anchor(r[0])}">{html.escape(r[0])}</a>: {html.escape(str(r[1]))} &rarr; {html.escape(str(r[2]))}')}</ul>
<h3>Headline moved by more than its CI half-width</h3><ul class=moved>{items(diff['moved'], lambda r: f'<a href="#{anchor(r[0])}">{html.escape(r[0])}</a>: {fmt(r[1])} &rarr; {fmt(r[2])} (half-width {fmt(r[3])})')}</ul>
<h3>New</h3><ul class=new>{items(diff['new'], lambda r: html.escape(r))}</ul>
<h3>Gone</h3><ul class=gone>{items(diff['gone'], lambda r: html.escape(r))}</ul>
</section>"""


SCRIPT = r"""
(function () {
  var table = document.getElementById('claims');
  var body = table.tBodies[0];
  var controls = {status: document.getElementById('f-status'), paper: document.getElementById('f-paper'),
                  setup: document.getElementById('f-setup'), kind: document.getElementById('f-kind')};
  var search = document.getElementById('f-q');
  var sortKey = null, desc = false;
  function apply() {
    var q = search.value.toLowerCase(), shown = 0;
    Array.prototype.forEach.call(body.rows, function (tr) {
      var ok = true;
      for (var k in controls) { if (controls[k].value && tr.dataset[k] !== controls[k].value) { ok = false; } }
      if (q && tr.textContent.toLowerCase().indexOf(q) < 0) { ok = false; }
      tr.hidden = !ok; if (ok) { shown += 1; }
    });
    document.getElementById('shown').textContent = shown;
  }
  function sortBy(key, descending) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.dataset[key], y = b.dataset[key], nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
      return descending ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    sortKey = key; desc = descending;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.setAttribute('aria-sort', th.dataset.key === key ? (descending ? 'descending' : 'ascending') : 'none');
    });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    var button = th.querySelector('button');
    button.addEventListener('click', function () { sortBy(th.dataset.key, sortKey === th.dataset.key ? !desc : false); });
  });
  for (var k in controls) { controls[k].addEventListener('change', apply); }
  search.addEventListener('input', apply);
  var hash = new URLSearchParams(window.location.hash.slice(1));
  for (var k2 in controls) { if (hash.get(k2)) { controls[k2].value = hash.get(k2); } }
  if (hash.get('q')) { search.value = hash.get('q'); }
  if (hash.get('sort')) { sortBy(hash.get('sort'), hash.get('desc') === '1'); }
  apply();
})();
"""

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:0 1em;
line-height:1.4;color:#212121}
table{border-collapse:collapse;width:100%;font-size:0.85em}th,td{border-bottom:1px solid #e0e0e0;padding:3px 6px;
text-align:left;vertical-align:top}th button{font:inherit;font-weight:bold;background:none;border:0;cursor:pointer;padding:0}
.badge{color:#fff;border-radius:3px;padding:0 5px;font-size:0.8em}.scroll{overflow-x:auto}.muted{color:#757575}
.filters{display:flex;flex-wrap:wrap;gap:0.6em;margin:0.6em 0}.filters label{font-size:0.85em}
figure{margin:0.5em 0}figure img{max-width:100%;height:auto}svg{max-width:100%;height:auto}
pre{white-space:pre-wrap;font-size:0.8em;background:#fafafa;padding:0.5em}caption{text-align:left;font-weight:bold}
@media (max-width:700px){td:nth-child(3),th:nth-child(3),td:nth-child(6),th:nth-child(6){display:none}body{padding:0 0.4em}}
"""


def _options(values) -> str:
    return '<option value="">all</option>' + "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>'
                                                      for v in sorted(values))


def write_html(rows: Sequence[dict], directory, figures=None, previous: Sequence[dict] | None = None,
               previous_name: str = "the earlier run", title: str = "theorysim check") -> Path:
    """Write ``directory/index.html`` for the verdict rows (``theorysim check --json``'s); ``figures``: the
    folder of the rows' ``figure`` files (embedded); ``previous``: an earlier run's rows to compare with."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    folder = Path(figures) if figures is not None else None
    facts = run_facts(rows)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(facts["counts"].items()))
    head = sorted(rows, key=lambda r: (bool(r.get("exploratory")), r["id"]))  # the papers' claims, then exploratory
    body_rows = []
    for r in head:
        paper = r["id"].split("/")[0]
        ci = r.get("ci")
        measured = fmt(r.get("measured")) + (f" {fmt(ci)}" if ci else "")
        data = {"status": r.get("status", "?"), "paper": paper, "setup": r.get("setup") or paper,
                "kind": r.get("kind") or "-", "claim": r["id"], "seconds": str(r.get("seconds", 0))}
        attrs = " ".join(f'data-{k}="{html.escape(str(v))}"' for k, v in data.items())
        status = r.get("status", "?")
        body_rows.append(
            f'<tr {attrs}><td>{html.escape(paper)}</td><td><a href="#{anchor(r["id"])}">{html.escape(r["id"])}</a>'
            f'{" (exploratory)" if r.get("exploratory") else ""}</td><td>{html.escape(data["setup"])}</td>'
            f'<td>{html.escape(data["kind"])}</td><td><span class="badge" style="background:'
            f'{STATUS_COLOURS.get(status, "#000")}">{html.escape(status)}</span></td>'
            f'<td>{html.escape(fmt(r.get("predicted")))}</td><td>{html.escape(measured)}</td>'
            f'<td>{html.escape(str(r.get("seconds", "")))}</td></tr>')
    columns = [("paper", "paper"), ("claim", "claim"), ("setup", "setup"), ("kind", "kind"), ("status", "status"),
               ("predicted", "claim"), ("measured [95% CI]", "claim"), ("seconds", "seconds")]
    ths = "".join(f'<th scope=col data-key="{key}" aria-sort="none"><button type=button>{html.escape(label)}'
                  f'</button></th>' for label, key in columns)
    headline = [(r["id"], r.get("status", "?"), (r.get("checks") or [{}])[0]) for r in head]
    verdict_svg = margin_plot(headline, "Every claim's headline check on the margin scale (colour: status)")
    papers = sorted({r["id"].split("/")[0] for r in rows})
    forests = []
    for p in papers:
        items = [(f"{r['id'].split('/')[1]}: {(ch.get('name') or 'check')[:40]}", r.get("status", "?"), ch)
                 for r in head if r["id"].split("/")[0] == p for ch in (r.get("checks") or [])]
        forests.append(f'<details><summary>{html.escape(p)}: {len(items)} checks</summary>'
                       f'<div role="img" aria-label="forest plot of {html.escape(p)}\'s checks">'
                       f'{margin_plot(items, f"{p}: every check")}</div></details>')
    comparison = "" if previous is None else _comparison(compare(previous, rows), previous_name)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{CSS}</style></head>
<body><main>
<h1 id="top">{html.escape(title)}</h1>
<p class=summary>{len(rows)} claims: {html.escape(counts)}. Mode: {html.escape(', '.join(facts['modes']))}.
Commit {html.escape(facts['commit'])}; {html.escape(facts['machine'])}; written {html.escape(facts['time'])}{
        (' (runs of ' + html.escape(', '.join(facts['dates'])) + ')') if facts['dates'] else ''}.</p>
{comparison}
<h2>Claims</h2>
<div class=filters role="search">
<label>status <select id="f-status">{_options({r.get('status', '?') for r in rows})}</select></label>
<label>paper <select id="f-paper">{_options(papers)}</select></label>
<label>setup <select id="f-setup">{_options({r.get('setup') or r['id'].split('/')[0] for r in rows})}</select></label>
<label>kind <select id="f-kind">{_options({r.get('kind') or '-' for r in rows})}</select></label>
<label>search <input id="f-q" type="search" placeholder="claim, statement, value"></label>
<span><span id="shown">{len(rows)}</span> shown</span></div>
<div class=scroll><table id="claims"><caption>Every claim's verdict and headline check (click a column to sort)</caption>
<thead><tr>{ths}</tr></thead><tbody>
{''.join(body_rows)}
</tbody></table></div>
<h2 id="verdict-plot-h">Verdict plot</h2>
<p>Each headline check's estimate (dot) and CI (bar) against its accepted region, as the margin: the signed
distance from the region's boundary in units of the region (half its width when two-sided, the bound's size when
one-sided); right of the line is inside. A bar across the line is INCONCLUSIVE; values beyond &plusmn;{CLIP:g} sit at
the edge.</p>
<div id="verdict-plot" role="img" aria-label="verdict plot: every claim's headline check on the margin scale">{verdict_svg}</div>
<h2>Per paper: every check</h2>
{''.join(forests)}
<h2>Claims in detail</h2>
{''.join(_section(r, folder) for r in head)}
</main><script>{SCRIPT}</script></body></html>
"""
    path = directory / "index.html"
    path.write_text(page)
    return path
