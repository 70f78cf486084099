"""Claims of Neelakantan et al. (2015), "Adding Gradient Noise Improves Learning for Very Deep Networks"."""
from __future__ import annotations

import numpy as np
from scipy import stats

from theorysim.claims import Claim, Measurement, register, tol
from theorysim.engine.experiment import Experiment
from theorysim.models.linear import Quadratic
from theorysim.plotting import finish, pyplot
from theorysim.setups.optimizer_theory import theory
from theorysim.setups.optimizer_theory.papers import NOISE


# neelakantan2015/annealed-noise
def _sim_noise(cfg):
    dim = cfg["dim"]
    model = Quadratic(np.zeros((dim, dim)), x0=np.zeros(dim))  # zero gradient: updates are pure noise
    res = Experiment(model, "noisy_sgd", lr=cfg["lr"], eta=cfg["eta"], gamma=cfg["gamma"], seeds=range(cfg["seeds"]),
                     steps=cfg["steps"], record_params=True).run()
    inc = -(res.param_records[:, 1:] - res.param_records[:, :-1]) / cfg["lr"]  # sigma_t xi_t, [E, T, P]
    return {"inc": inc}


KS_ALPHA = 0.001
#: the smallest departure from N(0, 1) that matters, in the KS test's units (sup |F - Phi|): one
#: percentage point of probability anywhere. For scale: a standard deviation off by 4% gives 0.0095,
#: Student t with 20 degrees of freedom (same variance) 0.0074, t_5 0.038, Laplace 0.062, uniform
#: 0.057 (the variance itself is checked far more tightly by the mean standardised square)
KS_EFFECT = 0.01
KS_DRAWS = 200_000


def ks_detectable(n: int, alpha: float, power: float = tol.POWER) -> float:
    """The smallest sup-distance sup|F - F0| that a one-sample KS test on ``n`` draws detects with
    probability >= ``power`` at level ``alpha`` (conservative): at the point x* where |F - F0| = d,
    D_n >= |F_n(x*) - F0(x*)| and F_n(x*) has standard deviation <= 1 / (2 sqrt(n)), so the test
    rejects with probability >= ``power`` once d >= (c_alpha + z_power / 2) / sqrt(n), c_alpha the
    Kolmogorov distribution's upper-alpha point. (A generic helper: candidate for theorysim.fit.)"""
    c = float(stats.kstwobign.isf(alpha))
    return (c + 0.5 * float(stats.norm.ppf(power))) / np.sqrt(n)


def _measure_noise(cfg, out):
    """gamma: fitted per seed (log of the variance over the seed's coordinates against log t) and
    averaged, BCa CI over seeds; the mean standardised square: per-seed means, BCa CI over seeds;
    the KS test: p-value on the first KS_DRAWS standardised draws, with the power it has."""
    inc = out["inc"]
    t = np.arange(1, inc.shape[1] + 1)
    pred = theory.noise_variance(cfg["eta"], cfg["gamma"], t)
    z = inc / np.sqrt(pred)[None, :, None]
    var_seed = (inc**2).mean(axis=2)  # [E, T]: each seed's variance over its coordinates
    gammas = -np.array([stats.linregress(np.log(t), np.log(v)).slope for v in var_seed])
    pooled = stats.linregress(np.log(t), np.log((inc**2).mean(axis=(0, 2))))
    sample = z.ravel()[:KS_DRAWS]
    ks = stats.kstest(sample, "norm")
    return {
        "fitted annealing exponent gamma": Measurement.mean_over(
            gammas, label="fitted per seed, mean over seeds",
            details={"pooled fit": -float(pooled.slope), "pooled r2": pooled.rvalue**2}),
        "mean of xi^2 / sigma_t^2 (all t)": Measurement.mean_over(
            (z**2).mean(axis=(1, 2)), label="per seed, mean over seeds"),
        "KS p-value of standardised noise vs N(0, 1)": Measurement(
            float(ks.pvalue), no_ci="a test's p-value (its power is in detectable)",
            n=sample.size, unit="draws", detectable=ks_detectable(sample.size, KS_ALPHA),
            label=f"{sample.size} draws", details={"KS statistic": float(ks.statistic)}),
    }


def _plot_noise(cfg, out, verdict):
    plt = pyplot()
    inc = out["inc"]
    t = np.arange(1, inc.shape[1] + 1)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.loglog(t, (inc**2).mean(axis=(0, 2)), lw=0.8, label="empirical variance of the injected noise")
    ax.loglog(t, theory.noise_variance(cfg["eta"], cfg["gamma"], t), "k--", label="eta / t^gamma")
    return finish(fig, ax, xlabel="update t", ylabel="variance", title="annealed gradient noise")


register(Claim(
    id="neelakantan2015/annealed-noise",
    paper=NOISE,
    reference="eq. 1: g_t <- g_t + N(0, sigma_t^2), sigma_t^2 = eta / (1 + t)^gamma, gamma = 0.55 (kinds: the "
              "exponent and the variance scale are exact values of the schedule; Gaussianity is a distributional "
              "statement, tested by KS with its power)",
    statement="The injected gradient noise is Gaussian with variance eta / t^gamma: fitted gamma within 0.02 of 0.55, "
              "mean standardised square within 1% of 1, and a KS test against N(0, 1) does not reject at level "
              "0.001 while able to detect a departure of 0.01 in sup |F - Phi| with power 0.8.",
    quick={"dim": 64, "lr": 0.1, "eta": 0.3, "gamma": 0.55, "seeds": 64, "steps": 1000},
    full={"dim": 128, "lr": 0.1, "eta": 0.3, "gamma": 0.55, "seeds": 256, "steps": 4000},
    simulate=_sim_noise,
    predict=lambda cfg: {"fitted annealing exponent gamma": cfg["gamma"], "mean of xi^2 / sigma_t^2 (all t)": 1.0,
                         "KS p-value of standardised noise vs N(0, 1)": KS_ALPHA},
    measure=_measure_noise,
    tolerance={"fitted annealing exponent gamma": tol.absolute(0.02),
               "mean of xi^2 / sigma_t^2 (all t)": tol.relative(0.01),
               "KS p-value of standardised noise vs N(0, 1)": tol.not_rejected(KS_ALPHA, KS_EFFECT,
                                                                               "one-sample Kolmogorov-Smirnov")},
    plot=_plot_noise,
))
