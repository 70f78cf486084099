"""Verdict tables for the terminal and ``report.md`` with one PNG figure per claim."""
from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Sequence

from theorysim.claims.claim import Check, Verdict


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


def _row(v: Verdict) -> list[str]:
    head = v.headline
    return [
        v.claim.id,
        fmt(None if head is None else head.predicted),
        fmt_measured(head),
        "-" if head is None else head.tolerance.describe(),
        v.status,
        f"{v.seconds:.1f}",
    ]


HEADER = ["claim", "predicted", "measured [95% CI]", "tolerance", "verdict", "s"]


def table(verdicts: Sequence[Verdict], width: int | None = None) -> str:
    """Plain-text verdict table (each claim's statement on the line below its row)."""
    width = width or shutil.get_terminal_size((120, 20)).columns
    rows = [_row(v) for v in verdicts]
    widths = [max(len(HEADER[i]), *(len(r[i]) for r in rows)) if rows else len(HEADER[i]) for i in range(len(HEADER))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = [line(HEADER), line(["-" * w for w in widths])]
    for v, r in zip(verdicts, rows):
        out.append(line(r))
        statement = v.claim.statement
        limit = max(40, width - 4)
        out.append("    " + (statement if len(statement) <= limit else statement[: limit - 3] + "..."))
        for ch in v.checks[1:]:
            out.append(f"    - {ch.name}: predicted {fmt(ch.predicted)}, measured {fmt_measured(ch)}, "
                       f"{ch.tolerance.describe()}: {'ok' if ch.passed else 'FAILED'}")
        if v.error:
            out.append(f"    error: {v.error.splitlines()[-1]}")
    counts = summary_counts(verdicts)
    out.append("")
    out.append(", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no claims")
    return "\n".join(out)


def summary_counts(verdicts: Sequence[Verdict]) -> dict[str, int]:
    counts = {"PASS": 0, "FAIL": 0, "XFAIL": 0, "XPASS": 0, "ERROR": 0}
    for v in verdicts:
        counts[v.status] += 1
    return counts


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|")


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
    counts = summary_counts(verdicts)
    lines.append(f"Mode: {', '.join(modes)}. " + ", ".join(f"{n} {k}" for k, n in counts.items() if n) + ".")
    lines += ["", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for v in verdicts:
        lines.append("| " + " | ".join(_md_escape(c) for c in _row(v)) + " |")
    for v in verdicts:
        c = v.claim
        lines += ["", f"## {c.id}: {v.status}", "", f"*{c.paper.cite()}*, {c.reference}.", "", c.statement, ""]
        lines += ["| check | predicted | measured [95% CI] | tolerance | ok |", "|---|---|---|---|---|"]
        for ch in v.checks:
            lines.append(f"| {_md_escape(ch.name or c.id)} | {fmt(ch.predicted)} | {fmt_measured(ch)} | "
                         f"{_md_escape(ch.tolerance.describe())} | {'yes' if ch.passed else 'no'} |")
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
