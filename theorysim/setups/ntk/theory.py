"""NTK theory for fully connected networks (Jacot, Gabriel, Hongler 2018): the limiting kernels,
the empirical kernel of a finite network, and training in function space.

* :func:`nngp_ntk` (closed form) and :func:`nngp_ntk_quadrature` (any activation): the
  infinite-width kernels, from :mod:`theorysim.setups.ntk.kernels`.
* :func:`empirical_ntk`: Theta(x, x') = sum_o sum_p (d f_o(x) / d theta_p)(d f_o(x') / d theta_p) of a
  given :class:`~theorysim.models.mlp.MLP` and parameter vector, **summed** over outputs (the trace;
  neural-tangents' ``trace_axes=(-1,)`` averages instead, so it differs by the factor n_out).
* Function-space gradient descent on L = 1/(2N) sum_i (f(x_i) - y_i)^2 (one output; Jacot sec. 5,
  the cost under the empirical measure): in the kernel regime the training outputs follow
  f_t = y + exp(-eta t Theta / N) (f_0 - y) (gradient flow, time eta t), and GD with step eta is its
  forward-Euler scheme, f_k = y + (I - eta Theta / N)^k (f_0 - y) exactly for the linearised network.
  A test point follows f_k(x) = f_0(x) + Theta(x, X) Theta^{-1} (I - S_k) (y - f_0(X)) with S_k that
  step operator. As k -> infinity (Jacot sec. 5; Lee et al. 2019, eq. 16) f(x) is Gaussian over
  initialisations, with mean Theta(x, X) Theta^{-1} y and covariance
  Sigma(x, x') - M Sigma(X, x') - Sigma(x, X) M^T + M Sigma(X, X) M^T, M = Theta(x, X) Theta^{-1}
  (:func:`limit_gaussian`); the NNGP version (Bayesian posterior) is :func:`nngp_posterior`.

Every matrix function goes through ``numpy.linalg.eigh`` of the symmetric kernel (never a Cholesky
factor, which fails on the nearly singular kernels of close inputs: neural-tangents #128, #36).
"""
from __future__ import annotations

import numpy as np

from theorysim.models.mlp import MLP
from theorysim.setups.ntk.kernels import nngp_ntk, nngp_ntk_quadrature  # noqa: F401 (the setup's API)


def empirical_ntk(model: MLP, theta, X1, X2=None, tile: int = 256) -> np.ndarray:
    """Theta [N1, N2] of ``model`` at parameters ``theta``, exact, in input tiles of ``tile`` rows.

    The Jacobian of Dense layer l factorises, d f_o / d W^l = s_l Delta^l_o(x) a^l(x)^T and
    d f_o / d b^l = beta_l Delta^l_o(x) (Delta^l = d f / d h^{l+1}), so the contraction over its
    n_{l+1} (n_l + 1) parameters is exact without forming the Jacobian:

        Theta(x, x') = sum_l [sum_o Delta^l_o(x) . Delta^l_o(x')] (s_l^2 a^l(x) . a^l(x') + beta_l^2).

    Peak memory beyond the weights: the factors of two tiles, 2 ``tile`` (n_out + 1) sum_l n_l floats
    (width 10000, depth 3, 256-input tiles: 250 MB), plus the output.
    """
    same = X2 is None
    X1 = np.ascontiguousarray(X1, dtype=np.float64)
    X2 = X1 if same else np.ascontiguousarray(X2, dtype=np.float64)
    out = np.empty((len(X1), len(X2)))
    s2, b2 = model.scales ** 2, model.betas ** 2
    for i in range(0, len(X1), tile):
        A1, D1 = model.backprop_numpy(theta, X1[i : i + tile])
        for j in range(i if same else 0, len(X2), tile):  # symmetric: the upper blocks, mirrored below
            if same and j == i:
                A2, D2 = A1, D1
            else:
                A2, D2 = model.backprop_numpy(theta, X2[j : j + tile])
            block = np.zeros((len(A1[0]), len(A2[0])))
            for layer in range(len(A1)):
                # sum over outputs o and units j at once: one BLAS product of the flattened factors
                deltas = D1[layer].reshape(len(D1[layer]), -1) @ D2[layer].reshape(len(D2[layer]), -1).T
                block += deltas * (s2[layer] * (A1[layer] @ A2[layer].T) + b2[layer])
            out[i : i + tile, j : j + tile] = block
            if same and j != i:
                out[j : j + tile, i : i + tile] = block.T
    return out


def _eigh(K):
    K = np.asarray(K, dtype=np.float64)
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"kernel: expected a square matrix, got shape {K.shape}")
    return np.linalg.eigh(0.5 * (K + K.T))


def step_factors(lam, steps, lr: float, N: int, flow: bool = False):
    """[len(steps), len(lam)]: (1 - lr lam / N)^k for GD (``flow=False``) or exp(-lr k lam / N) for
    gradient flow at time lr k, per eigenvalue lam of Theta on the training inputs."""
    k = np.asarray(steps, dtype=np.float64)[:, None]
    if flow:
        return np.exp(-lr * k * np.asarray(lam)[None, :] / N)
    return (1.0 - lr * np.asarray(lam)[None, :] / N) ** k


def train_outputs(theta_train, f0, y, steps, lr: float, flow: bool = False) -> np.ndarray:
    """[len(steps), N]: the linearised network's outputs on the N training inputs after k steps
    (f_k = y + U S_k U^T (f_0 - y), S_k from :func:`step_factors`, U the kernel's eigenvectors)."""
    lam, U = _eigh(theta_train)
    y, f0 = np.asarray(y, dtype=np.float64), np.asarray(f0, dtype=np.float64)
    coeff = U.T @ (f0 - y)
    return y + (step_factors(lam, steps, lr, len(y), flow) * coeff) @ U.T


def mean_operator(theta_test_train, theta_train, steps=None, lr: float = 1.0, flow: bool = False) -> np.ndarray:
    """M = Theta(x, X) Theta^{-1} (I - S_k) ([N_test, N]; S_k = 0 for ``steps=None``, the limit t -> infinity):
    f_k(x) = f_0(x) + M (y - f_0(X)) for the linearised network."""
    lam, U = _eigh(theta_train)
    if np.any(lam <= 0):
        raise ValueError(f"kernel on the training inputs: smallest eigenvalue {lam.min():.3g}, expected a "
                         "positive definite kernel (distinct inputs)")
    gain = 1.0 / lam
    if steps is not None:
        gain = gain * (1.0 - step_factors(lam, [steps], lr, len(lam), flow)[0])
    return (np.asarray(theta_test_train) @ U) * gain @ U.T


def limit_gaussian(nngp_test, nngp_test_train, nngp_train, ntk_test_train, ntk_train, y, steps=None,
                   lr: float = 1.0, flow: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(mean [N_test], covariance [N_test, N_test]) of the trained network's outputs at test inputs
    over random initialisations, in the kernel regime (module docstring): f_0 ~ GP(0, Sigma) (the
    NNGP), trained by GD with the deterministic NTK Theta; after ``steps`` steps, or at t -> infinity
    (``steps=None``)."""
    M = mean_operator(ntk_test_train, ntk_train, steps, lr, flow)
    cross = M @ np.asarray(nngp_test_train).T
    cov = np.asarray(nngp_test) - cross - cross.T + M @ np.asarray(nngp_train) @ M.T
    return M @ np.asarray(y, dtype=np.float64), 0.5 * (cov + cov.T)


def nngp_posterior(nngp_test, nngp_test_train, nngp_train, y) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of the NNGP version: exact Bayesian inference with the prior GP(0, Sigma),
    noiseless observations (equivalently, training only the readout layer to convergence from
    f_0 ~ GP(0, Sigma)): mean Sigma(x, X) Sigma^{-1} y, covariance Sigma(x, x') - Sigma(x, X)
    Sigma^{-1} Sigma(X, x') (neural-tangents' ``gp_inference`` with ``get="nngp"``), by eigh."""
    M = mean_operator(nngp_test_train, nngp_train)
    cov = np.asarray(nngp_test) - M @ np.asarray(nngp_test_train).T
    return M @ np.asarray(y, dtype=np.float64), 0.5 * (cov + cov.T)


def kernel_regression(K_train, K_test_train, y, ridge: float = 0.0) -> np.ndarray:
    """K(x, X) (K + ridge I)^{-1} y by eigh (ridge 0: the ridgeless interpolant)."""
    lam, U = _eigh(K_train)
    lam = lam + ridge
    if np.any(lam <= 0):
        raise ValueError(f"kernel regression: smallest eigenvalue {lam.min():.3g} <= 0; add a ridge")
    return (np.asarray(K_test_train) @ U) @ ((U.T @ np.asarray(y, dtype=np.float64)) / lam)


def circle(angles) -> np.ndarray:
    """Points (cos gamma, sin gamma) on the unit circle: Jacot's inputs (Fig. 1, 2)."""
    a = np.asarray(angles, dtype=np.float64)
    return np.stack([np.cos(a), np.sin(a)], axis=-1)
