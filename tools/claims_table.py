"""Write the README's claim table from real `theorysim check --json` output (run before a release).

    theorysim check --quick --json quick.json
    python tools/claims_table.py quick.json [--full full-a.json full-b.json ...] [--readme README.md]
    python tools/claims_table.py --update one.json [--readme README.md]   # rows of a run of some claims

``--update`` replaces only the rows (a quick run: the whole row but its full-mode cell) or the full-mode
cells (a full run) of the claims in the file, keeping every other row as it is. Each full-mode cell
carries the digest of the configuration it was run with (``cfg 1a2b3c4d``): a claim whose full
configuration changed since shows a stale cell, which tests/test_claims_table.py refuses.

The table sits between the markers ``<!-- claims-table:begin -->`` and ``<!-- claims-table:end -->``
and is replaced whole; nothing in it is typed by hand. One row per claim: the kinds of its checks, its
verdict in quick (and full), its class (an expected failure's regime / reconstruction, or
exploratory), the headline check (predicted, measured with its 95% CI and label, accepted region)
and how many of its checks pass; exploratory claims last; then the counts and the full runs' dates.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

BEGIN, END = "<!-- claims-table:begin -->", "<!-- claims-table:end -->"


def _num(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if x == 0 or (1e-3 <= abs(x) < 1e5):
        return f"{x:.4g}"
    return f"{x:.3g}" if math.isfinite(x) else str(x)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _measured(check: dict) -> str:
    m = check["measured"]
    text = _num(m) if not isinstance(m, list) else "[" + ", ".join(_num(v) for v in m) + "]"
    if check.get("ci"):
        text += " [" + ", ".join(_num(c) for c in check["ci"]) + "]"
    if check.get("label"):
        text += f" ({check['label']})"
    return text


def config_digest(config) -> str:
    """8 hex digits of the sha256 of a claim configuration's canonical JSON."""
    import hashlib

    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:8]


def _status(v: dict | None, digest: bool = False) -> str:
    if v is None:
        return "not run"
    s = v["status"]
    if s == "INCONCLUSIVE" and v.get("mode") in (v.get("inconclusive_ok") or {}):
        s += " (declared)"
    s = s if s in ("PASS",) else f"**{s}**"
    if digest and v.get("config") is not None:
        s += f" (cfg {config_digest(v['config'])})"
    return s


def _class(v: dict) -> str:
    if v.get("exploratory"):
        return "exploratory"
    ef = v.get("expected_failure")
    if ef:
        return ef["class"]
    return "reconstruction" if v.get("reconstruction") else ""


def _kinds(v: dict) -> str:
    kinds = []
    for c in v.get("checks") or []:
        k = c.get("kind")
        if k and k not in kinds:
            kinds.append(k)
    return ", ".join(kinds) or "-"


def rows(quick: list[dict], full: list[dict] | None = None) -> list[str]:
    """The table's lines: one row per claim of ``quick``, the paper's claims first and the
    exploratory ones after them; ``full``: the verdicts of full runs (any number of files joined)."""
    full_by = {v["id"]: v for v in full or []}
    head = "| claim | kinds | verdict (quick) |" + (" verdict (full) |" if full is not None else "") + \
        " class | headline check | predicted | measured [95% CI] | accepted region | checks passed |"
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    ordered = sorted(quick, key=lambda v: (bool(v.get("exploratory")), v["id"]))
    for v in ordered:
        checks = v.get("checks") or []
        h = checks[0] if checks else {"name": "-", "predicted": None, "measured": None, "tolerance": "-"}
        cells = [f"`{v['id']}`", _kinds(v), _status(v)]
        if full is not None:
            cells.append(_status(full_by.get(v["id"]), digest=True))
        cells += [_class(v), h["name"] or "(the claim's one check)",
                  _num(h["predicted"]) if not isinstance(h["predicted"], list) else str(h["predicted"]),
                  _measured(h) if checks else "-", h["tolerance"] or "-",
                  f"{sum(c['passed'] for c in checks)} of {len(checks)}"]
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    counts: dict[str, int] = {}
    for v in quick:
        if not v.get("exploratory"):
            counts[v["status"]] = counts.get(v["status"], 0) + 1
    explore = sum(1 for v in quick if v.get("exploratory"))
    out.append("")
    out.append(f"Quick: {len(quick) - explore} claims of the papers: "
               + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + (f"; {explore} exploratory" if explore else "")
               + ".")
    if full is not None:
        dates: dict[str, set] = {}
        for v in full:
            dates.setdefault(v.get("run_date") or "date not recorded", set()).add(v["id"].split("/")[0])
        out.append("Full runs (paper keys by date): " + "; ".join(f"{d}: {', '.join(sorted(k))}"
                                                                  for d, k in sorted(dates.items())) + ".")
    return out


def split_row(line: str) -> list[str]:
    """The cells of a table row (``\\|`` inside a cell kept)."""
    cells, cur, i = [], "", 1
    body = line.strip()
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] == "|":
            cur += "\\|"
            i += 2
            continue
        if ch == "|":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    return cells


def table_rows(readme: str) -> dict[str, list[str]]:
    """claim id -> its row's cells, from the README's table."""
    block = readme[readme.index(BEGIN):readme.index(END)]
    return {cells[0].strip("`"): cells for cells in (split_row(ln) for ln in block.splitlines()
                                                      if ln.startswith("| `"))}


def update(readme: str, verdicts: list[dict], source: str) -> str:
    """The README with the rows (quick) or full-mode cells (full) of ``verdicts`` replaced."""
    rows = table_rows(readme)
    block = readme[readme.index(BEGIN):readme.index(END)]
    full_dates = next((ln for ln in block.splitlines() if ln.startswith("Full runs")), None)
    by_id = {v["id"]: v for v in verdicts}
    out_rows = []
    for cells in rows.values():
        cid = cells[0].strip("`")
        v = by_id.get(cid)
        if v is None:
            out_rows.append(cells)
        elif v.get("mode") == "full":
            out_rows.append(cells[:3] + [_cell(_status(v, digest=True))] + cells[4:])
        else:
            new = rows_for([v])
            out_rows.append(new[:3] + [cells[3]] + new[4:])
    for v in verdicts:  # claims new to the table (a quick run)
        if v["id"] not in rows and v.get("mode") != "full":
            new = rows_for([v])
            out_rows.append(new[:3] + ["not run"] + new[4:])
    head = [ln for ln in block.splitlines() if ln.startswith("| claim") or ln.startswith("|---")]
    explore = {cid for cid, cells in rows.items() if cells[4] == "exploratory"}
    explore |= {v["id"] for v in verdicts if v.get("exploratory")}
    out_rows.sort(key=lambda c: (c[0].strip("`") in explore, c[0].strip("`")))
    counts: dict[str, int] = {}
    for c in out_rows:
        if c[0].strip("`") not in explore:
            status = c[2].strip("*").split(" ")[0]
            counts[status] = counts.get(status, 0) + 1
    lines = head + ["| " + " | ".join(c) + " |" for c in out_rows] + [""]
    lines.append(f"Quick: {len(out_rows) - len(explore)} claims of the papers: "
                 + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + f"; {len(explore)} exploratory.")
    if full_dates:
        lines.append(full_dates)
    return rewrite(readme, lines, source)


def rows_for(verdicts: list[dict]) -> list[str]:
    """One verdict's cells as :func:`rows` writes them (with a full-mode column)."""
    line = rows(verdicts, [])[2]
    return split_row(line)


def rewrite(readme: str, table: list[str], source: str) -> str:
    if BEGIN not in readme or END not in readme:
        raise ValueError(f"README: markers {BEGIN} ... {END} not found")
    a = readme.index(BEGIN) + len(BEGIN)
    b = readme.index(END)
    note = f"\n<!-- generated by tools/claims_table.py from {source}; do not edit by hand -->\n"
    return readme[:a] + note + "\n".join(table) + "\n" + readme[b:]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("quick", nargs="?", help="`theorysim check --quick --json` output")
    ap.add_argument("--update", metavar="JSON", help="replace only the rows of the claims in this run")
    ap.add_argument("--full", nargs="+", help="`theorysim check --full --json` outputs, e.g. one per setup "
                    "(adds a column)")
    ap.add_argument("--readme", default=str(Path(__file__).resolve().parents[1] / "README.md"))
    args = ap.parse_args(argv)
    if args.update:
        try:
            readme = Path(args.readme)
            verdicts = json.loads(Path(args.update).read_text())
            readme.write_text(update(readme.read_text(), verdicts, Path(args.update).name))
        except (OSError, ValueError) as err:
            print(f"claims_table: error: {err}", file=sys.stderr)
            return 2
        print(f"{args.readme}: {len(verdicts)} row(s) updated")
        return 0
    if not args.quick:
        ap.error("give the quick run's JSON, or --update JSON")
    try:
        quick = json.loads(Path(args.quick).read_text())
        full = [v for f in args.full for v in json.loads(Path(f).read_text())] if args.full else None
        readme = Path(args.readme)
        text = rewrite(readme.read_text(), rows(quick, full), Path(args.quick).name)
    except (OSError, ValueError) as err:
        print(f"claims_table: error: {err}", file=sys.stderr)
        return 2
    readme.write_text(text)
    print(f"{args.readme}: {len(quick)} claims")
    return 0


if __name__ == "__main__":
    sys.exit(main())
