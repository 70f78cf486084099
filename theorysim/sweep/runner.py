"""Expand a spec, skip finished points, group the rest into ensembles, run them on an executor
and write each result as it completes."""
from __future__ import annotations

import os
import sys
import time
from collections import OrderedDict
from pathlib import Path

from theorysim.core import handoff
from theorysim.core.processes import WORKER_DEATH_RETRIES, init_worker, retry_then_isolate
from theorysim.sweep import builders
from theorysim.sweep.execute import run_group
from theorysim.sweep.spec import Spec, canonical, point_key
from theorysim.sweep.store import Store, check_store_path

EXECUTORS = ("serial", "local", "dask")


def groups_of(points: list[dict], max_members: int = 64) -> list[list[dict]]:
    """Points that share everything but seed and hyperparameters, in chunks of max_members."""
    by_model: OrderedDict[str, list[dict]] = OrderedDict()
    for cfg in points:
        engine, setup, model_hyper, opt_hyper = builders.split(cfg)
        ident = canonical({**{k: v for k, v in engine.items() if k != "seed"}, **setup,
                           "hyper_keys": sorted(model_hyper) + [f"{builders.OPTIM_PREFIX}{k}" for k in sorted(opt_hyper)]})
        by_model.setdefault(ident, []).append(cfg)
    out = []
    for members in by_model.values():
        for i in range(0, len(members), max_members):
            out.append(members[i : i + max_members])
    return out


def check_run_args(executor: str, workers, group_size) -> None:
    """The executor arguments, checked before anything is opened or started."""
    if executor not in EXECUTORS:
        raise ValueError(f"executor={executor!r}: expected one of {', '.join(EXECUTORS)}")
    if not isinstance(group_size, int) or isinstance(group_size, bool) or group_size < 1:
        raise ValueError(f"group_size={group_size!r}: expected a positive integer")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers={workers!r}: expected a positive integer (or none: one per core)")


def run_sweep(spec: Spec, store_path, executor: str = "local", workers: int | None = None,
              scheduler: str | None = None, progress: bool | None = None, group_size: int = 64,
              backend: str = "cpu") -> dict[str, int]:
    """Run every unfinished point of ``spec`` into ``store_path``; returns counts by status.

    Points that share a model are run ``group_size`` at a time as one ensemble (fewer when that
    leaves a worker idle); a kill loses at most the groups in flight. Everything is checked
    before the store is opened or a worker started: the arguments, the store path (a theorysim
    store or a new file in an existing directory) and, for ``scheduler``, that it answers.
    ``progress``: a bar on a terminal, else one line per finished group on stderr (None: by
    whether stderr is a terminal; False: silent). ``backend``: the engine of every point whose
    model has GPU kernels (the others run on the CPU); the results are the same either way.
    """
    from theorysim.core.config import check_environment

    check_environment()
    check_run_args(executor, workers, group_size)
    cores = os.cpu_count() or 1
    workers = workers or (cores if executor != "serial" else 1)
    check_store_path(store_path, must_exist=False)
    points = spec.points()
    if not _unfinished(points, store_path):  # a finished sweep: nothing opened for writing, no worker started
        return {"done": 0, "diverged": 0, "failed": 0, "skipped": len(points)}
    client = _dask_client(workers, scheduler) if executor == "dask" else None
    try:
        return _run(spec, store_path, executor, workers, client, progress, group_size, cores, backend)
    finally:
        if client is not None:
            client.close()
            if getattr(client, "_theorysim_cluster", None) is not None:
                client._theorysim_cluster.close()


def _unfinished(points, store_path) -> list:
    """The points not yet finished in the store (all of them when there is no store yet), read
    without writing a byte: a rerun of a finished sweep leaves the file as it was, read-only too."""
    if not Path(store_path).exists():
        return list(points)
    store = Store(store_path, read_only=True)
    try:
        done = store.finished_keys()
    finally:
        store.close()
    return [cfg for cfg in points if point_key(cfg) not in done]


def _run(spec, store_path, executor, workers, client, progress, group_size, cores, backend):
    import functools

    run = functools.partial(run_group, backend=backend)
    store = Store(store_path)
    points = spec.points()
    done = store.finished_keys()
    todo = [cfg for cfg in points if point_key(cfg) not in done]
    counts = {"done": 0, "diverged": 0, "failed": 0, "skipped": len(points) - len(todo)}
    from tqdm.auto import tqdm

    tty = sys.stderr.isatty()
    bar = tqdm(total=len(points), initial=counts["skipped"], desc="sweep", unit="point",
               disable=not (tty if progress is None else progress and tty))
    lines = progress is not False and not tty  # a log file: one line per finished group
    keep_arrays = bool(spec.record.get("arrays", True))
    t0 = time.perf_counter()

    def record(group, results):
        for cfg, r in zip(group, results):
            arrays = r["arrays"] if keep_arrays else None
            store.write(point_key(cfg), cfg, r["status"], r["seconds"], r["metrics"], arrays, r["error"])
            counts[r["status"]] += 1
        bar.update(len(group))
        bar.set_postfix(failed=counts["failed"], diverged=counts["diverged"])
        if lines:
            n = sum(counts.values())
            print(f"sweep: {n}/{len(points)} points ({counts['done']} done, {counts['diverged']} diverged, "
                  f"{counts['failed']} failed, {counts['skipped']} already finished) {time.perf_counter() - t0:.1f} s",
                  file=sys.stderr, flush=True)

    groups = groups_of(todo, max_members=max(1, min(group_size, -(-len(todo) // max(workers, 1)))))
    try:
        if executor == "serial":
            for g in groups:
                record(g, run(g))
        elif executor == "local":
            threads = config_threads() or max(1, cores // workers)
            _run_local(groups, workers, threads, record, run)
        else:
            # a local cluster shares this machine's cores like the process pool; each worker's tasks set
            # their Numba threads (two workers with a thread per core each left OpenMP threads spinning:
            # 3x slower on the dsd study); a remote scheduler's workers keep their own default
            threads = config_threads() or (max(1, cores // workers) if client_is_local(client) else None)
            _run_dask(groups, client, record, functools.partial(run_group, backend=backend, threads=threads))
    except KeyboardInterrupt:
        bar.close()
        store.close()
        print(f"interrupted: {sum(counts[k] for k in ('done', 'diverged', 'failed'))} points saved", file=sys.stderr)
        raise
    except BaseException:
        bar.close()
        store.close()
        raise
    bar.close()
    store.close()
    return counts


def config_threads() -> int | None:
    """``THEORYSIM_THREADS`` (validated) for each local worker, or None for the default share."""
    if not os.environ.get("THEORYSIM_THREADS"):
        return None
    from theorysim.core import config

    return config.threads_from_env()


def _run_local(groups, workers, threads, record, run=run_group):
    """Groups on a spawn-started process pool; a dying worker as :func:`retry_then_isolate` says,
    and a group that kills its worker alone is stored as failed with that reason."""
    def warn(pending):
        print(f"sweep: a worker process died; running {len(pending)} group(s) in flight again", file=sys.stderr)

    run_pass = lambda indices, n: _pool_pass(groups, indices, n, threads, record, run)  # noqa: E731
    for i in retry_then_isolate(list(range(len(groups))), run_pass, workers, on_broken=warn):
        record(groups[i], [{"status": "failed", "seconds": 0.0, "metrics": None, "arrays": None,
                            "error": "the worker process running this group died (killed by a signal or out of "
                                     f"memory) {WORKER_DEATH_RETRIES + 2} times"} for _ in groups[i]])


def _pool_pass(groups, indices, workers, threads, record, run=run_group) -> list[int]:
    """Run ``groups[i]`` for i in ``indices``; returns the indices not finished because the pool broke."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    if not indices:  # nothing to run: no pool (a pool of 0 workers is an error)
        return []
    ctx = mp.get_context("spawn")
    left: list[int] = []
    with handoff.Directory() as results:  # by file: a worker killed mid-message must not hang the pool
        pool = ProcessPoolExecutor(max_workers=min(workers, len(indices)), mp_context=ctx, initializer=init_worker,
                                   initargs=(threads, os.getpid()))
        try:
            futures = {pool.submit(handoff.call, results.path, run, groups[i]): i for i in indices}
            while futures:
                for i, results in handoff.collect(futures):
                    if results is handoff.BROKEN:
                        left.append(i)
                    else:
                        record(groups[i], results)
        except KeyboardInterrupt:
            for f in futures:
                f.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    return sorted(left)


def _dask_client(workers, scheduler):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("executor='dask' needs dask.distributed: pip install 'theorysim[dask]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as err:
            raise ValueError(f"--scheduler {scheduler}: no Dask scheduler answers there within 10 s "
                             f"({err.__class__.__name__}); start one with `dask scheduler` or leave out "
                             "--scheduler for a local cluster") from None
        except ValueError as err:
            raise ValueError(f"--scheduler {scheduler}: {err}") from None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                           processes=True)
    client = Client(cluster)
    client._theorysim_cluster = cluster
    return client


def client_is_local(client) -> bool:
    """Whether the Dask client runs the LocalCluster this module started (on this machine's cores)."""
    return getattr(client, "_theorysim_cluster", None) is not None


def _run_dask(groups, client, record, run=run_group):
    from dask.distributed import as_completed

    futures = {client.submit(run, g, pure=False): g for g in groups}
    for f in as_completed(list(futures)):
        record(futures[f], f.result())
