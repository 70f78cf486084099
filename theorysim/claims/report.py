"""Verdict tables for the terminal and ``report.md`` with one PNG figure per claim."""
from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Sequence

from theorysim.claims.claim import STATUSES, Check, Verdict


def fmt(x) -> str:
    """Compact number formatting for tables."""
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in x) + "]"
    if isinstance(x, (int,)) and not isinstance(x, bool):
        return str(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e5:
        return f"{v:.5g}"
    return f"{v:.3e}"


def fmt_measured(check: Check | None) -> str:
    if check is None:
        return "-"
    m = check.measured
    text = fmt(m.value) if m.ci is None else f"{fmt(m.value)} [{fmt(m.ci[0])}, {fmt(m.ci[1])}]"
    return f"{text} ({m.label})" if m.label else text


def status_text(v: Verdict) -> str:
    """The status as tables show it: XFAIL with its class, INCONCLUSIVE marked when declared
    acceptable in this mode, exploratory claims marked."""
    s = v.status
    c = v.claim
    if s == "XFAIL" and c.expected_failure is not None:
        s = f"XFAIL:{c.expected_failure.cls}"
    elif s == "INCONCLUSIVE" and v.inconclusive_ok:
        s = "INCONCLUSIVE:declared"
    elif c.reconstruction and s in ("PASS", "FAIL", "INCONCLUSIVE"):
        s = f"{s}:reconstruction"
    return s


def _row(v: Verdict) -> list[str]:
    head = v.headline
    return [
        v.claim.id,
        "-" if head is None else head.tolerance.kind,
        fmt(None if head is None else head.predicted),
        fmt_measured(head),
        "-" if head is None else head.tolerance.describe(),
        status_text(v),
        f"{v.seconds:.1f}",
    ]


HEADER = ["claim", "kind", "predicted", "measured [95% CI]", "accepted region", "verdict", "s"]


def _check_line(ch: Check) -> str:
    out = (f"    - {ch.name}: [{ch.tolerance.kind}] predicted {fmt(ch.predicted)}, measured {fmt_measured(ch)}, "
           f"{ch.tolerance.describe()}: {ch.outcome.upper() if ch.outcome != 'pass' else 'ok'}")
    if ch.judgement.decide:
        out += f" (to decide: {ch.judgement.decide})"
    return out


def table(verdicts: Sequence[Verdict], width: int | None = None) -> str:
    """Plain-text verdict table (each claim's statement on the line below its row); exploratory
    claims in a second table after the paper's claims."""
    width = width or shutil.get_terminal_size((120, 20)).columns
    paper = [v for v in verdicts if not (v.claim.exploratory if v.claim else False)]
    explore = [v for v in verdicts if v not in paper]
    out = _table_block(paper, width)
    if explore:
        out += ["", "Exploratory (statements the papers do not make; not in the tally, never in the exit code):"]
        out += _table_block(explore, width)
    out.append("")
    out.append(counts_line(verdicts))
    return "\n".join(out)


def _table_block(verdicts: Sequence[Verdict], width: int) -> list[str]:
    rows = [_row(v) for v in verdicts]
    widths = [max(len(HEADER[i]), *(len(r[i]) for r in rows)) if rows else len(HEADER[i]) for i in range(len(HEADER))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = [line(HEADER), line(["-" * w for w in widths])]
    for v, r in zip(verdicts, rows):
        out.append(line(r))
        statement = v.claim.statement
        limit = max(40, width - 4)
        out.append("    " + (statement if len(statement) <= limit else statement[: limit - 3] + "..."))
        head = v.headline
        if head is not None and head.judgement.decide:
            out.append(f"    (to decide: {head.judgement.decide})")
        for ch in v.checks[1:]:
            out.append(_check_line(ch))
        if v.error:
            out.append(f"    error: {v.error.splitlines()[-1]}")
    return out


def summary_counts(verdicts: Sequence[Verdict]) -> dict[str, int]:
    """Statuses of the paper's claims (exploratory ones left out: :func:`exploratory_counts`)."""
    counts = dict.fromkeys(STATUSES, 0)
    for v in verdicts:
        if not (v.claim is not None and v.claim.exploratory):
            counts[v.status] += 1
    return counts


def exploratory_counts(verdicts: Sequence[Verdict]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for v in verdicts:
        if v.claim is not None and v.claim.exploratory:
            counts[v.status] += 1
    return counts


def counts_line(verdicts: Sequence[Verdict]) -> str:
    """E.g. ``56 PASS, 2 INCONCLUSIVE, 11 XFAIL (4 reconstruction); exploratory: 1 PASS``."""
    counts = summary_counts(verdicts)
    recon = {k: sum(1 for v in verdicts if v.status == k and v.claim is not None and v.claim.reconstruction
                    and not v.claim.exploratory) for k in counts}
    parts = []
    for k, n in counts.items():
        if n:
            parts.append(f"{n} {k}" + (f" ({recon[k]} on reconstructions)" if recon[k] else ""))
    text = ", ".join(parts) or "no claims"
    ex = exploratory_counts(verdicts)
    if any(ex.values()):
        text += "; exploratory: " + ", ".join(f"{n} {k}" for k, n in ex.items() if n)
    return text


def _md_escape(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _html_escape(s: str) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _json_block(data) -> str:
    """Indented JSON of ``data`` (numpy values as the verdict JSON writes them; other objects by str)."""
    import json

    from theorysim.claims.claim import _jsonable

    return json.dumps(_jsonable(data), indent=1, default=str).replace("`" * 3, "'" * 3)


def write_report(verdicts: Sequence[Verdict], directory, title: str = "theorysim check",
                 not_run: Sequence[str] = ()) -> Path:
    """``report.md`` in ``directory``: the verdict table, then one section per claim; ``not_run``:
    the claims an interruption left out (listed at the top)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"# {title}", ""]
    if not_run:
        lines += [f"**Interrupted** after {len(verdicts)} of {len(verdicts) + len(not_run)} claims; not run: "
                  + ", ".join(not_run) + ".", ""]
    modes = sorted({v.mode for v in verdicts})
    lines.append(f"Mode: {', '.join(modes)}. " + counts_line(verdicts) + ".")
    paper = [v for v in verdicts if not v.claim.exploratory]
    explore = [v for v in verdicts if v.claim.exploratory]
    for block, heading in ((paper, None), (explore, "Exploratory claims (not the papers' statements; not in the "
                                                    "tally)")):
        if not block:
            continue
        if heading:
            lines += ["", f"## {heading}"]
        lines += ["", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        for v in block:
            lines.append("| " + " | ".join(_md_escape(c) for c in _row(v)) + " |")
    for v in verdicts:
        c = v.claim
        lines += ["", f"## {c.id}: {status_text(v)}", "", f"*{_md_escape(c.paper.cite())}*, {c.reference}.", "",
                  c.statement, ""]
        if c.exploratory:
            lines += [f"Exploratory: {c.exploratory}", ""]
        if c.expected_failure is not None:
            lines += [f"Expected failure ({c.expected_failure.cls}): {c.expected_failure.reason}", ""]
        elif c.reconstruction:
            lines += [f"Runs a reconstruction (the verdict is the reconstruction's): {c.reconstruction}", ""]
        if v.status == "INCONCLUSIVE" and v.inconclusive_ok:
            lines += [f"INCONCLUSIVE is declared acceptable in {v.mode}: {c.inconclusive_ok[v.mode]}", ""]
        lines += ["| check | kind | predicted | measured [CI] | CI | accepted region | outcome |",
                  "|---|---|---|---|---|---|---|"]
        for ch in v.checks:
            m = ch.measured
            ci_text = (f"{m.ci_level:.0%} {m.ci_method}" + (f", n = {m.n} {m.unit}" if m.n else "")
                       if m.ci is not None else f"none: {m.no_ci}")
            outcome = ch.outcome + (" (invalid)" if ch.invalid else "")
            if ch.judgement.decide:
                outcome += f"; to decide: {ch.judgement.decide}"
            cells = [ch.name or c.id, ch.tolerance.kind, fmt(ch.predicted), fmt_measured(ch), ci_text,
                     ch.tolerance.describe(), outcome]
            lines.append("| " + " | ".join(_md_escape(x) for x in cells) + " |")
        for ch in v.checks:  # what each measurement is made of (per-point values, fitted constants, ...)
            if ch.measured.details:
                lines += ["", f"<details><summary>details: {_html_escape(ch.name or c.id)}</summary>", "",
                          "```json", _json_block(ch.measured.details), "```", "", "</details>"]
        lines += ["", f"<details><summary>configuration ({v.mode})</summary>", "", "```json",
                  _json_block(c.config(v.mode)), "```", "", "</details>"]
        if c.note:
            lines += ["", f"Note: {c.note}"]
        if v.error:
            lines += ["", "```", v.error.strip(), "```"]
        if v.figure:
            lines += ["", f"![{c.id}]({v.figure})"]
        elif v.figure_error:
            lines += ["", f"(figure not saved: {_md_escape(v.figure_error)})"]
    path = directory / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
