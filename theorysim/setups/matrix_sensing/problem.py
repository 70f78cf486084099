"""Ground truths, sensing operators and runs for the matrix-sensing setup (spec
shared/papers/matrix_sensing_lr_xor.md, part A).

Problem data come from ``numpy.random.default_rng(seed)`` (fixed per seed on every platform);
training randomness (the initialisation) from the engine's counter RNG.
"""
from __future__ import annotations

import numpy as np

from theorysim.engine.experiment import Experiment, grid
from theorysim.setups.matrix_sensing.model import FactorizedSensing


def _spectrum(r: int, spectrum):
    s = np.linspace(1.0, 0.5, r) if spectrum is None else np.asarray(spectrum, dtype=np.float64)
    if s.shape != (r,) or np.any(s <= 0):
        raise ValueError(f"spectrum={spectrum!r}: expected {r} positive values")
    return s


def symmetric_truth(n: int, r: int, seed: int, spectrum=None) -> np.ndarray:
    """M* = U diag(s) U^T with U a random n x r orthonormal frame; s defaults to
    linspace(1, 0.5, r) (diag(1, 0.5) for r = 2, the spec's check)."""
    if not (1 <= r <= n):
        raise ValueError(f"r={r!r}: expected 1 <= r <= n = {n}")
    U = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, r)))[0]
    return U @ np.diag(_spectrum(r, spectrum)) @ U.T


def asymmetric_truth(n1: int, n2: int, r: int, seed: int, spectrum=None) -> np.ndarray:
    """M* = U diag(s) V^T, U and V random orthonormal frames."""
    if not (1 <= r <= min(n1, n2)):
        raise ValueError(f"r={r!r}: expected 1 <= r <= min(n1, n2) = {min(n1, n2)}")
    g = np.random.default_rng(seed)
    U = np.linalg.qr(g.normal(size=(n1, r)))[0]
    V = np.linalg.qr(g.normal(size=(n2, r)))[0]
    return U @ np.diag(_spectrum(r, spectrum)) @ V.T


def gaussian_sensing(m: int, n1: int, n2: int, seed: int, symmetric: bool) -> np.ndarray:
    """m sensing matrices with iid N(0, 1) entries, symmetrised (G + G^T)/2 when ``symmetric``:
    then E <A, M> A = M for symmetric M (for X X^T); non-symmetric A are needed for F G^T, whose
    skew part symmetric A never see."""
    if m < 1:
        raise ValueError(f"m={m!r}: expected a positive number of measurements")
    G = np.random.default_rng(seed + 1_000_003).normal(size=(m, n1, n2))
    if symmetric:
        if n1 != n2:
            raise ValueError(f"symmetric sensing needs a square problem, got {n1} x {n2}")
        G = 0.5 * (G + np.swapaxes(G, 1, 2))
    return G


def model(cfg, k: int, factorization: str, truth: str | None = None, sensing: str | None = None) -> FactorizedSensing:
    """The sensing model of a claim configuration: ``factorization`` 'XXT' or 'FGT'; the truth
    ('symmetric' or 'asymmetric') defaults to the factorization's, and so does the sensing
    ensemble ('symmetric' or 'gaussian'); ``cfg["m"] = 0`` is the population loss."""
    truth = truth or ("symmetric" if factorization == "XXT" else "asymmetric")
    n, r = cfg["n"], cfg["r"]
    M = symmetric_truth(n, r, cfg["problem_seed"]) if truth == "symmetric" else asymmetric_truth(n, n, r, cfg["problem_seed"])
    sensing = sensing or ("symmetric" if factorization == "XXT" else "gaussian")
    A = None if cfg["m"] == 0 else gaussian_sensing(cfg["m"], n, n, cfg["problem_seed"], sensing == "symmetric")
    return FactorizedSensing(M, k, A=A, symmetric=(factorization == "XXT"))


def run(model_: FactorizedSensing, alphas, etas, seeds: int, steps: int, record_every: int, theta0=None):
    """GD on every (alpha, eta, seed) at once; returns (result, member table as a dict of lists)."""
    g = grid(alpha=list(alphas), lr=list(etas), seeds=range(seeds))
    res = Experiment(model_, "sgd", steps=steps, record_every=record_every, divergence_factor=0, **g).run(theta0)
    return res, g


def group_curves(res, g, metric: str = "error") -> dict[tuple[float, float], np.ndarray]:
    """{(alpha, eta): curves [seeds, R]}."""
    curves = res.curve(metric)
    out: dict = {}
    for i, key in enumerate(zip(g["alpha"], g["lr"])):
        out.setdefault(key, []).append(curves[i])
    return {k: np.array(v) for k, v in out.items()}


def rebalance(F: np.ndarray, G: np.ndarray):
    """The "rebalance once" stand-in for the paper's one-step modification (its eq. 5.1 was not
    available): F <- F (F^T F)^(-1/2), G <- G (F^T F)^(1/2). F G^T is unchanged and F^T F = I, so
    the spurious directions' imbalance jumps from O(alpha^2) to O(1)."""
    w, V = np.linalg.eigh(F.T @ F)
    if w[0] <= 0:
        raise ValueError("rebalance: F^T F is singular")
    return F @ (V / np.sqrt(w)) @ V.T, G @ (V * np.sqrt(w)) @ V.T
