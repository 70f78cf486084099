"""One line instead of a bare "Bus error" when a memory-mapped file loses its backing.

SQLite keeps a WAL store's index in ``STORE-shm``, which every connection maps into memory. If that
file is truncated or its storage goes away while a sweep runs (another program, a full tmpfs, a
storage fault), the next access to the mapping raises SIGBUS. Python cannot handle that signal: its
own handler only sets a flag, the faulting instruction runs again, and the process dies with
"Bus error" and nothing else. The handler installed here is a C-level one (a ctypes callback) that
writes one prepared line to stderr and ends the process with ``os._exit``: no cleanup runs, which is
what a fault inside SQLite leaves room for; the store's committed points stay intact (each point is
its own transaction, and SQLite rebuilds the index on the next open).

Only the command line installs it (:func:`exit_in_one_line_on_bus_error`); a library does not take
over a process's signals. Where the platform has no SIGBUS or no C library to call (Windows), it is
a no-op.
"""
from __future__ import annotations

import ctypes
import os
import signal

_installed: list = []  # keeps the callback alive for as long as it is the process's handler


def exit_in_one_line_on_bus_error(line: str, exit_code: int) -> bool:
    """On SIGBUS, write ``line`` (one line) to stderr and exit with ``exit_code``; True if installed.

    The line is encoded now: the handler itself only calls ``os.write`` and ``os._exit``.
    Installing again replaces the line (the last call wins).
    """
    if not hasattr(signal, "SIGBUS") or os.name != "posix":
        return False
    message = (" ".join(line.split()) + "\n").encode("utf-8", "replace")

    def on_bus_error(signum):  # runs on the faulting thread, from the C handler
        os.write(2, message)
        os._exit(exit_code)

    try:
        libc = ctypes.CDLL(None)
        callback_type = ctypes.CFUNCTYPE(None, ctypes.c_int)
        handler = callback_type(on_bus_error)
        libc.signal.restype = ctypes.c_void_p
        libc.signal.argtypes = [ctypes.c_int, callback_type]
        if libc.signal(int(signal.SIGBUS), handler) == ctypes.c_void_p(-1).value:  # SIG_ERR
            return False
    except (OSError, AttributeError):
        return False
    _installed[:] = [handler]
    return True
