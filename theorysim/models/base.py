"""The model contract the engine trains.

A model is a Python object holding its data and two or three Numba kernels with the fixed
signatures of :mod:`theorysim.engine.loop` (the engine calls them through pointers, so one
compiled training loop serves every model):

``loss_grad(theta[P], fdata, idata, mh[Hm], k0, k1, t, grad_out[P], work[W]) -> loss``
    loss at the iterate ``theta`` and its gradient (or a stochastic estimate) written to
    ``grad_out``; ``t`` is the update index (1..T) and ``(k0, k1)`` the member's Philox key, so
    a stochastic model draws its batch or noise with counter ``(block, t, stream, sub)``.
    ``work`` is a scratch buffer of ``work_size`` floats allocated once per member.
``metrics(theta[P], fdata, idata, mh[Hm], out[M], work[W]) -> 0.0``
    the recorded quantities (``metric_names``), deterministic; scratch comes from ``work`` (so
    ``work_size`` covers both kernels): no kernel allocates, which is what lets the same source
    compile for CUDA device code.
``hessian(theta[P], fdata, idata, mh[Hm], out[P, P]) -> 0.0`` (optional)
    the Hessian of the loss, for Newton's method.

``(fdata, idata)`` is the model's data packed by :func:`theorysim.core.data.pack` (kernels unpack
views with ``farray1/farray2/iarray1``). It is shared by all members, or, for a model with
per-member data (``data_members = E``; :func:`theorysim.core.data.pack_members`), one packed row per
member of identical layout, of which the engine hands member m row m (the kernels are the same:
they see one member's buffers either way). ``mh`` is the member's row of model
hyperparameters (``hyper_spec``: noise level, init scale, ...), which are data like the
optimizer's, so a sweep over them does not recompile.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from theorysim.core.bounds import Bound
from theorysim.core.config import jit
from theorysim.core.layout import Layout


@jit
def no_hessian(theta, fdata, idata, mh, out):
    """Stand-in Hessian kernel for models without one (never called: Experiment refuses Newton)."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = math.nan
    return 0.0


class Model:
    """Base class: subclasses set the attributes below and implement :meth:`init` and the oracle."""

    name: str = "model"
    layout: Layout
    metric_names: tuple[str, ...] = ("loss",)
    #: name -> (default, Bound) of per-member model hyperparameters, in kernel order
    hyper_spec: Mapping[str, tuple[float, Bound]] = {}
    #: (loss_grad, metrics, hessian or None): Numba functions with the engine's signatures
    kernels: tuple
    work_size: int = 1
    #: the kernels call BLAS (np.dot): the engine then runs BLAS single-threaded while its own
    #: threads train several members at once (nested thread pools oversubscribe the cores)
    uses_blas: bool = False
    #: 0 when every member shares the data; E when the model carries E data sets, one per member
    data_members: int = 0
    #: the kernels reshape slices of theta, grad or work into matrices, so each member's arrays
    #: must be contiguous (the GPU engine then stores members major instead of fastest)
    contiguous_members: bool = False
    #: (partial_loss_grad, n_samples) when the loss is a sum over samples (prompts, batch rows)
    #: divided by their count: ``partial_loss_grad(theta, fdata, idata, mh, k0, k1, t, grad, work,
    #: first, stride)`` adds the gradient terms of samples first, first + stride, ... to ``grad``
    #: and returns the sum of their loss terms; ``n_samples(fdata, idata)`` is the count. The loss
    #: kernel must equal zeroing ``grad``, then ``partial_loss_grad(..., 0, 1) / n_samples``. The
    #: GPU engine then trains one member per block, its threads sharing the samples (empty: one
    #: member per thread). Optionally two more: ``partial_metrics(theta, fdata, idata, mh, out,
    #: work, first, stride)`` adds the evaluation samples' sums to ``out`` and
    #: ``finish_metrics(out, fdata, idata)`` turns the totals into the metrics; the metrics kernel
    #: must equal zeroing ``out``, ``partial_metrics(..., 0, 1)``, ``finish_metrics``. Without
    #: them one thread of the block computes the metrics.
    sample_kernels: tuple = ()
    #: with ``sample_kernels``: each sample's gradient terms fall on coordinates no other sample's
    #: touch (XOR's span form: sample i owns row i of the coefficient gradient), and
    #: ``partial_loss_grad`` may write them instead of adding. The GPU then zeroes one gradient per
    #: member and every thread writes its samples' rows into it: no partial gradient per thread
    #: (which would cost P doubles per thread) and no sum over threads.
    sample_grads_disjoint: bool = False
    #: with ``sample_kernels``: the scratch floats ``partial_loss_grad`` and ``partial_metrics``
    #: use from their ``work`` (each GPU thread holds its own); 0: ``work_size``
    sample_work_size: int = 0
    #: a kernel the threads of a GPU block run together, ``block_loss_grad(theta, fdata, idata, mh,
    #: k0, k1, t, grad, work, j, S)`` (:mod:`theorysim.core.block`): thread j of S does its share of
    #: each phase, ``barrier(S)`` between phases, ``work`` is the member's one scratch (shared by the
    #: threads), and thread 0 returns the loss. The loss kernel must be this kernel with j = 0,
    #: S = 1. The GPU then trains one member per block of ``COOPERATIVE_THREADS`` threads (None: a
    #: model without one). Set on a class, wrap it in ``staticmethod`` (a Numba function would bind
    #: as a method).
    block_loss_grad = None
    #: a known defect of this model's kernels on a real GPU (empty: none known). Such a model stays
    #: on the CPU under the session default, and an explicit backend="cuda" is refused with this
    #: text (the CUDA simulator still runs it: that is where CI compares it with the CPU).
    gpu_defect: str = ""

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """``(fdata, idata)`` from :func:`theorysim.core.data.pack` (1-d, shared), or ``[E, F]`` and
        ``[E, I]`` from :func:`theorysim.core.data.pack_members` when ``data_members = E``."""
        raise NotImplementedError

    def for_member(self, m: int) -> "Model":
        """The model member ``m`` trains (its own data set); the numpy oracle runs member m on it.
        Models with shared data return themselves."""
        return self

    @property
    def has_hessian(self) -> bool:
        return len(self.kernels) > 2 and self.kernels[2] is not None

    def init(self, seeds: np.ndarray, mh: np.ndarray) -> np.ndarray:
        """Initial parameters ``[E, P]`` for member seeds ``[E]`` and model hyper rows ``[E, Hm]``."""
        raise NotImplementedError

    def check_optimizer(self, spec, resolved: Mapping[str, Any], where: str = "") -> None:
        """Raise ValueError if the model cannot be trained by optimizer ``spec`` with the resolved
        hyperparameters (default: every rule is allowed)."""

    def config(self) -> dict[str, Any]:
        """A JSON-able description (shapes and scalars; not the data itself)."""
        return {"name": self.name, "layout": {b.name: list(b.shape) for b in self.layout.blocks}}

    # ---- per-member hyperparameters -------------------------------------------------------
    def hyper_row(self, values: Mapping[str, Any], where: str = "") -> np.ndarray:
        unknown = [k for k in values if k not in self.hyper_spec]
        if unknown:
            raise ValueError(
                f"{where}model {self.name!r} has no hyperparameter {unknown[0]!r}; "
                f"valid: {', '.join(self.hyper_spec) or '(none)'}"
            )
        row = np.zeros(max(1, len(self.hyper_spec)), dtype=np.float64)
        for i, (key, (default, bound)) in enumerate(self.hyper_spec.items()):
            row[i] = bound.check(f"{where}{key}", values.get(key, default))
        return row

    def hyper_index(self, key: str) -> int:
        return list(self.hyper_spec).index(key)

    # ---- numpy oracle ----------------------------------------------------------------------
    def loss_grad_numpy(self, theta: np.ndarray, mh: np.ndarray, key: np.ndarray, t: int):
        """Plain-numpy ``(loss, grad)`` matching the kernel (the test oracle)."""
        raise NotImplementedError

    def metrics_numpy(self, theta: np.ndarray, mh: np.ndarray) -> np.ndarray:
        raise NotImplementedError
