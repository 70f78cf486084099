"""The two-step projected GD learner of Lahoti et al.'s upper bounds (2024, arXiv 2403.15707, secs. 6-7),
as reconstructed from the secondary sources (spec B3 / B3b [S]: OpenReview reviews quoting the paper):

    W0 ~ N(0, s0^2 I)                                   small random init (s0: ``Scheme.init``)
    W1 = P(W0 - eta1 grad L(W0; b = 0))                 step 1 (bias: ``Scheme.step1_bias``)
    W2 = P(W1 - eta2 grad L(W1; b1))                    step 2
    predict f(x) = sum_j phi_b2(w_j . x_j)

with L(W; b) = (1/m) sum_i (f_b(x_i) - y_i)^2, the empirical squared-error risk (``Scheme.loss``),
phi_b the LSA soft threshold (:mod:`theorysim.setups.dsd.model`), P the projection of every filter onto
the unit ball (``Scheme.projection``), and the paper's constants (as a review quotes them for the LCN):
eta1 = 1, eta2 = 10^3 k, b1 = (1/32) sqrt((k + d) ln(kd) / (kd)), b2 = 1e-4, gamma = 100 k^2 d^2.

Choices the sources leave open, decided from the dynamics (the DSD issue's sensitivity table shows each
alternative; :func:`SENSITIVITY` lists them):

* **Step 1's bias is 0.** With b1 in step 1 and the tiny init every pre-activation lies in the soft
  threshold's dead zone (|w0 . x_j| ~ sigma / (10 k) << b1), the gradient is exactly 0 and the learner
  never leaves its init. At b = 0 the activation is the identity, so from W0 ~ 0 step 1 is the
  correlation step  w_j <- (2 eta1 / m) sum_i y_i x_i[j]  (plus the init): b1 belongs to the second
  step, b2 to the final predictor (b_t is the bias at iterate t).
* **The ball, not the sphere.** After step 1 the LCN's filters have norm ~ 2/k (their signal share), which
  the ball keeps. That makes f ~ 0 at W1, so step 2's residual is ~ -y and its gradient is the
  correlation restricted to the pre-activations above b1: the threshold picks the patch that carries
  the signal, which is what the second step is for. On the sphere every filter has norm 1 after
  step 1, f carries the noise of all k patches, and the squared loss's gradient at a well-aligned W1
  points to shrinking it: the huge eta2 and the projection then turn the filters against w*.
* **The CNN's first step is eta1 / k.** The sources give the step sizes for the LCN only. The CNN's
  gradient is the sum of its k tied filters' gradients, so eta1 = 1 puts its filter at norm ~2 (the
  ball then binds, f ~ y, and step 2 flips it as on the sphere); eta1 / k moves the shared filter as
  far as one LCN filter moves, and the second step then does for the CNN what it does for the LCN.
* **The init's variance is 1 / gamma** (std 1 / (10 k d)); the other reading, std 1 / gamma, is smaller
  still. Both are far below step 1's move, and the sensitivity table shows they give the same m*.
* **The loss is the mean of squares** (the risk's empirical form, no 1/2): the factor 2 sets the
  first step's norm (2/k per LCN filter), which b1 must sit below; with 1/2 it is 1/k and b1 exceeds it
  at large k (k >= 32 at d = 8).

Only the CNN and LCN: the paper's FCN statement is a lower bound for every orthogonally equivariant
algorithm, which no single learner tests, and this learner's FCN cannot break its units' symmetry
(every unit gets the same first step). Weights are flat like :class:`~theorysim.setups.dsd.model.PatchNet`'s
theta (CNN: w [d]; LCN: filter j at j d ... (j + 1) d - 1), so the engine can check each step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from theorysim.core import rng

ARCHS = ("cnn", "lcn")
STEP1_BIASES = ("zero", "b1")
PROJECTIONS = ("ball", "sphere")
INITS = ("variance", "std")
LOSSES = ("mean", "half")
CNN_ETA1 = ("per_patch", "same")


@dataclass(frozen=True)
class Scheme:
    """The learner's constants and the readings the sources leave open (module docstring)."""

    eta1: float = 1.0
    eta2_over_k: float = 1e3
    b1_factor: float = 1.0 / 32.0
    b2: float = 1e-4
    step1_bias: str = "zero"
    projection: str = "ball"
    init: str = "variance"
    loss: str = "mean"
    cnn_eta1: str = "per_patch"

    def __post_init__(self):
        for name, allowed in (("step1_bias", STEP1_BIASES), ("projection", PROJECTIONS), ("init", INITS),
                              ("loss", LOSSES), ("cnn_eta1", CNN_ETA1)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}={getattr(self, name)!r}: expected one of {', '.join(map(repr, allowed))}")
        for name in ("eta1", "eta2_over_k", "b1_factor", "b2"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{name}={v!r}: expected a finite number >= 0")

    def b1(self, k: int, d: int) -> float:
        """b1 = b1_factor sqrt((k + d) ln(kd) / (kd))."""
        return self.b1_factor * math.sqrt((k + d) * math.log(k * d) / (k * d))

    def eta1_for(self, arch: str, k: int) -> float:
        return self.eta1 / k if (arch == "cnn" and self.cnn_eta1 == "per_patch") else self.eta1

    def eta2(self, k: int) -> float:
        return self.eta2_over_k * k

    def init_std(self, k: int, d: int) -> float:
        """gamma = 100 k^2 d^2; "variance": w0 ~ N(0, 1/gamma), "std": N(0, 1/gamma^2)."""
        gamma = 100.0 * k * k * d * d
        return 1.0 / math.sqrt(gamma) if self.init == "variance" else 1.0 / gamma


PAPER = Scheme()

#: the alternatives of the issue's sensitivity table: (label, scheme)
SENSITIVITY = (
    ("chosen: b = 0 in step 1, ball, Var w0 = 1/gamma, mean loss, CNN eta1/k", PAPER),
    ("b1 in step 1 (dead zone)", replace(PAPER, step1_bias="b1")),
    ("sphere instead of ball", replace(PAPER, projection="sphere")),
    ("std w0 = 1/gamma", replace(PAPER, init="std")),
    ("loss with 1/2 (first step half as long)", replace(PAPER, loss="half")),
    ("CNN eta1 = 1 (as the LCN's)", replace(PAPER, cnn_eta1="same")),
)


def n_weights(arch: str, k: int, d: int) -> int:
    if arch not in ARCHS:
        raise ValueError(f"arch={arch!r}: the two-step learner is defined for {', '.join(map(repr, ARCHS))}")
    return d if arch == "cnn" else k * d


def filters(arch: str, theta, k: int, d: int) -> np.ndarray:
    """The filters as rows: [1, d] (CNN) or [k, d] (LCN), a view of ``theta``."""
    return np.asarray(theta).reshape(1 if arch == "cnn" else k, d)


def _soft(z, b: float):
    return np.maximum(z - b, 0.0) - np.maximum(-z - b, 0.0)


def loss_gradient(arch: str, theta, X, y, k: int, d: int, b: float, scheme: Scheme = PAPER):
    """(L, dL/dtheta) of L = (1/m) sum_i (f_b(x_i) - y_i)^2 ("half": 1/(2m)); the derivative of phi_b is
    1{|z| >= b} (at b = 0 the identity's 1 everywhere, as the engine's kernel has it)."""
    m = len(y)
    Xp = np.asarray(X, dtype=np.float64).reshape(m, k, d)
    W = filters(arch, theta, k, d)
    Z = np.einsum("njd,d->nj", Xp, W[0]) if arch == "cnn" else np.einsum("njd,jd->nj", Xp, W)
    r = _soft(Z, b).sum(axis=1) - y
    G = r[:, None] * (np.abs(Z) >= b)
    g = np.einsum("nj,njd->d", G, Xp) if arch == "cnn" else np.einsum("nj,njd->jd", G, Xp).ravel()
    scale = 2.0 if scheme.loss == "mean" else 1.0  # d/df of (f - y)^2 or of (f - y)^2 / 2
    return scale / 2.0 * float(r @ r) / m, scale * g / m


def project(arch: str, theta, k: int, d: int, kind: str) -> np.ndarray:
    """Every filter onto the unit ball (``"ball"``: w / max(1, ||w||)) or sphere (w / ||w||)."""
    W = filters(arch, np.array(theta, dtype=np.float64), k, d)
    norm = np.linalg.norm(W, axis=1, keepdims=True)
    W = W / (np.maximum(norm, 1.0) if kind == "ball" else np.where(norm > 0, norm, 1.0))
    return W.ravel()


def init(arch: str, k: int, d: int, seed: int, scheme: Scheme = PAPER) -> np.ndarray:
    """W0 = init_std N(0, I) from the member's seed (stream INIT, as the engine's models draw)."""
    return scheme.init_std(k, d) * rng.normal(int(seed), (n_weights(arch, k, d),), stream=rng.STREAM_INIT)


@dataclass(frozen=True)
class Steps:
    """The iterates (flat weights) and the biases each was trained / is read with."""

    W0: np.ndarray
    W1: np.ndarray
    W2: np.ndarray
    b_step1: float
    b1: float
    b2: float


def first_step(arch: str, X, y, k: int, d: int, seed: int, scheme: Scheme = PAPER) -> tuple[np.ndarray, np.ndarray, float]:
    """(W0, W1, the bias of step 1)."""
    W0 = init(arch, k, d, seed, scheme)
    b0 = 0.0 if scheme.step1_bias == "zero" else scheme.b1(k, d)
    _, g = loss_gradient(arch, W0, X, y, k, d, b0, scheme)
    return W0, project(arch, W0 - scheme.eta1_for(arch, k) * g, k, d, scheme.projection), b0


def learn(arch: str, X, y, k: int, d: int, seed: int, scheme: Scheme = PAPER) -> Steps:
    """The two projected steps on (X [m, k d], y [m]) from the init of ``seed``."""
    n_weights(arch, k, d)
    W0, W1, b0 = first_step(arch, X, y, k, d, seed, scheme)
    b1 = scheme.b1(k, d)
    _, g = loss_gradient(arch, W1, X, y, k, d, b1, scheme)
    W2 = project(arch, W1 - scheme.eta2(k) * g, k, d, scheme.projection)
    return Steps(W0, W1, W2, b0, b1, scheme.b2)


def start_model(arch: str, k: int, d: int, X, y, init_offset: int = 0, scheme: Scheme = PAPER):
    """A :class:`~theorysim.setups.dsd.model.PatchNet` whose initialisation is step 1 (W1, from the
    member's seed + ``init_offset`` and its data), so that one engine step of plain GD at rate
    2 eta2 and threshold b1 is step 2 (the engine's loss has the 1/2); read the result through
    :func:`project`. This is how a sweep runs the learner without a projection rule."""
    from theorysim.setups.dsd.model import PatchNet

    n_weights(arch, k, d)

    class TwoStepStart(PatchNet):
        def init(self, seeds, mh):
            return np.stack([first_step(arch, self.X, self.y, k, d, int(s) + self.init_offset, scheme)[1]
                             for s in seeds])

        def config(self):
            return {**super().config(), "init": "two-step learner's step 1"}

    return TwoStepStart(arch, k, d, X, y, init_offset=init_offset)
