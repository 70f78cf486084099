"""Multi-layer LSA vs multi-step in-context algorithms: training K-layer models for several K,
tuning K-step GD and non-recurrent GD++ on the task distribution, and finding the Iterative
Newton iteration / GD step count that best matches a trained model's predictions.

Used by ``vonoswald2023/multilayer-vs-gd`` and ``fu2023/layers-match-newton``; both claims
train the same models, so :func:`train_depths` keeps them in :data:`TRAINED`, a
:class:`~theorysim.engine.cache.RunCache` keyed by the training configuration.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from theorysim.engine.cache import RunCache
from theorysim.engine.experiment import Experiment
from theorysim.setups.icl import algorithms as alg
from theorysim.setups.icl import model as lsa_model
from theorysim.setups.icl import task
from theorysim.setups.icl.model import LinearSelfAttention

#: the trained K-layer models, by training configuration (shared by two claims)
TRAINED = RunCache("icl multilayer: trained K-layer LSA models")
#: the comparisons built on them (tuned GD / GD++, Newton and GD matches), by the same configuration
COMPARED = RunCache("icl multilayer: trained models vs tuned GD / GD++ / Newton")


def train_depths(cfg) -> dict:
    """Train a K-layer LSA for every K in ``cfg["depths"]`` (Adam, warm-up + cosine, global-norm
    clipping, token clipping as in von Oswald et al. A.12), ``cfg["seeds"]`` seeds at once, for
    ``cfg["steps"]`` Adam steps, or ``cfg["steps_by_depth"][str(K)]`` where that names K.
    Returns ``{K: (model, result)}``; kept in :data:`TRAINED` per configuration."""

    def train():
        out = {}
        for K in cfg["depths"]:
            model = LinearSelfAttention(cfg["d"], cfg["n_context"], layers=K, batch=cfg["batch"],
                                        eval_prompts=cfg["eval_prompts"], token_clip=cfg["token_clip"],
                                        x_dist=cfg["x_dist"])
            steps = int(cfg.get("steps_by_depth", {}).get(str(K), cfg["steps"]))
            res = Experiment(model, "adam", lr=cfg["lr"], steps=steps, seeds=range(cfg["seeds"]),
                             record_every=max(1, steps // 50),
                             schedule={"kind": "warmup_cosine", "warmup": cfg["warmup"]},
                             max_grad_norm=cfg["max_grad_norm"], init_scale=cfg["init_scale"],
                             progress=cfg.get("progress", False)).run()
            out[K] = (model, res)
        return out

    return TRAINED.get(cfg, train)


def tune_gdpp(p: task.Prompts, depth: int, curvature: bool, starts: int = 12, seed: int = 0):
    """Loss-optimal steps (eta_1..eta_K) and, with ``curvature``, GD++ corrections
    (gamma_1..gamma_K) on the prompts ``p`` (0.5 MSE), by L-BFGS (exact gradients) from ``starts`` random starts plus
    the all-equal start. Returns (loss, etas, gammas). ``curvature=False`` is K-step GD with
    per-step sizes (the best K-step GD: its polynomial class contains every constant-step run)."""
    moments = alg.spectral_moments(p)
    N = p.n_context

    def loss(z):
        gammas = z[depth:] if curvature else np.zeros(depth)
        v, d_eta, d_gamma = alg.gdpp_spectral_loss(moments, p.yq, z[:depth], gammas, N)
        if not np.isfinite(v):
            return 1e300, np.zeros_like(z)
        return v, np.r_[d_eta, d_gamma] if curvature else d_eta

    rng = np.random.default_rng(seed)
    var = float(np.mean(p.X**2))  # starts scale with the data: eta ~ 1/var, gamma lam(C) ~ 1
    eta0 = N / (var * (N + p.X.shape[2] + 1))
    inits = [np.r_[np.full(depth, eta0), np.zeros(depth) if curvature else []]]
    for _ in range(starts):
        inits.append(np.r_[rng.uniform(0.2, 2.0, depth) * eta0,
                           rng.uniform(0.0, 0.3, depth) / (N * var) if curvature else []])
    best = min((optimize.minimize(loss, z0, jac=True, method="L-BFGS-B") for z0 in inits), key=lambda r: r.fun)
    etas = best.x[:depth]
    gammas = best.x[depth:] if curvature else np.zeros(depth)
    return float(best.fun), etas, gammas


def algorithm_predictions(p: task.Prompts, newton_max: int, gd_steps) -> dict:
    """The query predictions of Iterative Newton (iterations 0..newton_max, [newton_max + 1, B])
    and of GD at the step counts ``gd_steps`` (sorted, [len(gd_steps), B]; step 1/lambda_max(S_hat)
    per prompt, from w = 0) on the prompts ``p``: what :func:`match_curves` compares a model with.
    They depend on the prompts only, so one set serves every trained model tested on them."""
    W = alg.iterative_newton(p, newton_max, return_all=True)
    newton = np.array([alg.predict(p, w) for w in W])
    S, h = alg._moments(p)
    eta = 1.0 / np.linalg.eigvalsh(S)[:, -1]
    steps = np.asarray(sorted(gd_steps))
    gd = np.empty((len(steps), len(h)))
    w = np.zeros_like(h)
    done = 0
    for i, t in enumerate(steps):
        for _ in range(t - done):
            w = w - eta[:, None] * (np.einsum("bij,bj->bi", S, w) - h)
        done = t
        gd[i] = alg.predict(p, w)
    return {"newton": newton, "gd_steps": steps, "gd": gd}


def match_curves(pred: np.ndarray, p: task.Prompts, newton_max: int, gd_steps, reference: dict | None = None) -> dict:
    """Distance between a model's predictions and those of Iterative Newton (iterations
    0..newton_max) and of GD (the step counts ``gd_steps``, step 1/lambda_max(S_hat) per prompt,
    from w = 0), as mean (y_model - y_alg)^2 / mean y_alg^2 over the prompts. The best match is
    the argmin (Fu et al. 2023 eq. 9 take the argmax of a similarity; with noiseless prompts and
    N > d the late iterates' errors vanish, so error-vector cosines are ill-defined here and the
    prediction distance is used). ``reference``: :func:`algorithm_predictions` of the same
    arguments, when several models are matched on the same prompts (computed here otherwise)."""
    ref = reference if reference is not None else algorithm_predictions(p, newton_max, gd_steps)
    newton = np.array([_rel_dist(pred, y) for y in ref["newton"]])
    gd = np.array([_rel_dist(pred, y) for y in ref["gd"]])
    steps = ref["gd_steps"]
    return {"newton": newton, "gd_steps": steps, "gd": gd,
            "best_newton": int(np.argmin(newton)), "best_gd": int(steps[np.argmin(gd)])}


def _rel_dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a - b) ** 2) / np.mean(b**2))


def compare_depths(cfg) -> dict:
    """Everything both multi-layer claims need, on one large test set of fresh prompts: per depth
    K, every seed's trained-LSA loss and predictions, the tuned K-step GD and GD++ (tuned on a
    separate prompt set) losses and predictions, and the Newton / GD match of each seed. Kept in
    :data:`COMPARED` per configuration (both claims read the same comparison; nothing mutates it)."""
    return COMPARED.get(cfg, lambda: _compare_depths(cfg))


def _compare_depths(cfg) -> dict:
    trained = train_depths(cfg)
    d, N = cfg["d"], cfg["n_context"]
    tune_set = task.sample(cfg["tune_seed"], cfg["tune_prompts"], d, N, x_dist=cfg["x_dist"])
    test = task.sample(cfg["test_seed"], cfg["test_prompts"], d, N, x_dist=cfg["x_dist"])
    moments = alg.spectral_moments(test)
    reference = algorithm_predictions(test, cfg["newton_max"], cfg["gd_steps"])
    out = {}
    for K, (model, res) in trained.items():
        preds = []
        for th in res.theta:
            Ps, Qs = model.weights(th)
            preds.append(lsa_model.predict(test.X, test.y, test.xq, Ps, Qs, model.token_clip))
        preds = np.array(preds)
        row = {"lsa_pred": preds, "lsa_sq": 0.5 * (preds - test.yq) ** 2,
               "train_final": res.final("eval_loss"), "diverged": res.diverged_step.tolist()}
        for name, curvature in (("gd", False), ("gdpp", True)):
            _, etas, gammas = tune_gdpp(tune_set, K, curvature, starts=cfg["tune_starts"])
            pred = alg.gdpp_spectral_predict(moments, etas, gammas, N)
            row[name + "_sq"] = 0.5 * (pred - test.yq) ** 2
            row[name + "_params"] = {"etas": etas.round(4).tolist(), "gammas": gammas.round(5).tolist()}
        row["match"] = [match_curves(p, test, cfg["newton_max"], cfg["gd_steps"], reference) for p in preds]
        out[K] = row
    return {"depths": out, "test": test}


def paired_ratio(a_sq: np.ndarray, b_sq: np.ndarray):
    """mean(a) / mean(b) over the same prompts, with a 95% interval by the delta method
    (var R ~ var(a - R b) / (n mean(b)^2); a paired bootstrap over 32k prompts agrees, but needs
    the index matrix of every resample)."""

    R = float(a_sq.mean() / b_sq.mean())
    se = float(np.std(a_sq - R * b_sq, ddof=1) / (np.sqrt(len(a_sq)) * b_sq.mean()))
    z = stats.norm.ppf(0.975)
    return R, (R - z * se, R + z * se)
