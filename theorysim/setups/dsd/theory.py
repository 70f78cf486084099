"""Closed forms for the DSD task (Lahoti et al. 2024; the distribution as reconstructed in
:mod:`theorysim.setups.dsd.data`, w* = 1_d / sqrt(d), ||w*|| = 1) and the two-step learner
(:mod:`theorysim.setups.dsd.two_step`). Derived here, not the paper's (the paper's analysis is not
available; spec B [S]).

**Exact risk of given filters.** Given the label y and the signal's patch i, the pre-activations
z_j = w_j . x_j are independent Gaussians: z_j ~ N(y a_j 1{j = i}, s_j^2) with a_j = w_j . w* and
s_j = sigma ||w_j|| (in ``"replace"`` mode the signal patch has s_i = 0). With the soft threshold's
moments of a Gaussian (:func:`soft_threshold_moments`), E (f(x) - y)^2 = sum_j Var phi_b(z_j) +
(sum_j E phi_b(z_j) - y)^2, averaged over i (y drops out: phi_b is odd and the noise symmetric). No test
set, so m* carries no test-set noise.

**Risk floor.** The filters w_j = w* (unit norm, the best direction) with b ~ 0: k sigma^2 = c^2 for
sigma = c / sqrt(k) (additive; replace: (k - 1) sigma^2). With unit filters and b = 0 the excess over
the floor is exactly E_i (1 - a_i)^2: an excess delta means alignment 1 - sqrt(delta).

**Step 1's alignment.** From W0 ~ 0 at b = 0, step 1 is the correlation step. CNN: w1 is proportional to
sum_i y_i sum_j x_i[j] = m w* + N(0, sigma^2 m k_n I_d) (k_n noisy patches per sample: k additive,
k - 1 replace), so cos(w1, w*) ~ (1 + sigma^2 k_n d / m)^(-1/2) (the law of large numbers in d).
LCN: filter j gets n_j ~ m / k signal samples and the noise of all m: cos ~ (1 + sigma^2 k^2 d / m)^(-1/2)
(additive). The issue quotes the CNN's; the LCN's is its analogue with the signal shared k ways.

**Step 2 with an oracle threshold.** If b1 keeps exactly the signal patch of each sample (what it does
once sigma^2 d is small against step 1's signal), step 2 averages the signal patches only: CNN
(1 + sigma^2 d / m)^(-1/2), LCN (1 + sigma^2 k d / m)^(-1/2) (replace mode: 1, no noise on the
signal). The LCN's is the order of the paper's lower bound sigma^2 k d; it is a bound on the learner
(false positives of the threshold only add noise), not its exact law.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from theorysim.setups.dsd import data, two_step

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def soft_threshold_moments(mu, s, b: float) -> tuple[np.ndarray, np.ndarray]:
    """(E phi_b(z), E phi_b(z)^2) for z ~ N(mu, s^2), phi_b(z) = sign(z) max(|z| - b, 0); s = 0 is the
    point mass. With u = (mu - b) / s, v = (-mu - b) / s: E (z - b)_+ = (mu - b) Phi(u) + s phi(u),
    E (z - b)_+^2 = ((mu - b)^2 + s^2) Phi(u) + (mu - b) s phi(u), and the mirror terms in v."""
    mu, s = np.broadcast_arrays(np.asarray(mu, dtype=np.float64), np.asarray(s, dtype=np.float64))
    point = s == 0
    ss = np.where(point, 1.0, s)
    u, v = (mu - b) / ss, (-mu - b) / ss
    pu, pv = np.exp(-0.5 * u * u) * _INV_SQRT_2PI, np.exp(-0.5 * v * v) * _INV_SQRT_2PI
    Pu, Pv = ndtr(u), ndtr(v)
    first = (mu - b) * Pu + ss * pu - ((-mu - b) * Pv + ss * pv)
    second = ((mu - b) ** 2 + ss * ss) * Pu + (mu - b) * ss * pu + ((-mu - b) ** 2 + ss * ss) * Pv + (-mu - b) * ss * pv
    at_point = np.sign(mu) * np.maximum(np.abs(mu) - b, 0.0)
    return np.where(point, at_point, first), np.where(point, at_point ** 2, second)


def risk(arch: str, theta, k: int, d: int, sigma: float, b: float, mode: str = "additive") -> float:
    """E (f(x) - y)^2 of the CNN / LCN with flat weights ``theta`` and threshold ``b`` (module docstring)."""
    data.check(k, d, sigma, mode)
    W = np.broadcast_to(two_step.filters(arch, theta, k, d), (k, d))
    a = W @ data.signal(d)
    s = sigma * np.linalg.norm(W, axis=1)
    _, noise_second = soft_threshold_moments(0.0, s, b)  # a patch without the signal: mean 0
    mean, second = soft_threshold_moments(a, s if mode == "additive" else np.zeros(k), b)  # the signal's patch, y = +1
    per_patch = noise_second.sum() - noise_second + (second - mean ** 2) + (mean - 1.0) ** 2
    return float(per_patch.mean())


def best_filters(arch: str, k: int, d: int) -> np.ndarray:
    """w* in every filter (flat weights)."""
    return np.tile(data.signal(d), 1 if arch == "cnn" else k)


def risk_floor(arch: str, k: int, d: int, sigma: float, b: float, mode: str = "additive") -> float:
    """The risk of unit filters along w* (k sigma^2 = c^2 at b = 0, additive)."""
    return risk(arch, best_filters(arch, k, d), k, d, sigma, b, mode)


def excess_risk(arch: str, theta, k: int, d: int, sigma: float, b: float, mode: str = "additive") -> float:
    """risk - risk_floor: the success criterion's quantity (<= delta)."""
    return risk(arch, theta, k, d, sigma, b, mode) - risk_floor(arch, k, d, sigma, b, mode)


def _noisy_patches(k: int, mode: str) -> int:
    return k if mode == "additive" else k - 1


def first_step_alignment(arch: str, k: int, d: int, sigma: float, m, mode: str = "additive"):
    """cos(w1, w*) after step 1 (module docstring): CNN (1 + sigma^2 k_n d / m)^(-1/2), LCN
    (1 + sigma^2 k (k_n / k) k d / m)^(-1/2) with k_n noisy patches per sample."""
    m = np.asarray(m, dtype=np.float64)
    kn = _noisy_patches(k, mode)
    noise = sigma ** 2 * kn * d if arch == "cnn" else sigma ** 2 * k * kn * d
    return (1.0 + noise / m) ** -0.5


def oracle_step_alignment(arch: str, k: int, d: int, sigma: float, m, mode: str = "additive"):
    """cos(w2, w*) when step 2's threshold keeps exactly the signal patches: CNN (1 + sigma^2 d / m)^(-1/2),
    LCN (1 + sigma^2 k d / m)^(-1/2); 1 in replace mode."""
    m = np.asarray(m, dtype=np.float64)
    if mode == "replace":
        return np.ones_like(m)
    noise = sigma ** 2 * d if arch == "cnn" else sigma ** 2 * k * d
    return (1.0 + noise / m) ** -0.5


def m_star_of_alignment(noise: float, delta: float) -> float:
    """The m at which (1 - a)^2 = delta for a = (1 + noise / m)^(-1/2): m = noise / ((1 - sqrt(delta))^-2 - 1)."""
    if not 0 < delta < 1:
        raise ValueError(f"delta={delta!r}: expected 0 < delta < 1")
    return noise / ((1.0 - math.sqrt(delta)) ** -2 - 1.0)


def oracle_m_star(arch: str, k: int, d: int, sigma: float, delta: float) -> float:
    """m* of the oracle second step at excess risk delta (additive): sigma^2 d (CNN) or sigma^2 k d (LCN)
    over (1 - sqrt(delta))^-2 - 1; increasing in sigma."""
    return m_star_of_alignment(sigma ** 2 * d * (1 if arch == "cnn" else k), delta)
