"""Kumar, Bordelon, Gershman, Pehlevan (2023, arXiv 2310.06110): grokking as the transition from lazy
to rich training. The model and its exact test loss (the claims are not built yet).

Network f(x) = alpha mean_i phi(w_i . x), phi(z) = z + (eps / 2) z^2, first-layer weights W [H, D]
trained, readouts frozen; target y(x) = (beta . x)^2 / 2; inputs x ~ N(0, I / D). With the sufficient
statistics M = W^T W / H and w_bar = mean_i w_i, f(x) = alpha (w_bar . x + (eps / 2) x^T M x), so
with A = alpha eps M - beta beta^T the error is f - y = alpha w_bar . x + (1/2) x^T A x, and for
x ~ N(0, I / D) (odd moments vanish; E[(x^T A x)^2] = ((tr A)^2 + 2 tr(A^2)) / D^2):

    E (f - y)^2 = (tr A / (2D))^2 + (1/2) sum_ij A_ij^2 / D^2 + alpha^2 ||w_bar||^2 / D

(the paper's three terms: "variance", "alignment", "linear"; spec C2). The centred loss trains
f - f_0 (f_0 the network at init): the same with M - M_0 and w_bar - w_bar_0 in place of M and w_bar.
"""
from __future__ import annotations

import numpy as np


def outputs(W, X, alpha: float, eps: float) -> np.ndarray:
    """f(X) = alpha mean_i phi(X w_i) for inputs X [n, D]."""
    Z = np.asarray(X) @ np.asarray(W).T
    return alpha * np.mean(Z + 0.5 * eps * Z * Z, axis=1)


def test_loss(W, beta, alpha: float, eps: float, W0=None) -> float:
    """The exact population test MSE E_x (f(x) - y(x))^2 over x ~ N(0, I / D) in O(D^2) from the
    sufficient statistics (module docstring); ``W0`` given: the centred network f - f_0."""
    W = np.asarray(W, dtype=np.float64)
    H, D = W.shape
    M = W.T @ W / H
    w_bar = W.mean(axis=0)
    if W0 is not None:
        W0 = np.asarray(W0, dtype=np.float64)
        M = M - W0.T @ W0 / H
        w_bar = w_bar - W0.mean(axis=0)
    beta = np.asarray(beta, dtype=np.float64)
    A = alpha * eps * M - np.outer(beta, beta)
    return float((np.trace(A) / (2 * D)) ** 2 + 0.5 * np.sum(A * A) / D ** 2 + alpha ** 2 * (w_bar @ w_bar) / D)
