"""The CPU kernels' Python source, compiled for ``numba.cuda``: one algorithm, two targets.

:func:`device` takes a Numba CPU function (a rule, a model kernel, an RNG helper) and returns a
CUDA device function compiled from the very same Python code object, with its globals re-bound:
every Numba function it calls becomes that function's device version (recursively), and every
theorysim module it reaches through an attribute (``rng.fill_normal``, ``S.LR``) becomes a proxy
module whose functions are device versions and whose constants are the same. Where the CPU code
uses something the GPU does not have, :data:`OVERRIDES` names the replacement, written once more
in plain scalar code:

- ``core.rng.mulhilo64`` (an LLVM i128 intrinsic on the CPU) -> ``mulhilo64_portable``;
- ``optim.sorting.sort_in_place`` (numpy's sort on the CPU) -> a heapsort (the sorted values,
  hence every quantile computed from them, are identical);
- ``core.block.barrier`` (nothing on the CPU) -> ``cuda.syncthreads()`` when the block has more than one thread;
- ``optim.dispatch.dispatch`` (``literal_unroll`` over first-class functions) -> an explicit
  if/elif over the rule id, generated from the same registration table;
- whatever a model registers with :func:`theorysim.core.config.gpu_version` (the two-layer ReLU's
  BLAS products -> loops).

numba-cuda does not accept device functions as kernel arguments (checked on an H200 with
numba-cuda 0.30.4: ``NotImplementedError`` for the ``CUDADispatcher`` type), so the engine's
kernel is re-bound the same way, once per model (:func:`with_globals`).
"""
from __future__ import annotations

import types

from numba.core.dispatcher import Dispatcher

from theorysim.core.config import RETURNS_VIEW, returns_view  # noqa: F401 (returns_view re-exported)
from theorysim.cuda import cuda

_DEVICE: dict = {}
_PROXIES: dict = {}


def _overrides() -> dict:
    from theorysim.core import block, rng
    from theorysim.cuda import device_only
    from theorysim.optim import dispatch, sorting

    from theorysim.core.config import GPU_VERSIONS

    return {rng.mulhilo64.py_func: rng.mulhilo64_portable.py_func,
            sorting.sort_in_place.py_func: device_only.heapsort,
            block.barrier.py_func: device_only.barrier,
            dispatch.dispatch.py_func: _rule_switch(dispatch.KERNELS),
            **GPU_VERSIONS}


def _rule_switch(kernels, ids=None):
    """The rule dispatch as an explicit if/elif over the rule id (the CPU version unrolls a tuple
    of first-class functions, which the CUDA target does not type); same order, same ids. With
    ``ids``: only those rules (any other id does nothing)."""
    ids = list(range(len(kernels))) if ids is None else list(ids)
    args = "theta, grad, state, hyper, lr, t, offsets, rows, cols, k0, k1, work, hess"
    lines = [f"def dispatch(rule_id, {args}):"]
    for n, i in enumerate(ids):
        lines += [f"    {'if' if n == 0 else 'elif'} rule_id == {i}:", f"        rule_{i}({args})"]
    if not ids:
        lines.append("    pass")
    namespace = {f"rule_{i}": kernels[i] for i in ids}
    exec("\n".join(lines), namespace)
    return namespace["dispatch"]


_SWITCHES: dict = {}


def _switch(ids: tuple):
    """The device rule switch over rule ids ``ids`` (one per distinct set, so that :func:`device`
    compiles each once)."""
    if ids not in _SWITCHES:
        from theorysim.optim import dispatch

        _SWITCHES[ids] = device(_rule_switch(dispatch.KERNELS, ids))
    return _SWITCHES[ids]


_UPDATES: dict = {}


def rule_update(ids: tuple | None = None):
    """The device version of :func:`theorysim.optim.dispatch.apply_rule` (clipping, then the rule
    by id) with the rules ``ids`` compiled in (None: all of them, the one switch every model's
    kernel shares). A kernel compiled with fewer rules compiles faster (W1's sm_90 build, typing
    + NVVM + ptxas: 35.7 s with all 22 rules, 10.2 s with SGD alone, on the 2-core build machine)
    and leaves members of any other rule untouched, so the engine passes the ids its members use."""
    from theorysim.optim.dispatch import apply_rule

    if ids is None:
        return device(apply_rule)
    ids = tuple(sorted(ids))
    if ids not in _UPDATES:
        _UPDATES[ids] = cuda.jit(device=True)(with_globals(apply_rule, {"dispatch": _switch(ids)}))
    return _UPDATES[ids]


def coordinatewise_dispatch(ids: tuple | None = None):
    """The device function that runs a coordinate-wise rule by id (``OptimizerSpec.coordinatewise``;
    no clipping, which such members never have): what the one-member-per-block kernel calls on
    each thread's share of the coordinates. Only those rules are compiled into it (6 of 22
    kernels; with ``ids``, only those of them), so the split path adds little to a kernel's
    compile time."""
    from theorysim.optim.family import coordinatewise_rule_ids

    admitted = coordinatewise_rule_ids()
    return _switch(tuple(i for i in admitted if ids is None or i in ids))


OVERRIDES: dict = {}


def _python(fn):
    return fn.py_func if isinstance(fn, Dispatcher) else fn


def _views() -> set:
    import theorysim.core.data  # noqa: F401 (its accessors mark themselves)

    return RETURNS_VIEW


def device(fn):
    """The CUDA device version of Numba function (or plain Python function) ``fn``."""
    from theorysim.core.config import GPU_VERSIONS

    if not OVERRIDES or any(k not in OVERRIDES for k in GPU_VERSIONS):  # models register theirs on import
        OVERRIDES.update(_overrides())
    py = _python(fn)
    py = OVERRIDES.get(py, py)
    if py not in _DEVICE:
        _DEVICE[py] = None  # a recursion guard; theorysim's kernels are not recursive
        options = {"inline": "always"} if py in _views() else {}
        _DEVICE[py] = cuda.jit(device=True, **options)(with_globals(py, {}))
    dev = _DEVICE[py]
    if dev is None:
        raise RuntimeError(f"{py.__qualname__}: recursive kernels cannot be retargeted")
    return dev


def _names(code) -> set[str]:
    out = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out |= _names(const)
    return out


def _convert(value):
    if isinstance(value, Dispatcher):
        return device(value)
    if isinstance(value, types.FunctionType) and value.__module__ == "theorysim.cuda.device_only":
        return device(value)
    if isinstance(value, types.ModuleType) and value.__name__.startswith("theorysim."):
        return _proxy(value)
    return value


def _proxy(module: types.ModuleType) -> types.ModuleType:
    """A stand-in module: its Numba functions as device functions, everything else as is."""
    if module.__name__ not in _PROXIES:
        proxy = types.ModuleType(module.__name__ + "__cuda")
        _PROXIES[module.__name__] = proxy
        for name, value in vars(module).items():  # device() compiles lazily: this only binds names
            if isinstance(value, Dispatcher):
                setattr(proxy, name, device(value))
            elif not isinstance(value, types.ModuleType):
                setattr(proxy, name, value)
    return _PROXIES[module.__name__]


def with_globals(fn, extra: dict):
    """A copy of Python function ``fn`` whose globals are re-bound for the GPU, plus ``extra``."""
    py = _python(fn)
    glb = dict(py.__globals__)
    for name in _names(py.__code__):
        if name in glb and name not in extra:  # (what extra replaces is not made a device function)
            glb[name] = _convert(glb[name])
    glb.update(extra)
    return types.FunctionType(py.__code__, glb, py.__name__, py.__defaults__, py.__closure__)
