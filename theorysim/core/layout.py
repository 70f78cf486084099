"""Named blocks over one flat float64 parameter vector.

One ensemble member's parameters are one contiguous vector of length ``P``; a :class:`Layout`
names its blocks (``{"X": (n, k), "b": (k,)}``) in order. Kernels receive the layout as three
int64 arrays ``offsets``, ``rows``, ``cols`` (``cols == 0`` marks a vector or scalar block; see
:meth:`Layout.arrays`), so matrix-aware rules (Muon, LAMB, LARS, AdamP) can act per block.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np


@dataclass(frozen=True)
class Block:
    name: str
    shape: tuple[int, ...]
    offset: int

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def is_matrix(self) -> bool:
        return len(self.shape) == 2


@dataclass(frozen=True)
class Layout:
    """Ordered named blocks packed into one flat vector (row-major inside each block)."""

    blocks: tuple[Block, ...] = field(default=())

    @classmethod
    def of(cls, spec: Mapping[str, tuple[int, ...] | int]) -> "Layout":
        """Build from ``{name: shape}`` in insertion order; an int shape means a vector."""
        if not isinstance(spec, Mapping) or len(spec) == 0:
            raise ValueError(f"layout: expected a non-empty mapping name -> shape, got {spec!r}")
        blocks, offset = [], 0
        for name, shape in spec.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"layout block name {name!r}: expected an identifier")
            shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
            if len(shape) > 2 or any((not isinstance(s, (int, np.integer))) or s < 1 for s in shape):
                raise ValueError(
                    f"layout block {name!r} shape {shape!r}: expected () or 1 or 2 positive integers"
                )
            block = Block(name, tuple(int(s) for s in shape), offset)
            blocks.append(block)
            offset += block.size
        return cls(tuple(blocks))

    @property
    def size(self) -> int:
        """Total parameter count P."""
        return sum(b.size for b in self.blocks)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.blocks)

    def __getitem__(self, name: str) -> Block:
        for b in self.blocks:
            if b.name == name:
                return b
        raise KeyError(f"layout has no block {name!r}; blocks: {', '.join(self.names)}")

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(offsets, rows, cols)`` as int64 arrays for kernels.

        A matrix block ``(r, c)`` gives rows ``r`` and cols ``c``; a vector ``(n,)`` gives rows
        ``n`` and cols ``0`` (cols 0 marks "not a matrix", which Muon and friends rely on); a
        scalar gives rows 1, cols 0.
        """
        offsets = np.array([b.offset for b in self.blocks], dtype=np.int64)
        rows = np.array([b.shape[0] if b.shape else 1 for b in self.blocks], dtype=np.int64)
        cols = np.array([b.shape[1] if b.is_matrix else 0 for b in self.blocks], dtype=np.int64)
        return offsets, rows, cols

    def unpack(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Views of ``flat[..., P]`` as ``{name: array[..., *shape]}`` (leading axes kept)."""
        flat = np.asarray(flat)
        if flat.shape[-1] != self.size:
            raise ValueError(f"unpack: last axis has length {flat.shape[-1]}, layout size is {self.size}")
        lead = flat.shape[:-1]
        return {
            b.name: flat[..., b.offset : b.offset + b.size].reshape(lead + b.shape) for b in self.blocks
        }

    def pack(self, params: Mapping[str, np.ndarray], lead: tuple[int, ...] = ()) -> np.ndarray:
        """Inverse of :meth:`unpack`: a float64 array ``[*lead, P]``."""
        missing = [n for n in self.names if n not in params]
        extra = [n for n in params if n not in self.names]
        if missing or extra:
            raise ValueError(
                f"pack: blocks missing {missing} / unknown {extra}; layout blocks: {list(self.names)}"
            )
        out = np.empty(lead + (self.size,), dtype=np.float64)
        for b in self.blocks:
            value = np.asarray(params[b.name], dtype=np.float64)
            if value.shape != lead + b.shape:
                raise ValueError(f"pack: block {b.name!r} has shape {value.shape}, expected {lead + b.shape}")
            out[..., b.offset : b.offset + b.size] = value.reshape(lead + (b.size,))
        return out
