"""Update rules, as scalar loops over one member's flat parameter vector.

Every rule kernel has one signature, so that the dispatch can be built from the registration
table (:mod:`theorysim.optim.family`, :mod:`theorysim.optim.dispatch`) instead of a hand-kept list::

    rule(theta[P], grad[P], state[S, P], hyper[H], lr, t, offsets, rows, cols, k0, k1, work, hess)

``t`` counts updates from 1; ``lr`` is the scheduled learning rate of this step (``hyper[LR]``
times the schedule factor); ``state`` rows are the rule's buffers, zero-initialised (a rule that
needs another start value, e.g. AdaGrad's initial accumulator, reads it at t = 1); the layout
arrays (``cols == 0`` for vectors) let matrix-aware rules act per block; ``(k0, k1)`` is the
member's Philox key (noisy SGD draws with counter (block, t, STREAM_OPTIM, 0)); ``work`` is
scratch (:func:`theorysim.optim.dispatch.work_size`) and ``hess`` the model's Hessian at theta
(Newton only). A rule reads only the arguments it needs, mutates ``theta`` and ``state`` in place
and allocates nothing.

Shared pieces (the optax lesson: small rules from shared parts): :func:`adam_moments`,
:func:`decay_weights`, :func:`block_norm`, :func:`newton_schulz5`, :func:`project_radial`;
the two wrappers applied to any rule (clipping of the gradient and of the update) live in
:mod:`theorysim.optim.dispatch`, the 8-bit state in :mod:`theorysim.optim.quantize`.
Each rule's docstring states its update; ``../shared/papers/optimizers.md`` has the sources.
"""
from __future__ import annotations

import math

import numpy as np

from theorysim.core.config import jit
from theorysim.core import rng
from theorysim.optim import quantize, slots as S

STREAM_OPTIM = 5

NS_A, NS_B, NS_C = 3.4445, -4.7750, 2.0315  # Keller Jordan's quintic Newton-Schulz coefficients


# ---------------------------------------------------------------------------------------------
# Shared pieces
@jit
def block_size(rows, cols):
    return rows * cols if cols > 0 else rows


@jit
def block_norm(x, start, size):
    s = 0.0
    for i in range(start, start + size):
        s += x[i] * x[i]
    return math.sqrt(s)


@jit
def decay_weights(theta, factor):
    """theta <- theta * factor (decoupled weight decay, factor = 1 - lr * wd)."""
    if factor != 1.0:
        for i in range(theta.shape[0]):
            theta[i] = theta[i] * factor


@jit
def sign(x):
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return 0.0


@jit
def adam_moments(g, state, i, b1, b2):
    """m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2 at index i of the state rows m = state[0],
    v = state[1]; returns (m, v). Indexes ``state`` itself: a row view made per coordinate
    (``state[0]`` inside the loop) costs a reference-count update each time and keeps the
    caller's loop from vectorising (Adam's update: 5.5 ns per coordinate with views, 1.6 without)."""
    mi = b1 * state[0, i] + (1.0 - b1) * g
    vi = b2 * state[1, i] + (1.0 - b2) * g * g
    state[0, i] = mi
    state[1, i] = vi
    return mi, vi


@jit
def requantize_state(row, offsets, rows, cols, signed, block, rounding):
    """8-bit state: re-quantise every layout block with at least MIN_8BIT_SIZE elements."""
    for b in range(offsets.shape[0]):
        n = block_size(rows[b], cols[b])
        if n >= quantize.MIN_8BIT_SIZE:
            quantize.requantize(row, offsets[b], n, signed, block, rounding)


# ---------------------------------------------------------------------------------------------
# SGD family
@jit
def sgd(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """SGD with heavy-ball or Nesterov momentum, torch.optim.SGD semantics.

    With mu = momentum, tau = dampening, lambda = weight_decay (coupled L2)::

        g   = grad + lambda theta
        b_1 = g;  b_t = mu b_{t-1} + (1 - tau) g   (t > 1; dampening is not applied at t = 1)
        d   = g + mu b_t  if nesterov  else  b_t    (d = g when mu = 0)
        theta <- theta - lr d

    With tau = 0 this is Polyak's heavy ball, theta_{t+1} = theta_t - lr g_t + mu (theta_t -
    theta_{t-1}) (Polyak 1964, eq. 9), with theta_{-1} = theta_0. References: torch.optim.SGD
    (docs pseudo-code); optax.sgd(lr, momentum) is the same step for step. State row 0: b.
    """
    mu = hyper[S.MOMENTUM]
    tau = hyper[S.DAMPENING]
    nesterov = hyper[S.NESTEROV] != 0.0
    wd = hyper[S.WEIGHT_DECAY]
    # Two loops, not one with ``if mu != 0`` inside: a conditional store in the loop keeps LLVM
    # from vectorising it (the hoisted form is the same arithmetic, bit for bit).
    if mu == 0.0:
        for i in range(theta.shape[0]):
            g = grad[i] + wd * theta[i] if wd != 0.0 else grad[i]
            theta[i] = theta[i] - lr * g
        return
    for i in range(theta.shape[0]):
        g = grad[i] + wd * theta[i] if wd != 0.0 else grad[i]
        b = g if t == 1 else mu * state[0, i] + (1.0 - tau) * g
        state[0, i] = b
        theta[i] = theta[i] - lr * (g + mu * b if nesterov else b)


@jit
def signsgd(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """signSGD (Bernstein et al. 2018): theta <- theta - lr sign(g), sign(0) = 0 (optax sign_sgd)."""
    for i in range(theta.shape[0]):
        theta[i] = theta[i] - lr * sign(grad[i])


@jit
def signum(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """Signum (Bernstein et al. 2018): m = beta m + (1 - beta) g (m_0 = 0, no debiasing);
    theta <- theta - lr sign(m). optax ``signum(lr, beta=0.9)``; beta is ``momentum`` here."""
    beta = hyper[S.MOMENTUM]
    for i in range(theta.shape[0]):
        m = beta * state[0, i] + (1.0 - beta) * grad[i]
        state[0, i] = m
        theta[i] = theta[i] - lr * sign(m)


@jit
def normalized_gd(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """Normalized GD: theta <- theta - lr g / (||g|| + eps), global 2-norm over all blocks
    (optax ``normalize_by_update_norm``, eps = 1e-6)."""
    nrm = block_norm(grad, 0, grad.shape[0])
    scale = lr / (nrm + hyper[S.EPS])
    for i in range(theta.shape[0]):
        theta[i] = theta[i] - scale * grad[i]


@jit
def noisy_sgd(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """Annealed gradient noise (Neelakantan et al. 2015): g~ = g + sigma_t xi, xi ~ N(0, I),
    sigma_t^2 = eta / t^gamma with t counted from 1 (= the paper's (1 + t), t from 0; optax
    ``noisy_sgd`` / ``add_noise``); theta <- theta - lr g~. Noise from Philox counter
    (block, t, STREAM_OPTIM, 0) of the member's key."""
    sigma = math.sqrt(hyper[S.NOISE_ETA] / float(t) ** hyper[S.GAMMA])
    P = theta.shape[0]
    for b in range((P + 3) // 4):
        w0, w1, w2, w3 = rng.philox4x64(b, t, STREAM_OPTIM, 0, k0, k1)
        z0, z1 = rng.box_muller(w0, w1)
        z2, z3 = rng.box_muller(w2, w3)
        i = 4 * b
        theta[i] = theta[i] - lr * (grad[i] + sigma * z0)
        if i + 1 < P:
            theta[i + 1] = theta[i + 1] - lr * (grad[i + 1] + sigma * z1)
        if i + 2 < P:
            theta[i + 2] = theta[i + 2] - lr * (grad[i + 2] + sigma * z2)
        if i + 3 < P:
            theta[i + 3] = theta[i + 3] - lr * (grad[i + 3] + sigma * z3)


# ---------------------------------------------------------------------------------------------
# Adaptive methods
@jit
def adagrad(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """AdaGrad, torch.optim.Adagrad: lr_t = lr / (1 + (t - 1) lr_decay); g = grad + wd theta;
    s = s + g^2 (s_0 = initial_accumulator_value); theta <- theta - lr_t g / (sqrt(s) + eps)."""
    clr = lr / (1.0 + (t - 1) * hyper[S.LR_DECAY])
    wd = hyper[S.WEIGHT_DECAY]
    eps = hyper[S.EPS]
    for i in range(theta.shape[0]):
        g = grad[i] + wd * theta[i] if wd != 0.0 else grad[i]
        s = (hyper[S.INITIAL_ACCUMULATOR] if t == 1 else state[0, i]) + g * g
        state[0, i] = s
        theta[i] = theta[i] - clr * g / (math.sqrt(s) + eps)


@jit
def rmsprop(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """RMSProp, torch.optim.RMSprop: g = grad + wd theta; v = alpha v + (1 - alpha) g^2;
    centered: gbar = alpha gbar + (1 - alpha) g, v~ = v - gbar^2; d = sqrt(v~) + eps;
    momentum mu > 0: b = mu b + g / d, theta <- theta - lr b; else theta <- theta - lr g / d.
    No bias correction. State rows: v, gbar, b."""
    alpha = hyper[S.ALPHA]
    eps = hyper[S.EPS]
    wd = hyper[S.WEIGHT_DECAY]
    mu = hyper[S.MOMENTUM]
    centered = hyper[S.CENTERED] != 0.0
    for i in range(theta.shape[0]):
        g = grad[i] + wd * theta[i] if wd != 0.0 else grad[i]
        v = alpha * state[0, i] + (1.0 - alpha) * g * g
        state[0, i] = v
        if centered:
            gb = alpha * state[1, i] + (1.0 - alpha) * g
            state[1, i] = gb
            v = v - gb * gb
        d = math.sqrt(v) + eps
        if mu > 0.0:
            b = mu * state[2, i] + g / d
            state[2, i] = b
            theta[i] = theta[i] - lr * b
        else:
            theta[i] = theta[i] - lr * g / d


@jit
def adam(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """Adam / AdamW / AMSGrad, torch.optim.Adam and AdamW.

    Adam (coupled L2): g = grad + wd theta. AdamW (decoupled): theta <- theta (1 - lr wd) first.
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  bc_k = 1 - b_k^t
    theta <- theta - (lr / bc1) m / (sqrt(v_hat_max) / sqrt(bc2) + eps)   (eps outside the sqrt)
    AMSGrad: amsgrad = 1 (torch) keeps v_max = max(v_max, v) of the *raw* v and divides by
    sqrt(bc2) of the current t; amsgrad = 2 (optax) keeps nu_max = max(nu_max, v / bc2) of the
    bias-corrected v and uses sqrt(nu_max) + eps. state_bits = 8 stores m and v block-wise
    quantised (:mod:`theorysim.optim.quantize`). State rows: m, v, v_max.
    """
    decoupled = hyper[S.DECOUPLED] != 0.0
    b1 = hyper[S.BETA1]
    b2 = hyper[S.BETA2]
    eps = hyper[S.EPS]
    wd = hyper[S.WEIGHT_DECAY]
    ams = int(hyper[S.AMSGRAD])
    bc1 = 1.0 - b1**t
    bc2 = 1.0 - b2**t
    sbc2 = math.sqrt(bc2)
    step = lr / bc1
    if decoupled:
        decay_weights(theta, 1.0 - lr * wd)
    coupled = (not decoupled) and wd != 0.0
    if ams == 0:  # its own loop: the AMSGrad branches inside would keep LLVM from vectorising it
        for i in range(theta.shape[0]):
            g = grad[i] + wd * theta[i] if coupled else grad[i]
            m, v = adam_moments(g, state, i, b1, b2)
            theta[i] = theta[i] - step * m / (math.sqrt(v) / sbc2 + eps)
    else:
        for i in range(theta.shape[0]):
            g = grad[i] + wd * theta[i] if coupled else grad[i]
            m, v = adam_moments(g, state, i, b1, b2)
            if ams == 1:
                vm = max(state[2, i], v)
                state[2, i] = vm
                denom = math.sqrt(vm) / sbc2 + eps
            else:
                vm = max(state[2, i], v / bc2)
                state[2, i] = vm
                denom = math.sqrt(vm) + eps
            theta[i] = theta[i] - step * m / denom
    if hyper[S.STATE_BITS] == 8.0:
        requantize_state(state[0], offsets, rows, cols, True, int(hyper[S.STATE_BLOCK]), int(hyper[S.STATE_ROUNDING]))
        requantize_state(state[1], offsets, rows, cols, False, int(hyper[S.STATE_BLOCK]), int(hyper[S.STATE_ROUNDING]))


@jit
def nadam(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """NAdam, torch.optim.NAdam (Dozat 2016 with momentum decay psi = momentum_decay):
    mu_t = b1 (1 - 0.5 * 0.96^(t psi)); g = grad + wd theta; m, v as Adam;
    prod_t = prod_{i <= t} mu_i (kept in state[2, 0]);
    theta <- theta - lr [ (1 - mu_t) g / (1 - prod_t) + mu_{t+1} m / (1 - prod_t mu_{t+1}) ]
                       / (sqrt(v / bc2) + eps)."""
    b1 = hyper[S.BETA1]
    b2 = hyper[S.BETA2]
    eps = hyper[S.EPS]
    wd = hyper[S.WEIGHT_DECAY]
    psi = hyper[S.MOMENTUM_DECAY]
    mu_t = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
    mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
    prod = mu_t if t == 1 else state[2, 0] * mu_t
    state[2, 0] = prod
    bc2 = 1.0 - b2**t
    c_g = lr * (1.0 - mu_t) / (1.0 - prod)
    c_m = lr * mu_next / (1.0 - prod * mu_next)
    for i in range(theta.shape[0]):
        g = grad[i] + wd * theta[i] if wd != 0.0 else grad[i]
        m, v = adam_moments(g, state, i, b1, b2)
        denom = math.sqrt(v / bc2) + eps
        theta[i] = theta[i] - c_g * g / denom - c_m * m / denom


@jit
def adabelief(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """AdaBelief, official adabelief_pytorch 0.2.1 (Zhuang et al. 2020, Algorithm 2).

    weight_decouple: theta <- theta (1 - lr wd) (or (1 - wd) if fixed_decay); else g += wd theta.
    m = b1 m + (1 - b1) g;  s = b2 s + (1 - b2) (g - m)^2 + eps   (eps added *into* the state)
    amsgrad: s_max = max(s_max, s), used in place of s in the non-rectified denominator.
    not rectify:  theta <- theta - (lr / bc1) m / (sqrt(s) / sqrt(bc2) + eps)
    rectify (RAdam): rho_inf = 2 / (1 - b2) - 1, rho_t = rho_inf - 2 t b2^t / bc2;
      rho_t >= 5: r_t = sqrt(bc2 (rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)),
                  theta <- theta - lr (r_t / bc1) m / (sqrt(s) + eps);
      else if degenerated_to_sgd: theta <- theta - lr m / bc1;  else no step.
    State rows: m, s, s_max.
    """
    b1 = hyper[S.BETA1]
    b2 = hyper[S.BETA2]
    eps = hyper[S.EPS]
    wd = hyper[S.WEIGHT_DECAY]
    decouple = hyper[S.DECOUPLED] != 0.0
    ams = hyper[S.AMSGRAD] != 0.0
    rectify = hyper[S.RECTIFY] != 0.0
    if decouple:
        decay_weights(theta, 1.0 - wd if hyper[S.FIXED_DECAY] != 0.0 else 1.0 - lr * wd)
    bc1 = 1.0 - b1**t
    bc2 = 1.0 - b2**t
    sbc2 = math.sqrt(bc2)
    mode = 0  # 0: Adam-like step, 1: rectified step, 2: SGD step, 3: no step
    step = lr / bc1
    if rectify:
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * t * b2**t / bc2
        if rho_t >= 5.0:
            mode = 1
            step = lr * math.sqrt(
                bc2 * (rho_t - 4.0) / (rho_inf - 4.0) * (rho_t - 2.0) / rho_t * rho_inf / (rho_inf - 2.0)
            ) / bc1
        elif hyper[S.DEGENERATED_TO_SGD] != 0.0:
            mode = 2
        else:
            mode = 3
    for i in range(theta.shape[0]):
        g = grad[i]
        if (not decouple) and wd != 0.0:
            g = g + wd * theta[i]
        m = b1 * state[0, i] + (1.0 - b1) * g
        r = g - m
        s = b2 * state[1, i] + (1.0 - b2) * r * r + eps
        state[0, i] = m
        state[1, i] = s
        if ams:
            s_use = max(state[2, i], s)
            state[2, i] = s_use
        else:
            s_use = s
        if mode == 0:
            theta[i] = theta[i] - step * m / (math.sqrt(s_use) / sbc2 + eps)
        elif mode == 1:
            theta[i] = theta[i] - step * m / (math.sqrt(s) + eps)
        elif mode == 2:
            theta[i] = theta[i] - step * m


@jit
def diffgrad(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """diffGrad, official diffGrad_v2 (Dubey et al. 2019): g = grad + wd theta (coupled; the
    stored previous gradient includes it); m, v as Adam; xi = sigmoid(|g_prev - g|), g_0 = 0;
    theta <- theta - lr sqrt(bc2) / bc1 * xi m / (sqrt(v) + eps). State rows: m, v, g_prev."""
    b1 = hyper[S.BETA1]
    b2 = hyper[S.BETA2]
    eps = hyper[S.EPS]
    wd = hyper[S.WEIGHT_DECAY]
    step = lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)
    for i in range(theta.shape[0]):
        g = grad[i] + wd * theta[i] if wd != 0.0 else grad[i]
        m, v = adam_moments(g, state, i, b1, b2)
        xi = 1.0 / (1.0 + math.exp(-abs(state[2, i] - g)))
        state[2, i] = g
        theta[i] = theta[i] - step * (m * xi) / (math.sqrt(v) + eps)


@jit
def lion(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """Lion, official google/automl lion_pytorch (Chen et al. 2023, Algorithm 2):
    theta <- theta (1 - lr wd); c = b1 m + (1 - b1) g; theta <- theta - lr sign(c);
    m = b2 m + (1 - b2) g. No eps, no bias correction. state_bits = 8 quantises m (signed map)."""
    b1 = hyper[S.BETA1]
    b2 = hyper[S.BETA2]
    decay_weights(theta, 1.0 - lr * hyper[S.WEIGHT_DECAY])
    for i in range(theta.shape[0]):
        g = grad[i]
        m = state[0, i]
        c = b1 * m + (1.0 - b1) * g
        theta[i] = theta[i] - lr * sign(c)
        state[0, i] = b2 * m + (1.0 - b2) * g
    if hyper[S.STATE_BITS] == 8.0:
        requantize_state(state[0], offsets, rows, cols, True, int(hyper[S.STATE_BLOCK]), int(hyper[S.STATE_ROUNDING]))


# ---------------------------------------------------------------------------------------------
# Projection methods (clovaai AdamP / SGDP)
@jit
def project_radial(theta, grad, perturb, o, r, c, delta, eps):
    """AdamP/SGDP projection for one matrix block (rows r, row length c) at offset o.

    Views in order: channel (each row), then layer (the whole block as one row). For a view
    with rows of length n, if max_rows |cos(grad_row, theta_row)| < delta / sqrt(n)
    (cos = <x, y> / (max(||x||, eps) max(||y||, eps)), torch.cosine_similarity), remove the
    radial part of perturb row by row: p_hat = theta_row / (||theta_row|| + eps),
    perturb_row -= p_hat <p_hat, perturb_row>; return True (wd_ratio applies) and skip
    the next view. Else return False.
    """
    for view in range(2):
        nrow = r if view == 0 else 1
        n = c if view == 0 else r * c
        cmax = 0.0
        for k in range(nrow):
            s = o + k * n
            dot = 0.0
            ng = 0.0
            nt = 0.0
            for i in range(s, s + n):
                dot += grad[i] * theta[i]
                ng += grad[i] * grad[i]
                nt += theta[i] * theta[i]
            cos = abs(dot) / (max(math.sqrt(ng), eps) * max(math.sqrt(nt), eps))
            if cos > cmax:
                cmax = cos
        if cmax < delta / math.sqrt(n):
            for k in range(nrow):
                s = o + k * n
                nt = block_norm(theta, s, n) + eps
                dot = 0.0
                for i in range(s, s + n):
                    dot += (theta[i] / nt) * perturb[i]
                for i in range(s, s + n):
                    perturb[i] = perturb[i] - (theta[i] / nt) * dot
            return True
    return False


@jit
def adamp(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """AdamP, official clovaai/AdamP (Heo et al. 2021): Adam moments; d = sqrt(v)/sqrt(bc2) + eps;
    perturb = m / d (nesterov: (b1 m + (1 - b1) g) / d); for matrix blocks, :func:`project_radial`
    with the raw gradient; theta <- theta (1 - lr wd ratio) with ratio = wd_ratio if projected
    else 1; theta <- theta - (lr / bc1) perturb. State rows: m, v."""
    b1 = hyper[S.BETA1]
    b2 = hyper[S.BETA2]
    eps = hyper[S.EPS]
    wd = hyper[S.WEIGHT_DECAY]
    nesterov = hyper[S.NESTEROV] != 0.0
    bc1 = 1.0 - b1**t
    sbc2 = math.sqrt(1.0 - b2**t)
    P = theta.shape[0]
    perturb = work[:P]
    for i in range(P):
        m, v = adam_moments(grad[i], state, i, b1, b2)
        d = math.sqrt(v) / sbc2 + eps
        perturb[i] = (b1 * m + (1.0 - b1) * grad[i]) / d if nesterov else m / d
    for b in range(offsets.shape[0]):
        o, r, c = offsets[b], rows[b], cols[b]
        n = block_size(r, c)
        ratio = 1.0
        if c > 0 and project_radial(theta, grad, perturb, o, r, c, hyper[S.DELTA], eps):
            ratio = hyper[S.WD_RATIO]
        factor = 1.0 - lr * wd * ratio
        step = lr / bc1
        for i in range(o, o + n):
            if wd > 0.0:
                theta[i] = theta[i] * factor
            theta[i] = theta[i] - step * perturb[i]


@jit
def sgdp(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """SGDP, official clovaai/AdamP: b = mu b + (1 - tau) g with b_0 = 0 (so b_1 = (1 - tau) g,
    unlike torch SGD); d = g + mu b (nesterov) or b; matrix blocks: :func:`project_radial`;
    theta <- theta (1 - lr wd ratio / (1 - mu)); theta <- theta - lr d. State row: b.

    Without Nesterov the official ``SGDP.step`` projects the momentum buffer itself (``d_p`` is
    the buffer and ``_projection`` subtracts in place), so the stored b is the projected d:
    ``project_momentum=True`` (default). ``False`` keeps the unprojected b of the paper's
    Algorithm 2 (Heo et al. 2021), where only the step is projected."""
    mu = hyper[S.MOMENTUM]
    tau = hyper[S.DAMPENING]
    wd = hyper[S.WEIGHT_DECAY]
    nesterov = hyper[S.NESTEROV] != 0.0
    store_projected = hyper[S.PROJECT_MOMENTUM] != 0.0 and not nesterov
    P = theta.shape[0]
    d = work[:P]
    for i in range(P):
        b = mu * state[0, i] + (1.0 - tau) * grad[i]
        state[0, i] = b
        d[i] = grad[i] + mu * b if nesterov else b
    for blk in range(offsets.shape[0]):
        o, r, c = offsets[blk], rows[blk], cols[blk]
        n = block_size(r, c)
        ratio = 1.0
        if c > 0 and project_radial(theta, grad, d, o, r, c, hyper[S.DELTA], hyper[S.EPS]):
            ratio = hyper[S.WD_RATIO]
            if store_projected:
                for i in range(o, o + n):
                    state[0, i] = d[i]
        factor = 1.0 - lr * wd * ratio / (1.0 - mu)
        for i in range(o, o + n):
            if wd != 0.0:
                theta[i] = theta[i] * factor
            theta[i] = theta[i] - lr * d[i]


# ---------------------------------------------------------------------------------------------
# Layer-wise trust ratios
@jit
def lars(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """LARS (You et al. 2017), per layout block.

    convention 0, optax ``lars`` (default): u = g + wd theta;
      u *= tc ||theta|| / (||u|| + eps) (1 if either norm is 0); b = -lr u + mu b (b_0 = 0);
      theta <- theta + (b if not nesterov else -lr u + mu b).
    convention 1, pytorch-optimizer ``LARS`` (4.1.0): only matrix blocks get the ratio and wd;
      ratio = tc ||theta|| / (||g|| + wd ||theta||) (raw g; 1 if ||theta|| or the denominator is 0);
      u = (g + wd theta) ratio; b = mu b + (1 - tau) u with b_0 = 0;
      theta <- theta - lr (u + mu b if nesterov else b).
    State row: b.
    """
    mu = hyper[S.MOMENTUM]
    wd = hyper[S.WEIGHT_DECAY]
    tc = hyper[S.TRUST_COEFFICIENT]
    eps = hyper[S.EPS]
    nesterov = hyper[S.NESTEROV] != 0.0
    kozistr = hyper[S.CONVENTION] == 1.0
    u = work[: theta.shape[0]]
    for blk in range(offsets.shape[0]):
        o, r, c = offsets[blk], rows[blk], cols[blk]
        n = block_size(r, c)
        use_wd = wd if (not kozistr or c > 0) else 0.0
        for i in range(o, o + n):
            u[i] = grad[i] + use_wd * theta[i]
        pn = block_norm(theta, o, n)
        if kozistr:
            den = block_norm(grad, o, n) + wd * pn
            ratio = tc * pn / den if (c > 0 and pn > 0.0 and den > 0.0) else 1.0
        else:
            un = block_norm(u, o, n)
            ratio = tc * pn / (un + eps) if (pn > 0.0 and un > 0.0) else 1.0
        for i in range(o, o + n):
            ui = u[i] * ratio
            if kozistr:
                b = mu * state[0, i] + (1.0 - hyper[S.DAMPENING]) * ui
                state[0, i] = b
                theta[i] = theta[i] - lr * (ui + mu * b if nesterov else b)
            else:
                step = -lr * ui
                b = step + mu * state[0, i]
                state[0, i] = b
                theta[i] = theta[i] + (step + mu * b if nesterov else b)


@jit
def lamb(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """LAMB (You et al. 2020), TF-Addons ``LAMB`` = optax ``lamb`` (the paper's reference code):
    m, v as Adam; r = m_hat / (sqrt(v_hat) + eps) + wd theta; per block
    ratio = ||theta|| / ||r|| (1 if either norm is 0; phi = identity, no clipping);
    theta <- theta - lr ratio r. State rows: m, v.

    convention 1, pytorch-optimizer ``Lamb`` (v3 "no de-biasing"): theta <- theta (1 - lr wd)
    first; u = m / (sqrt(v) + eps) (v not bias-corrected); ratio = min(||theta||, 10) / (||u|| + eps);
    theta <- theta - (lr / bc1) ratio u.
    """
    b1 = hyper[S.BETA1]
    b2 = hyper[S.BETA2]
    eps = hyper[S.EPS]
    wd = hyper[S.WEIGHT_DECAY]
    kozistr = hyper[S.CONVENTION] == 1.0
    bc1 = 1.0 - b1**t
    bc2 = 1.0 - b2**t
    r_ = work[: theta.shape[0]]
    if kozistr:
        decay_weights(theta, 1.0 - lr * wd)
    for i in range(theta.shape[0]):
        m, v = adam_moments(grad[i], state, i, b1, b2)
        if kozistr:
            r_[i] = m / (math.sqrt(v) + eps)
        else:
            r_[i] = (m / bc1) / (math.sqrt(v / bc2) + eps) + wd * theta[i]
    for blk in range(offsets.shape[0]):
        o, n = offsets[blk], block_size(rows[blk], cols[blk])
        pn = block_norm(theta, o, n)
        rn = block_norm(r_, o, n)
        if kozistr:
            ratio = min(pn, 10.0) / (rn + eps)
            step = lr / bc1 * ratio
        else:
            ratio = pn / rn if (pn > 0.0 and rn > 0.0) else 1.0
            step = lr * ratio
        for i in range(o, o + n):
            theta[i] = theta[i] - step * r_[i]


# ---------------------------------------------------------------------------------------------
# Orthogonalising methods
@jit
def newton_schulz5(u, o, r, c, steps, work):
    """Replace the (r, c) block of u at offset o by NS5(u): Keller Jordan's quintic iteration in
    float64. X = u (transposed if r > c), X /= ||X||_F + 1e-7, then ``steps`` times
    A = X X^T, B = b A + c A A, X = a X + B X, with (a, b, c) = (3.4445, -4.7750, 2.0315).
    Scalar loops (fixed summation order: bitwise reproducible on any thread)."""
    tr = r > c
    k = c if tr else r
    n = r if tr else c
    X = work[: k * n]
    Y = work[k * n : 2 * k * n]
    A = work[2 * k * n : 2 * k * n + k * k]
    B = work[2 * k * n + k * k : 2 * k * n + 2 * k * k]
    for i in range(k):
        for j in range(n):
            X[i * n + j] = u[o + j * c + i] if tr else u[o + i * c + j]
    nrm = block_norm(X, 0, k * n) + 1e-7
    for i in range(k * n):
        X[i] = X[i] / nrm
    for _ in range(steps):
        for i in range(k):
            for j in range(i, k):
                s = 0.0
                for l in range(n):
                    s += X[i * n + l] * X[j * n + l]
                A[i * k + j] = s
                A[j * k + i] = s
        for i in range(k):
            for j in range(k):
                s = 0.0
                for l in range(k):
                    s += A[i * k + l] * A[l * k + j]
                B[i * k + j] = NS_B * A[i * k + j] + NS_C * s
        for i in range(k):
            for j in range(n):
                s = 0.0
                for l in range(k):
                    s += B[i * k + l] * X[l * n + j]
                Y[i * n + j] = NS_A * X[i * n + j] + s
        for i in range(k * n):
            X[i] = Y[i]
    for i in range(k):
        for j in range(n):
            if tr:
                u[o + j * c + i] = X[i * n + j]
            else:
                u[o + i * c + j] = X[i * n + j]


@jit
def muon(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """Muon, Keller Jordan's ``muon.py`` (``MuonWithAuxAdam``), per layout block.

    Matrix blocks (rows r, cols c): m = b m + (1 - b) g (EMA, m_0 = 0); u = (1 - b) g + b m if
    nesterov else m; u = NS5(u) (:func:`newton_schulz5`, float64 where the reference uses bf16)
    * sqrt(max(1, r / c)); theta <- theta (1 - lr wd); theta <- theta - lr u.
    Other blocks: AdamW with adam_lr, adam_betas, adam_eps, adam_weight_decay (the reference's
    auxiliary Adam): m_hat / (sqrt(v_hat) + eps), decoupled wd. State rows: m, v.
    The learning-rate schedule scales both lr and adam_lr.
    """
    beta = hyper[S.MOMENTUM]
    nesterov = hyper[S.NESTEROV] != 0.0
    steps = int(hyper[S.NS_STEPS])
    wd = hyper[S.WEIGHT_DECAY]
    P = theta.shape[0]
    u = work[:P]
    scratch = work[P:]
    sched = lr / hyper[S.LR] if hyper[S.LR] != 0.0 else 1.0
    alr = hyper[S.ADAM_LR] * sched
    ab1 = hyper[S.ADAM_BETA1]
    ab2 = hyper[S.ADAM_BETA2]
    aeps = hyper[S.ADAM_EPS]
    awd = hyper[S.ADAM_WD]
    for blk in range(offsets.shape[0]):
        o, r, c = offsets[blk], rows[blk], cols[blk]
        n = block_size(r, c)
        if c > 0:
            for i in range(o, o + n):
                m = beta * state[0, i] + (1.0 - beta) * grad[i]
                state[0, i] = m
                u[i] = (1.0 - beta) * grad[i] + beta * m if nesterov else m
            newton_schulz5(u, o, r, c, steps, scratch)
            scale = math.sqrt(max(1.0, r / c))
            for i in range(o, o + n):
                theta[i] = theta[i] * (1.0 - lr * wd) - lr * (u[i] * scale)
        else:
            bc1 = 1.0 - ab1**t
            bc2 = 1.0 - ab2**t
            for i in range(o, o + n):
                m, v = adam_moments(grad[i], state, i, ab1, ab2)
                theta[i] = theta[i] * (1.0 - alr * awd) - alr * ((m / bc1) / (math.sqrt(v / bc2) + aeps))


@jit
def auon(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """AuON, official ryyzn9/AuON (arXiv 2509.24320), per layout block:
    theta <- theta (1 - lr wd); m = m + (1 - b)(g - m); G = (1 - b) g + b m (always Nesterov);
    if ||G|| > 0: r = sqrt(mean(cosh(gamma G / (||G||_F + 1e-7))^2)), theta <- theta - lr G / (r + 1e-8).
    G itself is not normalised; no orthogonalisation. State row: m."""
    beta = hyper[S.MOMENTUM]
    gamma = hyper[S.GAMMA]
    decay_weights(theta, 1.0 - lr * hyper[S.WEIGHT_DECAY])
    for blk in range(offsets.shape[0]):
        o, n = offsets[blk], block_size(rows[blk], cols[blk])
        sq = 0.0
        for i in range(o, o + n):
            m = state[0, i] + (1.0 - beta) * (grad[i] - state[0, i])
            state[0, i] = m
            G = (1.0 - beta) * grad[i] + beta * m
            sq += G * G
        nrm = math.sqrt(sq)
        if nrm == 0.0:
            continue
        acc = 0.0
        for i in range(o, o + n):
            G = (1.0 - beta) * grad[i] + beta * state[0, i]
            ch = math.cosh(gamma * G / (nrm + 1e-7))
            acc += ch * ch
        rr = math.sqrt(acc / n) + 1e-8
        for i in range(o, o + n):
            G = (1.0 - beta) * grad[i] + beta * state[0, i]
            theta[i] = theta[i] - lr * G / rr


@jit
def sgd_sai(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """SGD-SaI (Xu et al. 2024, arXiv 2412.11768, Algorithm 1; official AnonymousAlethiometer/SGD_SaI).

    At t = 1, per block: gsnr = ||g|| / (std(g) + eps) with the unbiased std (0 for a single
    element); "paper" (gsnr_version 0, default) then divides by the max over blocks (Algorithm 1,
    line 14); "v1.0.3" (2, the released PyPI package) does not; "v1.1.0" (1) uses sqrt(numel).
    Every step: b_1 = g, b = mu b + (1 - mu) g; theta <- theta (1 - lr wd); theta <- theta - lr
    gsnr b. State rows: b, gsnr.
    """
    mu = hyper[S.MOMENTUM]
    if t == 1:
        gmax = 0.0
        for blk in range(offsets.shape[0]):
            o, n = offsets[blk], block_size(rows[blk], cols[blk])
            if hyper[S.GSNR_VERSION] == 1.0:
                val = math.sqrt(n)
            else:
                mean = 0.0
                for i in range(o, o + n):
                    mean += grad[i]
                mean /= n
                var = 0.0
                for i in range(o, o + n):
                    var += (grad[i] - mean) ** 2
                sd = math.sqrt(var / (n - 1)) if n > 1 else 0.0
                val = block_norm(grad, o, n) / (sd + hyper[S.EPS])
            gmax = max(gmax, val)
            for i in range(o, o + n):
                state[1, i] = val
        if hyper[S.GSNR_VERSION] == 0.0 and gmax > 0.0:
            for i in range(theta.shape[0]):
                state[1, i] = state[1, i] / gmax
    factor = 1.0 - hyper[S.WEIGHT_DECAY] * lr
    for i in range(theta.shape[0]):
        b = grad[i] if t == 1 else mu * state[0, i] + (1.0 - mu) * grad[i]
        state[0, i] = b
        theta[i] = theta[i] * factor - (lr * state[1, i]) * b


@jit
def newton(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """(Damped) Newton: d = (H + ridge I)^{-1} g by Cholesky; plain: theta <- theta - lr d;
    damped (Nesterov, Introductory Lectures, sec. 4.1.5): theta <- theta - lr d / (1 + lambda),
    lambda = sqrt(g^T d) (the Newton decrement). A Hessian that is not positive definite gives
    NaN, which the engine records as divergence."""
    P = theta.shape[0]
    ridge = hyper[S.RIDGE]
    for i in range(P):
        hess[i, i] += ridge
    ok = True
    for j in range(P):  # in-place Cholesky, lower triangle
        s = hess[j, j]
        for k in range(j):
            s -= hess[j, k] * hess[j, k]
        if s <= 0.0:
            ok = False
            break
        hess[j, j] = math.sqrt(s)
        for i in range(j + 1, P):
            s = hess[i, j]
            for k in range(j):
                s -= hess[i, k] * hess[j, k]
            hess[i, j] = s / hess[j, j]
    d = work[:P]
    if not ok:
        for i in range(P):
            theta[i] = math.nan
        return
    for i in range(P):  # L y = g
        s = grad[i]
        for k in range(i):
            s -= hess[i, k] * d[k]
        d[i] = s / hess[i, i]
    for i in range(P - 1, -1, -1):  # L^T d = y
        s = d[i]
        for k in range(i + 1, P):
            s -= hess[k, i] * d[k]
        d[i] = s / hess[i, i]
    scale = lr
    if hyper[S.DAMPED] != 0.0:
        dec = 0.0
        for i in range(P):
            dec += grad[i] * d[i]
        scale = lr / (1.0 + math.sqrt(max(dec, 0.0)))
    for i in range(P):
        theta[i] = theta[i] - scale * d[i]
