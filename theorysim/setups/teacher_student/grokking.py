"""Kumar, Bordelon, Gershman, Pehlevan (2023, arXiv 2310.06110): grokking as the transition from lazy
to rich training. The network's math in numpy: its draw, outputs, exact test loss, Jacobian and NTK,
and the exact test loss of its linearisation (the engine model is
:class:`~theorysim.setups.teacher_student.readout_net.FrozenReadoutNet`).

Network f(x) = alpha mean_i phi(w_i . x), phi(z) = z + (eps / 2) z^2, first-layer weights W [H, D]
trained, readouts frozen; target y(x) = (beta . x)^2 / 2; inputs x ~ N(0, I / D). With the sufficient
statistics M = W^T W / H and w_bar = mean_i w_i, f(x) = alpha (w_bar . x + (eps / 2) x^T M x), so
with A = alpha eps M - beta beta^T the error is f - y = alpha w_bar . x + (1/2) x^T A x, and for
x ~ N(0, I / D) (odd moments vanish; E[(x^T A x)^2] = ((tr A)^2 + 2 tr(A^2)) / D^2):

    E (f - y)^2 = (tr A / (2D))^2 + (1/2) sum_ij A_ij^2 / D^2 + alpha^2 ||w_bar||^2 / D

(the paper's three terms: "variance", "alignment", "linear"; spec C2). The centred loss trains
f - f_0 (f_0 the network at init): the same with M - M_0 and w_bar - w_bar_0 in place of M and w_bar.
Any function a . x + x^T B x / 2 has its test loss by the same formula (:func:`quadratic_test_loss`),
and the linearised network is one, so kernel regression with the initial NTK gets an exact test
loss too (:func:`linearised_test_loss`).
"""
from __future__ import annotations

import numpy as np


def target(X, beta) -> np.ndarray:
    """y(x) = (beta . x)^2 / 2 for inputs X [..., n, D] and teachers beta [..., D]."""
    X, beta = np.asarray(X, dtype=np.float64), np.asarray(beta, dtype=np.float64)
    return 0.5 * np.einsum("...nd,...d->...n", X, beta) ** 2


def draw(D: int, H: int, P: int, seed: int, problem_seed: int = 0):
    """(X [P, D] with entries N(0, 1/D), beta [D] ~ N(0, I), W0 [H, D] ~ N(0, 1)) from
    ``numpy.random.default_rng((problem_seed, seed))`` (spec C2; the authors' code draws the same
    distributions with JAX keys)."""
    for key, v in (("D", D), ("H", H), ("P", P)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{key}={v!r}: expected a positive integer")
    gen = np.random.default_rng((problem_seed, seed))
    X = gen.normal(size=(P, D)) / np.sqrt(D)
    beta = gen.normal(size=D)
    W0 = gen.normal(size=(H, D))
    return X, beta, W0


def outputs(W, X, alpha: float, eps: float) -> np.ndarray:
    """f(X) = alpha mean_i phi(X w_i) for inputs X [n, D]."""
    Z = np.asarray(X) @ np.asarray(W).T
    return alpha * np.mean(Z + 0.5 * eps * Z * Z, axis=1)


def quadratic_test_loss(a, B, beta) -> float:
    """E_x (a . x + x^T B x / 2 - (beta . x)^2 / 2)^2 over x ~ N(0, I / D), B symmetric: with
    A = B - beta beta^T, (tr A / (2D))^2 + (1/2) sum_ij A_ij^2 / D^2 + ||a||^2 / D."""
    a, beta = np.asarray(a, dtype=np.float64), np.asarray(beta, dtype=np.float64)
    A = np.asarray(B, dtype=np.float64) - np.outer(beta, beta)
    D = len(beta)
    return float((np.trace(A) / (2 * D)) ** 2 + 0.5 * np.sum(A * A) / D ** 2 + (a @ a) / D)


def test_loss(W, beta, alpha: float, eps: float, W0=None) -> float:
    """The exact population test MSE E_x (f(x) - y(x))^2 over x ~ N(0, I / D) in O(D^2) from the
    sufficient statistics (module docstring); ``W0`` given: the centred network f - f_0."""
    W = np.asarray(W, dtype=np.float64)
    H = W.shape[0]
    M = W.T @ W / H
    w_bar = W.mean(axis=0)
    if W0 is not None:
        W0 = np.asarray(W0, dtype=np.float64)
        M = M - W0.T @ W0 / H
        w_bar = w_bar - W0.mean(axis=0)
    return quadratic_test_loss(alpha * w_bar, alpha * eps * M, beta)


def jacobian(W, X, alpha: float, eps: float) -> np.ndarray:
    """J [n, H, D]: d f(x_p) / d w_i = (alpha / H) phi'(w_i . x_p) x_p, phi'(z) = 1 + eps z."""
    W, X = np.asarray(W, dtype=np.float64), np.asarray(X, dtype=np.float64)
    return (alpha / len(W)) * (1.0 + eps * (X @ W.T))[:, :, None] * X[:, None, :]


def ntk(W, X1, X2, alpha: float, eps: float) -> np.ndarray:
    """The empirical NTK Theta(x, x') = (alpha / H)^2 sum_i phi'(w_i . x) phi'(w_i . x') (x . x')."""
    W = np.asarray(W, dtype=np.float64)
    F1, F2 = 1.0 + eps * (X1 @ W.T), 1.0 + eps * (X2 @ W.T)
    return (alpha / len(W)) ** 2 * (F1 @ F2.T) * (X1 @ X2.T)


def linearised_test_loss(W0, X, beta, alpha: float, eps: float, lr: float = 1.0, steps=None) -> np.ndarray:
    """Exact test MSE of the centred network linearised at W0 (f - f0 = J(x) . (W - W0)) after GD
    with rate ``lr`` on L = (1/P) sum_p (f - f0 - y)^2, for each k in ``steps`` updates (an entry
    ``None``, or ``steps=None``: the limit, ridgeless kernel regression with the initial NTK,
    K0(x, X) K0^{-1} y: the paper's "K_0 regression MSE" of Fig. 1). One eigendecomposition serves
    every entry.

    The weight change is W - W0 = J^T c_k with c_k = K0^{-1} (I - S_k) y and S_k = (I - (2 lr / P) K0)^k
    (:func:`theorysim.setups.ntk.theory.step_factors`, whose loss is half this one's), i.e.
    d_i = (alpha / H) sum_p c_p phi'(w0_i . x_p) x_p (one product, no [P, H, D] Jacobian), and the
    linearised function is again linear plus quadratic in x: a = (alpha / H) sum_i d_i,
    B = (alpha eps / H) sum_i (w0_i d_i^T + d_i w0_i^T), so :func:`quadratic_test_loss` applies."""
    from theorysim.setups.ntk.theory import step_factors

    W0, X = np.asarray(W0, dtype=np.float64), np.asarray(X, dtype=np.float64)
    P, H = len(X), len(W0)
    lam, V = np.linalg.eigh(ntk(W0, X, X, alpha, eps))
    if lam[0] <= 1e-12 * lam[-1]:
        raise ValueError(f"the initial NTK on the {P} training inputs is singular (smallest eigenvalue "
                         f"{lam[0]:.3g}); kernel regression needs P <= H D and inputs in general position")
    proj = V.T @ target(X, beta)
    slopes = 1.0 + eps * (X @ W0.T)  # phi'(w0_i . x_p) [P, H]
    out = []
    for k in ([None] if steps is None else list(steps)):
        keep = 1.0 if k is None else 1.0 - step_factors(lam, [k], 2 * lr, P)[0]
        c = V @ (keep * proj / lam)
        d = (alpha / H) * (slopes * c[:, None]).T @ X  # [H, D]
        C = W0.T @ d
        out.append(quadratic_test_loss((alpha / H) * d.sum(axis=0), (alpha * eps / H) * (C + C.T), beta))
    return np.array(out)
