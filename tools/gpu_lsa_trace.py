"""Where does the LSA loss kernel stop on a real GPU? (issue 17; prepared without a GPU, checked in
the CUDA simulator.)

On an H200 (2026-11-30) ``lsa_loss_grad`` returned 0 with a zero gradient while the simulator and
the CPU agree, and its parts (the prompt draw, the last layer) matched when run alone: device code
that raises (a reshape, an index) returns early without a word unless compiled with debug=True,
which segfaulted. This tool compiles, from the model's own source, copies of ``lsa_loss_grad``
and the functions it calls that record in ``trace[k]`` the source line of every statement they
complete (an AST rewrite: ``trace[k] = <line>`` after each statement), so one run shows the last
line reached before the exit. Variants, each in its own process (they compile in parallel):

  plain        the kernel as the engine compiles it (reproduces the defect)
  traced       the traced copies
  traced-bm    the traced copies, prompts by Box-Muller (``fill_normal_at``) instead of the ziggurat
  plain-bm     untraced, Box-Muller prompts

Each prints one JSON line per case (W2-like: d = N = 10, one layer; parity: d = 2, N = 4, two
layers): loss on CPU and GPU, the gradient's largest relative difference, and per traced function
the last line reached with its source text (on the CPU every function runs to its end).

    python tools/gpu_lsa_trace.py            # all variants, in parallel; JSON lines to stdout and $OUT
    NUMBA_ENABLE_CUDASIM=1 python tools/gpu_lsa_trace.py   # the same in the simulator (checks the tool)
    TRACE_PTX=1 python tools/gpu_lsa_trace.py              # no GPU: each variant's kernel built for sm_90
"""
from __future__ import annotations

import ast
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
import types

import numpy as np

from theorysim.cuda import cuda  # a module global: the simulator swaps it inside kernels

DEV_FN = None
VARIANTS = ("plain", "traced", "traced-bm", "plain-bm")
TRACED = ("lsa_loss_grad", "lsa_partial_loss_grad", "_draw_prompt", "_last_layer_query", "_last_layer_query_backward", "_layer_forward",
          "_layer_backward")
CASES = {"W2-like": dict(d=10, n_context=10, layers=1, batch=4), "parity": dict(d=2, n_context=4, layers=2, batch=3)}


class _Trace(ast.NodeTransformer):
    """Adds a ``trace`` parameter, ``trace[slot] = lineno`` after every statement, and ``trace`` to
    every call of another traced function."""

    def __init__(self, slot: int, traced: set[str]):
        self.slot, self.traced = slot, traced

    def _mark(self, lineno: int) -> ast.stmt:
        return ast.parse(f"trace[{self.slot}] = {lineno}").body[0]

    def _body(self, stmts):
        out = []
        for s in stmts:
            s = self.visit(s)
            out.append(s)
            if not isinstance(s, (ast.Return, ast.Break, ast.Continue)):
                out.append(self._mark(s.lineno))
        return out

    def generic_visit(self, node):
        for field in ("body", "orelse"):
            if isinstance(getattr(node, field, None), list) and not isinstance(node, ast.IfExp):
                setattr(node, field, self._body(getattr(node, field)))
        for name, value in ast.iter_fields(node):
            if name in ("body", "orelse") and isinstance(value, list):
                continue
            if isinstance(value, list):
                setattr(node, name, [self.visit(v) if isinstance(v, ast.AST) else v for v in value])
            elif isinstance(value, ast.AST):
                setattr(node, name, self.visit(value))
        return node

    def visit_FunctionDef(self, node):
        node.decorator_list = []
        node.args.args.append(ast.arg(arg="trace"))
        node.body = self._body(node.body)
        return node

    def visit_Call(self, node):
        node = self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in self.traced:
            node.args.append(ast.Name(id="trace", ctx=ast.Load()))
        return node


def traced_source(fn, slot: int) -> tuple[types.CodeType, dict[int, str]]:
    """The code object of ``fn`` with the trace rewrite, and by marker value (the line within the
    function's source) the file's line number and text."""
    src = textwrap.dedent(inspect.getsource(fn))
    first = fn.__code__.co_firstlineno
    tree = ast.fix_missing_locations(_Trace(slot, set(TRACED)).visit(ast.parse(src)))
    ast.increment_lineno(tree, first - 1)
    code = compile(tree, inspect.getsourcefile(fn), "exec")
    fcode = next(c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == fn.__name__)
    # the markers hold line numbers within the function's source (1 = its first line)
    lines = {i + 1: (first + i, line.strip()) for i, line in enumerate(src.splitlines())}
    return fcode, lines


def build(variant: str, target: str):
    """The loss/gradient function of ``variant`` for ``target`` ("cpu": numba.njit, "cuda": a
    device function), and the source lines of the traced functions by slot."""
    import numba

    from theorysim.core import rng
    from theorysim.setups.icl import model as M

    bm = variant.endswith("-bm")
    traced = variant.startswith("traced")
    if target == "cuda":
        from theorysim.cuda.retarget import _proxy, device, with_globals
    built: dict[str, object] = {}
    lines: dict[int, tuple[str, dict[int, str]]] = {}

    def rng_module():
        if target == "cpu":
            shim = types.ModuleType("rng_bm")
            shim.__dict__.update(vars(rng))
            shim.fill_normal_zig_at = rng.fill_normal_at
            return shim
        shim = types.ModuleType("rng_bm__cuda")
        shim.__dict__.update(vars(_proxy(rng)))
        shim.fill_normal_zig_at = device(rng.fill_normal_at)
        return shim

    def make(name: str):
        if name in built:
            return built[name]
        py = getattr(M, name).py_func
        if traced:
            slot = TRACED.index(name)
            code, src = traced_source(py, slot)
            lines[slot] = (name, src)
        else:
            code = py.__code__
        extra = {callee: make(callee) for callee in TRACED if callee in code.co_names and callee != name
                 and (traced or bm)}
        if bm and "rng" in code.co_names:
            extra["rng"] = rng_module()
        if target == "cpu":
            glb = dict(py.__globals__)
            glb.update(extra)
            fn = types.FunctionType(code, glb, name)
            built[name] = numba.njit(fn)
        else:
            fn = types.FunctionType(code, dict(py.__globals__), name)
            built[name] = cuda.jit(device=True)(with_globals(fn, extra))
        return built[name]

    if not traced and not bm:
        if target == "cpu":
            return M.lsa_loss_grad, lines
        return device(M.lsa_loss_grad), lines
    return make("lsa_loss_grad"), lines


def run(variant: str) -> list[dict]:
    from theorysim.setups.icl import model as M

    sim = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    cpu_fn, _ = build(variant, "cpu")
    dev_fn, lines = build(variant, "cuda")
    traced = variant.startswith("traced")
    global DEV_FN
    DEV_FN = dev_fn  # a module global, as the engine binds its device functions

    if traced:
        @cuda.jit
        def kernel(th, fd, idd, mh, k0, k1, t, grad, work, res, trace):
            if cuda.grid(1) == 0:
                res[0] = DEV_FN(th, fd, idd, mh, k0, k1, t, grad, work, trace)
    else:
        @cuda.jit
        def kernel(th, fd, idd, mh, k0, k1, t, grad, work, res, trace):
            if cuda.grid(1) == 0:
                res[0] = DEV_FN(th, fd, idd, mh, k0, k1, t, grad, work)

    if os.environ.get("TRACE_PTX") == "1":  # no GPU here: build the kernel for sm_90 only
        import numba

        from theorysim.cuda.engine import _target_device

        f1, i1 = numba.types.float64[::1], numba.types.int64[::1]
        sig = (f1, f1, i1, f1, numba.types.uint64, numba.types.uint64, numba.types.int64, f1, f1, f1, i1)
        with _target_device((9, 0)):
            ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=(9, 0))
        return [{"variant": variant, "ptx_chars": len(ptx), "local_stack_bytes": _stack_bytes(ptx),
                 "reshape_helper_calls": len(re.findall(r"call[^;]*nocopy_reshape", ptx))}]

    rows = []
    for case, kw in CASES.items():
        m = M.LinearSelfAttention(eval_prompts=5, **kw)
        fd, idd = m.data()
        k0, k1 = np.uint64(123), np.uint64(456)
        th = m.init(np.array([0]), np.array([[0.1]]))[0]
        gc, wc, tc = np.zeros(th.size), np.zeros(m.work_size), np.full(len(TRACED), -1, dtype=np.int64)
        args = (th, fd, idd, np.zeros(1), k0, k1, 1, gc, wc)
        lc = cpu_fn(*args, tc) if traced else cpu_fn(*args)
        gg, res = cuda.to_device(np.zeros(th.size)), cuda.to_device(np.zeros(1))
        trace = cuda.to_device(np.full(len(TRACED), -1, dtype=np.int64))
        kernel[1, 1](cuda.to_device(th), cuda.to_device(fd), cuda.to_device(idd), cuda.to_device(np.zeros(1)), k0, k1,
                     1, gg, cuda.to_device(np.full(m.work_size, np.nan)), res, trace)
        gh, th_trace = gg.copy_to_host(), trace.copy_to_host()
        row = {"variant": variant, "case": case, "simulator": sim, "loss_cpu": float(lc),
               "loss_gpu": float(res.copy_to_host()[0]),
               "grad_max_rel": float(np.max(np.abs(gh - gc)) / np.max(np.abs(gc))),
               "grad_nonfinite": int(np.sum(~np.isfinite(gh)))}
        if traced:
            row["last_line"] = {}
            for slot, (name, src) in sorted(lines.items()):
                g, c = int(th_trace[slot]), int(tc[slot])
                row["last_line"][name] = {"gpu": list(src.get(g, (None, "not reached"))),
                                          "cpu": list(src.get(c, (None, "not reached")))}
        rows.append(row)
    return rows


def _stack_bytes(ptx: str) -> int:
    """The largest ``.local`` stack frame a function of the PTX declares (``__local_depot``)."""
    import re

    return max((int(n) for n in re.findall(r"\.local \.align \d+ \.b8\s+__local_depot\d+\[(\d+)\]", ptx)), default=0)


def main(argv) -> int:
    if len(argv) > 1:  # one variant, in this process
        for row in run(argv[1]):
            print(json.dumps(row), flush=True)
        return 0
    here = os.path.abspath(__file__)
    procs = {v: subprocess.Popen([sys.executable, here, v], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for v in VARIANTS}
    out_dir = os.environ.get("OUT")
    rc = 0
    for v, p in procs.items():
        text, _ = p.communicate()
        rc |= p.returncode
        print(f"== {v} (exit {p.returncode})\n{text.strip()}", flush=True)
        if out_dir:
            with open(os.path.join(out_dir, f"lsa_trace_{v}.txt"), "w") as f:
                f.write(text)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
