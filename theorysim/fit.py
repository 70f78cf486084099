"""Rates and exponents from curves, with bootstrap confidence intervals over seeds.

* :func:`exp_rate`: semilog fit ``log y_t = a + s t`` on a window; the per-step factor is
  ``rho = exp(s)`` (y_t ~ C rho^t) and the decay rate ``-s``.
* :func:`power_law`: log-log fit ``log y_t = a + p log t``; the exponent is ``p`` (y_t ~ C t^p).
* :func:`compare_laws`: both fits on the same window, which fits better and by how much.
* :func:`mean_ci`: the mean of per-seed values with a bootstrap CI (``scipy.stats.bootstrap``).

Curves are ``[E, R]`` arrays over record steps ``[R]`` (one row per seed); each row is fitted on
its own (``scipy.stats.linregress``) and the CI is over rows, so it reflects seed-to-seed spread.
Points that are not finite or not positive are left out of a row's fit; a row with fewer than
three points left raises ``ValueError``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class SeedFit:
    """A statistic estimated per seed, summarised by its mean and a bootstrap CI."""

    estimate: float
    ci: tuple[float, float] | None
    per_seed: np.ndarray = field(repr=False)
    r2: float = math.nan
    window: tuple[float, float] = (math.nan, math.nan)
    n_points: int = 0

    @property
    def halfwidth(self) -> float:
        return math.nan if self.ci is None else 0.5 * (self.ci[1] - self.ci[0])


@dataclass(frozen=True)
class RateFit:
    """Result of :func:`exp_rate`: ``slope`` = mean d log y / dt; ``factor`` = exp(slope) per step."""

    slope: SeedFit
    factor: SeedFit
    intercept: np.ndarray = field(repr=False)

    @property
    def decay_rate(self) -> float:
        return -self.slope.estimate


def mean_ci(values, confidence: float = 0.95, n_resamples: int = 4000, seed: int = 0) -> tuple[float, tuple | None]:
    """Mean of ``values`` and a BCa bootstrap CI (percentile if BCa is degenerate); CI None for n < 2."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("mean_ci: no finite values")
    if not (0.0 < confidence < 1.0):
        raise ValueError(f"confidence={confidence!r}: expected a number in (0, 1)")
    mean = float(np.mean(v))
    if v.size < 2:
        return mean, None
    if np.all(v == v[0]):
        return mean, (mean, mean)
    rng = np.random.default_rng(seed)
    for method in ("BCa", "percentile"):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # BCa on near-degenerate samples: we fall back below
            res = stats.bootstrap((v,), np.mean, confidence_level=confidence, n_resamples=n_resamples,
                                  method=method, random_state=rng)
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(lo) and math.isfinite(hi):
            return mean, (lo, hi)
    return mean, None


def _rows(steps, curves, window):
    t = np.asarray(steps, dtype=np.float64)
    y = np.asarray(curves, dtype=np.float64)
    if y.ndim == 1:
        y = y[None, :]
    if y.ndim != 2 or y.shape[1] != t.shape[0]:
        raise ValueError(f"curves: expected shape (E, {t.shape[0]}) or ({t.shape[0]},), got {np.shape(curves)}")
    lo, hi = (t[0], t[-1]) if window is None else window
    if not (lo < hi):
        raise ValueError(f"window={window!r}: expected (t_lo, t_hi) with t_lo < t_hi")
    in_window = (t >= lo) & (t <= hi)
    return t, y, in_window, (float(lo), float(hi))


def _fit_rows(x_of_t, t, y, in_window):
    slopes, intercepts, r2s, npts = [], [], [], []
    for m, row in enumerate(y):
        ok = in_window & np.isfinite(row) & (row > 0)
        if ok.sum() < 3:
            raise ValueError(
                f"member {m}: only {int(ok.sum())} finite positive points in the window; need at least 3"
            )
        res = stats.linregress(x_of_t(t[ok]), np.log(row[ok]))
        slopes.append(res.slope)
        intercepts.append(res.intercept)
        r2s.append(res.rvalue**2)
        npts.append(int(ok.sum()))
    return np.array(slopes), np.array(intercepts), float(np.mean(r2s)), int(min(npts))


def exp_rate(steps, curves, window=None, confidence: float = 0.95, seed: int = 0) -> RateFit:
    """Exponential fit ``y_t ~ C exp(s t)`` per row on ``window = (t_lo, t_hi)`` (inclusive)."""
    t, y, in_window, win = _rows(steps, curves, window)
    slopes, intercepts, r2, npts = _fit_rows(lambda x: x, t, y, in_window)
    s, s_ci = mean_ci(slopes, confidence, seed=seed)
    factors = np.exp(slopes)
    f, f_ci = mean_ci(factors, confidence, seed=seed)
    return RateFit(
        slope=SeedFit(s, s_ci, slopes, r2, win, npts),
        factor=SeedFit(f, f_ci, factors, r2, win, npts),
        intercept=intercepts,
    )


def power_law(steps, curves, window=None, confidence: float = 0.95, seed: int = 0) -> SeedFit:
    """Power-law fit ``y_t ~ C t^p`` per row on ``window`` (t > 0 only); returns the exponent p."""
    t, y, in_window, win = _rows(steps, curves, window)
    in_window = in_window & (t > 0)
    slopes, _, r2, npts = _fit_rows(np.log, t, y, in_window)
    p, p_ci = mean_ci(slopes, confidence, seed=seed)
    return SeedFit(p, p_ci, slopes, r2, win, npts)


@dataclass(frozen=True)
class LawComparison:
    """Which of y ~ C rho^t and y ~ C t^p fits log y better on one window.

    ``rss_ratio`` = RSS(exponential) / RSS(power) summed over rows (> 1 favours the power law);
    ``delta_aic`` = n log(rss_ratio) for equal parameter counts (> 0 favours the power law;
    above ~10 is decisive).
    """

    better: str
    rss_exponential: float
    rss_power: float
    rss_ratio: float
    delta_aic: float
    r2_exponential: float
    r2_power: float


def compare_laws(steps, curves, window=None) -> LawComparison:
    t, y, in_window, _ = _rows(steps, curves, window)
    in_window = in_window & (t > 0)
    rss = {"exponential": 0.0, "power": 0.0}
    r2 = {"exponential": [], "power": []}
    n = 0
    for m, row in enumerate(y):
        ok = in_window & np.isfinite(row) & (row > 0)
        if ok.sum() < 3:
            raise ValueError(f"member {m}: fewer than 3 finite positive points in the window")
        ly = np.log(row[ok])
        for law, x in (("exponential", t[ok]), ("power", np.log(t[ok]))):
            res = stats.linregress(x, ly)
            resid = ly - (res.intercept + res.slope * x)
            rss[law] += float(resid @ resid)
            r2[law].append(res.rvalue**2)
        n += int(ok.sum())
    tiny = np.finfo(float).tiny
    ratio = max(rss["exponential"], tiny) / max(rss["power"], tiny)
    return LawComparison(
        better="power" if ratio > 1 else "exponential",
        rss_exponential=rss["exponential"],
        rss_power=rss["power"],
        rss_ratio=ratio,
        delta_aic=n * math.log(ratio),
        r2_exponential=float(np.mean(r2["exponential"])),
        r2_power=float(np.mean(r2["power"])),
    )
