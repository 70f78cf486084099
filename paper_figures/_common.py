"""Shared bits of the figure scripts: the ``--out`` option and saving as PNG and PDF.

Every script writes into ``--out`` (default: the working directory), never into the source tree."""
import argparse
from pathlib import Path

#: the folder figures are saved into (set by :func:`parse`)
OUT = [Path(".")]


def parse(ap: argparse.ArgumentParser):
    """``ap.parse_args()`` with ``--out DIR`` added (an existing file is refused in one line)."""
    ap.add_argument("--out", default=".", metavar="DIR",
                    help="folder for the PNG and PDF (default: the working directory; created if missing)")
    args = ap.parse_args()
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        ap.error(f"--out {args.out}: not a folder")
    OUT[0] = out
    return args


def save(fig, name: str) -> None:
    out = OUT[0]
    out.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "pdf"):
        fig.savefig(out / f"{name}.{ext}", dpi=130, bbox_inches="tight")
    print(f"wrote {out / name}.png and .pdf")
