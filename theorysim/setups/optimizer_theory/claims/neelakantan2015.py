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


def _measure_noise(cfg, out):
    inc = out["inc"]
    t = np.arange(1, inc.shape[1] + 1)
    var = (inc**2).mean(axis=(0, 2))
    pred = theory.noise_variance(cfg["eta"], cfg["gamma"], t)
    z = inc / np.sqrt(pred)[None, :, None]
    slope = stats.linregress(np.log(t), np.log(var))
    n = z.size
    ratio = float(np.mean(z**2))
    return {
        "fitted annealing exponent gamma": Measurement(-float(slope.slope), None, {"r2": slope.rvalue**2}),
        "mean of xi^2 / sigma_t^2 (all t)": Measurement(ratio, (ratio - 1.96 * np.sqrt(2 / n), ratio + 1.96 * np.sqrt(2 / n))),
        "KS p-value of standardised noise vs N(0, 1)": Measurement(float(stats.kstest(z.ravel()[:200000], "norm").pvalue)),
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
    reference="eq. 1: sigma_t^2 = eta / (1 + t)^gamma, gamma = 0.55",
    statement="The injected gradient noise is Gaussian with variance eta / t^gamma: fitted gamma within 0.02 of 0.55, "
              "mean standardised square within 1% of 1, and a KS test against N(0, 1) does not reject.",
    quick={"dim": 64, "lr": 0.1, "eta": 0.3, "gamma": 0.55, "seeds": 64, "steps": 1000},
    full={"dim": 128, "lr": 0.1, "eta": 0.3, "gamma": 0.55, "seeds": 256, "steps": 4000},
    simulate=_sim_noise,
    predict=lambda cfg: {"fitted annealing exponent gamma": cfg["gamma"], "mean of xi^2 / sigma_t^2 (all t)": 1.0,
                         "KS p-value of standardised noise vs N(0, 1)": 0.001},
    measure=_measure_noise,
    tolerance={"fitted annealing exponent gamma": tol.absolute(0.02),
               "mean of xi^2 / sigma_t^2 (all t)": tol.relative(0.01),
               "KS p-value of standardised noise vs N(0, 1)": tol.at_least(0.001)},
    plot=_plot_noise,
))
