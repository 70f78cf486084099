"""When a cached kernel is stale: the source of the jitted functions it depends on, nothing else.

Numba dates a cached function by its own file's mtime and size. That is wrong both ways for
theorysim: an edit to a jitted helper in another file (a rule, the RNG, a packing helper) leaves
its callers' cached machine code stale, and an edit anywhere in a kernel's file (a docstring, a
claim's note beside it) drops every kernel of that file. The stamp here is the sha256 of:

* the source text of the function and of every jitted function it reaches, transitively: the
  Numba dispatchers it names as globals (``helper(...)``, ``module.helper(...)``), in closure cells
  and in global tuples of functions;
* the values of the plain constants it names (numbers, strings, tuples of them, numpy arrays):
  Numba freezes those into the machine code.

A kernel outside theorysim that calls theorysim's helpers (a plugin's model) is stamped the same
way when it is built through :func:`theorysim.core.config.jit`. The stamp is computed when the
cache is first read or written (on the first call), when every global it names exists, and is
stored as a plain string in the cache index (``LazyStamp.__reduce__``).

One thing still moves a cache entry: Numba names its cache files by the function's first line, so
an edit that moves a kernel's ``def`` line (lines added above it in its own file) compiles that
kernel again.
"""
from __future__ import annotations

import hashlib
import inspect
import types

import numpy as np
from numba.core import caching
from numba.core.dispatcher import Dispatcher

#: the Python functions built through config.jit (whose caches use the stamp)
STAMPED: set = set()


def _py_func(obj):
    return obj.py_func if isinstance(obj, Dispatcher) else None


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _constant_bytes(value) -> bytes | None:
    """What Numba would freeze into the code for a global constant (None: not a constant)."""
    if isinstance(value, (bool, int, float, complex, str, bytes, type(None))):
        return repr(value).encode()
    if isinstance(value, np.ndarray):
        return repr((value.dtype.str, value.shape)).encode() + np.ascontiguousarray(value).tobytes()
    if isinstance(value, np.generic):
        return repr((value.dtype.str, value.item())).encode()
    if isinstance(value, tuple) and all(_constant_bytes(v) is not None for v in value):
        return b"(" + b",".join(_constant_bytes(v) for v in value) + b")"
    return None


_REFERENCED: dict = {}


def _referenced(fn) -> tuple[list, list[tuple[str, bytes]]]:
    """(the Python functions of the dispatchers ``fn`` names, its named constants); memoised per
    function object (a function's globals are read once per process)."""
    key = id(fn)
    if key in _REFERENCED and _REFERENCED[key][0] is fn:
        return _REFERENCED[key][1]
    funcs, consts = [], []
    globs = getattr(fn, "__globals__", {})
    values = []
    for name in sorted(_code_names(fn.__code__)):
        if name in globs:
            values.append((name, globs[name]))
        for owner in globs.values():  # module.helper: the attribute's name is in co_names too
            if isinstance(owner, types.ModuleType) and isinstance(getattr(owner, name, None), Dispatcher):
                values.append((f"{owner.__name__}.{name}", getattr(owner, name)))
    for i, cell in enumerate(fn.__closure__ or ()):
        try:
            values.append((f"<closure {i}>", cell.cell_contents))
        except ValueError:  # an empty cell
            continue
    for name, value in values:
        items = value if isinstance(value, (tuple, list)) else (value,)
        for item in items:
            inner = _py_func(item)
            if inner is not None:
                funcs.append(inner)
        data = _constant_bytes(value)
        if data is not None:
            consts.append((name, data))
    _REFERENCED[key] = (fn, (funcs, consts))
    return funcs, consts


_OWN: dict = {}


def _own_hash(fn) -> bytes:
    """sha256 of what ``fn`` alone contributes: its name, source and the constants it reads (memoised)."""
    key = id(fn)
    if key not in _OWN or _OWN[key][0] is not fn:
        h = hashlib.sha256(f"{fn.__module__}.{fn.__qualname__}\n".encode())
        h.update(_source(fn))
        for name, data in _referenced(fn)[1]:
            h.update(name.encode() + b"=" + data + b"\n")
        _OWN[key] = (fn, h.digest())
    return _OWN[key][1]


def _source(fn) -> bytes:
    try:
        return inspect.getsource(fn).encode()
    except (OSError, TypeError):  # generated code: its bytecode and constants
        code = fn.__code__
        return code.co_code + repr(code.co_consts).encode() + repr(code.co_names).encode()


def dependencies(fn) -> list:
    """``fn`` and every jitted function it reaches (Python functions), in a stable order."""
    seen: dict = {}
    stack = [fn]
    while stack:
        f = stack.pop()
        key = id(f)
        if key in seen:
            continue
        seen[key] = f
        stack.extend(_referenced(f)[0])
    return sorted(seen.values(), key=lambda f: (f.__module__ or "", f.__qualname__, f.__code__.co_firstlineno))


def digest(fn) -> str:
    """The stamp of ``fn``'s cache entries (module docstring)."""
    h = hashlib.sha256()
    for f in dependencies(fn):
        h.update(_own_hash(f))
    return h.hexdigest()


class LazyStamp:
    """The stamp, computed on the first comparison or save (every global exists by then) and
    stored in the index as the plain string."""

    def __init__(self, fn):
        self._fn = fn
        self._value = None

    def value(self) -> str:
        if self._value is None:
            self._value = digest(self._fn)
        return self._value

    def __eq__(self, other):
        if isinstance(other, LazyStamp):
            other = other.value()
        return isinstance(other, str) and other == self.value()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.value())

    def __reduce__(self):
        return (str, (self.value(),))


class _Stamped:
    """A locator mixin: the dependency stamp instead of the file's mtime, for functions in STAMPED."""

    def get_source_stamp(self):
        return LazyStamp(self._theorysim_fn)

    @classmethod
    def from_function(cls, py_func, py_file):
        if py_func not in STAMPED:
            return None
        self = super().from_function(py_func, py_file)
        if self is not None:
            self._theorysim_fn = py_func
        return self


class InTreeLocator(_Stamped, caching.InTreeCacheLocator):
    """``__pycache__`` beside the source (an editable install)."""


class UserWideLocator(_Stamped, caching.UserWideCacheLocator):
    """The user's cache folder (a read-only install)."""


def install() -> None:
    """Put the stamped locators first in Numba's list (they decline every function not in STAMPED)."""
    classes = caching.CacheImpl._locator_classes
    for cls in (UserWideLocator, InTreeLocator):
        if cls not in classes:
            classes.insert(0, cls)


def stamp(fn):
    """Register a Python function (before Numba builds its dispatcher) for the dependency stamp."""
    STAMPED.add(fn)
    return fn
