"""Expand a spec, skip finished points, group the rest into ensembles, run them on an executor
and write each result as it completes."""
from __future__ import annotations

import os
import sys
from collections import OrderedDict

from theorysim.sweep import builders
from theorysim.sweep.execute import run_group
from theorysim.sweep.spec import Spec, canonical, point_key
from theorysim.sweep.store import Store

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


def _init_worker(threads: int) -> None:
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))


def run_sweep(spec: Spec, store_path, executor: str = "local", workers: int | None = None,
              scheduler: str | None = None, progress: bool | None = None, group_size: int = 64) -> dict[str, int]:
    """Run every unfinished point of ``spec`` into ``store_path``; returns counts by status.

    Points that share a model are run ``group_size`` at a time as one ensemble (fewer when that
    leaves a worker idle); a kill loses at most the groups in flight.
    """
    if not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"group_size={group_size!r}: expected a positive integer")
    if executor not in EXECUTORS:
        raise ValueError(f"executor={executor!r}: expected one of {', '.join(EXECUTORS)}")
    cores = os.cpu_count() or 1
    workers = workers or (cores if executor != "serial" else 1)
    if workers < 1:
        raise ValueError(f"workers={workers!r}: expected a positive integer")
    store = Store(store_path)
    points = spec.points()
    done = store.finished_keys()
    todo = [cfg for cfg in points if point_key(cfg) not in done]
    counts = {"done": 0, "diverged": 0, "failed": 0, "skipped": len(points) - len(todo)}
    from tqdm.auto import tqdm

    show = progress if progress is not None else sys.stderr.isatty()
    bar = tqdm(total=len(points), initial=counts["skipped"], desc="sweep", unit="point", disable=not show)

    keep_arrays = bool(spec.record.get("arrays", True))

    def record(group, results):
        for cfg, r in zip(group, results):
            arrays = r["arrays"] if keep_arrays else None
            store.write(point_key(cfg), cfg, r["status"], r["seconds"], r["metrics"], arrays, r["error"])
            counts[r["status"]] += 1
        bar.update(len(group))
        bar.set_postfix(failed=counts["failed"], diverged=counts["diverged"])

    groups = groups_of(todo, max_members=max(1, min(group_size, -(-len(todo) // max(workers, 1)))))
    try:
        if executor == "serial":
            for g in groups:
                record(g, run_group(g))
        elif executor == "local":
            _run_local(groups, workers, max(1, cores // workers), record)
        else:
            _run_dask(groups, workers, scheduler, record)
    except KeyboardInterrupt:
        bar.close()
        store.close()
        print(f"interrupted: {sum(counts[k] for k in ('done', 'diverged', 'failed'))} points saved", file=sys.stderr)
        raise
    bar.close()
    store.close()
    return counts


def _run_local(groups, workers, threads, record):
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(threads,)) as pool:
        futures = {pool.submit(run_group, g): g for g in groups}
        try:
            while futures:
                finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                for f in finished:
                    record(futures.pop(f), f.result())
        except KeyboardInterrupt:
            for f in futures:
                f.cancel()
            raise


def _run_dask(groups, workers, scheduler, record):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ValueError("executor='dask' needs dask.distributed: pip install 'theorysim[dask]'") from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                               processes=True)
        client = Client(cluster)
    try:
        futures = {client.submit(run_group, g, pure=False): g for g in groups}
        for f in as_completed(list(futures)):
            record(futures[f], f.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
