"""Where Numba's compile time goes: run a theorysim command in this process with an empty kernel
cache (a fresh temporary NUMBA_CACHE_DIR, so the project's own cache is left alone) and a listener on
Numba's "numba:compile" events, then print the compile time per function: inclusive (with the
functions it compiled on the way) and exclusive (its own), largest exclusive first.

    python tools/compile_profile.py [--top 25] [--json FILE] -- check --quick --paper quadratic

Everything after ``--`` is passed to the ``theorysim`` command line (default: ``check --quick``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict


def _name(event) -> str:
    data = event.data or {}
    disp = data.get("dispatcher")
    py_func = getattr(disp, "py_func", None)
    if py_func is not None:
        return f"{py_func.__module__}.{py_func.__qualname__}"
    return str(disp)


class CompileTimes:
    """Context manager: seconds Numba spends compiling each function while it is active, inclusive
    (with the functions compiled on the way) and exclusive (nested compiles subtracted)."""

    def __init__(self):
        self.inclusive: dict = defaultdict(float)
        self.exclusive: dict = defaultdict(float)
        self.count: dict = defaultdict(int)
        self._stack: list = []  # [name, start, seconds spent in nested compiles]
        self._ctx = None

    def __enter__(self):
        from numba.core import event

        times = self

        class Recorder(event.Listener):
            def on_start(self, ev):
                times._stack.append([_name(ev), time.perf_counter(), 0.0])

            def on_end(self, ev):
                name, start, nested = times._stack.pop()
                took = time.perf_counter() - start
                times.inclusive[name] += took
                times.exclusive[name] += took - nested
                times.count[name] += 1
                if times._stack:
                    times._stack[-1][2] += took

        self._ctx = event.install_listener("numba:compile", Recorder())
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[argv.index("--") + 1:] if "--" in argv else ["check", "--quick"]
    own = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--json", metavar="FILE", help="also write every function's times as JSON")
    args = ap.parse_args(own)
    if args.top < 1:
        print(f"compile_profile: error: --top={args.top}: expected >= 1", file=sys.stderr)
        return 2
    cache = tempfile.mkdtemp(prefix="theorysim-compile-profile-")
    os.environ["NUMBA_CACHE_DIR"] = cache  # before Numba is imported: every kernel compiles from scratch

    from theorysim import cli

    t0 = time.perf_counter()
    with CompileTimes() as times:
        rc = cli.main(command)
    wall = time.perf_counter() - t0
    inclusive, exclusive, count = times.inclusive, times.exclusive, times.count
    rows = sorted(exclusive, key=exclusive.get, reverse=True)
    total = sum(exclusive.values())
    print(f"\ncompile time (exclusive, summed over {len(rows)} functions): {total:.1f} s of {wall:.1f} s wall "
          f"for `theorysim {' '.join(command)}` (exit {rc}); cache dir {cache}")
    print(f"{'exclusive s':>12} {'inclusive s':>12} {'compiles':>8}  function")
    for name in rows[:args.top]:
        print(f"{exclusive[name]:12.2f} {inclusive[name]:12.2f} {count[name]:8d}  {name}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": command, "wall": wall, "compile_total": total,
                       "functions": [{"name": n, "exclusive": exclusive[n], "inclusive": inclusive[n],
                                      "compiles": count[n]} for n in rows]}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
