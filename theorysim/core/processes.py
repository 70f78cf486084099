"""Worker processes on this machine: what every spawn-started worker of a process pool sets up
(the sweep's local executor, ``theorysim check``'s claim workers).

A worker gets its share of the cores as Numba threads and must not outlive the process that
started it.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time


def init_worker(threads: int, parent_pid: int, ignore_interrupt: bool = False) -> None:
    """Pool initializer: ``threads`` Numba threads, exit when ``parent_pid`` does.
    ``ignore_interrupt``: Ctrl-C reaches the whole process group; the coordinator handles it
    (keeps what finished, stops the workers)."""
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    if ignore_interrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent_pid)


def die_with_parent(parent_pid: int) -> None:
    """A local worker must not outlive its coordinator (SIGKILL, SIGTERM, a crash): on Linux the
    kernel kills it when the coordinator dies (PR_SET_PDEATHSIG); elsewhere, and as a second line,
    a daemon thread exits the process once its parent is gone (checked every half second, and
    between engine chunks while a compiled kernel holds the interpreter)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the thread below still works
            pass
    if os.getppid() != parent_pid:  # the coordinator died before the line above took effect
        os._exit(1)

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="theorysim-parent-watch", daemon=True).start()


#: how often the work in flight when a worker died is run again before each piece runs alone
WORKER_DEATH_RETRIES = 1


def retry_then_isolate(items: list, run_pass, workers: int, on_broken=None) -> list:
    """The policy for a pool whose worker died (killed, out of memory): a dying worker breaks the
    whole pool, so ``run_pass(items, workers)`` returns what it did not finish; that is run again
    on a fresh pool (:data:`WORKER_DEATH_RETRIES` times), then each piece alone, so the one that
    kills its worker is the one that fails. Returns, per piece that failed alone, what was left of
    it. ``on_broken(pending)`` is called after each pass that left work."""
    pending = list(items)
    for _ in range(WORKER_DEATH_RETRIES + 1):
        pending = run_pass(pending, workers)
        if not pending:
            return []
        if on_broken is not None:
            on_broken(pending)
    failed = []
    for item in pending:
        rest = run_pass([item], 1)
        if rest:
            failed.append(rest[0])
    return failed
