"""The workloads' specifications and shared data, gathered from the setups that declare them, as
one namespace ``W`` for the side-by-side runner (W1: matrix sensing, W2: in-context LSA, W3: XOR)."""
from types import SimpleNamespace

from theorysim.setups.icl import bench as _icl
from theorysim.setups.matrix_sensing import bench as _sensing
from theorysim.setups.xor_grokking import bench as _xor

W = SimpleNamespace(**{k: v for mod in (_sensing, _icl, _xor) for k, v in vars(mod).items() if not k.startswith("_")})
