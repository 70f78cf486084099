"""What a worker process hands its coordinator travels as a file; the pipe carries only its name.

A worker killed in the middle of a message (SIGKILL, the out-of-memory killer) leaves part of it in
the pipe, and the reader then waits forever for the rest: CPython's process-pool manager thread
blocks in ``recv`` (so the pool is never even found broken), and ``multiprocessing.Queue.get``
blocks past its timeout. A sweep hung that way in CI: a group's result (32 KB for two quadratic
members of 40000 steps with their loss curves) goes out as a length header and a body, two
``write`` calls, and the killed worker had written only the header. Linux (POSIX) writes up to
:data:`ATOMIC_PIPE_WRITE` bytes to a pipe whole or not at all and multiprocessing sends a message
that short in one ``write``, so a killed worker cannot cut a file name in two. The file is
complete before its name is sent; the coordinator reads it and deletes it, and a file whose name
never arrived goes with its :class:`Directory`.

Exceptions still travel through the pool as usual: a worker would have to die within the
microseconds of sending one.
"""
from __future__ import annotations

import os
import pickle
import select
import shutil
import tempfile

#: the longest write to a pipe that is made whole or not at all (POSIX PIPE_BUF; 4096 on Linux)
ATOMIC_PIPE_WRITE = getattr(select, "PIPE_BUF", 512)


PREFIX = "theorysim-handoff-"


class Directory:
    """The folder one pool's workers hand their results through; removed with what is left in it.
    Its name carries the coordinator's pid, so the folders of a coordinator that was killed
    (SIGKILL leaves no chance to remove them) go when the next one opens."""

    def __init__(self):
        remove_orphans()
        self.path = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
        if len(self.path.encode()) > ATOMIC_PIPE_WRITE // 4:  # a file name and its envelope: one write
            self.close()
            raise ValueError(f"TMPDIR: {self.path!r} is too long for a file name sent in one pipe write "
                             f"(at most {ATOMIC_PIPE_WRITE // 4} bytes)")

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> "Directory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def put(value, directory: str) -> str:
    """In a worker: ``value`` pickled into a new file in ``directory``; returns the file's name."""
    fd, path = tempfile.mkstemp(dir=directory, suffix=".pickle")
    with os.fdopen(fd, "wb") as f:
        pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def take(path: str):
    """In the coordinator: the value a worker :func:`put` at ``path``; the file is deleted."""
    with open(path, "rb") as f:
        value = pickle.load(f)
    os.unlink(path)
    return value


#: what :func:`collect` gives for a task whose worker died (the pool broke) before it finished
BROKEN = object()


def collect(futures: dict, timeout: float | None = None) -> list[tuple]:
    """In the coordinator: the tasks of ``futures`` (future -> key, each future's value a name from
    :func:`call`) that finished within ``timeout`` (None: at least one), popped from ``futures``, as
    (key, the value :func:`take` reads), or (key, :data:`BROKEN`) where the pool broke first."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    out = []
    for f in wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)[0]:
        key = futures.pop(f)
        try:
            path = f.result()
        except BrokenProcessPool:
            out.append((key, BROKEN))
            continue
        out.append((key, take(path)))
    return out


def call(directory: str, fn, *args, **kwargs) -> str:
    """In a worker: ``fn(*args, **kwargs)``, handed off by :func:`put`; submit this to a pool and
    :func:`take` what the future returns."""
    return put(fn(*args, **kwargs), directory)


def remove_orphans(parent: str | None = None) -> list[str]:
    """Remove the handoff folders in ``parent`` (the temporary folder) whose coordinator is gone;
    returns their paths. A folder whose pid names a live process (perhaps another one by now) stays."""
    parent = parent or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        pid = name[len(PREFIX):].split("-", 1)[0]
        if not (name.startswith(PREFIX) and pid.isdigit()) or _alive(int(pid)):
            continue
        path = os.path.join(parent, name)
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
