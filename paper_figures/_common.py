"""Shared bits of the figure scripts: output folder and saving as PNG and PDF."""
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def save(fig, name: str) -> None:
    OUT.mkdir(exist_ok=True)
    for ext in ("png", "pdf"):
        fig.savefig(OUT / f"{name}.{ext}", dpi=130, bbox_inches="tight")
    print(f"wrote {OUT / name}.png and .pdf")
