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
from theorysim.cuda.retarget import device, returns_view, with_globals
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
    with the model's kernels and the rule dispatch bound as globals (see :func:`kernel_for`).

    The step loop is a copy of :func:`theorysim.engine.loop.run_chunk`'s: the CPU loop takes the
    model's kernels as first-class function arguments (one loop, compiled once and cached on
    disk, for every model), which a CUDA kernel cannot. tests/test_cuda_engine.py checks that
    the two loops stay statement for statement the same."""
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


# one member's view of a per-member array, in either layout (bound into the kernel as globals;
# inlined, since a CUDA device function cannot return a view)
@returns_view
def _fastest1(a, m):
    return a[:, m]


@returns_view
def _fastest2(a, m):
    return a[:, :, m]


@returns_view
def _major(a, m):
    return a[m]


_KERNELS: dict = {}


def _bound(model):
    """:func:`_chunk` with ``model``'s kernels and layout bound in (a plain Python function)."""
    loss_grad, metrics = model.kernels[0], model.kernels[1]
    hessian = model.kernels[2] if model.has_hessian else no_hessian
    major = bool(model.contiguous_members)
    views = (device(_major), device(_major)) if major else (device(_fastest1), device(_fastest2))
    return with_globals(_chunk, {"loss_grad": device(loss_grad), "metrics": device(metrics),
                                 "hessian": device(hessian), "apply_rule": device(apply_rule),
                                 "member1": views[0], "member2": views[1], "cuda": cuda})


def _key(model):
    hessian = model.kernels[2] if model.has_hessian else no_hessian
    return (model.kernels[0].py_func, model.kernels[1].py_func, hessian.py_func, bool(model.contiguous_members))


def kernel_for(model):
    """The chunk kernel of ``model``'s kernels (loss_grad, metrics, hessian) and layout, compiled
    from :func:`_chunk` with those bound as device functions; one per distinct combination."""
    key = _key(model)
    if key not in _KERNELS:
        _KERNELS[key] = cuda.jit(_bound(model))
    return _KERNELS[key]


def _to_layout(a: np.ndarray, major: bool) -> np.ndarray:
    """``[E, ...]`` -> itself (member-major) or ``[..., E]`` (member-fastest), contiguous."""
    return np.ascontiguousarray(a if major else np.moveaxis(a, 0, -1))


def _from_layout(a: np.ndarray, major: bool) -> np.ndarray:
    return a if major else np.moveaxis(a, -1, 0)


def _scratch_shapes(exp, E: int, P: int, major: bool) -> list[tuple]:
    """Shapes of the per-member scratch arrays: gradient, model work, rule work, Hessian."""
    shapes = [(P,), (max(exp.model.work_size, 1),), (max(exp.rule_work_size, 1),), (exp.hess_size, exp.hess_size)]
    return [(E, *s) if major else (*s, E) for s in shapes]


def _arguments(exp, theta, state, keys, fdata, idata, data_row, offsets, rows, cols, loss0, status, diverged_step,
               records, param_records, scratch):
    """The kernel's arguments in order, chunk bounds as 0 and 1 (the caller sets them)."""
    major = bool(exp.model.contiguous_members)
    args = [_to_layout(theta, major), _to_layout(state, major), exp.rule_id, exp.needs_hessian,
            exp.hyper.T, exp.sched_index, exp.schedule, exp.model_hyper.T,  # transposes: copied below
            keys, fdata, idata, data_row, offsets, rows, cols, 0, 1, exp.steps, exp.record_every,
            float(exp.divergence_factor), loss0, status, diverged_step, records, param_records, *scratch]
    return [_canonical(a) if isinstance(a, np.ndarray) else a for a in args]


def _canonical(a: np.ndarray) -> np.ndarray:
    """``a`` with C strides exactly (a copy only if needed): numpy calls ``x[None, :]`` contiguous
    with a 0 stride, which the CUDA target types as non-contiguous (and then refuses reshapes)."""
    strides, step = [], a.itemsize
    for n in reversed(a.shape):
        strides.append(step)
        step *= n
    return a if a.strides == tuple(reversed(strides)) else np.array(a, order="C")


def compile_ptx(exp, cc=(9, 0)) -> str:
    """The PTX of ``exp``'s chunk kernel for compute capability ``cc``, compiled without a GPU
    (numba-cuda's NVVM from PyPI): how CI checks that every kernel builds for the real target,
    which the simulator cannot (it runs the Python source)."""
    import numba

    model = exp.model
    E, P = exp.n_members, model.layout.size
    fdata, idata = model.data()
    if fdata.ndim == 1:
        fdata, idata = fdata.reshape(1, -1), idata.reshape(1, -1)
    major = bool(model.contiguous_members)
    R = exp.steps // exp.record_every + 1
    M = len(model.metric_names)
    args = _arguments(exp, np.zeros((E, P)), np.zeros((E, max(exp.state_rows, 1), P)), np.zeros((E, 2), np.uint64),
                      fdata, idata, np.zeros(E, np.int64), *model.layout.arrays(), np.zeros(E),
                      np.zeros(E, np.int64), np.zeros(E, np.int64), np.zeros((E, R, M)), np.zeros((E, 0, P)),
                      [np.zeros(s) for s in _scratch_shapes(exp, E, P, major)])
    signature = tuple(numba.typeof(a) for a in args)
    with _target_device(cc):
        ptx, _ = cuda.compile_ptx(_bound(model), signature, cc=cc)
    return ptx


class _Target:
    def __init__(self, cc):
        self.compute_capability = tuple(cc)


def _target_device(cc):
    """numba-cuda compiles the device functions a kernel calls for the *current* device, which
    needs a driver; for a PTX build on a machine without one, name the target instead."""
    import contextlib

    from numba.cuda import dispatcher

    @contextlib.contextmanager
    def patched():
        original = dispatcher.get_current_device
        dispatcher.get_current_device = lambda: _Target(cc)
        try:
            yield
        finally:
            dispatcher.get_current_device = original

    return patched()


#: ensembles this process has run on the GPU (what a caller checks to know the GPU was used)
RUNS = [0]


def check_model(model) -> None:
    """Refuse, before any work, a model whose kernels have a known defect on a real GPU
    (``model.gpu_defect``); the simulator runs it (CI's CPU-vs-GPU parity)."""
    import theorysim.cuda as package

    if model.gpu_defect and not package.SIMULATOR:
        raise ValueError(f"backend='cuda': model {model.name!r} is not run on a GPU: {model.gpu_defect}; use backend='cpu'")


def run_chunks(exp, theta, state, keys, fdata, idata, data_row, offsets, rows, cols, bounds, loss0, status,
               diverged_step, records, param_records, bar) -> float:
    """Run ``exp`` (a prepared :class:`~theorysim.engine.experiment.Experiment`) on the GPU, chunk by
    chunk, writing into the same host arrays the CPU engine writes; returns the compile seconds."""
    require_device()
    RUNS[0] += 1
    model = exp.model
    E, P = theta.shape
    major = bool(model.contiguous_members)
    t0 = time.perf_counter()
    kernel = kernel_for(model)
    compile_seconds = time.perf_counter() - t0
    scratch = [cuda.device_array(s) for s in _scratch_shapes(exp, E, P, major)]
    host = _arguments(exp, theta, state, keys, fdata, idata, data_row, offsets, rows, cols, loss0, status,
                      diverged_step, records, param_records, [])
    args = [cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in host] + scratch
    d_theta, d_state, d_loss0, d_status, d_div, d_records, d_params = (args[i] for i in (0, 1, 20, 21, 22, 23, 24))
    threads = min(THREADS_PER_BLOCK, E)
    blocks = (E + threads - 1) // threads
    for c in range(len(bounds) - 1):
        args[15], args[16] = int(bounds[c]), int(bounds[c + 1])
        t0 = time.perf_counter()
        kernel[blocks, threads](*args)
        if c == 0:  # the first launch compiles the kernel for these argument types
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
