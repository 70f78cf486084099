"""Plain-numpy reference of every rule, written from the equations, independently of rules.py.

Each function takes ``(params, grads, state, t, lr, **hyper)`` with ``params`` and ``grads``
dicts of named arrays (a 2-d array is a matrix block), ``state`` a dict (empty at t = 1) and
returns ``(new_params, new_state)`` without modifying its inputs. Hyperparameters use the
registry's names and defaults are *not* applied here: callers pass every one (the tests pass
``Optimizer.hyper``). The test suite checks :mod:`theorysim.optim.rules` (and so the engine)
against these functions.
"""
from __future__ import annotations

import math

import numpy as np

from theorysim.core import rng
from theorysim.optim.quantize import MIN_8BIT_SIZE, requantize_numpy

STREAM_OPTIM = 5


def _zeros(state, key, params):
    return {n: np.zeros_like(p) for n, p in params.items()} if key not in state else state[key]


def _clip(old, new, clip_fraction=0.0, clip_value=0.0):
    """Coordinate-wise clipping of the update, over the flattened parameter vector."""
    if clip_fraction <= 0.0 and clip_value <= 0.0:
        return new
    names = list(old)
    u = np.concatenate([(new[n] - old[n]).ravel() for n in names])
    tau = clip_value if clip_value > 0.0 else np.quantile(np.abs(u), 1.0 - clip_fraction)
    u = np.sign(u) * np.minimum(np.abs(u), tau)
    out, o = {}, 0
    for n in names:
        out[n] = old[n] + u[o : o + old[n].size].reshape(old[n].shape)
        o += old[n].size
    return out


def _quantize(d, signed, bits, block=256, rounding="nearest"):
    if bits != 8:
        return d
    return {n: (requantize_numpy(v.ravel(), signed, block, rounding).reshape(v.shape) if v.size >= MIN_8BIT_SIZE
                else v) for n, v in d.items()}


def sgd(params, grads, state, t, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, **_):
    """torch.optim.SGD: g = grad + wd p; b_1 = g, b_t = mu b + (1 - tau) g; d = g + mu b (Nesterov) or b."""
    buf = state.get("b", {})
    new_params, new_buf = {}, {}
    for name, p in params.items():
        g = grads[name] + weight_decay * p if weight_decay != 0.0 else grads[name]
        if momentum != 0.0:
            b = g if t == 1 else momentum * buf[name] + (1.0 - dampening) * g
            new_buf[name] = b
            g = g + momentum * b if nesterov else b
        new_params[name] = p - lr * g
    return new_params, {"b": new_buf}


def adagrad(params, grads, state, t, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, **_):
    s_prev = state.get("s", {n: np.full_like(p, initial_accumulator_value) for n, p in params.items()})
    clr = lr / (1 + (t - 1) * lr_decay)
    out, s = {}, {}
    for n, p in params.items():
        g = grads[n] + weight_decay * p
        s[n] = s_prev[n] + g**2
        out[n] = p - clr * g / (np.sqrt(s[n]) + eps)
    return out, {"s": s}


def rmsprop(params, grads, state, t, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, **_):
    v0, g0, b0 = (_zeros(state, k, params) for k in ("v", "gbar", "b"))
    out, v, gb, b = {}, {}, {}, {}
    for n, p in params.items():
        g = grads[n] + weight_decay * p
        v[n] = alpha * v0[n] + (1 - alpha) * g**2
        avg = v[n]
        gb[n] = g0[n]
        if centered:
            gb[n] = alpha * g0[n] + (1 - alpha) * g
            avg = v[n] - gb[n] ** 2
        d = np.sqrt(avg) + eps
        if momentum > 0:
            b[n] = momentum * b0[n] + g / d
            out[n] = p - lr * b[n]
        else:
            b[n] = b0[n]
            out[n] = p - lr * g / d
    return out, {"v": v, "gbar": gb, "b": b}


def _adam(params, grads, state, t, lr, betas, eps, weight_decay, amsgrad, decoupled, state_bits=64, state_block=256,
          state_rounding="nearest"):
    b1, b2 = betas
    m0, v0, vm0 = (_zeros(state, k, params) for k in ("m", "v", "vmax"))
    out, m, v, vm = {}, {}, {}, {}
    bc1, bc2 = 1 - b1**t, 1 - b2**t
    for n, p in params.items():
        g = grads[n]
        if decoupled:
            p = p * (1 - lr * weight_decay)
        elif weight_decay != 0.0:
            g = g + weight_decay * p
        m[n] = b1 * m0[n] + (1 - b1) * g
        v[n] = b2 * v0[n] + (1 - b2) * g * g
        if amsgrad in (True, "torch"):
            vm[n] = np.maximum(vm0[n], v[n])
            denom = np.sqrt(vm[n]) / math.sqrt(bc2) + eps
        elif amsgrad == "optax":
            vm[n] = np.maximum(vm0[n], v[n] / bc2)
            denom = np.sqrt(vm[n]) + eps
        else:
            vm[n] = vm0[n]
            denom = np.sqrt(v[n]) / math.sqrt(bc2) + eps
        out[n] = p - (lr / bc1) * m[n] / denom
    return out, {"m": _quantize(m, True, state_bits, state_block, state_rounding),
                 "v": _quantize(v, False, state_bits, state_block, state_rounding),
                 "vmax": vm}


def adam(params, grads, state, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, state_bits=64,
         state_block=256, state_rounding="nearest", **_):
    return _adam(params, grads, state, t, lr, betas, eps, weight_decay, amsgrad, False, state_bits, state_block,
                 state_rounding)


def adamw(params, grads, state, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, state_bits=64,
          state_block=256, state_rounding="nearest", **_):
    return _adam(params, grads, state, t, lr, betas, eps, weight_decay, amsgrad, True, state_bits, state_block,
                 state_rounding)


def amsgrad(params, grads, state, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad="torch", **_):
    return _adam(params, grads, state, t, lr, betas, eps, weight_decay, amsgrad, False)


def nadam(params, grads, state, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3, **_):
    b1, b2 = betas
    mu = lambda k: b1 * (1 - 0.5 * 0.96 ** (k * momentum_decay))
    prod = math.prod(mu(k) for k in range(1, t + 1))
    m0, v0 = (_zeros(state, k, params) for k in ("m", "v"))
    out, m, v = {}, {}, {}
    for n, p in params.items():
        g = grads[n] + weight_decay * p
        m[n] = b1 * m0[n] + (1 - b1) * g
        v[n] = b2 * v0[n] + (1 - b2) * g * g
        denom = np.sqrt(v[n] / (1 - b2**t)) + eps
        mhat = (1 - mu(t)) * g / (1 - prod) + mu(t + 1) * m[n] / (1 - prod * mu(t + 1))
        out[n] = p - lr * mhat / denom
    return out, {"m": m, "v": v}


def adabelief(params, grads, state, t, lr, betas=(0.9, 0.999), eps=1e-16, weight_decay=0.0, amsgrad=False,
              weight_decouple=True, fixed_decay=False, rectify=True, degenerated_to_sgd=True, **_):
    b1, b2 = betas
    m0, s0, sm0 = (_zeros(state, k, params) for k in ("m", "s", "smax"))
    bc1, bc2 = 1 - b1**t, 1 - b2**t
    rho_inf = 2 / (1 - b2) - 1
    rho = rho_inf - 2 * t * b2**t / bc2
    out, m, s, sm = {}, {}, {}, {}
    for n, p in params.items():
        g = grads[n]
        if weight_decouple:
            p = p * (1 - (weight_decay if fixed_decay else lr * weight_decay))
        else:
            g = g + weight_decay * p
        m[n] = b1 * m0[n] + (1 - b1) * g
        s[n] = b2 * s0[n] + (1 - b2) * (g - m[n]) ** 2 + eps
        sm[n] = np.maximum(sm0[n], s[n]) if amsgrad else sm0[n]
        s_den = sm[n] if amsgrad else s[n]
        if not rectify:
            out[n] = p - lr / bc1 * m[n] / (np.sqrt(s_den) / math.sqrt(bc2) + eps)
        elif rho >= 5:
            r = math.sqrt(bc2 * (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            out[n] = p - lr * r / bc1 * m[n] / (np.sqrt(s[n]) + eps)
        elif degenerated_to_sgd:
            out[n] = p - lr * m[n] / bc1
        else:
            out[n] = p
    return out, {"m": m, "s": s, "smax": sm}


def diffgrad(params, grads, state, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, **_):
    b1, b2 = betas
    m0, v0, gp = (_zeros(state, k, params) for k in ("m", "v", "gprev"))
    out, m, v, gnew = {}, {}, {}, {}
    for n, p in params.items():
        g = grads[n] + weight_decay * p
        m[n] = b1 * m0[n] + (1 - b1) * g
        v[n] = b2 * v0[n] + (1 - b2) * g * g
        xi = 1 / (1 + np.exp(-np.abs(gp[n] - g)))
        gnew[n] = g
        out[n] = p - lr * math.sqrt(1 - b2**t) / (1 - b1**t) * xi * m[n] / (np.sqrt(v[n]) + eps)
    return out, {"m": m, "v": v, "gprev": gnew}


def _projection(p, g, perturb, delta, wd_ratio, eps):
    """clovaai _projection: channel view (rows), then layer view (one row); raw gradient."""
    for view in (lambda x: x.reshape(x.shape[0], -1), lambda x: x.reshape(1, -1)):
        pv, gv = view(p), view(g)
        cos = np.abs(np.sum(pv * gv, axis=1)) / (
            np.maximum(np.linalg.norm(pv, axis=1), eps) * np.maximum(np.linalg.norm(gv, axis=1), eps))
        if cos.max() < delta / math.sqrt(pv.shape[1]):
            p_n = pv / (np.linalg.norm(pv, axis=1, keepdims=True) + eps)
            per = view(perturb)
            per = per - p_n * np.sum(p_n * per, axis=1, keepdims=True)
            return per.reshape(p.shape), wd_ratio
    return perturb, 1.0


def adamp(params, grads, state, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, delta=0.1, wd_ratio=0.1,
          nesterov=False, **_):
    b1, b2 = betas
    m0, v0 = (_zeros(state, k, params) for k in ("m", "v"))
    out, m, v = {}, {}, {}
    for n, p in params.items():
        g = grads[n]
        m[n] = b1 * m0[n] + (1 - b1) * g
        v[n] = b2 * v0[n] + (1 - b2) * g * g
        denom = np.sqrt(v[n]) / math.sqrt(1 - b2**t) + eps
        perturb = (b1 * m[n] + (1 - b1) * g) / denom if nesterov else m[n] / denom
        ratio = 1.0
        if p.ndim > 1:
            perturb, ratio = _projection(p, g, perturb, delta, wd_ratio, eps)
        if weight_decay > 0:
            p = p * (1 - lr * weight_decay * ratio)
        out[n] = p - lr / (1 - b1**t) * perturb
    return out, {"m": m, "v": v}


def sgdp(params, grads, state, t, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, eps=1e-8,
         delta=0.1, wd_ratio=0.1, project_momentum=True, **_):
    b0 = _zeros(state, "b", params)
    out, b = {}, {}
    for n, p in params.items():
        g = grads[n]
        b[n] = momentum * b0[n] + (1 - dampening) * g
        d = g + momentum * b[n] if nesterov else b[n]
        ratio = 1.0
        if p.ndim > 1:
            d, ratio = _projection(p, g, d, delta, wd_ratio, eps)
            if project_momentum and not nesterov:  # the official code projects the buffer in place
                b[n] = d
        if weight_decay != 0:
            p = p * (1 - lr * weight_decay * ratio / (1 - momentum))
        out[n] = p - lr * d
    return out, {"b": b}


def lion(params, grads, state, t, lr, betas=(0.9, 0.99), weight_decay=0.0, state_bits=64, state_block=256,
         state_rounding="nearest", **_):
    b1, b2 = betas
    m0 = _zeros(state, "m", params)
    out, m = {}, {}
    for n, p in params.items():
        c = b1 * m0[n] + (1 - b1) * grads[n]
        out[n] = p * (1 - lr * weight_decay) - lr * np.sign(c)
        m[n] = b2 * m0[n] + (1 - b2) * grads[n]
    return out, {"m": _quantize(m, True, state_bits, state_block, state_rounding)}


def lars(params, grads, state, t, lr, weight_decay=0.0, momentum=0.9, dampening=0.0, nesterov=False,
         trust_coefficient=1e-3, eps=0.0, convention="optax", **_):
    b0 = _zeros(state, "b", params)
    out, b = {}, {}
    for n, p in params.items():
        g = grads[n]
        if convention == "optax":
            u = g + weight_decay * p
            pn, un = np.linalg.norm(p), np.linalg.norm(u)
            ratio = trust_coefficient * pn / (un + eps) if pn > 0 and un > 0 else 1.0
            step = -lr * (u * ratio)
            b[n] = step + momentum * b0[n]
            out[n] = p + (step + momentum * b[n] if nesterov else b[n])
        else:
            if p.ndim > 1:  # pytorch-optimizer 4.1.0
                pn = np.linalg.norm(p)
                den = np.linalg.norm(g) + weight_decay * pn
                ratio = trust_coefficient * pn / den if pn > 0 and den > 0 else 1.0
                u = (g + weight_decay * p) * ratio
            else:
                u = g
            b[n] = momentum * b0[n] + (1 - dampening) * u
            out[n] = p - lr * (u + momentum * b[n] if nesterov else b[n])
    return out, {"b": b}


def lamb(params, grads, state, t, lr, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0, convention="optax", **_):
    b1, b2 = betas
    m0, v0 = (_zeros(state, k, params) for k in ("m", "v"))
    out, m, v = {}, {}, {}
    bc1, bc2 = 1 - b1**t, 1 - b2**t
    for n, p in params.items():
        g = grads[n]
        m[n] = b1 * m0[n] + (1 - b1) * g
        v[n] = b2 * v0[n] + (1 - b2) * g * g
        if convention == "optax":
            r = (m[n] / bc1) / (np.sqrt(v[n] / bc2) + eps) + weight_decay * p
            pn, rn = np.linalg.norm(p), np.linalg.norm(r)
            ratio = pn / rn if pn > 0 and rn > 0 else 1.0
            out[n] = p - lr * ratio * r
        else:
            p = p * (1 - lr * weight_decay)
            u = m[n] / (np.sqrt(v[n]) + eps)
            ratio = min(np.linalg.norm(p), 10.0) / (np.linalg.norm(u) + eps)
            out[n] = p - lr / bc1 * ratio * u
    return out, {"m": m, "v": v}


def newton_schulz5(G, steps=5):
    """Keller Jordan's zeropower_via_newtonschulz5 in float64."""
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G.T if G.shape[0] > G.shape[1] else G
    X = X / (np.linalg.norm(X) + 1e-7)
    for _ in range(steps):
        A = X @ X.T
        B = b * A + c * A @ A
        X = a * X + B @ X
    return X.T if G.shape[0] > G.shape[1] else X


def muon(params, grads, state, t, lr, momentum=0.95, nesterov=True, ns_steps=5, weight_decay=0.0, adam_lr=3e-4,
         adam_betas=(0.9, 0.95), adam_eps=1e-10, adam_weight_decay=0.0, lr_factor=1.0, **_):
    m0, v0 = (_zeros(state, k, params) for k in ("m", "v"))
    out, m, v = {}, {}, {}
    alr = adam_lr * lr_factor
    for n, p in params.items():
        g = grads[n]
        if p.ndim == 2:
            m[n] = momentum * m0[n] + (1 - momentum) * g
            v[n] = v0[n]
            u = (1 - momentum) * g + momentum * m[n] if nesterov else m[n]
            u = newton_schulz5(u, ns_steps) * math.sqrt(max(1.0, p.shape[0] / p.shape[1]))
            out[n] = p * (1 - lr * weight_decay) - lr * u
        else:
            a1, a2 = adam_betas
            m[n] = a1 * m0[n] + (1 - a1) * g
            v[n] = a2 * v0[n] + (1 - a2) * g * g
            upd = (m[n] / (1 - a1**t)) / (np.sqrt(v[n] / (1 - a2**t)) + adam_eps)
            out[n] = p * (1 - alr * adam_weight_decay) - alr * upd
    return out, {"m": m, "v": v}


def auon(params, grads, state, t, lr, momentum=0.95, weight_decay=0.0, gamma=1.5, **_):
    m0 = _zeros(state, "m", params)
    out, m = {}, {}
    for n, p in params.items():
        g = grads[n]
        p = p * (1 - lr * weight_decay)
        m[n] = m0[n] + (1 - momentum) * (g - m0[n])
        G = (1 - momentum) * g + momentum * m[n]
        nrm = np.linalg.norm(G)
        if nrm == 0:
            out[n] = p
            continue
        r = math.sqrt(np.mean(np.cosh(gamma * G / (nrm + 1e-7)) ** 2))
        out[n] = p - lr * G / (r + 1e-8)
    return out, {"m": m}


def signsgd(params, grads, state, t, lr, **_):
    return {n: p - lr * np.sign(grads[n]) for n, p in params.items()}, {}


def signum(params, grads, state, t, lr, momentum=0.9, **_):
    m0 = _zeros(state, "m", params)
    m = {n: momentum * m0[n] + (1 - momentum) * grads[n] for n in params}
    return {n: p - lr * np.sign(m[n]) for n, p in params.items()}, {"m": m}


def normalized_gd(params, grads, state, t, lr, eps=1e-6, **_):
    nrm = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    return {n: p - lr * grads[n] / (nrm + eps) for n, p in params.items()}, {}


def noisy_sgd(params, grads, state, t, lr, eta=0.01, gamma=0.55, key=(0, 0), **_):
    P = sum(p.size for p in params.values())
    xi = np.empty(P)
    rng.fill_normal(np.uint64(key[0]), np.uint64(key[1]), np.uint64(t), np.uint64(STREAM_OPTIM), np.uint64(0), xi)
    sigma = math.sqrt(eta / t**gamma)
    out, o = {}, 0
    for n, p in params.items():
        out[n] = p - lr * (grads[n] + sigma * xi[o : o + p.size].reshape(p.shape))
        o += p.size
    return out, {}


def sgd_sai(params, grads, state, t, lr, momentum=0.9, eps=1e-8, weight_decay=1e-2, gsnr_version="paper", **_):
    if t == 1:
        gsnr = {}
        for n, g in grads.items():
            if gsnr_version == "v1.1.0":
                gsnr[n] = math.sqrt(g.size)
            else:
                sd = float(np.std(g, ddof=1)) if g.size > 1 else 0.0
                gsnr[n] = float(np.linalg.norm(g)) / (sd + eps)
        if gsnr_version == "paper":  # Algorithm 1, line 14
            top = max(gsnr.values())
            gsnr = {n: v / top for n, v in gsnr.items()}
        b = {n: grads[n].copy() for n in params}
    else:
        gsnr = state["gsnr"]
        b = {n: momentum * state["b"][n] + (1 - momentum) * grads[n] for n in params}
    out = {n: p * (1 - weight_decay * lr) - lr * gsnr[n] * b[n] for n, p in params.items()}
    return out, {"b": b, "gsnr": gsnr}


def newton(params, grads, state, t, lr, damped=False, ridge=0.0, hessian=None, **_):
    names = list(params)
    g = np.concatenate([grads[n].ravel() for n in names])
    H = np.asarray(hessian, dtype=np.float64) + ridge * np.eye(g.size)
    d = np.linalg.solve(H, g)
    scale = lr / (1 + math.sqrt(max(float(g @ d), 0.0))) if damped else lr
    out, o = {}, 0
    for n in names:
        p = params[n]
        out[n] = p - scale * d[o : o + p.size].reshape(p.shape)
        o += p.size
    return out, {}


RULES = {
    "sgd": sgd, "adagrad": adagrad, "rmsprop": rmsprop, "adam": adam, "adamw": adamw, "amsgrad": amsgrad,
    "nadam": nadam, "adabelief": adabelief, "diffgrad": diffgrad, "adamp": adamp, "sgdp": sgdp, "lion": lion,
    "lars": lars, "lamb": lamb, "muon": muon, "auon": auon, "signsgd": signsgd, "signum": signum,
    "normalized_gd": normalized_gd, "noisy_sgd": noisy_sgd, "sgd_sai": sgd_sai, "newton": newton,
}


def step(name, params, grads, state, t, lr, hyper, key=(0, 0), hessian=None, lr_factor=1.0):
    """One reference update by name with clipping applied; ``hyper`` as ``Optimizer.hyper``."""
    hyper = dict(hyper)
    max_norm = hyper.pop("max_grad_norm", 0.0)
    if max_norm > 0.0:
        nrm = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
        factor = min(1.0, max_norm / (nrm + 1e-6))
        grads = {k: g * factor for k, g in grads.items()}
    clip_fraction = hyper.pop("clip_fraction", 0.0)
    clip_value = hyper.pop("clip_value", 0.0)
    hyper.pop("lr", None)
    extra = {"key": key} if name == "noisy_sgd" else {}
    if name == "newton":
        extra["hessian"] = hessian
    if name == "muon":
        extra["lr_factor"] = lr_factor
    new, st = RULES[name](params, grads, state, t, lr, **hyper, **extra)
    return _clip(params, new, clip_fraction, clip_value), st
