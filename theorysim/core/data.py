"""Model data as two flat buffers, so that every model's kernels share one signature.

``pack(a0, a1, ...)`` puts float arrays (1-d or 2-d) into one float64 buffer and integer arrays
into one int64 buffer whose header says where each entry lives::

    idata[0] = number of entries K
    idata[1 + 5k : 6 + 5k] = (kind, offset, ndim, d0, d1)   kind 0: float64 in fdata, 1: int64 in idata

Kernels get views back with :func:`farray1`, :func:`farray2`, :func:`farray_flat`, :func:`iarray1`
(no copies; the same code runs in CUDA device functions).

Per-member data (a data set per ensemble member) is :func:`pack_members`: one packed row per
member, all of the same layout (arrays of equal shapes: pad to the largest size and pass the used
size as an integer entry), stacked into ``fdata[E, F]`` and ``idata[E, I]``; the engine hands member
m its row, so kernels are written once for both cases.
"""
from __future__ import annotations

import numpy as np

from theorysim.core.config import CACHE, jit, returns_view


def pack(*arrays) -> tuple[np.ndarray, np.ndarray]:
    """``(fdata, idata)`` holding the given arrays, in order (entry k is the k-th argument)."""
    K = len(arrays)
    header = np.zeros(1 + 5 * K, dtype=np.int64)
    header[0] = K
    floats, ints = [], []
    f_off, i_off = 0, len(header)
    for k, a in enumerate(arrays):
        a = np.asarray(a)
        if a.ndim not in (1, 2):
            raise ValueError(f"data entry {k}: expected a 1-d or 2-d array, got shape {a.shape}")
        d0, d1 = (a.shape[0], 0) if a.ndim == 1 else a.shape
        if np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
            header[1 + 5 * k : 6 + 5 * k] = (1, i_off, a.ndim, d0, d1)
            ints.append(a.astype(np.int64).ravel())
            i_off += a.size
        else:
            header[1 + 5 * k : 6 + 5 * k] = (0, f_off, a.ndim, d0, d1)
            floats.append(np.ascontiguousarray(real_array(f"data entry {k}", a)).ravel())
            f_off += a.size
    fdata = np.concatenate(floats) if floats else np.zeros(1)
    idata = np.concatenate([header] + ints)
    return np.ascontiguousarray(fdata), np.ascontiguousarray(idata)


def real_array(name: str, value, finite: bool = False, **kwargs) -> np.ndarray:
    """``value`` as a float64 array, refusing in one line what a plain ``np.asarray`` would change
    silently: complex values (numpy drops the imaginary part with only a warning), non-numbers,
    and, with ``finite``, NaN or infinity. ``kwargs`` go to ``np.array`` (``copy``, ``order``)."""
    raw = np.asarray(value)
    if np.iscomplexobj(raw):
        raise ValueError(f"{name}: complex values (dtype {raw.dtype}); expected real numbers")
    if not (np.issubdtype(raw.dtype, np.number) or raw.dtype == np.bool_):
        raise ValueError(f"{name}: dtype {raw.dtype}; expected real numbers")
    arr = np.array(raw, dtype=np.float64, **kwargs) if kwargs else np.asarray(raw, dtype=np.float64)
    if finite and not np.all(np.isfinite(arr)):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{name}: {float(arr[where])!r} at index {where}; expected finite values")
    return arr


def pack_members(members) -> tuple[np.ndarray, np.ndarray]:
    """``(fdata[E, F], idata[E, I])``: row m packs ``members[m]`` (a tuple of arrays, as for
    :func:`pack`); every member's arrays must have the same shapes and kinds."""
    rows = [pack(*arrays) for arrays in members]
    if not rows:
        raise ValueError("pack_members: expected at least one member")
    f0, i0 = rows[0]
    head = int(i0[0]) * 5 + 1
    for m, (f, i) in enumerate(rows):
        if f.shape != f0.shape or i.shape != i0.shape or not np.array_equal(i[:head], i0[:head]):
            raise ValueError(f"pack_members: member {m}'s arrays differ in shape or kind from member 0's "
                             "(pad every member's data to one shape)")
    return np.ascontiguousarray(np.stack([f for f, _ in rows])), np.ascontiguousarray(np.stack([i for _, i in rows]))


@returns_view
@jit(cache=CACHE)
def farray1(fdata, idata, k):
    o = idata[2 + 5 * k]
    return fdata[o : o + idata[4 + 5 * k]]


@returns_view
@jit(cache=CACHE)
def farray2(fdata, idata, k):
    o = idata[2 + 5 * k]
    d0 = idata[4 + 5 * k]
    d1 = idata[5 + 5 * k]
    return fdata[o : o + d0 * d1].reshape((d0, d1))


@returns_view
@jit(cache=CACHE)
def farray_flat(fdata, idata, k):
    """Float entry ``k`` as one flat 1-d view, whatever its number of dimensions."""
    o = idata[2 + 5 * k]
    n = idata[4 + 5 * k] if idata[3 + 5 * k] == 1 else idata[4 + 5 * k] * idata[5 + 5 * k]
    return fdata[o : o + n]


@returns_view
@jit(cache=CACHE)
def iarray1(idata, k):
    o = idata[2 + 5 * k]
    return idata[o : o + idata[4 + 5 * k]]


def unpack(fdata: np.ndarray, idata: np.ndarray) -> list[np.ndarray]:
    """The arrays back, in Python (for oracles and tests)."""
    out = []
    for k in range(int(idata[0])):
        kind, o, ndim, d0, d1 = (int(x) for x in idata[1 + 5 * k : 6 + 5 * k])
        n = d0 * (d1 if ndim == 2 else 1)
        src = fdata if kind == 0 else idata
        a = src[o : o + n]
        out.append(a.reshape((d0, d1)) if ndim == 2 else a)
    return out
