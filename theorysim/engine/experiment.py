"""``Experiment``: a model, an optimizer (or several), hyperparameters and seeds -> one ensemble run.

Every hyperparameter, the seed and the optimizer itself may be a scalar (shared by all members)
or a sequence of length E (one value per member); :func:`grid` builds the cartesian product of
several axes as such sequences. Members that share a seed see the same random numbers.
"""
from __future__ import annotations

import itertools
import sys
import time
from typing import Any, Mapping, Sequence

import numba
import numpy as np

from theorysim.core import config, rng
from theorysim.core.data import real_array
from theorysim.engine import loop
from theorysim.engine.result import Result
from theorysim.models.base import Model, no_hessian
from theorysim.optim import schedules
from theorysim.optim.dispatch import work_size
from theorysim.optim.registry import PAIRS, Optimizer, OptimizerSpec, get


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def grid(**axes) -> dict[str, list]:
    """Cartesian product of axes as per-member lists: ``grid(lr=[.1, .2], seeds=range(3))``."""
    if not axes:
        raise ValueError("grid: expected at least one axis")
    keys = list(axes)
    values = []
    for k in keys:
        v = axes[k]
        if isinstance(v, (str, bytes, Mapping, set, frozenset)) or not hasattr(v, "__iter__"):
            what = "a mapping (its keys would be the values)" if isinstance(v, Mapping) else (
                "a set (no fixed order)" if isinstance(v, (set, frozenset)) else "not a sequence")
            raise ValueError(f"grid axis {k}={_short(v)}: {what}; expected a sequence of values (a list, tuple, "
                             "range or 1-d array)")
        values.append(list(v))
        if not values[-1]:
            raise ValueError(f"grid axis {k!r} is empty")
    combos = list(itertools.product(*values))
    return {k: [c[i] for c in combos] for i, k in enumerate(keys)}


def _is_member_sequence(key: str, value: Any) -> bool:
    """Whether ``value`` gives one value per member (``betas`` pairs are single values)."""
    if isinstance(value, (str, bytes, Mapping, Optimizer)):
        return False
    if isinstance(value, np.ndarray):
        return value.ndim >= 1 and not (key in PAIRS and value.ndim == 1)
    if isinstance(value, (list, tuple, range)):
        if key in PAIRS:
            return len(value) > 0 and isinstance(value[0], (list, tuple, np.ndarray))
        return True
    return False


class Experiment:
    """One ensemble run of ``model`` trained by ``optimizer`` for ``steps`` updates.

    Parameters
    ----------
    model : Model
    optimizer : name, :class:`~theorysim.optim.Optimizer`, or a sequence of those (per member)
    steps : number of updates T (iterates 0..T)
    seeds : int or sequence of ints (per member)
    record_every : record the model's metrics at iterates 0, k, 2k, ... (k = record_every)
    schedule : learning-rate schedule (name, ``{"kind": ..., ...}``, array of length T, or a
        sequence of those per member); the rate of update t is ``lr * schedule[t-1]``
    divergence_factor : a member whose loss exceeds this times its initial loss (or is not
        finite) is marked diverged at that iterate and stopped; ``0`` keeps only the finiteness test
    record_params : also record the full parameter vector at every record step
    progress : show a progress bar (default: when stderr is a terminal)
    model_hyper : model hyperparameters by name (see ``model.hyper_spec``), each a scalar or a
        per-member sequence; the explicit form, needed when a name is also a keyword of the optimizer
    backend : ``"cpu"`` (the Numba engine) or ``"cuda"`` (the same run on a GPU through
        ``numba.cuda``, :mod:`theorysim.cuda.engine`; needs ``pip install 'theorysim[cuda]'``);
        default: the session's (:func:`theorysim.core.config.set_backend`, ``"cpu"`` unless set),
        except that models whose kernels are BLAS products (``uses_blas``) then stay on the CPU
    **hyper : optimizer hyperparameters (``lr``, ``momentum``, ``betas``, ...) and model
        hyperparameters, each a scalar or a per-member sequence. A name that both the model and
        the chosen optimizer take (``alpha``: the matrix-sensing init scale and RMSprop's smoothing)
        is refused with a ValueError naming both: give the model's in ``model_hyper``.

    A model with per-member data (``model.data_members = E``) fixes the ensemble size to E:
    member m trains on data set m.
    """

    def __init__(
        self,
        model: Model,
        optimizer: str | Optimizer | Sequence[str | Optimizer] = "sgd",
        *,
        steps: int,
        seeds: int | Sequence[int] = 0,
        record_every: int = 1,
        schedule=None,
        divergence_factor: float = 1e12,
        record_params: bool = False,
        progress: bool | None = None,
        model_hyper: Mapping[str, Any] | None = None,
        backend: str | None = None,
        **hyper,
    ):
        if backend is None:  # the session default (theorysim check/sweep --backend); a model whose CPU
            backend = config.default_backend()  # kernels are BLAS products stays there (one GPU thread
            if isinstance(model, Model) and (model.uses_blas or model.gpu_defect):  # per member would do
                backend = "cpu"  # them by loops), and so does a model with a known GPU defect
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}: expected one of {', '.join(map(repr, BACKENDS))}")
        self.backend = backend
        if not isinstance(model, Model):
            raise ValueError(f"model={model!r}: expected a theorysim.models.Model instance")
        config.check_environment()
        if backend != "cpu":
            backend_module(backend).require_device()  # a missing package or GPU is said now, before any work
            backend_module(backend).check_model(model)
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"steps={steps!r}: expected a positive integer")
        if isinstance(record_every, bool) or not isinstance(record_every, (int, np.integer)) or not (
            1 <= record_every <= steps
        ):
            raise ValueError(f"record_every={record_every!r}: expected an integer in [1, steps={steps}]")
        if not isinstance(divergence_factor, (int, float)) or not (divergence_factor == 0 or divergence_factor > 1):
            raise ValueError(f"divergence_factor={divergence_factor!r}: expected 0 (off) or a number > 1")
        self.model = model
        self.steps = int(steps)
        self.record_every = int(record_every)
        self.divergence_factor = float(divergence_factor)
        self.record_params = bool(record_params)
        self.progress = progress

        model_hyper = dict(model_hyper or {})
        for k in model_hyper:
            if k not in model.hyper_spec:
                raise ValueError(f"model_hyper: model {model.name!r} has no hyperparameter {k!r}; "
                                 f"valid: {', '.join(model.hyper_spec) or '(none)'}")
        # model_hyper entries travel under "model." so that they never meet an optimizer keyword
        per_member = {"seeds": seeds, "optimizer": optimizer, "schedule": schedule, **hyper,
                      **{f"model.{k}": v for k, v in model_hyper.items()}}
        lengths = {k: len(v) for k, v in per_member.items() if _is_member_sequence(k, v) and k != "schedule"}
        if _is_schedule_sequence(schedule, self.steps):
            lengths["schedule"] = len(schedule)
        if model.data_members:
            lengths["model data"] = model.data_members
        sizes = set(lengths.values())
        if len(sizes) > 1:
            detail = ", ".join(f"{k}: {n}" for k, n in lengths.items())
            raise ValueError(f"per-member sequences must have one common length; got {detail}")
        E = sizes.pop() if sizes else 1
        if E < 1:
            raise ValueError("the ensemble is empty: a per-member sequence has length 0")
        self.n_members = E

        def member_value(key, m):
            v = per_member[key]
            return v[m] if key in lengths else v

        self.seeds = np.empty(E, dtype=np.int64)
        self.members: list[dict[str, Any]] = []
        specs: list[OptimizerSpec] = []
        self.resolved: list[dict[str, Any]] = []
        rows, mrows, sched_keys = [], [], []
        model_keys = set(model.hyper_spec)
        for m in range(E):
            where = f"member {m}: " if E > 1 else ""
            seed = member_value("seeds", m)
            rng.key_from_seed(seed)  # validates: a non-negative integer
            self.seeds[m] = int(seed)
            opt = member_value("optimizer", m)
            if isinstance(opt, Optimizer):
                spec, base = opt.spec, dict(opt.hyper)
            else:
                spec, base = get(opt), {}
            clash = [k for k in hyper if k in model_keys and k in spec.defaults and k not in model_hyper]
            if clash:
                k = clash[0]
                raise ValueError(
                    f"{where}{k!r} is a hyperparameter of both model {model.name!r} and optimizer {spec.name!r}: "
                    f"give the model's as model_hyper={{{k!r}: ...}} (then {k}=... is the optimizer's)"
                )
            opt_hyper = {k: member_value(k, m) for k in hyper if k not in model_keys or k in model_hyper}
            m_hyper = {k: member_value(k, m) for k in hyper if k in model_keys and k not in model_hyper}
            m_hyper.update({k: member_value(f"model.{k}", m) for k in model_hyper})
            unknown = [k for k in opt_hyper if k not in spec.defaults]
            if unknown:
                raise ValueError(
                    f"{where}hyperparameter {unknown[0]!r} is known neither to optimizer {spec.name!r} "
                    f"(valid: {', '.join(spec.defaults)}) nor to model {model.name!r} "
                    f"(valid: {', '.join(model.hyper_spec) or 'none'})"
                )
            resolved = spec.resolve({**base, **opt_hyper}, where=where)
            model.check_optimizer(spec, resolved, where=where)
            self.resolved.append(resolved)
            specs.append(spec)
            rows.append(spec.hyper_row(resolved))
            mrows.append(model.hyper_row(m_hyper, where=where))
            sched_keys.append(member_value("schedule", m))
            self.members.append(
                {
                    "member": m,
                    "seed": int(seed),
                    "optimizer": spec.name,
                    **{k: (list(v) if isinstance(v, tuple) else v) for k, v in resolved.items()},
                    **{(f"model.{k}" if k in resolved else k): float(mrows[-1][model.hyper_index(k)])
                       for k in model.hyper_spec},
                }
            )
        self.specs = specs
        self.rule_id = np.array([s.rule_id for s in specs], dtype=np.int64)
        self.needs_hessian = np.array([s.needs_hessian for s in specs], dtype=np.int64)
        self.hyper = np.stack(rows)
        self.model_hyper = np.stack(mrows)
        self.state_rows = max(s.state_rows for s in specs)
        _, lrows, lcols = model.layout.arrays()
        P = model.layout.size
        clipping = any(r.get("clip_fraction", 0.0) > 0 or r.get("clip_value", 0.0) > 0 for r in self.resolved)
        self.rule_work_size = work_size(P, lrows, lcols, [s.name for s in specs], clipping)
        newton = [s.name for s in specs if s.needs_hessian]
        if newton and not model.has_hessian:
            raise ValueError(f"optimizer={newton[0]!r} needs the model's Hessian; model {model.name!r} has no hessian kernel")
        self.hess_size = P if newton else 0
        self._check_memory(len({repr(k) for k in sched_keys}))
        self.schedule, self.sched_index = _build_schedules(sched_keys, self.steps)

    def _check_memory(self, schedules: int) -> None:
        """Refuse, in one line and before allocating, a run that needs more than this machine's
        memory (the sweep's validation says the same of a point): what the run allocates, its
        schedules, records, state, parameters and Hessians (the model's data exists already)."""
        E, P, T, k = self.n_members, self.model.layout.size, self.steps, self.record_every
        R = T // k + 1
        need = 8 * (schedules * T + E * R * (len(self.model.metric_names) + (P if self.record_params else 0))
                    + E * P * (max(self.state_rows, 1) + 2 + self.hess_size))
        have = config.machine_memory()
        if have is not None and need > have:
            raise ValueError(f"steps={T}, record_every={k}, {E} member(s) of {P} parameters: the run needs about "
                             f"{config.gib(need)} of memory (schedule and records grow with steps / record_every); "
                             f"this machine has {config.gib(have)}")

    # ------------------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The full configuration, JSON-able."""
        return {
            "model": self.model.config(),
            "steps": self.steps,
            "record_every": self.record_every,
            "divergence_factor": self.divergence_factor,
            "record_params": self.record_params,
            "n_members": self.n_members,
            "members": self.members,
            "schedules": self.schedule.tolist() if self.schedule.size <= 64 else f"{self.schedule.shape[0]} arrays",
        }

    def run(self, theta0: np.ndarray | None = None) -> Result:
        """Train every member; returns a :class:`~theorysim.engine.result.Result`.

        ``theta0`` ([E, P]) overrides the model's initialisation.
        """
        model = self.model
        E, P, T, k = self.n_members, model.layout.size, self.steps, self.record_every
        if theta0 is None:
            theta = np.ascontiguousarray(model.init(self.seeds, self.model_hyper), dtype=np.float64)
        else:
            theta = real_array("theta0", theta0, finite=True, copy=True, order="C")  # NaN is not a divergence
            if theta.shape != (E, P):
                raise ValueError(f"theta0: expected shape ({E}, {P}), got {theta.shape}")
        state = np.zeros((E, max(self.state_rows, 1), P))
        keys = rng.keys_from_seeds(self.seeds)
        R = T // k + 1
        M = len(model.metric_names)
        records = np.full((E, R, M), NOT_WRITTEN)  # a NaN the metrics kernel never writes (checked after)
        param_records = np.full((E, R if self.record_params else 0, P), np.nan)
        loss0 = np.zeros(E)
        status = np.zeros(E, dtype=np.int64)
        diverged_step = np.full(E, -1, dtype=np.int64)
        offsets, rows, cols = model.layout.arrays()
        fdata, idata = model.data()
        if fdata.ndim == 1:  # shared by every member: one row, read by all (no copy; reshape, not
            fdata, idata = fdata.reshape(1, -1), idata.reshape(1, -1)  # [None, :], keeps C strides)
            data_row = np.zeros(E, dtype=np.int64)
        else:  # per-member data: row m is member m's
            data_row = np.arange(E, dtype=np.int64)

        show = self.progress if self.progress is not None else sys.stderr.isatty()
        bar = None
        if show:
            from tqdm.auto import tqdm

            bar = tqdm(total=T, desc=model.name, unit="step", leave=False, disable=not show)
        n_chunks = min(T, 100)
        bounds = np.linspace(0, T, n_chunks + 1).round().astype(np.int64)
        if self.backend != "cpu":
            t0 = time.perf_counter()
            compile_seconds = backend_module(self.backend).run_chunks(
                self, theta, state, keys, fdata, idata, data_row, offsets, rows, cols, bounds, loss0, status,
                diverged_step, records, param_records, bar)
            seconds = time.perf_counter() - t0 - compile_seconds
        else:
            compile_seconds, seconds = self._run_cpu(theta, state, keys, fdata, idata, data_row, offsets, rows,
                                                     cols, bounds, loss0, status, diverged_step, records,
                                                     param_records, bar)
        if bar is not None:
            bar.close()
        _check_metrics_written(model, records)
        return Result(
            config=self.config(),
            layout=model.layout,
            metric_names=tuple(model.metric_names),
            steps=np.arange(R, dtype=np.int64) * k,
            records=records,
            param_records=param_records if self.record_params else None,
            theta=theta,
            diverged=status == loop.DIVERGED,
            diverged_step=diverged_step,
            members=self.members,
            seconds=seconds,
            compile_seconds=compile_seconds,
        )

    def _run_cpu(self, theta, state, keys, fdata, idata, data_row, offsets, rows, cols, bounds, loss0, status,
                 diverged_step, records, param_records, bar) -> tuple[float, float]:
        model = self.model
        t_compile = time.perf_counter()
        kernel = loop.kernel()
        loss_grad = loop.compiled(model.kernels[0], loop.LOSS_GRAD, model, "loss_grad")
        metrics = loop.compiled(model.kernels[1], loop.METRICS, model, "metrics")
        hessian = model.kernels[2] if model.has_hessian else no_hessian
        hessian = loop.compiled(hessian, loop.HESSIAN, model, "hessian")
        compile_seconds = time.perf_counter() - t_compile
        t0 = time.perf_counter()
        with _blas_limit(model):
            self._run_chunks(kernel, loss_grad, metrics, hessian, theta, state, keys, fdata, idata, data_row, offsets,
                             rows, cols, bounds, loss0, status, diverged_step, records, param_records, bar)
        return compile_seconds, time.perf_counter() - t0

    def _run_chunks(self, kernel, loss_grad, metrics, hessian, theta, state, keys, fdata, idata, data_row, offsets,
                    rows, cols, bounds, loss0, status, diverged_step, records, param_records, bar):
        """Call the loop on consecutive step ranges (chunks) until step T or until every member
        has stopped. Chunks start at ``bounds``' first length (T / 100) and double while one takes
        under :data:`CHUNK_SECONDS`: each call costs ~0.4 ms of dispatch (the first-class function
        arguments are unboxed per call), which made short runs of many experiments (learning-rate
        searches) pay more for dispatch than for steps. Results do not depend on the chunking
        (the RNG is keyed by step); the progress bar and Ctrl-C act between chunks."""
        model, T, k = self.model, self.steps, self.record_every
        order = loop.member_order(theta.shape[0], numba.get_num_threads())
        begin, length = 0, max(1, int(bounds[1] - bounds[0]))
        while begin < T:
            end = min(T, begin + length)
            t0 = time.perf_counter()
            kernel(
                loss_grad, metrics, hessian,
                theta, state, self.rule_id, self.needs_hessian, self.hyper, self.sched_index, self.schedule,
                self.model_hyper, keys, fdata, idata, data_row, offsets, rows, cols, begin, end, T, k,
                self.divergence_factor, loss0, status, diverged_step, records, param_records, model.work_size,
                self.rule_work_size, self.hess_size, order,
            )
            if bar is not None:
                bar.update(end - begin)
            if np.all(status != loop.RUNNING):
                break
            if time.perf_counter() - t0 < CHUNK_SECONDS:
                length *= 2
            begin = end


#: a chunk of steps shorter than this doubles the next chunk's length (see Experiment._run_chunks)
CHUNK_SECONDS = 0.1

#: engines by name: the CPU loop here; the GPU loop lives above the engine (theorysim.cuda.engine,
#: which imports numba.cuda) and is looked up by module name, so that the engine never imports it
BACKENDS = {"cpu": None, "cuda": "theorysim.cuda.engine"}  # the names of config.BACKENDS


def backend_module(name: str):
    """The module of a non-CPU engine (``run_chunks``, ``require_device``), imported on demand."""
    import importlib

    return importlib.import_module(BACKENDS[name])


def _blas_limit(model):
    """BLAS single-threaded inside the engine, whatever the ensemble size: the engine's threads are
    the parallel layer. OpenBLAS threads called from a Numba worker while the other workers wait
    are pathological (W3's span form with E = 1: 0.86 s with 2 BLAS threads, 0.11 s with 1, where
    E = 2 takes 0.18 s), and one BLAS thread keeps a member's products in one summation order
    whatever E is."""
    import contextlib

    return config.one_blas_thread() if model.uses_blas else contextlib.nullcontext()


def _is_schedule_sequence(schedule, steps: int) -> bool:
    if isinstance(schedule, (list, tuple)) and schedule and not isinstance(schedule[0], (int, float)):
        return True
    if isinstance(schedule, np.ndarray) and schedule.ndim == 2:
        return True
    return False


def _build_schedules(per_member: list, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct schedule arrays ``[Q, T]`` and each member's row index."""
    arrays: list[np.ndarray] = []
    index = np.empty(len(per_member), dtype=np.int64)
    seen: dict[bytes, int] = {}
    for m, spec in enumerate(per_member):
        arr = schedules.build(spec, steps)
        key = arr.tobytes()
        if key not in seen:
            seen[key] = len(arrays)
            arrays.append(arr)
        index[m] = seen[key]
    return np.ascontiguousarray(np.stack(arrays)), index


#: the value records start with: a NaN whose payload no arithmetic produces (a kernel's NaN is the
#: canonical one), so a metric the kernel never writes is told apart from one that is NaN
NOT_WRITTEN = np.frombuffer(np.uint64(0x7FF8_0DEA_D0BE_EF01).tobytes(), dtype=np.float64)[0]


def _check_metrics_written(model, records) -> None:
    """After a run: every metric of the first record (which every member writes) must have been written
    by the model's metrics kernel; then the records never reached (members stopped early) read NaN."""
    bits = records.view(np.uint64)
    sentinel = np.frombuffer(NOT_WRITTEN.tobytes(), dtype=np.uint64)[0]
    if records.shape[1]:
        unwritten = [j for j in range(records.shape[2]) if np.any(bits[:, 0, j] == sentinel)]
        if unwritten:
            names = ", ".join(repr(model.metric_names[j]) for j in unwritten)
            kernel = getattr(model.kernels[1], "__name__", "metrics")
            raise ValueError(f"model {model.name!r}: its metrics kernel {kernel} never writes metric(s) {names} "
                             f"(out[{', '.join(str(j) for j in unwritten)}] of its {len(model.metric_names)} "
                             f"metric_names {tuple(model.metric_names)}): write every one, in that order")
    records[bits == sentinel] = np.nan
