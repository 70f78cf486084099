"""LR+GD, Normalized LR+GD, Batch Perceptron and its normalized form (Tyurin 2024, sec. 1, 3, 5, 6),
all from theta_0 = 0, with numerically stable sigmoids for steps up to 1e6 and beyond.

Counting convention (spec B4): the iteration count is the smallest t >= 0 with y_i a_i^T theta_t > 0
for every i (strict), theta_0 = 0 being t = 0.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, special

from theorysim.setups.large_step_lr.data import _check

METHODS = ("lr_gd", "nlr_gd", "batch_perceptron", "normalized_batch_perceptron")


def sigmoid_weights(margins: np.ndarray) -> np.ndarray:
    """(1 + exp(m_i))^(-1) = expit(-m_i), finite for any margin."""
    return special.expit(-margins)


def loss(theta, A, y) -> float:
    """f(theta) = (1/n) sum log(1 + exp(-y_i a_i^T theta)) (eq. 2), as logaddexp (no overflow)."""
    return float(np.mean(np.logaddexp(0.0, -y * (A @ theta))))


def gradient(theta, A, y) -> np.ndarray:
    """grad f = -(1/n) sum (1 + exp(y_i a_i^T theta))^(-1) y_i a_i."""
    w = sigmoid_weights(y * (A @ theta))
    return -(w * y) @ A / len(y)


def step(method: str, theta, A, y, gamma: float, t: int) -> np.ndarray:
    """One update theta_t -> theta_{t+1}.

    lr_gd:  theta - gamma grad f(theta).
    nlr_gd: theta - gamma beta_t grad f(theta), beta_t = [(1/n) sum (1 + exp(m_i))^(-1)]^(-1) (sec. 6).
    batch_perceptron: t = 0: theta + (1/(2n)) sum y_i a_i; then theta + (1/n) sum_{i in S_t} y_i a_i,
        S_t = {i : y_i a_i^T theta <= 0} (sec. 3).
    normalized_batch_perceptron: the same with 1/|S_t| in place of 1/n, for t >= 0 (Thm 5.3).
    """
    m = y * (A @ theta)
    n = len(y)
    if method == "lr_gd":
        return theta + gamma * (sigmoid_weights(m) * y) @ A / n
    if method == "nlr_gd":
        # beta_t grad f = -sum w_i y_i a_i / sum w_i: the weights normalised in log space
        # (log w_i = -log(1 + e^{m_i})), finite even when every w_i underflows to 0
        p = special.softmax(-np.logaddexp(0.0, m))
        return theta + gamma * (p * y) @ A
    if method == "batch_perceptron" and t == 0:
        return theta + (y @ A) / (2 * n)
    if method in ("batch_perceptron", "normalized_batch_perceptron"):
        S = m <= 0
        if not S.any():
            return theta
        denom = n if method == "batch_perceptron" else S.sum()
        return theta + (y[S] @ A[S]) / denom
    raise ValueError(f"method={method!r}: expected one of {', '.join(METHODS)}")


def run(method: str, A, y, gamma: float = 1.0, max_iter: int = 100_000, stop: bool = True,
        record: bool = False):
    """Iterate from theta_0 = 0. Returns (iterations to separate, or None if not within
    ``max_iter``; the trajectory [t+1, d] if ``record`` else the last iterate)."""
    A, y = _check(A, y)
    if method not in METHODS:
        raise ValueError(f"method={method!r}: expected one of {', '.join(METHODS)}")
    if method in ("lr_gd", "nlr_gd") and not (np.isfinite(gamma) and gamma > 0):
        raise ValueError(f"gamma={gamma!r}: expected a finite step > 0")
    theta = np.zeros(A.shape[1])
    path = [theta] if record else None
    hit = None
    for t in range(max_iter + 1):
        if hit is None and np.all(y * (A @ theta) > 0):
            hit = t
            if stop:
                break
        if t == max_iter:
            break
        theta = step(method, theta, A, y, gamma, t)
        if record:
            path.append(theta)
    return hit, (np.array(path) if record else theta)


def margin_and_radius(A, y) -> tuple[float, float]:
    """mu = max_{||theta|| = 1} min_i y_i a_i^T theta (Assumption 1.1) and R = max_i ||a_i||.

    The hard-margin SVM min ||theta||^2 / 2 s.t. y_i a_i^T theta >= 1 (no bias) is solved through
    its dual, max_{alpha >= 0} sum alpha - ||Z^T alpha||^2 / 2 with Z = diag(y) A (L-BFGS-B with
    bounds), theta = Z^T alpha; mu is reported as min_i y_i a_i^T theta / ||theta||, which is a
    valid lower bound on mu for any theta and equals mu at the optimum (so bounds built on it
    stay valid)."""
    A, y = _check(A, y)
    Z, counts = np.unique(y[:, None] * A, axis=0, return_counts=True)  # duplicates add nothing

    def dual(alpha):
        v = Z.T @ alpha
        return 0.5 * v @ v - alpha.sum(), Z @ v - 1.0

    res = optimize.minimize(dual, np.full(len(Z), 1e-3), jac=True, method="L-BFGS-B",
                            bounds=[(0, None)] * len(Z), options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20000})
    theta = Z.T @ res.x
    norm = np.linalg.norm(theta)
    mu = float(np.min(Z @ theta) / norm) if norm > 0 else 0.0  # theta = 0: no separating direction
    if not mu > 0:
        raise ValueError("A, y: the data are not linearly separable through the origin (margin <= 0)")
    return mu, float(np.max(np.linalg.norm(A, axis=1)))
