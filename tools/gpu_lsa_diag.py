"""Diagnostic for a lent GPU: the LSA model's in-kernel prompt draw and its loss / gradient, one
thread, against the CPU kernels on the same inputs (localises a GPU-only difference)."""
import json
import os
import sys

import numpy as np

from theorysim.core.data import unpack
from theorysim.cuda import cuda
from theorysim.cuda.retarget import device
from theorysim.setups.icl import model as M

OUT = os.environ.get("OUT", ".")
out = {}
draw_dev = device(M._draw_prompt)
grad_dev = device(M.lsa_loss_grad)


@cuda.jit
def draw_kernel(Z, Sx, Sw, cfg, sc, k0, k1, step, b, buf, res):
    if cuda.grid(1) == 0:
        res[0] = draw_dev(Z, Sx, Sw, cfg, sc, k0, k1, step, b, buf)


@cuda.jit
def grad_kernel(th, fd, idd, mh, k0, k1, t, grad, work, res):
    if cuda.grid(1) == 0:
        res[0] = grad_dev(th, fd, idd, mh, k0, k1, t, grad, work)


for name, kw in {"W2-like": dict(d=10, n_context=10, layers=1, batch=4),
                 "parity": dict(d=2, n_context=4, layers=2, batch=3)}.items():
    m = M.LinearSelfAttention(eval_prompts=5, **kw)
    fd, idd = m.data()
    D, T = kw["d"] + 1, kw["n_context"] + 1
    k0, k1 = np.uint64(123), np.uint64(456)
    Zc, bufc = np.zeros((D, T)), np.zeros(m.work_size)
    entries = unpack(fd, idd)
    Sx, Sw, cfg, sc = entries[0], entries[1], entries[2], entries[5]  # what lsa_loss_grad passes the draw
    yc = M._draw_prompt(Zc, Sx, Sw, cfg, sc, k0, k1, 1, 2, bufc)
    Zg, bufg, res = cuda.to_device(np.zeros((D, T))), cuda.to_device(np.zeros(m.work_size)), cuda.to_device(np.zeros(1))
    draw_kernel[1, 1](Zg, *(cuda.to_device(np.ascontiguousarray(a)) for a in (Sx, Sw, cfg, sc)), k0, k1, 1, 2, bufg, res)
    Zh = Zg.copy_to_host()
    row = {"draw_max_rel": float(np.max(np.abs(Zh - Zc)) / np.max(np.abs(Zc))), "yq": [float(yc), float(res.copy_to_host()[0])],
           "draw_nonfinite": int(np.sum(~np.isfinite(Zh)))}
    th = m.init(np.array([0]), np.array([[0.1]]))[0]
    gc, wc = np.zeros(th.size), np.zeros(m.work_size)
    lc = M.lsa_loss_grad(th, fd, idd, np.zeros(1), k0, k1, 1, gc, wc)
    gg, wg, res2 = cuda.to_device(np.zeros(th.size)), cuda.to_device(np.full(m.work_size, np.nan)), cuda.to_device(np.zeros(1))
    grad_kernel[1, 1](cuda.to_device(th), cuda.to_device(fd), cuda.to_device(idd), cuda.to_device(np.zeros(1)), k0, k1, 1, gg, wg, res2)
    gh = gg.copy_to_host()
    row.update({"loss": [float(lc), float(res2.copy_to_host()[0])], "grad_max_rel": float(np.max(np.abs(gh - gc)) / np.max(np.abs(gc))),
                "grad_nonfinite": int(np.sum(~np.isfinite(gh)))})
    out[name] = row
    print(name, json.dumps(row), flush=True)
json.dump(out, open(os.path.join(OUT, "lsa_diag.json"), "w"), indent=1)
