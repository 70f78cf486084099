"""The rule dispatch, built from the registration table, and the wrappers every rule shares.

:func:`dispatch` unrolls over :data:`theorysim.optim.family.KERNELS` at compile time
(``literal_unroll`` over a tuple of the rule kernels): the generated code is an if/elif over the
rule id with a direct call in each branch, the same machine code a hand-written switch gives
(checked in the tests), and a new rule needs no edit here.
"""
from __future__ import annotations

import contextlib
import math
import warnings

from numba import literal_unroll
from numba.core.errors import NumbaExperimentalFeatureWarning

from theorysim.core.config import jit
from theorysim.optim import slots as S
from theorysim.optim.family import KERNELS as _KERNEL_LIST, SPECS
from theorysim.optim.rules import block_norm, sign
from theorysim.optim.sorting import sort_in_place

#: the rule kernels as a tuple, in rule-id order (a compile-time constant of :func:`dispatch`)
KERNELS = tuple(_KERNEL_LIST)



@contextlib.contextmanager
def quiet_compile():
    """Compile code that calls :func:`dispatch` without Numba's "first-class function type is
    experimental" warning: Numba types the tuple of kernels as first-class functions, but inside
    ``literal_unroll`` each one is resolved statically (a direct call), so the warning does not
    apply. Scoped to the compilation, so no other warning is hidden."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="First-class function type feature is experimental",
                                category=NumbaExperimentalFeatureWarning)
        yield


def work_size(P: int, layout_rows, layout_cols, rules=None, clipping: bool = True) -> int:
    """Scratch floats a member needs: 3P (projections, clipping) + the largest Muon block; with
    ``rules`` (the names in use) and ``clipping`` (whether any member clips its update) given,
    only what those need (1 when no rule uses scratch: the engine allocates it per chunk)."""
    if rules is not None and not clipping and not any(SPECS[r].uses_scratch for r in rules):
        return 1
    muon = 0
    for r, c in zip(layout_rows, layout_cols):
        if c > 0:
            k, n = min(r, c), max(r, c)
            muon = max(muon, 2 * k * n + 2 * k * k)
    return 3 * P + muon


@jit
def dispatch(rule_id, theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """Run rule number ``rule_id`` (an index into :data:`KERNELS`)."""
    i = 0
    for kernel in literal_unroll(KERNELS):
        if i == rule_id:
            kernel(theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess)
        i += 1


@jit
def clip_update(theta, old, hyper, buf):
    """Coordinate-wise clipping of the update u = theta - old (Pan & Li 2023, arXiv 2306.00204,
    Algorithm 1): u_i <- sign(u_i) min(|u_i|, tau), with tau = clip_value if set, else the
    (1 - clip_fraction) quantile of |u| (numpy's default linear interpolation), so that the
    largest clip_fraction of the coordinates are clipped. The paper's exact threshold rule was not
    available; this is the documented emulation."""
    P = theta.shape[0]
    tau = hyper[S.CLIP_VALUE]
    if tau <= 0.0:
        for i in range(P):
            buf[i] = abs(theta[i] - old[i])
        srt = buf[:P]
        sort_in_place(srt)
        pos = (1.0 - hyper[S.CLIP_FRACTION]) * (P - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, P - 1)
        tau = srt[lo] + (pos - lo) * (srt[hi] - srt[lo])
    for i in range(P):
        u = theta[i] - old[i]
        if abs(u) > tau:
            theta[i] = old[i] + sign(u) * tau


@jit
def clip_grad_norm(grad, max_norm):
    """grad <- grad * max_norm / ||grad|| when ||grad|| > max_norm (torch clip_grad_norm_, whose
    factor is max_norm / (||grad|| + 1e-6), clamped to 1)."""
    nrm = block_norm(grad, 0, grad.shape[0])
    factor = max_norm / (nrm + 1e-6)
    if factor < 1.0:
        for i in range(grad.shape[0]):
            grad[i] = grad[i] * factor


@jit
def apply_rule(rule_id, theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess):
    """One update by rule id, with the optional global-norm clipping of the gradient (first) and
    coordinate-wise clipping of the update (last)."""
    if hyper[S.MAX_GRAD_NORM] > 0.0:
        clip_grad_norm(grad, hyper[S.MAX_GRAD_NORM])
    clip = hyper[S.CLIP_FRACTION] > 0.0 or hyper[S.CLIP_VALUE] > 0.0
    P = theta.shape[0]
    if clip:
        old = work[work.shape[0] - 2 * P : work.shape[0] - P]
        for i in range(P):
            old[i] = theta[i]
        dispatch(rule_id, theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1,
                 work[: work.shape[0] - 2 * P], hess)
        clip_update(theta, old, hyper, work[work.shape[0] - P :])
    else:
        dispatch(rule_id, theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess)
