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

Member mapping, by model:

- one member per thread (:func:`_chunk`) for models without a sample decomposition;
- one member per block (:func:`_chunk_samples`) for models whose loss is a mean over samples they
  declare (``Model.sample_kernels``: linear self-attention's prompts, XOR span form's training
  points): the block's ``min(SAMPLE_THREADS, n_samples)`` threads each take one residue class of
  the samples with their own scratch (thread-local memory, which the hardware interleaves across
  a warp's threads) and either their own gradient, the partial gradients then summed in a fixed
  order (thread 0's first, then thread 1's, ...: the same numbers on every run), or, when each
  sample owns its coordinates of the gradient (``Model.sample_grads_disjoint``), the member's one
  gradient, written directly. Thread 0 tests for divergence; a coordinate-wise update is split
  over the threads (thread j: coordinates j, j + S, ...), any other is applied by thread 0. The
  CPU sums the same terms in sample order, so the two differ by rounding (within 1e-12 relative
  over the parity runs);
- one member per block of :data:`COOPERATIVE_THREADS` threads for a model with a block kernel
  (``Model.block_loss_grad``, :mod:`theorysim.core.block`: matrix sensing's low-rank path, the
  MLP, XOR's direct form, the frozen-readout net), which
  the threads run together, each its share of every phase, with barriers between; the rest of the
  step as above. The CPU runs the same kernel as one thread.
"""
from __future__ import annotations

import hashlib
import math
import time
import types

import numpy as np

from theorysim.core.config import CACHE
from theorysim.cuda import cuda, require_device  # noqa: F401 (require_device: the backend's check)
from theorysim.cuda.retarget import coordinatewise_dispatch, device, returns_view, rule_update, with_globals
from theorysim.engine import loop
from theorysim.engine.loop import finish_member
from theorysim.models.base import no_hessian
from theorysim.optim.slots import LR

RUNNING, DONE, DIVERGED = loop.RUNNING, loop.DONE, loop.DIVERGED
THREADS_PER_BLOCK = 64
#: the most threads that share one member's samples (one block per member)
SAMPLE_THREADS = 128
#: the threads of the block that trains one member of a model with a ``block_loss_grad`` (one warp:
#: its barriers are cheap, and 32 times more threads than members hide the memory latency)
COOPERATIVE_THREADS = 32
#: one member per thread: the gradient and the model's scratch live in thread-local memory when
#: their sizes (rounded up to powers of two) add up to at most this many doubles (0: never).
#: The hardware interleaves local memory across a warp's threads, so a warp reading entry i of
#: its members' scratch reads consecutive addresses, while each member still sees a contiguous
#: array (which the matrix views of member-major models need).
LOCAL_SCRATCH_DOUBLES = 16384
#: the rules a chunk kernel compiles: ``"all"`` (one kernel per model serves every ensemble) or
#: ``"used"`` (the rules of the ensemble's members only: a faster compile, a kernel per rule set)
KERNEL_RULES = "all"
#: at most this many registers per thread in a chunk kernel (None: the assembler's choice, which
#: is its limit of 255 for every model's kernel at sm_90: 8 resident warps per SM;
#: ``tools/ptxas_report.py``). A lower cap lets more warps reside and spills the rest to memory.
MAX_REGISTERS = None


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
    if LOCAL_SCRATCH:  # a build-time constant (see _bound): the other branch is compiled away
        grad = cuda.local.array(GRAD_LOCAL, float64)[:P]
        work = cuda.local.array(WORK_LOCAL, float64)[: work.shape[0]]
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
        finish_member(th, m, status, diverged_step, n_steps)


def _chunk_samples(theta, state, rule_id, needs_hessian, hyper, sched_index, schedule, model_hyper, keys, fdata_rows,
                   idata_rows, data_row, offsets, rows, cols, t_begin, t_end, n_steps, record_every, divergence_factor,
                   loss0, status, diverged_step, records, param_records, grad_all, work_all, rwork_all, hess_all,
                   part_grad, part_loss, part_metrics, split_rule):
    """:func:`_chunk` with member ``m = blockIdx.x`` trained by the whole block: at each step
    thread ``j`` of ``S = blockDim.x`` computes the gradient terms of samples j, j + S, ...
    (``partial_loss_grad``, scratch ``WORK_LOCAL`` thread-local), either into a thread-local
    gradient (``GRAD_LOCAL``) written to ``part_grad[m, :, j]`` and, after a barrier, summed over
    the threads in order (thread j sums coordinates j, j + S, ...), or, when the model's samples
    own disjoint coordinates (``DISJOINT``, bound at build), straight into the member's zeroed
    gradient. Thread 0 sums the losses in thread order and runs the divergence test; the update
    is then split over the threads (thread j updates coordinates j, j + S, ...) when the member's
    rule is coordinate-wise (``split_rule[m]``; the same numbers as one thread updating all), else
    thread 0 applies it. At a record the block computes the metrics together (``block_metrics``)."""
    m = cuda.blockIdx.x
    j = cuda.threadIdx.x
    S = cuda.blockDim.x
    if m >= status.shape[0]:
        return
    if status[m] != RUNNING:  # read by every thread before thread 0 can change it (barriers below)
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
    split = split_rule[m] != 0
    fdata = fdata_rows[data_row[m]]
    idata = idata_rows[data_row[m]]
    grad = member1(grad_all, m)
    work = member1(work_all, m)
    rwork = member1(rwork_all, m)
    hess = member2(hess_all, m)
    gpart = cuda.local.array(GRAD_LOCAL, float64)[:P]
    wpart = cuda.local.array(WORK_LOCAL, float64)[: (work.shape[0] if SAMPLE_WORK == 0 else SAMPLE_WORK)]
    pg = part_grad[m]
    pm = part_metrics[m]
    stop = cuda.shared.array(1, int64)
    if j == 0:
        stop[0] = 0
        for i in range(rwork.shape[0]):
            rwork[i] = 0.0
        for i in range(hess.shape[0]):
            for i2 in range(hess.shape[1]):
                hess[i, i2] = 0.0
    if t_begin == 0:
        block_metrics(th, fdata, idata, mh, records[m, 0], work, wpart, pm, j, S)
        if record_params and j == 0:
            for i in range(P):
                param_records[m, 0, i] = th[i]
    cuda.syncthreads()
    for t in range(t_begin + 1, t_end + 1):
        if COOPERATIVE:  # the model's block kernel: every thread its share, the loss from thread 0
            loss_j = partial_loss_grad(th, fdata, idata, mh, k0, k1, t, grad, work, j, S)
            part_loss[m, j] = loss_j if j == 0 else 0.0
        elif DISJOINT:
            for i in range(j, P, S):
                grad[i] = 0.0
            cuda.syncthreads()
            part_loss[m, j] = partial_loss_grad(th, fdata, idata, mh, k0, k1, t, grad, wpart, j, S)
        else:
            for i in range(P):
                gpart[i] = 0.0
            part_loss[m, j] = partial_loss_grad(th, fdata, idata, mh, k0, k1, t, gpart, wpart, j, S)
            for i in range(P):
                pg[i, j] = gpart[i]
            cuda.syncthreads()
            for i in range(j, P, S):
                acc = 0.0
                for jj in range(S):
                    acc += pg[i, jj]
                grad[i] = acc
        cuda.syncthreads()
        lr = hy[LR] * schedule[q, t - 1]
        if j == 0:
            total = 0.0
            for jj in range(S):
                total += part_loss[m, jj]
            loss = total / n_samples(fdata, idata)
            if t == 1:
                loss0[m] = loss
            bound = divergence_factor * loss0[m]
            if (not math.isfinite(loss)) or (divergence_factor > 0.0 and loss0[m] > 0.0 and loss > bound):
                status[m] = DIVERGED
                diverged_step[m] = t - 1
                stop[0] = 1
            elif not split:
                if needs_hessian[m] != 0:
                    hessian(th, fdata, idata, mh, hess)
                apply_rule(rid, th, grad, st, hy, lr, t, offsets, rows, cols, k0, k1, rwork, hess)
        cuda.syncthreads()
        if stop[0] != 0:
            break
        if split:
            apply_split(rid, th[j::S], grad[j::S], st[:, j::S], hy, lr, t, offsets, rows, cols, k0, k1, rwork, hess)
            cuda.syncthreads()
        if t % record_every == 0:
            r = t // record_every
            block_metrics(th, fdata, idata, mh, records[m, r], work, wpart, pm, j, S)
            if record_params and j == 0:
                for i in range(P):
                    param_records[m, r, i] = th[i]
    if j == 0 and stop[0] == 0 and t_end == n_steps:
        finish_member(th, m, status, diverged_step, n_steps)


def _block_metrics_shared(th, fdata, idata, mh, out, work, wpart, pm, j, S):
    """``out`` = the model's metrics with the evaluation samples shared by the block's ``S``
    threads (``partial_metrics`` per thread, sums over the threads in order, ``finish_metrics``);
    every thread of the block calls it."""
    loc = cuda.local.array(METRICS_LOCAL, float64)
    M = out.shape[0]
    for k in range(M):
        loc[k] = 0.0
    partial_metrics(th, fdata, idata, mh, loc[:M], wpart, j, S)
    for k in range(M):
        pm[k, j] = loc[k]
    cuda.syncthreads()
    if j == 0:
        for k in range(M):
            acc = 0.0
            for jj in range(S):
                acc += pm[k, jj]
            out[k] = acc
        finish_metrics(out, fdata, idata)
    cuda.syncthreads()


def _block_metrics_serial(th, fdata, idata, mh, out, work, wpart, pm, j, S):
    """``out`` = the model's metrics, computed by thread 0 (a model without partial metrics)."""
    if j == 0:
        metrics(th, fdata, idata, mh, out, work)
    cuda.syncthreads()


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


def _bucket(n: int) -> int:
    """``n`` rounded up to a power of two (at least 8): the thread-local array sizes, which are
    compile-time constants, so that nearby model sizes share one compiled kernel."""
    return max(8, 1 << (int(n) - 1).bit_length())


def per_block(model) -> bool:
    """Whether the GPU trains ``model`` one member per block (its loss declares samples, or it
    has a block kernel)."""
    return bool(model.sample_kernels) or _cooperative(model)


def _cooperative(model) -> bool:
    return model.block_loss_grad is not None


def _one_sample(fdata, idata):
    """The sample count of a block kernel's loss (thread 0 returns the loss itself)."""
    return 1


def _bound(model, rules: tuple | None = None):
    """:func:`_chunk` (or :func:`_chunk_samples`) with ``model``'s kernels and layout bound in (a
    plain Python function); ``rules``: the rule ids it compiles (None: every rule)."""
    import numba

    loss_grad, metrics = model.kernels[0], model.kernels[1]
    hessian = model.kernels[2] if model.has_hessian else no_hessian
    views = (device(_major), device(_major)) if _member_major(model) else (device(_fastest1), device(_fastest2))
    bound = {"loss_grad": device(loss_grad), "metrics": device(metrics), "hessian": device(hessian),
             "apply_rule": rule_update(rules), "member1": views[0], "member2": views[1], "cuda": cuda}
    bound.update({"float64": numba.float64, "int64": numba.int64})
    if not per_block(model):
        local = _local_scratch(model)
        sizes = {"GRAD_LOCAL": _bucket(model.layout.size), "WORK_LOCAL": _bucket(model.work_size)} if local else \
            {"GRAD_LOCAL": 1, "WORK_LOCAL": 1}
        return with_globals(_chunk, {**bound, "LOCAL_SCRATCH": local, **sizes})
    partial, count = (model.block_loss_grad, _one_sample) if _cooperative(model) else model.sample_kernels[:2]
    shared_metrics = len(model.sample_kernels) == 4 and not _cooperative(model)  # (a block kernel comes first)
    metric_globals = {"metrics": bound["metrics"], "cuda": cuda, "float64": numba.float64,
                      "METRICS_LOCAL": max(1, len(model.metric_names))}
    if shared_metrics:
        metric_globals.update({"partial_metrics": device(model.sample_kernels[2]),
                               "finish_metrics": device(model.sample_kernels[3])})
    block_metrics = cuda.jit(device=True)(with_globals(_block_metrics_shared if shared_metrics
                                                       else _block_metrics_serial, metric_globals))
    bound.update({"partial_loss_grad": device(partial), "n_samples": device(count), "block_metrics": block_metrics,
                  "apply_split": coordinatewise_dispatch(rules), **_block_constants(model)})
    return with_globals(_chunk_samples, bound)


def _block_constants(model) -> dict:
    """The build-time constants of :func:`_chunk_samples` for ``model``: whether its samples' gradients
    are disjoint, the thread-local gradient's size (a power of two; 1 when disjoint: none is
    needed), the thread-local scratch's (a power of two at least the partial kernels' scratch) and
    that scratch's exact size (0: the model's ``work_size``, read at run time)."""
    if _cooperative(model):  # the model's block kernel: gradient and scratch are the member's own
        return {"COOPERATIVE": True, "DISJOINT": False, "GRAD_LOCAL": 1, "WORK_LOCAL": 1, "SAMPLE_WORK": 1}
    disjoint = bool(model.sample_grads_disjoint)
    return {"COOPERATIVE": False, "DISJOINT": disjoint, "GRAD_LOCAL": 1 if disjoint else _bucket(model.layout.size),
            "WORK_LOCAL": _bucket(model.sample_work_size or model.work_size), "SAMPLE_WORK": int(model.sample_work_size)}


def _local_scratch(model) -> bool:
    """One member per thread: whether ``model``'s gradient and scratch fit thread-local memory."""
    return _bucket(model.layout.size) + _bucket(model.work_size) <= LOCAL_SCRATCH_DOUBLES


def _key(model, rules: tuple | None = None):
    hessian = model.kernels[2] if model.has_hessian else no_hessian
    if per_block(model):
        sizes = tuple(sorted(_block_constants(model).items()))
    else:
        sizes = (_bucket(model.layout.size), _bucket(model.work_size)) if _local_scratch(model) else ()
    return (model.kernels[0].py_func, model.kernels[1].py_func, hessian.py_func, bool(model.contiguous_members),
            tuple(k.py_func for k in model.sample_kernels),
            model.block_loss_grad.py_func if _cooperative(model) else None, sizes, rules, MAX_REGISTERS)


def kernel_rules(exp) -> tuple | None:
    """The rule ids ``exp``'s kernel compiles (:data:`KERNEL_RULES`): None for all of them, else
    the distinct rule ids of its members."""
    if KERNEL_RULES not in ("all", "used"):
        raise ValueError(f"engine.KERNEL_RULES={KERNEL_RULES!r}: expected 'all' or 'used'")
    return None if KERNEL_RULES == "all" else tuple(sorted({int(r) for r in exp.rule_id}))


def kernel_for(model, rules: tuple | None = None):
    """The chunk kernel of ``model``'s kernels (loss_grad, metrics, hessian), layout and mapping,
    compiled from :func:`_chunk` or :func:`_chunk_samples` with those bound as device functions
    and the rules ``rules`` (None: all); one per distinct combination (and, one member per
    block, per size bucket), at most :data:`MAX_REGISTERS` registers per thread.

    On a GPU the compiled kernel is cached on disk (``THEORYSIM_CACHE``, as on the CPU; see
    :mod:`theorysim.cuda.kernel_cache`), under its :func:`build_name`: a later process loads it
    instead of compiling it again (58-200 s per kernel on the device machines' CPUs)."""
    key = _key(model, rules)
    if key not in _KERNELS:
        fn = _bound(model, rules)
        name = build_name(key, fn.__name__)
        if name is not None:
            fn.__qualname__ = fn.__name__ = name
        kernel = cuda.jit(fn, **({"max_registers": MAX_REGISTERS} if MAX_REGISTERS and not _simulated() else {}))
        if name is not None and CACHE and not _simulated():
            try:  # (kernel_cache reaches into numba-cuda's internals, checked against 0.30)
                from theorysim.cuda import kernel_cache

                kernel = kernel_cache.enable(kernel, _functions_of(key))
            except Exception as err:  # another numba-cuda: compile every time, as without a cache
                NO_DISK_CACHE[name] = f"{type(err).__name__}: {err}"
        _KERNELS[key] = kernel
    return _KERNELS[key]


def _functions_of(part) -> list:
    """The plain Python functions inside a build key (the model's kernels)."""
    if isinstance(part, types.FunctionType):
        return [part]
    if isinstance(part, (tuple, list)):
        return [f for p in part for f in _functions_of(p)]
    return []


#: build name -> why its kernel has no disk cache in this process (a numba-cuda whose internals
#: :mod:`theorysim.cuda.kernel_cache` does not know)
NO_DISK_CACHE: dict = {}


class _Unnamed(Exception):
    """A build part without a name that is the same in every process."""


def _stable(part) -> str:
    if isinstance(part, tuple):
        return "(" + ",".join(_stable(p) for p in part) + ")"
    if isinstance(part, types.FunctionType):
        if part.__closure__ is not None or "<locals>" in part.__qualname__:
            raise _Unnamed  # a function made by a factory: its name does not say what it computes
        return f"{part.__module__}.{part.__qualname__}"
    if part is None or isinstance(part, (bool, int, float, str)):
        return repr(part)
    raise _Unnamed


def build_name(key, loop: str) -> str | None:
    """The kernel's name for the on-disk cache: the loop it runs (``loop``: ``_chunk`` or
    ``_chunk_samples``) and a digest of what :func:`_key` binds into it (the model's kernels by
    module and qualified name, layout, mapping, build-time sizes); None (not cached) when a part
    has no name that is stable across processes.

    Why a name of its own: numba's cache keys a kernel on its Python function (file, line,
    bytecode), which is the same loop for every model, and keeps one index file per function;
    two processes saving different models' kernels into one index could pair one model's key
    with the other's data file. One index per build cannot. The index is dated by what the build is
    compiled from (:func:`theorysim.cuda.kernel_cache.stamp_of`)."""
    try:
        digest = hashlib.sha256(_stable(key).encode()).hexdigest()[:16]
    except _Unnamed:
        return None
    return f"{loop}_{digest}"


def _to_layout(a: np.ndarray, major: bool) -> np.ndarray:
    """``[E, ...]`` -> itself (member-major) or ``[..., E]`` (member-fastest), contiguous."""
    return np.ascontiguousarray(a if major else np.moveaxis(a, 0, -1))


def _from_layout(a: np.ndarray, major: bool) -> np.ndarray:
    return a if major else np.moveaxis(a, -1, 0)


def _member_major(model) -> bool:
    """Member-major storage (``theta[m, i]``): kernels that view slices as matrices need it, and
    one member per block reads its member's arrays from every thread."""
    return bool(model.contiguous_members) or per_block(model)


def sample_threads(model, fdata: np.ndarray, idata: np.ndarray) -> int:
    """Threads per member when one block trains one member: one per sample up to
    :data:`SAMPLE_THREADS` (from the first data row: members share the sample count)."""
    if _cooperative(model):
        return COOPERATIVE_THREADS
    f, i = (fdata[0], idata[0]) if fdata.ndim == 2 else (fdata, idata)
    return max(1, min(SAMPLE_THREADS, int(model.sample_kernels[1](f, i))))


def _scratch_shapes(exp, E: int, P: int, major: bool, threads: int = 0) -> list[tuple]:
    """Shapes of the per-member scratch arrays: gradient, model work, rule work, Hessian, and
    with one member per block of ``threads`` threads, the partial gradients and losses."""
    shapes = [(P,), (max(exp.model.work_size, 1),), (max(exp.rule_work_size, 1),), (exp.hess_size, exp.hess_size)]
    out = [(E, *s) if major else (*s, E) for s in shapes]
    if per_block(exp.model):
        grads = (1, 1) if exp.model.sample_grads_disjoint or _cooperative(exp.model) else (P, threads)
        out += [(E, *grads), (E, threads), (E, max(1, len(exp.model.metric_names)), threads)]
    return out


def _split_rule(exp) -> list:
    """One member per block: the kernel's last argument, 1 for the members whose update the
    block's threads share (a coordinate-wise rule: :func:`~theorysim.optim.family.coordinatewise_members`)."""
    from theorysim.optim.family import coordinatewise_members

    return [coordinatewise_members(exp.rule_id, exp.hyper)] if per_block(exp.model) else []


def _arguments(exp, theta, state, keys, fdata, idata, data_row, offsets, rows, cols, loss0, status, diverged_step,
               records, param_records, scratch):
    """The kernel's arguments in order, chunk bounds as 0 and 1 (the caller sets them)."""
    major = _member_major(exp.model)
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


def compile_ptx(exp, cc=(9, 0), rules: tuple | None = None) -> str:
    """The PTX of ``exp``'s chunk kernel for compute capability ``cc``, compiled without a GPU
    (numba-cuda's NVVM from PyPI): how CI checks that every kernel builds for the real target,
    which the simulator cannot (it runs the Python source)."""
    import numba

    model = exp.model
    E, P = exp.n_members, model.layout.size
    fdata, idata = model.data()
    if fdata.ndim == 1:
        fdata, idata = fdata.reshape(1, -1), idata.reshape(1, -1)
    major = _member_major(model)
    R = exp.steps // exp.record_every + 1
    M = len(model.metric_names)
    threads = sample_threads(model, fdata, idata) if per_block(model) else 0
    args = _arguments(exp, np.zeros((E, P)), np.zeros((E, max(exp.state_rows, 1), P)), np.zeros((E, 2), np.uint64),
                      fdata, idata, np.zeros(E, np.int64), *model.layout.arrays(), np.zeros(E),
                      np.zeros(E, np.int64), np.zeros(E, np.int64), np.zeros((E, R, M)), np.zeros((E, 0, P)),
                      [np.zeros(s) for s in _scratch_shapes(exp, E, P, major, threads)]) + _split_rule(exp)
    signature = tuple(numba.typeof(a) for a in args)
    with _target_device(cc):
        ptx, _ = cuda.compile_ptx(_bound(model, rules), signature, cc=cc)
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


#: the progress bar's note while the kernel is built or loaded from the disk cache
BUILDING = "building the GPU kernel (the first time for a model: minutes; then loaded from the disk cache)"
#: ensembles this process has run on the GPU (what a caller checks to know the GPU was used)
RUNS = [0]
#: seconds this process spent compiling kernels and running them (launches to the last copy back)
SECONDS = {"compile": 0.0, "execute": 0.0}
#: a context manager factory held around each ensemble's launches (not its compile):
#: tools/gpu_check.py sets one that waits for its turn, so that processes compile side by side
#: but run one at a time on the GPU
LAUNCH_GUARD = None


def check_model(model) -> None:
    """Refuse, before any work, a model whose kernels have a known defect on a real GPU
    (``model.gpu_defect``); the simulator runs it (CI's CPU-vs-GPU parity)."""
    import theorysim.cuda as package

    if model.gpu_defect and not package.SIMULATOR:
        raise ValueError(f"backend='cuda': model {model.name!r} is not run on a GPU: {model.gpu_defect}; use backend='cpu'")


def check_memory(nbytes: int, members: int, block: bool) -> None:
    """Refuse, before any allocation, an ensemble whose arrays on the GPU (``nbytes``: parameters,
    state, records, scratch and, one member per block, every thread's partial gradient) exceed the
    GPU's free memory, naming the sizes and what to do (the simulator has no memory to check)."""
    if _simulated():
        return
    free, total = cuda.current_context().get_memory_info()
    if nbytes > free:
        why = " (one member per block keeps a partial gradient per thread)" if block else ""
        raise MemoryError(f"backend='cuda': {members} members need {nbytes / 2**30:.2f} GiB of GPU memory{why}, "
                          f"{free / 2**30:.2f} GiB of {total / 2**30:.2f} GiB are free; run fewer members per call")


def run_chunks(exp, theta, state, keys, fdata, idata, data_row, offsets, rows, cols, bounds, loss0, status,
               diverged_step, records, param_records, bar) -> float:
    """Run ``exp`` (a prepared :class:`~theorysim.engine.experiment.Experiment`) on the GPU, chunk by
    chunk, writing into the same host arrays the CPU engine writes; returns the compile seconds
    (the kernel is compiled for the arguments' types before the first launch)."""
    import contextlib

    import numba

    require_device()
    RUNS[0] += 1
    model = exp.model
    E, P = theta.shape
    major = _member_major(model)
    if per_block(model):
        threads, blocks = sample_threads(model, fdata, idata), E
    else:
        threads = min(THREADS_PER_BLOCK, E)
        blocks = (E + threads - 1) // threads
    shapes = _scratch_shapes(exp, E, P, major, threads)
    host = _arguments(exp, theta, state, keys, fdata, idata, data_row, offsets, rows, cols, loss0, status,
                      diverged_step, records, param_records, [])
    extra = _split_rule(exp)
    check_memory(sum(a.nbytes for a in host + extra if isinstance(a, np.ndarray))
                 + 8 * sum(math.prod(s) for s in shapes), E, per_block(model))
    scratch = [cuda.device_array(s) for s in shapes]
    args = ([cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in host] + scratch
            + [cuda.to_device(a) for a in extra])
    d_theta, d_state, d_loss0, d_status, d_div, d_records, d_params = (args[i] for i in (0, 1, 20, 21, 22, 23, 24))
    t0 = time.perf_counter()
    if bar is not None:  # a first build takes minutes with the bar at 0: say why
        bar.set_postfix_str(BUILDING, refresh=True)
    kernel = kernel_for(model, kernel_rules(exp))
    if not _simulated():  # compile now, so that the launches below time the run alone
        kernel.compile(tuple(numba.typeof(a) for a in args))
    if bar is not None:
        bar.set_postfix_str("", refresh=False)
    compile_seconds = time.perf_counter() - t0
    SECONDS["compile"] += compile_seconds
    with (LAUNCH_GUARD or contextlib.nullcontext)():
        t0 = time.perf_counter()
        for c in range(len(bounds) - 1):
            args[15], args[16] = int(bounds[c]), int(bounds[c + 1])
            kernel[blocks, threads](*args)
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
        SECONDS["execute"] += time.perf_counter() - t0
    return compile_seconds


def _simulated() -> bool:
    import theorysim.cuda as package

    return bool(package.SIMULATOR)
