"""In-context algorithms, run on a batch of prompts (vectorised over prompts).

Conventions (shared/papers/icl.md sec. 0-2): L(w) = 1/(2N) sum_i (w^T x_i - y_i)^2 over the N
context pairs, h = (1/N) sum_i y_i x_i, S_hat = (1/N) sum_i x_i x_i^T, grad L(w) = S_hat w - h.
Every function returns the weights ``[B, d]`` (predictions are ``x_q . w``) unless it says
otherwise.
"""
from __future__ import annotations

import numpy as np

from theorysim.setups.icl.task import Prompts


def _moments(p: Prompts):
    N = p.n_context
    S = np.einsum("bni,bnj->bij", p.X, p.X) / N
    h = np.einsum("bn,bni->bi", p.y, p.X) / N
    return S, h


def preconditioned_gd(p: Prompts, gammas) -> np.ndarray:
    """k steps w_{j+1} = w_j - Gamma_j grad L(w_j) from w_0 = 0 (Ahn et al. 2023, eq. 8).

    ``gammas``: a list of k preconditioners, each a scalar (Gamma = g I) or a (d, d) matrix.
    """
    S, h = _moments(p)
    B, d = h.shape
    w = np.zeros((B, d))
    for g in gammas:
        grad = np.einsum("bij,bj->bi", S, w) - h
        w = w - (g * grad if np.ndim(g) == 0 else grad @ np.asarray(g).T)
    return w


def gd_steps_list(p: Prompts, etas) -> np.ndarray:
    """GD with a different scalar step per iteration (the steps commute, so order is immaterial)."""
    return preconditioned_gd(p, [float(e) for e in etas])


def gd(p: Prompts, eta: float, steps: int) -> np.ndarray:
    """k = ``steps`` GD steps with step size eta from w_0 = 0 (w_1 = eta h)."""
    return preconditioned_gd(p, [eta] * steps)


def gdpp_predict(p: Prompts, etas, gammas, token_clip: float = 0.0) -> np.ndarray:
    """Predictions of von Oswald's GD++ token dynamics (2023, sec. 3, A.10 eq. 23), one layer per
    (eta, gamma): every token's x is transformed x_j <- (I - gamma X X^T) x_j, with X X^T =
    sum_i x_i x_i^T over the current context (no 1/N), and every token's y-entry gets the GD
    update y_j <- y_j - (eta/N) sum_i y_i x_i^T x_j; the query starts at y = 0 and the prediction
    is minus its final y-entry. gamma = 0 gives plain GD. ``token_clip > 0`` clips every token entry
    to [-token_clip, token_clip] after each layer, as the LSA kernel does."""
    N = p.n_context
    X = np.concatenate([p.X, p.xq[:, None, :]], axis=1)  # tokens' x, query last
    Y = np.concatenate([p.y, np.zeros((p.y.shape[0], 1))], axis=1)
    for eta, gamma in zip(etas, gammas):
        ctx_x, ctx_y = X[:, :N], Y[:, :N]
        XXt = np.einsum("bni,bnj->bij", ctx_x, ctx_x)
        coef = np.einsum("bn,bni->bi", ctx_y, ctx_x)  # sum_i y_i x_i
        Y = Y - (eta / N) * np.einsum("bi,bti->bt", coef, X)
        X = X - gamma * np.einsum("bij,btj->bti", XXt, X)
        if token_clip > 0:
            X, Y = np.clip(X, -token_clip, token_clip), np.clip(Y, -token_clip, token_clip)
    return -Y[:, N]


def gdpp2_moments(p: Prompts) -> np.ndarray:
    """a_j = g^T C^j x_q for j = 0..3, with C = sum_i x_i x_i^T and g = sum_i y_i x_i: the
    2-layer recurrent GD++ prediction is a polynomial in (eta, gamma) with these coefficients
    (:func:`gdpp2_recurrent_predict`), so its loss can be minimised over many prompts cheaply."""
    C = np.einsum("bni,bnj->bij", p.X, p.X)
    g = np.einsum("bn,bni->bi", p.y, p.X)
    v = p.xq
    out = []
    for _ in range(4):
        out.append(np.einsum("bi,bi->b", g, v))
        v = np.einsum("bij,bj->bi", C, v)
    return np.stack(out)


def gdpp2_recurrent_predict(a: np.ndarray, eta: float, gamma: float, n_context: int) -> np.ndarray:
    """Two GD++ layers with shared (eta, gamma), from :func:`gdpp2_moments` (our derivation from
    the token updates of :func:`gdpp_predict`):
    y_hat = (eta/N) a0 + (eta/N) [a0 - 2 gamma a1 + gamma^2 a2 - (eta/N)(a1 - 2 gamma a2 + gamma^2 a3)]."""
    c = eta / n_context
    return c * a[0] + c * (a[0] - 2 * gamma * a[1] + gamma**2 * a[2] - c * (a[1] - 2 * gamma * a[2] + gamma**2 * a[3]))


def spectral_moments(p: Prompts):
    """Per prompt, the eigenvalues lam of C = sum_i x_i x_i^T and the products rho * q of
    rho = U^T X^T y and q = U^T x_q in C's eigenbasis: every GD / GD++ prediction is a sum over
    eigen-directions of rho q times a scalar polynomial in lam (:func:`gdpp_spectral_predict`)."""
    C = np.einsum("bni,bnj->bij", p.X, p.X)
    lam, U = np.linalg.eigh(C)
    rho = np.einsum("bij,bn,bni->bj", U, p.y, p.X)
    q = np.einsum("bij,bi->bj", U, p.xq)
    return lam, rho * q


def gdpp_spectral_predict(moments, etas, gammas, n_context: int) -> np.ndarray:
    """Non-recurrent GD++ (one (eta_k, gamma_k) per layer) from :func:`spectral_moments`; equal to
    :func:`gdpp_predict` (our derivation). Every token's x is multiplied by f_k(C), with f_0 = 1 and
    f_{k+1} = f_k (1 - gamma_k lam f_k^2) since the current C_k = f_k^2 C; r_k = X^T (context y's)
    shrinks by (1 - (eta_k/N) lam f_k^2) per layer, and the query's y-entry collects
    (eta_k/N) f_k^2 r_k^T x_q. Cost O(B d) per layer, so the 2K scalars can be tuned on many prompts."""
    lam, rq = moments
    f2 = np.ones_like(lam)
    r = np.ones_like(lam)
    coef = np.zeros_like(lam)
    for eta, gamma in zip(etas, gammas):
        c = (eta / n_context) * f2
        coef = coef + c * r
        r = r * (1.0 - c * lam)
        f2 = f2 * (1.0 - gamma * lam * f2) ** 2
    return np.sum(coef * rq, axis=-1)


def gdpp_spectral_loss(moments, yq: np.ndarray, etas, gammas, n_context: int):
    """0.5 mean (y_hat - y_q)^2 of :func:`gdpp_spectral_predict` and its gradient with respect to
    (etas, gammas), by a hand-written reverse pass through the layer recursion."""
    lam, rq = moments
    etas, gammas = np.asarray(etas, float), np.asarray(gammas, float)
    K = len(etas)
    f2s, rs = [np.ones_like(lam)], [np.ones_like(lam)]
    coef = np.zeros_like(lam)
    for k in range(K):
        c = (etas[k] / n_context) * f2s[k]
        coef = coef + c * rs[k]
        rs.append(rs[k] * (1.0 - c * lam))
        f2s.append(f2s[k] * (1.0 - gammas[k] * lam * f2s[k]) ** 2)
    err = np.sum(coef * rq, axis=-1) - yq
    loss = 0.5 * np.mean(err**2)
    G = (err / err.shape[0])[:, None] * rq  # dL/dcoef
    r_bar = np.zeros_like(lam)
    f2_bar = np.zeros_like(lam)
    d_eta, d_gamma = np.zeros(K), np.zeros(K)
    for k in reversed(range(K)):
        f2, r = f2s[k], rs[k]
        c = (etas[k] / n_context) * f2
        c_bar = G * r - r_bar * r * lam
        r_bar = G * c + r_bar * (1.0 - c * lam)
        u = 1.0 - gammas[k] * lam * f2
        d_gamma[k] = np.sum(f2_bar * f2 * 2.0 * u * (-lam * f2))
        d_eta[k] = np.sum(c_bar * f2) / n_context
        f2_bar = f2_bar * (u**2 - 2.0 * u * gammas[k] * lam * f2) + c_bar * etas[k] / n_context
    return float(loss), d_eta, d_gamma


def gd_poly_moments(p: Prompts, k: int) -> np.ndarray:
    """b_j = x_q^T S_hat^j h, j = 0..k-1: k GD steps with steps a_1..a_k predict
    sum_j (-1)^j e_{j+1}(a) b_j, e the elementary symmetric polynomials, since
    w_k = [I - prod_i (I - a_i S_hat)] S_hat^{-1} h."""
    S, h = _moments(p)
    v = h
    out = []
    for _ in range(k):
        out.append(np.einsum("bi,bi->b", p.xq, v))
        v = np.einsum("bij,bj->bi", S, v)
    return np.stack(out)


def gd_poly_predict(b: np.ndarray, steps) -> np.ndarray:
    e = np.array([1.0])  # coefficients of prod (1 + a_i z): elementary symmetric polynomials
    for a in steps:
        e = np.r_[e, 0.0] + a * np.r_[0.0, e]
    return sum(((-1) ** j) * e[j + 1] * b[j] for j in range(len(steps)))


def iterative_newton(p: Prompts, steps: int, alpha=None, return_all: bool = False):
    """Newton-Schulz iteration for S^+ (Fu et al. 2023, sec. 3.1): S = X^T X (unnormalised),
    M_0 = alpha S, M_{k+1} = 2 M_k - M_k S M_k, w_k = M_k X^T y.

    ``alpha`` defaults to 1 / ||S S^T||_F (the authors' code), which is below the convergence
    bound 2 / lambda_max(S)^2 (at exactly that bound E_0 = I - alpha S^2 has an eigenvalue -1 and
    that direction never converges: the spec's pitfall). ``return_all``: w_0..w_steps, [K+1, B, d].
    """
    S = np.einsum("bni,bnj->bij", p.X, p.X)
    Xty = np.einsum("bn,bni->bi", p.y, p.X)
    if alpha is None:
        alpha = 1.0 / np.linalg.norm(S @ np.swapaxes(S, 1, 2), axis=(1, 2))
    alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (S.shape[0],))
    M = alpha[:, None, None] * S
    out = [np.einsum("bij,bj->bi", M, Xty)]
    for _ in range(steps):
        M = 2 * M - M @ S @ M
        out.append(np.einsum("bij,bj->bi", M, Xty))
    return np.stack(out) if return_all else out[-1]


def ridge(p: Prompts, lam: float) -> np.ndarray:
    """(X^T X + lam I)^{-1} X^T y (Akyurek et al. 2022, sec. 4.3; unnormalised lam)."""
    S = np.einsum("bni,bnj->bij", p.X, p.X)
    Xty = np.einsum("bn,bni->bi", p.y, p.X)
    d = S.shape[1]
    return np.linalg.solve(S + lam * np.eye(d), Xty[..., None])[..., 0]


def ols(p: Prompts) -> np.ndarray:
    """Least squares, the minimum-norm solution when N < d."""
    return np.stack([np.linalg.lstsq(X, y, rcond=None)[0] for X, y in zip(p.X, p.y)])


def bayes_posterior_mean(p: Prompts, noise_var: float, tau2: float = 1.0) -> np.ndarray:
    """E[w | D] for w ~ N(0, tau^2 I), eps ~ N(0, sigma^2): ridge with lam = sigma^2 / tau^2."""
    return ridge(p, noise_var / tau2)


def predict(p: Prompts, w: np.ndarray) -> np.ndarray:
    return np.einsum("bi,bi->b", p.xq, w)


def icl_loss(p: Prompts, pred: np.ndarray) -> float:
    """The in-context loss 1/2 mean (y_hat - y_q)^2."""
    return float(0.5 * np.mean((pred - p.yq) ** 2))


def iterations_to(errors: np.ndarray, eps: float) -> np.ndarray:
    """First iteration index at which each column of ``errors [K, B]`` is <= eps (K if never)."""
    hit = errors <= eps
    return np.where(hit.any(axis=0), hit.argmax(axis=0), errors.shape[0])
