"""Shared figure helpers for claims and paper figures (matplotlib, Agg backend, imported lazily)."""
from __future__ import annotations

import numpy as np


def pyplot():
    """matplotlib.pyplot with a non-interactive backend (figures are written to files)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def finish(fig, ax, legend: bool = True, **labels):
    """Set ``xlabel``/``ylabel``/``title``/..., add a small legend, tighten, return the figure."""
    ax.set(**labels)
    if legend:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def seed_curves(ax, steps, curves, label: str, reference=None, log: bool = True):
    """One bold line for the first seed, faint lines for the others, and an optional dashed
    prediction ``reference`` (same length as ``steps``); returns the colour used."""
    plot = ax.semilogy if log else ax.plot
    line, = plot(steps, curves[0], lw=1.2, label=label)
    for row in curves[1:]:
        plot(steps, row, lw=0.5, alpha=0.4, color=line.get_color())
    if reference is not None:
        plot(steps, np.asarray(reference), "--", lw=1, color=line.get_color())
    return line.get_color()
