"""Claims of Jordan et al. (2024), "Muon: An optimizer for hidden layers in neural networks"."""
from __future__ import annotations

import numpy as np
from scipy import stats

from theorysim import fit
from theorysim.claims import Claim, Measurement, register, regime, tol
from theorysim.core import rng
from theorysim.plotting import finish, pyplot
from theorysim.setups.optimizer_theory import theory
from theorysim.setups.optimizer_theory.papers import MUON


#: the quintic's linear coefficient: NS5 amplifies a small singular value by at most A_NS^5 (below)
A_NS = 3.4445
#: the band holds for "typical" gradients: read as at least this share of Gaussian matrices of the
#: stated shapes, judged by the share's Clopper-Pearson CI (a worst case over a sample has no CI)
TYPICAL = 0.95
SMALL, LARGE = "share of matrices with smallest singular value of NS5(G) >= 0.5", \
    "share of matrices with largest singular value of NS5(G) <= 1.5"
AMPLIFICATION = "NS5 gain on the smallest singular value, sigma_min(NS5(G)) / sigma_min(G / ||G||_F), worst matrix"


# muon2024/polar-factor
def _sim_polar(cfg):
    out = []
    for k, (r, c) in enumerate(cfg["shapes"]):
        for s in range(cfg["seeds"]):
            G = rng.normal(1000 * k + s, (r, c), stream=rng.STREAM_USER)
            O = theory.newton_schulz(G, cfg["ns_steps"])
            sv = np.linalg.svd(O, compute_uv=False)
            svg = np.linalg.svd(G, compute_uv=False)
            out.append({"shape": (r, c), "sv": sv, "align": float(np.sum(G * O) / svg.sum()),
                        "gain": float(sv.min() / (svg.min() / (np.linalg.norm(G) + 1e-7)))})
    return out


def _measure_polar(cfg, out):
    """The band's two ends as shares of matrices (Clopper-Pearson CIs); the distribution of S'
    (quantiles, its Kolmogorov-Smirnov distance to U(0.5, 1.5)) and the alignment
    <G, NS5(G)> / ||G||_* (1 for the exact polar factor) are details; the NS5 gain on the
    smallest singular value (at most a^5, a = 3.4445, see :func:`_measure_square`) too."""
    sv = np.concatenate([o["sv"] for o in out])
    smallest = np.array([o["sv"].min() for o in out])
    largest = np.array([o["sv"].max() for o in out])
    align = np.array([o["align"] for o in out])
    mean, ci = fit.mean_ci(align)
    worst = min(out, key=lambda o: o["sv"].min())
    q = np.quantile(sv, [0.1, 0.5, 0.9])
    n = len(out)
    return {
        SMALL: Measurement.share(int(np.sum(smallest >= 0.5)), n, unit="matrices", details={
            "smallest over all matrices": float(sv.min()), "at shape": list(worst["shape"]),
            "per-matrix smallest: median, 10% quantile": [float(np.median(smallest)), float(np.quantile(smallest, 0.1))]}),
        LARGE: Measurement.share(int(np.sum(largest <= 1.5)), n, unit="matrices", details={
            "largest over all matrices": float(sv.max()),
            "S' mean and 10/50/90% quantiles": [float(sv.mean()), *map(float, q)],
            "KS distance of S' to U(0.5, 1.5)": float(stats.kstest(sv, stats.uniform(0.5, 1.0).cdf).statistic),
            "<G, NS5(G)> / ||G||_* mean [95% CI]": [mean, *ci],
            "<G, NS5(G)> / ||G||_* min, max": [float(align.min()), float(align.max())],
            "NS5 gain on the smallest singular value, max (bound a^5)": max(o["gain"] for o in out)}),
    }


LARGEST = "largest singular value of NS5(G), worst matrix"


def _measure_square(cfg, out):
    """The lower end of the band as a share of matrices (the failing check), and two exact
    properties of the quintic p(x) = a x + b x^3 + c x^5 (a, b, c) = (3.4445, -4.7750, 2.0315), each
    holding matrix by matrix (so the worst matrix is the measurement and has no CI):

    * the upper end: after Frobenius normalisation every singular value is <= 1, p maps [0, 1] into
      [0, 1.2024] (its maximum, at x = 0.5545) and [0, 1.2024] into itself, so S' <= 1.2024 < 1.5;
    * the mechanism of the failure: p(x) <= a x for 0 <= x <= sqrt(-b / c) = 1.53, which holds on
      NS5's range, so five steps lift a normalised singular value x by at most a^5 = 485:
      sigma_min(NS5(G)) <= a^5 sigma_min(G) / ||G||_F."""
    share = _measure_polar(cfg, out)[SMALL]
    gains = np.array([o["gain"] for o in out])
    why = "deterministic: an exact property of the NS5 polynomial, holding matrix by matrix"
    return {
        SMALL: share,
        LARGEST: Measurement.exact(max(float(o["sv"].max()) for o in out), why, label="worst matrix"),
        AMPLIFICATION: Measurement.exact(float(gains.max()), why, label="worst matrix",
                                         details={"median gain": float(np.median(gains))}),
    }


def _plot_polar(cfg, out, verdict):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    sv = np.concatenate([o["sv"] for o in out])
    ax.hist(sv, bins=60, color="C0")
    for x in (0.5, 1.5):
        ax.axvline(x, color="k", ls="--", lw=1)
    ax.axvline(1.0, color="r", lw=1, label="polar factor U V^T (all 1)")
    return finish(fig, ax, xlabel="singular value of NS5(G)", ylabel="count", title="Muon's Newton-Schulz vs the polar factor")


register(Claim(
    id="muon2024/polar-factor",
    paper=MUON,
    reference="zeropower_via_newtonschulz5 docstring (S' ~ U(0.5, 1.5)), a code comment, not a theorem; kind: a "
              "two-sided band (lower and upper bound with known constants) read as holding for typical inputs",
    statement="For rectangular Gaussian G (aspect ratio >= 2), five quintic Newton-Schulz steps give U S' V^T with "
              "S' inside [0.5, 1.5] for at least 95% of matrices (both ends, Clopper-Pearson CI).",
    quick={"shapes": [[64, 32], [32, 64], [10, 100], [100, 10]], "seeds": 25, "ns_steps": 5},
    full={"shapes": [[256, 128], [128, 256], [16, 512], [512, 16], [384, 96]], "seeds": 24, "ns_steps": 5},
    simulate=_sim_polar,
    predict=lambda cfg: {SMALL: 1.0, LARGE: 1.0},
    measure=_measure_polar,
    tolerance={SMALL: tol.lower_bound(TYPICAL, "share of matrices; S' >= 0.5 for typical G"),
               LARGE: tol.lower_bound(TYPICAL, "share of matrices; S' <= 1.5 for typical G")},
    plot=_plot_polar,
    note="The band holds, but S' is not spread like U(0.5, 1.5): over the quick run's 100 matrices S' lies in "
         "[0.68, 1.13], mean 0.86, quantiles 0.69 / 0.79 / 1.09 (10/50/90%), Kolmogorov-Smirnov distance 0.37 to "
         "U(0.5, 1.5); the full run's 120 matrices give the same picture (mean 0.84, [0.68, 1.13]). "
         "The alignment <G, NS5(G)> / ||G||_* is 0.82 for 2:1 shapes and 0.98-0.99 for 10:1 shapes (quick run): "
         "Muon's step is 2-18% less aligned with the gradient than exact spectral steepest descent. It was a third "
         "check, in [0.5, 1.5], until it was seen to follow from the band (the ratio is a sigma-weighted mean of "
         "S'); it is a detail now. Until issue 36 the checks were the smallest and largest singular value over "
         "the sample (a worst case over random draws, without a CI); they are now the shares of matrices inside "
         "each end of the band with Clopper-Pearson CIs, read against 95% ('typical' gradients), which needs at "
         "least 72 matrices all inside for a decisive pass: quick went from 4 to 25 seeds per shape (100 "
         "matrices), full from 16 to 24 (120).",
))


register(Claim(
    id="muon2024/polar-factor-square",
    paper=MUON,
    reference="zeropower_via_newtonschulz5 docstring (S' ~ U(0.5, 1.5)); kind: the band's lower end, read as "
              "holding for at least 95% of matrices (a share with a Clopper-Pearson CI); the upper end and the NS5 "
              "gain bound a^5 are exact upper bounds of the polynomial (our derivation)",
    statement="For square Gaussian G, five quintic Newton-Schulz steps give singular values inside [0.5, 1.5] for "
              "at least 95% of matrices.",
    quick={"shapes": [[48, 48], [64, 64]], "seeds": 20, "ns_steps": 5},
    full={"shapes": [[128, 128], [256, 256]], "seeds": 16, "ns_steps": 5},
    simulate=_sim_polar,
    predict=lambda cfg: {SMALL: 1.0, LARGEST: 1.5, AMPLIFICATION: A_NS**5},
    measure=_measure_square,
    tolerance={SMALL: tol.lower_bound(TYPICAL, "share of matrices; S' >= 0.5 for typical G"),
               LARGEST: tol.upper_bound(1.5, "S' <= 1.5; p keeps NS5's iterates <= 1.2024"),
               AMPLIFICATION: tol.upper_bound(A_NS**5, "a^5, a = 3.4445: p(x) <= a x on NS5's range")},
    plot=_plot_polar,
    expect="fail",
    failing=(SMALL,),
    expected_failure=regime("square inputs: the docstring's band describes typical (rectangular, well-conditioned) "
                            "gradients; a square Gaussian G has sigma_min / ||G||_F ~ n^(-3/2) with Edelman's heavy "
                            "left tail, below what five NS steps (gain <= a^5 = 485) lift to 0.5"),
    note="Does not hold for square inputs. The smallest singular value of an n x n Gaussian matrix is "
         "sigma_min = x / sqrt(n) with x of Edelman's law, whose left tail is heavy (P(x < e) ~ e for small e), i.e. "
         "x / n^(3/2) after Frobenius normalisation; five steps amplify small values by at most a^5 = 3.4445^5 ~ 485 "
         "(checked: the gain check), so a typical x ~ 1 ends near 485 n^(-3/2) (1.46 at n = 48, 0.95 at n = 64) "
         "where the polynomial saturates around 0.7, and the matrices with small x stay below 0.5. Measured over 200 "
         "matrices per size (seeds 5000-5199): the per-matrix smallest singular value of NS5(G) has median 0.68 at "
         "48x48 and 0.49 at 64x64, 10% quantile 0.16 and 0.079, minimum 7e-5 and 0.003; 36% (48x48) and 51% (64x64) "
         "of matrices have one below 0.5. The upper end of the band holds (largest <= 1.21). Until issue 36 the "
         "failing check was the sample's smallest singular value (8 matrices, no CI); it is now the share of "
         "matrices with S' >= 0.5 (Clopper-Pearson; quick 20 seeds per shape, 40 matrices, instead of 4, so that "
         "its CI is decisive); the upper end, which the polynomial guarantees for every matrix, and the gain "
         "bound are exact checks outside failing.",
))
