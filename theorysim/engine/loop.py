"""The fused ensemble engine: one compiled training loop for every model, parallel over members.

For every member m (in parallel, one thread per member, members independent)::

    for t = t_begin+1 .. t_end:                 # update t reads iterate t-1
        loss = loss_grad(theta[m], fdata[data_row[m]], idata[data_row[m]], mh[m], key[m], t, grad, work)
        if loss is not finite, or loss > divergence_factor * loss_0:  -> diverged at iterate t-1, stop m
        lr = hyper[m, LR] * schedule[sched_index[m], t-1]
        apply_rule(rule_id[m], theta[m], grad, state[m], hyper[m], lr, t, layout arrays, ...)
        if t % record_every == 0: records[m, t // record_every] = metrics(theta[m])

Iterate 0 is recorded before the first update. After the last update the final iterate is
checked for non-finite values (diverged at iterate T). Because members never interact and each
is computed by a single thread in a fixed order, results are bitwise identical whatever the
thread count; because the RNG is keyed by (seed, step, stream), also whatever the chunking.

Why one kernel for all models: the optimizer family is large (the loop with every rule compiles in
~26 s cold on 2 cores, 0.2 s from the disk cache), and Numba re-optimises linked callees inside
every caller. So the model's kernels are passed as first-class functions of fixed signatures
(:data:`LOSS_GRAD`, :data:`METRICS`, :data:`HESSIAN`) and called through a pointer, and model data
travels as one flat float64 buffer plus one int64 buffer (:mod:`theorysim.core.data`), one row of
each per data set: shared data is one row that every member reads (no copy), per-member data one
row per member (``data_row[m]`` picks it). The loop then compiles once per environment, is cached
on disk, and a new model costs only the compile of its own small kernels. The indirect call per
step costs nothing measurable next to a gradient.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import types

from theorysim.core import config
from theorysim.optim.dispatch import apply_rule, quiet_compile
from theorysim.optim.slots import LR

RUNNING, DONE, DIVERGED = 0, 1, 2

_f1 = types.float64[::1]
_f2 = types.float64[:, ::1]
_i1 = types.int64[::1]

#: loss_grad(theta, fdata, idata, mh, k0, k1, t, grad_out, work) -> loss
LOSS_GRAD = types.float64(_f1, _f1, _i1, _f1, types.uint64, types.uint64, types.int64, _f1, _f1)
#: metrics(theta, fdata, idata, mh, out, work) -> 0.0 (work: the member's scratch, as for loss_grad)
METRICS = types.float64(_f1, _f1, _i1, _f1, _f1, _f1)
#: hessian(theta, fdata, idata, mh, out[P, P]) -> 0.0
HESSIAN = types.float64(_f1, _f1, _i1, _f1, _f2)

_SIGNATURE = types.void(
    types.FunctionType(LOSS_GRAD), types.FunctionType(METRICS), types.FunctionType(HESSIAN),
    _f2, types.float64[:, :, ::1], _i1, _i1, _f2, _i1, _f2, _f2, types.uint64[:, ::1], _f2, types.int64[:, ::1], _i1,
    _i1, _i1, _i1, types.int64, types.int64, types.int64, types.int64, types.float64,
    _f1, _i1, _i1, types.float64[:, :, ::1], types.float64[:, :, ::1], types.int64, types.int64, types.int64, _i1,
)


@config.jit
def finish_member(th, m, status, diverged_step, n_steps):
    """After member ``m``'s last step: DONE when every parameter is finite, else DIVERGED at
    ``n_steps`` (shared by the CPU loop and both GPU kernels)."""
    for i in range(th.shape[0]):
        if not math.isfinite(th[i]):
            status[m] = DIVERGED
            diverged_step[m] = n_steps
            return
    status[m] = DONE


@config.jit(parallel=True)
def run_chunk(loss_grad, metrics, hessian, theta, state, rule_id, needs_hessian, hyper, sched_index, schedule,
              model_hyper, keys, fdata_rows, idata_rows, data_row, offsets, rows, cols, t_begin, t_end, n_steps,
              record_every, divergence_factor, loss0, status, diverged_step, records, param_records, work_size, rule_work_size, hess_size,
              order):
    E, P = theta.shape
    record_params = param_records.shape[1] > 0
    for i_member in numba.prange(E):
        m = order[i_member]  # prange hands each thread one contiguous block of i_member (member_order)
        if status[m] != RUNNING:
            continue
        th = theta[m]
        st = state[m]
        hy = hyper[m]
        mh = model_hyper[m]
        k0 = keys[m, 0]
        k1 = keys[m, 1]
        q = sched_index[m]
        rid = rule_id[m]
        fdata = fdata_rows[data_row[m]]
        idata = idata_rows[data_row[m]]
        grad = np.empty(P)
        work = np.empty(max(work_size, 1))
        rwork = np.zeros(max(rule_work_size, 1))
        hess = np.zeros((hess_size, hess_size))
        if t_begin == 0:
            metrics(th, fdata, idata, mh, records[m, 0], work)
            if record_params:
                for i in range(P):
                    param_records[m, 0, i] = th[i]
        stopped = False
        for t in range(t_begin + 1, t_end + 1):
            loss = loss_grad(th, fdata, idata, mh, k0, k1, t, grad, work)
            if t == 1:
                loss0[m] = loss
            bound = divergence_factor * loss0[m]
            if (not math.isfinite(loss)) or (divergence_factor > 0.0 and loss0[m] > 0.0 and loss > bound):
                status[m] = DIVERGED
                diverged_step[m] = t - 1
                stopped = True
                break
            lr = hy[LR] * schedule[q, t - 1]
            if needs_hessian[m] != 0:
                hessian(th, fdata, idata, mh, hess)
            apply_rule(rid, th, grad, st, hy, lr, t, offsets, rows, cols, k0, k1, rwork, hess)
            if t % record_every == 0:
                r = t // record_every
                metrics(th, fdata, idata, mh, records[m, r], work)
                if record_params:
                    for i in range(P):
                        param_records[m, r, i] = th[i]
        if (not stopped) and t_end == n_steps:
            finish_member(th, m, status, diverged_step, n_steps)


def member_order(E: int, threads: int) -> np.ndarray:
    """The order in which the parallel loop visits members: round robin over threads.

    Numba splits ``prange(E)`` into one contiguous block per thread, so members listed by
    increasing cost (a sweep over training-set sizes, widths, or members that stop early) would
    leave one thread with most of the work; visiting ``order[i]`` deals consecutive members to
    different threads instead. Members are independent, so results do not depend on the order."""
    return np.concatenate([np.arange(t, E, threads) for t in range(max(1, min(threads, E)))]).astype(np.int64)


def kernel():
    """The training loop, compiled once for its first-class signature (loaded from the disk
    cache when present); further compilation is disabled so that passing a model's kernels
    never specialises the loop on them."""
    if not run_chunk.signatures:
        with quiet_compile():
            run_chunk.compile(_SIGNATURE)
        run_chunk.disable_compile()
    return run_chunk


#: the engine's arguments of each model kernel (what a wrong signature is told)
KERNEL_ARGUMENTS = {"loss_grad": "theta, fdata, idata, mh, k0, k1, t, grad, work -> loss (float)",
                    "metrics": "theta, fdata, idata, mh, out, work -> 0.0",
                    "hessian": "theta, fdata, idata, mh, out -> 0.0"}


def compiled(fn, signature, model=None, role: str = "kernel"):
    """Compile a model kernel for its first-class signature (idempotent; cached on disk). A kernel that
    is not a jitted function, takes another number of arguments or does not return a float is refused
    in one line naming the model, the kernel and what the engine passes, before the run starts."""
    name = f"model {getattr(model, 'name', '?')!r}: {role} kernel"
    expected = KERNEL_ARGUMENTS.get(role, str(signature))
    py_func = getattr(fn, "py_func", None)
    if py_func is None or not hasattr(fn, "compile"):
        raise ValueError(f"{name} {fn!r}: expected a function built with theorysim.core.config.jit, taking "
                         f"({expected})")
    import inspect

    n = len(signature.args)
    params = inspect.signature(py_func).parameters.values()
    if not any(p.kind is p.VAR_POSITIONAL for p in params) and len(inspect.signature(py_func).parameters) != n:
        raise ValueError(f"{name} {py_func.__qualname__} takes {len(inspect.signature(py_func).parameters)} "
                         f"arguments; the engine passes {n}: ({expected})")
    from numba.core.errors import NumbaError

    try:
        fn.compile(signature)
    except NumbaError as err:
        first = next((ln.strip() for ln in str(err).splitlines() if ln.strip() and not ln.startswith("\x1b")), "")
        if "none" in str(err).lower() and "float64" in str(err):
            first = "it returns None (or nothing) on some path; the engine expects a float"
        raise ValueError(f"{name} {py_func.__qualname__} does not compile for the engine's signature ({expected}): "
                         f"{first[:200]}") from None
    return fn
