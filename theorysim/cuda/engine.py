"""The fused ensemble engine on the GPU: a whole chunk of every member's trajectory in one kernel.

One CUDA thread trains one member, exactly as one CPU thread does in
:func:`theorysim.engine.loop.run_chunk` (same order of operations, same rules and model kernels
compiled from the same source by :mod:`theorysim.cuda.retarget`, same counter RNG), so a run on
the GPU is the same run as on the CPU: records, divergence flags and steps agree; values agree to
rounding (the GPU compiler contracts a*b + c into fused multiply-adds, which round once).

Memory layout: per-member arrays are stored member-fastest (``theta[i, m]``, ``state[r, i, m]``,
scratch ``[W, m]``), so that the threads of a warp, which handle consecutive members, read
consecutive addresses (4-5x faster than member-major on an H200, benchmarks/RESULTS.md). A model
whose kernels reshape slices of their parameters or scratch into matrices
(``Model.contiguous_members``: linear self-attention) needs each member's arrays contiguous and
runs member-major (``theta[m, i]``). Model data shared by all members is read by every thread
from one row.

Member mapping: one member per thread for every model. (One member per block with cooperative
loops, for parameter counts in the tens of thousands, is not built yet.)
"""
from __future__ import annotations

import math
import time

import numpy as np

from theorysim.cuda import cuda, require_device  # noqa: F401 (require_device: the backend's check)
from theorysim.cuda.retarget import device, with_globals
from theorysim.engine import loop
from theorysim.models.base import no_hessian
from theorysim.optim.dispatch import apply_rule
from theorysim.optim.slots import LR

RUNNING, DONE, DIVERGED = loop.RUNNING, loop.DONE, loop.DIVERGED
THREADS_PER_BLOCK = 64


def _chunk(theta, state, rule_id, needs_hessian, hyper, sched_index, schedule, model_hyper, keys, fdata_rows,
           idata_rows, data_row, offsets, rows, cols, t_begin, t_end, n_steps, record_every, divergence_factor,
           loss0, status, diverged_step, records, param_records, grad_all, work_all, rwork_all, hess_all):
    """Updates ``t_begin+1 .. t_end`` of member ``m = cuda.grid(1)``: the body of the CPU loop,
    with the model's kernels and the rule dispatch bound as globals (see :func:`kernel_for`)."""
    m = cuda.grid(1)
    if m >= status.shape[0]:
        return
    if status[m] != RUNNING:
        return
    th = member1(theta, m)
    P = th.shape[0]
    record_params = param_records.shape[1] > 0
    st = member2(state, m)
    hy = hyper[:, m]
    mh = model_hyper[:, m]
    k0 = keys[m, 0]
    k1 = keys[m, 1]
    q = sched_index[m]
    rid = rule_id[m]
    fdata = fdata_rows[data_row[m]]
    idata = idata_rows[data_row[m]]
    grad = member1(grad_all, m)
    work = member1(work_all, m)
    rwork = member1(rwork_all, m)
    hess = member2(hess_all, m)
    for i in range(rwork.shape[0]):  # the CPU loop allocates these zeroed for every chunk
        rwork[i] = 0.0
    for i in range(hess.shape[0]):
        for j in range(hess.shape[1]):
            hess[i, j] = 0.0
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
        finite = True
        for i in range(P):
            if not math.isfinite(th[i]):
                finite = False
        if finite:
            status[m] = DONE
        else:
            status[m] = DIVERGED
            diverged_step[m] = n_steps


# one member's view of a per-member array, in either layout (bound into the kernel as globals)
def _fastest1(a, m):
    return a[:, m]


def _fastest2(a, m):
    return a[:, :, m]


def _major(a, m):
    return a[m]


_KERNELS: dict = {}


def kernel_for(model):
    """The chunk kernel of ``model``'s kernels (loss_grad, metrics, hessian) and layout, compiled
    from :func:`_chunk` with those bound as device functions; one per distinct combination."""
    loss_grad, metrics = model.kernels[0], model.kernels[1]
    hessian = model.kernels[2] if model.has_hessian else no_hessian
    major = bool(model.contiguous_members)
    key = (loss_grad.py_func, metrics.py_func, hessian.py_func, major)
    if key not in _KERNELS:
        views = (device(_major), device(_major)) if major else (device(_fastest1), device(_fastest2))
        bound = with_globals(_chunk, {"loss_grad": device(loss_grad), "metrics": device(metrics),
                                      "hessian": device(hessian), "apply_rule": device(apply_rule),
                                      "member1": views[0], "member2": views[1], "cuda": cuda})
        _KERNELS[key] = cuda.jit(bound)
    return _KERNELS[key]


def _to_layout(a: np.ndarray, major: bool) -> np.ndarray:
    """``[E, ...]`` -> itself (member-major) or ``[..., E]`` (member-fastest), contiguous."""
    return np.ascontiguousarray(a if major else np.moveaxis(a, 0, -1))


def _from_layout(a: np.ndarray, major: bool) -> np.ndarray:
    return a if major else np.moveaxis(a, -1, 0)


def _scratch(shape: tuple, E: int, major: bool):
    return cuda.device_array((E, *shape) if major else (*shape, E))


def run_chunks(exp, theta, state, keys, fdata, idata, data_row, offsets, rows, cols, bounds, loss0, status,
               diverged_step, records, param_records, bar) -> float:
    """Run ``exp`` (a prepared :class:`~theorysim.engine.experiment.Experiment`) on the GPU, chunk by
    chunk, writing into the same host arrays the CPU engine writes; returns the compile seconds."""
    require_device()
    model = exp.model
    E, P = theta.shape
    t_compile = time.perf_counter()
    kernel = kernel_for(model)
    compile_seconds = time.perf_counter() - t_compile
    to = cuda.to_device
    major = bool(model.contiguous_members)
    d_theta = to(_to_layout(theta, major))
    d_state = to(_to_layout(state, major))
    d_hyper = to(np.ascontiguousarray(exp.hyper.T))
    d_mh = to(np.ascontiguousarray(exp.model_hyper.T))
    d_status = to(status)
    d_loss0 = to(loss0)
    d_div = to(diverged_step)
    d_records = to(records)
    d_params = to(param_records)
    fixed = (to(exp.rule_id), to(exp.needs_hessian))
    data = (to(exp.sched_index), to(exp.schedule))
    shared = (to(keys), to(fdata), to(idata), to(data_row), to(offsets), to(rows), to(cols))
    d_grad = _scratch((P,), E, major)
    d_work = _scratch((max(model.work_size, 1),), E, major)
    d_rwork = _scratch((max(exp.rule_work_size, 1),), E, major)
    d_hess = _scratch((exp.hess_size, exp.hess_size), E, major)
    threads = min(THREADS_PER_BLOCK, E)
    blocks = (E + threads - 1) // threads
    for c in range(len(bounds) - 1):
        first = c == 0
        if first:
            t0 = time.perf_counter()
        kernel[blocks, threads](
            d_theta, d_state, fixed[0], fixed[1], d_hyper, data[0], data[1], d_mh, shared[0], shared[1], shared[2],
            shared[3], shared[4], shared[5], shared[6], int(bounds[c]), int(bounds[c + 1]), exp.steps,
            exp.record_every, exp.divergence_factor, d_loss0, d_status, d_div, d_records, d_params, d_grad, d_work,
            d_rwork, d_hess)
        if first:  # the first launch compiles the kernel for these argument types
            cuda.synchronize()
            compile_seconds += time.perf_counter() - t0
        if bar is not None:
            bar.update(int(bounds[c + 1] - bounds[c]))
        if np.all(d_status.copy_to_host() != RUNNING):
            break
    theta[...] = _from_layout(d_theta.copy_to_host(), major)
    state[...] = _from_layout(d_state.copy_to_host(), major)
    status[...] = d_status.copy_to_host()
    loss0[...] = d_loss0.copy_to_host()
    diverged_step[...] = d_div.copy_to_host()
    records[...] = d_records.copy_to_host()
    param_records[...] = d_params.copy_to_host()
    return compile_seconds
