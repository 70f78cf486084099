"""Run claims and collect their verdicts: in this process, or on worker processes, one setup's
claims per task.

Most claims leave a core idle part of the time (numpy and scipy between engine calls, a few
seeds on many cores, compilation), so ``theorysim check`` runs the setups side by side on
spawn-started workers, each with its share of the cores as Numba threads (BLAS runs on one
thread in every claim: :func:`~theorysim.core.config.one_blas_thread`). A setup's
claims stay together and in order in one worker because they share the setup's simulation caches
(:class:`~theorysim.engine.cache.RunCache`). Verdicts do not depend on how claims are spread:
every claim computes the same numbers on any number of threads (tested).

A worker that dies (killed, out of memory) turns its setup's unfinished claims into errors that
say so; the other setups go on. Ctrl-C keeps every verdict already finished.
"""
from __future__ import annotations

import json
import os
import queue as queue_module
import statistics
import time
import traceback
from pathlib import Path
from typing import Callable, Sequence

from theorysim.claims import registry
from theorysim.claims.claim import REGISTERED, REGISTERED_BY, Claim, Verdict
from theorysim.core import handoff
from theorysim.core.processes import WORKER_DEATH_RETRIES, retry_then_isolate

_progress = None  # the worker's end of its pool's progress queue
_handoff_dir = None  # where the worker leaves its results (theorysim.core.handoff)


def check_one(claim: Claim, mode: str, figure_dir=None) -> Verdict:
    """``claim.check``, with a crash reported as the claim's error (never fatal for the others)."""
    t = time.perf_counter()
    try:
        return claim.check(mode, figure_dir=figure_dir)
    except Exception:
        return Verdict(claim, mode, [], time.perf_counter() - t, error=traceback.format_exc())


def _seconds_path() -> Path:
    """Where the seconds each claim took in earlier runs are kept, per mode (next to the package's
    own Numba caches): they only order the setups, longest first."""
    return Path(__file__).resolve().parent.parent / "__pycache__" / "claim-seconds.json"


def recorded_seconds(mode: str) -> dict[str, float]:
    """{claim id: seconds} of earlier runs in ``mode`` ({} if none, or unreadable)."""
    try:
        data = json.loads(_seconds_path().read_text())
        return {str(k): float(v) for k, v in data.get(mode, {}).items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def record_seconds(verdicts: Sequence[Verdict], mode: str) -> None:
    """Keep the finished claims' seconds for the next run's order (nothing when the disk cache is
    off or the place is not writable; the verdicts never depend on it)."""
    from theorysim.core import config

    if not config.CACHE:
        return
    path = _seconds_path()
    try:
        data = json.loads(path.read_text()) if path.exists() else {}
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data.setdefault(mode, {}).update({v.claim.id: round(v.seconds, 3) for v in verdicts
                                      if v.error is None and v.claim is not None})
    try:
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(data, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        pass


def groups_of(claims: Sequence[Claim], mode: str | None = None) -> list[list[Claim]]:
    """The claims by setup, each group in the given order; the longest groups first (they start
    first, so the short ones fill in at the end): by the seconds their claims took in earlier runs
    of ``mode`` where known (a claim never timed counts as the median of those that were), else by
    their number of claims."""
    by_setup: dict[str, list[Claim]] = {}
    for c in claims:
        by_setup.setdefault(registry.setup_of(c), []).append(c)
    seconds = recorded_seconds(mode) if mode else {}
    default = statistics.median(seconds.values()) if seconds else 1.0
    cost = lambda g: sum(seconds.get(c.id, default) for c in g)  # noqa: E731
    return sorted(by_setup.values(), key=lambda g: (-cost(g), -len(g), registry.setup_of(g[0])))


def default_jobs(claims: Sequence[Claim], jobs: int) -> int:
    """``jobs`` workers (one per thread by default), at most one per setup: 1 (this process) for a
    single setup."""
    return max(1, min(jobs, len(groups_of(claims))))


def run_claims(claims: Sequence[Claim], mode: str, *, jobs: int = 1, threads: int = 1, backend: str = "cpu",
               figure_dir=None, on_verdict: Callable[[Verdict], None] = lambda v: None) -> tuple[list[Verdict], bool]:
    """Check ``claims``; returns (the verdicts finished, in the order of ``claims``; whether Ctrl-C
    stopped the run). ``jobs`` > 1 spreads the setups over that many worker processes with
    ``threads // jobs`` threads each (``threads``: this process's Numba threads, already set);
    ``on_verdict`` is called in this process as each verdict arrives."""
    groups = groups_of(claims, mode)
    jobs = max(1, min(jobs, len(groups)))
    done: dict[str, Verdict] = {}

    def arrived(v: Verdict) -> None:
        done[v.claim.id] = v
        on_verdict(v)

    interrupted = False
    try:
        if jobs == 1:
            for c in claims:
                arrived(check_one(c, mode, figure_dir))
        else:
            _run_workers(groups, mode, jobs, max(1, threads // jobs), backend, figure_dir, arrived)
    except KeyboardInterrupt:
        interrupted = True
    finished = [done[c.id] for c in claims if c.id in done]
    record_seconds(finished, mode)
    return finished, interrupted


def _worker_init(threads: int, parent_pid: int, backend: str, progress, handoff_dir: str) -> None:
    global _progress, _handoff_dir
    from theorysim.core import config
    from theorysim.core.processes import init_worker

    init_worker(threads, parent_pid, ignore_interrupt=True)
    config.set_backend(backend)
    _progress, _handoff_dir = progress, handoff_dir


def _check_group(ids: list[tuple[str, str]], mode: str, figure_dir) -> str:
    """In a worker: check the claims (id, registering module) in order, sending each result as it
    is made, then all of them (both by :mod:`~theorysim.core.handoff`: the queue and the pool
    carry file names). A claim registered outside the setups is found by importing its module."""
    import importlib

    out = []
    for cid, module in ids:
        try:
            if cid not in REGISTERED:
                if module.startswith("theorysim_setups_"):  # a THEORYSIM_SETUPS folder: make its namespace
                    from theorysim import setups

                    setups.sources()
                importlib.import_module(module)
            claim = registry.get_claim(cid)
        except Exception:
            v = Verdict(None, mode, [], 0.0, error=traceback.format_exc())
        else:
            v = check_one(claim, mode, figure_dir)
        item = (cid, v.checks, v.seconds, v.error, v.figure, v.figure_error)
        _progress.put(handoff.put(item, _handoff_dir))
        out.append(item)
    return handoff.put(out, _handoff_dir)


def _verdict(item: tuple, mode: str) -> Verdict:
    cid, checks, seconds, error, figure, figure_error = item
    return Verdict(registry.get_claim(cid), mode, checks, seconds, error=error, figure=figure,
                   figure_error=figure_error)


def _run_workers(groups, mode, jobs, threads, backend, figure_dir, arrived) -> None:
    """The groups on a pool of ``jobs`` workers; a dying worker as
    :func:`~theorysim.core.processes.retry_then_isolate` says, and the claims of a setup that kills
    its worker even alone are reported as errors saying so."""
    pools = _Pools(mode, threads, backend, figure_dir, arrived)
    for rest in retry_then_isolate(groups, pools.run, jobs):
        for c in rest:
            pools.take((c.id, [], 0.0, "the worker process checking this claim's setup died (killed by a signal "
                        f"or out of memory) {WORKER_DEATH_RETRIES + 2} times before the claim finished", None, None))


class _Pools:
    """Spawn-started pools, each with its own progress queue and handoff folder (a worker killed
    while holding a queue's lock would block the next pool's workers on it); ``take`` hands each
    claim's result on once."""

    def __init__(self, mode, threads, backend, figure_dir, arrived):
        import multiprocessing as mp

        self.ctx = mp.get_context("spawn")
        self.mode, self.threads, self.backend, self.arrived = mode, threads, backend, arrived
        self.figure_dir = None if figure_dir is None else str(figure_dir)
        self.seen: set[str] = set()

    def take(self, item: tuple) -> None:
        if item[0] not in self.seen:
            self.seen.add(item[0])
            self.arrived(_verdict(item, self.mode))

    def drain(self, progress, block_s: float) -> None:
        try:
            self.take(handoff.take(progress.get(timeout=block_s) if block_s > 0 else progress.get_nowait()))
            while True:
                self.take(handoff.take(progress.get_nowait()))
        except queue_module.Empty:
            pass

    def run(self, groups, jobs) -> list[list[Claim]]:
        """``groups`` on a fresh pool; returns each group's unfinished claims if the pool broke."""
        from concurrent.futures import ProcessPoolExecutor

        broken: list[list[Claim]] = []
        with handoff.Directory() as results:
            progress = self.ctx.Queue()
            pool = ProcessPoolExecutor(max_workers=min(jobs, len(groups)), mp_context=self.ctx,
                                       initializer=_worker_init,
                                       initargs=(self.threads, os.getpid(), self.backend, progress, results.path))
            try:
                futures = {pool.submit(_check_group, [(c.id, REGISTERED_BY.get(c.id, '')) for c in g], self.mode,
                                       self.figure_dir): g for g in groups}
                while futures:
                    self.drain(progress, 0.2)
                    for group, items in handoff.collect(futures, timeout=0):
                        if items is handoff.BROKEN:
                            broken.append(group)
                            continue
                        for item in items:  # what the queue may not have delivered yet
                            self.take(item)
            except KeyboardInterrupt:
                self.drain(progress, 0.0)
                workers = list((getattr(pool, "_processes", None) or {}).values())
                for p in workers:  # the running tasks must stop now, not when they finish
                    p.terminate()
                for p in workers:
                    p.join(5.0)
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown(wait=True)
            self.drain(progress, 0.0)
            progress.close()
        return [rest for rest in ([c for c in g if c.id not in self.seen] for g in broken) if rest]
