"""Separable data sets of Tyurin (2024): labels y_i in {-1, +1}, features a_i as rows of A."""
from __future__ import annotations

import numpy as np


def _check(A, y):
    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if A.ndim != 2 or y.shape != (A.shape[0],):
        raise ValueError(f"A, y: expected shapes (n, d) and (n,), got {A.shape} and {y.shape}")
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("y: expected labels in {-1, +1}")
    return A, y


def two_point():
    """Theorem 4.1: (1, -1) labelled +1 and (-1, -4) labelled -1."""
    return np.array([[1.0, -1.0], [-1.0, -4.0]]), np.array([1.0, -1.0])


def worst_case(n: int):
    """Theorem 5.1: one point (0.5, -1) labelled +1 and n - 1 copies of (-0.5, -1) labelled -1
    (margin and radius Theta(1), yet Batch Perceptron needs Omega(n) iterations)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n={n!r}: expected an integer >= 2")
    A = np.tile([-0.5, -1.0], (n, 1))
    A[0] = [0.5, -1.0]
    y = -np.ones(n)
    y[0] = 1.0
    return A, y


def gaussian_separable(d: int, n: int, gap: float = 0.1, seed: int = 0):
    """a ~ N(0, I_d), y = sign(a^T theta*) for a random unit theta*, keeping only points with
    |a^T theta*| > gap (so the margin is at least gap); n points are kept (spec B4)."""
    if d < 1 or n < 1 or not (gap >= 0):
        raise ValueError(f"d={d!r}, n={n!r}, gap={gap!r}: expected d, n >= 1 and gap >= 0")
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=d)
    theta /= np.linalg.norm(theta)
    rows = []
    while sum(len(r) for r in rows) < n:
        a = rng.normal(size=(2 * n, d))
        rows.append(a[np.abs(a @ theta) > gap])
    A = np.concatenate(rows)[:n]
    return A, np.sign(A @ theta)


def digits(classes=(0, 1), scale: bool = True):
    """Two classes of scikit-learn's bundled 8 x 8 digits (ships inside the package, nothing is
    downloaded), features scaled to [0, 1]; needs the ``digits`` extra (scikit-learn)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("the digits data set needs scikit-learn: pip install 'theorysim[digits]'") from None
    X, t = load_digits(return_X_y=True)
    keep = np.isin(t, classes)
    A = X[keep] / (16.0 if scale else 1.0)
    y = np.where(t[keep] == classes[0], 1.0, -1.0)
    return A, y


def digits_3_vs_8(scale: bool = True):
    """Classes 3 (label +1) and 8 (label -1) of the 8 x 8 handwritten digits (357 images, features
    scaled to [0, 1]), shipped with theorysim (``digits_3_8.npz``, 10 KB) so that no extra is needed:
    the same arrays as ``digits((3, 8))`` from scikit-learn's copy (tested). Source: UCI "Optical
    Recognition of Handwritten Digits" (Alpaydin and Kaynak, 1998; CC BY 4.0), as distributed with
    scikit-learn."""
    from pathlib import Path

    raw = np.load(Path(__file__).with_name("digits_3_8.npz"))
    A = raw["X"].astype(np.float64) / (16.0 if scale else 1.0)
    y = np.where(raw["label"] == 3, 1.0, -1.0)
    return A, y


def with_bias(A):
    """Append a constant feature: the paper's loss has no bias term (footnote choice)."""
    A = np.asarray(A, dtype=np.float64)
    return np.hstack([A, np.ones((A.shape[0], 1))])
