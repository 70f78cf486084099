"""A claim's figure as a PNG (matplotlib with the Agg backend, imported only when a figure is saved)."""
from __future__ import annotations

from pathlib import Path


def figure_name(claim_id: str) -> str:
    return claim_id.replace("/", "__") + ".png"


def save_figure(claim, cfg, results, verdict, directory) -> str:
    """Save ``claim.plot(cfg, results, verdict)`` as ``directory/<id>.png``; returns the file name."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fig = claim.plot(cfg, results, verdict)
    fig.suptitle(f"{claim.id}: {verdict.status}", fontsize=10, y=1.02)
    path = directory / figure_name(claim.id)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path.name
