"""Rates and exponents from curves, with bootstrap confidence intervals over seeds.

* :func:`exp_rate`: semilog fit ``log y_t = a + s t`` on a window; the per-step factor is
  ``rho = exp(s)`` (y_t ~ C rho^t) and the decay rate ``-s``.
* :func:`power_law`: log-log fit ``log y_t = a + p log t``; the exponent is ``p`` (y_t ~ C t^p).
* :func:`compare_laws`: both fits on the same window, which fits better and by how much.
* :func:`mean_ci`: the mean of per-seed values with a bootstrap CI (``scipy.stats.bootstrap``).
* Over a grid of points with seeds each (``values[P, S]``): :func:`loglog_slope` (an exponent),
  :func:`held_out_bound` (the constant rule for O / Omega bounds), :func:`smallest_step`
  (monotonicity), and :func:`grid_bootstrap` for any other statistic.
* :func:`control_variate_mean`: a mean over draws corrected by control variates of known mean 0.

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

__all__ = ["SeedFit", "RateFit", "mean_ci", "exp_rate", "power_law", "LawComparison", "compare_laws",
           "GridStatistic", "grid_bootstrap", "loglog_slope", "held_out_bound", "smallest_step",
           "control_variate_mean"]


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
    """Which of ``y_t ~ C rho^t`` (semilog) and ``y_t ~ C t^p`` (log-log) fits the curves better on
    ``window``: both least-squares fits per row, their residual sums and R^2 (:class:`LawComparison`)."""
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


# ---------------------------------------------------------------------------------------------
# Statistics over a grid of points, each measured on several seeds: ``values[P, S]`` (point p,
# seed s). Their CIs are expanded percentile bootstraps over seeds (Hesterberg 2015: the
# percentiles at the normal quantile z = sqrt(S / (S - 1)) t_{S-1}, so that few seeds give an
# honestly wide interval instead of the plain percentile interval's too narrow one): independently per point by default;
# with ``paired=True`` (the same seed, e.g. the same data or init, at every point) one resample
# of the seed indices serves every point, so the seed-to-seed spread shared by the points cancels
# in differences and slopes.

@dataclass(frozen=True)
class GridStatistic:
    """A statistic of ``values[P, S]`` with a percentile bootstrap CI over seeds; ``n``: seeds per
    point (the smallest); ``parts``: intermediate quantities for the record (per-point means,
    fitted constants)."""

    estimate: float
    ci: tuple[float, float] | None
    n: int
    parts: dict = field(default_factory=dict)


def _grid_values(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    if v.ndim != 2 or v.shape[0] < 2:
        raise ValueError(f"values: expected shape (points >= 2, seeds), got {np.shape(values)}")
    return v


def grid_bootstrap(statistic, values, confidence: float = 0.95, resamples: int = 2000,
                   seed: int = 0, paired: bool = False) -> GridStatistic:
    """``statistic(values)`` (a function of the ``[P, S]`` array) and its percentile bootstrap CI,
    resampling the seeds of each point (``paired``: the same resample at every point). Non-finite
    values give a NaN estimate (never dropped); one seed per point gives no CI."""
    v = _grid_values(values)
    if not np.all(np.isfinite(v)):
        return GridStatistic(math.nan, None, v.shape[1], {"not_finite": int((~np.isfinite(v)).sum())})
    est = float(statistic(v))
    S = v.shape[1]
    if S < 2:
        return GridStatistic(est, None, S)
    gen = np.random.default_rng(seed)
    z = math.sqrt(S / (S - 1)) * stats.t.ppf(0.5 + confidence / 2, S - 1)
    tail = 100.0 * stats.norm.sf(z)  # the expanded percentile interval's tail
    if paired:
        boot = np.array([statistic(v[:, gen.integers(0, S, S)]) for _ in range(resamples)])
    else:
        boot = np.array([statistic(np.take_along_axis(v, gen.integers(0, S, v.shape), axis=1))
                         for _ in range(resamples)])
    lo, hi = (float(q) for q in np.percentile(boot, [tail, 100.0 - tail]))
    return GridStatistic(est, (lo, hi), S)


def loglog_slope(x, values, confidence: float = 0.95, resamples: int = 2000, seed: int = 0,
                 paired: bool = False) -> GridStatistic:
    """The least-squares slope of log(mean over seeds) against log x, with a bootstrap CI over
    seeds (``values[P, S]``, positive)."""
    lx = np.log(np.asarray(x, dtype=np.float64))
    res = grid_bootstrap(lambda v: np.polyfit(lx, np.log(v.mean(axis=1)), 1)[0], values, confidence, resamples, seed,
                         paired)
    return GridStatistic(res.estimate, res.ci, res.n, {"span": float(np.max(x) / np.min(x)), "paired": paired})


def held_out_bound(values, bound, fit_part, side: str, confidence: float = 0.95, resamples: int = 2000,
                   seed: int = 0, paired: bool = False) -> GridStatistic:
    """The constant rule for a bound with an unknown constant
    (:mod:`theorysim.claims.tolerance`): per point the ratio r = mean over seeds of ``values`` /
    ``bound``; the constant is fitted on ``fit_part`` (a boolean mask over points) as max r
    (``side="upper"``) or min r (``"lower"``), and the statistic is the held-out max r / C
    (upper) or min r / c (lower). Its CI resamples the seeds, fit and test together."""
    v = _grid_values(values)
    f = np.asarray(bound, dtype=np.float64)
    part = np.asarray(fit_part, dtype=bool)
    if f.shape != (v.shape[0],) or part.shape != (v.shape[0],):
        raise ValueError(f"bound and fit_part: expected {v.shape[0]} points, got {f.shape} and {part.shape}")
    if not part.any() or part.all():
        raise ValueError("fit_part: expected some points to fit the constant on and some held out")
    if side not in ("upper", "lower"):
        raise ValueError(f"side={side!r}: expected 'upper' or 'lower'")
    pick = np.max if side == "upper" else np.min

    def stat(w):
        r = w.mean(axis=1) / f
        return pick(r[~part]) / pick(r[part])

    res = grid_bootstrap(stat, v, confidence, resamples, seed, paired)
    ratios = v.mean(axis=1) / f if np.all(np.isfinite(v)) else np.full(len(f), math.nan)
    const = float(pick(ratios[part]))
    return GridStatistic(res.estimate, res.ci, res.n, {"constant": const, "ratios": ratios.tolist(),
                                                       "fit_part": part.tolist(), "side": side, "paired": paired})


def smallest_step(values, direction: str, confidence: float = 0.95, resamples: int = 2000,
                  seed: int = 0, paired: bool = False) -> GridStatistic:
    """Monotonicity over an ordered grid: the smallest consecutive step of the per-point mean in
    ``direction`` ("increasing": min diff; "decreasing": min of -diff), with a bootstrap CI over
    seeds. Positive: monotone in that direction."""
    if direction not in ("increasing", "decreasing"):
        raise ValueError(f"direction={direction!r}: expected 'increasing' or 'decreasing'")
    sign = 1.0 if direction == "increasing" else -1.0
    res = grid_bootstrap(lambda v: np.min(sign * np.diff(v.mean(axis=1))), values, confidence, resamples, seed,
                         paired)
    return GridStatistic(res.estimate, res.ci, res.n, {"means": np.asarray(values, float).reshape(
        len(values), -1).mean(axis=1).tolist(), "direction": direction, "paired": paired})


def control_variate_mean(values, controls, confidence: float = 0.95) -> tuple[float, tuple[float, float] | None, int]:
    """The mean of ``values`` [n] corrected by control variates ``controls`` [n, c] whose exact mean
    is 0 (e.g. ||w||^2 / E||w||^2 - 1 of a Gaussian draw): the intercept of the least-squares fit
    values ~ a + controls b, with its Student t interval (n - 1 - c degrees of freedom). The
    estimate's expectation is the plain mean's; its variance is what the controls do not explain.
    Returns (estimate, CI or None, n); non-finite values give NaN."""
    y = np.asarray(values, dtype=np.float64).ravel()
    C = np.asarray(controls, dtype=np.float64).reshape(len(y), -1)
    n, c = C.shape
    if not np.all(np.isfinite(y)) or not np.all(np.isfinite(C)):
        return math.nan, None, n
    if n <= c + 2:
        raise ValueError(f"control_variate_mean: {n} values for {c} controls; need at least {c + 3}")
    A = np.column_stack([np.ones(n), C])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    dof = n - 1 - c
    cov = np.linalg.inv(A.T @ A) * (resid @ resid) / dof
    half = float(stats.t.ppf(0.5 + confidence / 2, dof) * math.sqrt(cov[0, 0]))
    return float(coef[0]), (float(coef[0] - half), float(coef[0] + half)), n
