"""Second LSA diagnostic on a lent GPU: which piece of lsa_loss_grad stops on the device."""
import json, os, traceback
import numpy as np
from theorysim.cuda import cuda
from theorysim.cuda.retarget import device
from theorysim.setups.icl import model as M

OUT = os.environ.get("OUT", ".")
out = {}


@cuda.jit
def reshape3(work, L, D, T, res):
    if cuda.grid(1) == 0:
        Zs = work[0:(L + 1) * D * T].reshape((L + 1, D, T))
        Z0 = Zs[0]
        res[0] = Z0[1, 2] + 1.0


@cuda.jit
def reshape2(work, D, T, res):
    if cuda.grid(1) == 0:
        Z = work[0:D * T].reshape((D, T))
        res[0] = Z[1, 2] + 1.0


llq = device(M._last_layer_query)


@cuda.jit
def last_layer(Z, P, Q, A, v, u, N, res):
    if cuda.grid(1) == 0:
        res[0] = llq(Z, P, Q, A, v, u, N, 0.0)


def run(name, fn):
    try:
        out[name] = fn()
    except Exception as e:
        out[name] = "error: " + "".join(traceback.format_exception_only(type(e), e))[-600:]
    print(name, out[name], flush=True)


def t_reshape3():
    w = cuda.to_device(np.arange(200.0)); r = cuda.to_device(np.zeros(1))
    reshape3[1, 1](w, 2, 3, 5, r)
    return float(r.copy_to_host()[0])  # expect 8.0


def t_reshape2():
    w = cuda.to_device(np.arange(200.0)); r = cuda.to_device(np.zeros(1))
    reshape2[1, 1](w, 3, 5, r)
    return float(r.copy_to_host()[0])  # expect 8.0


def t_last():
    rs = np.random.default_rng(0)
    D, T, N = 3, 5, 4
    Z, P, Q = rs.normal(size=(D, T)), rs.normal(size=(D, D)), rs.normal(size=(D, D))
    cpu = M._last_layer_query(Z, P, Q, np.zeros((D, D)), np.zeros(D), np.zeros(D), N, 0.0)
    r = cuda.to_device(np.zeros(1))
    last_layer[1, 1](Z, P, Q, np.zeros((D, D)), np.zeros(D), np.zeros(D), N, r)
    return [float(cpu), float(r.copy_to_host()[0])]


def t_debug_grad():
    gd = cuda.jit(device=True, debug=True, opt=False)(M.lsa_loss_grad.py_func)
    return "skipped"


run("reshape3 (expect 8)", t_reshape3)
run("reshape2 (expect 8)", t_reshape2)
run("last_layer_query [cpu, gpu]", t_last)
json.dump(out, open(os.path.join(OUT, "lsa_diag2.json"), "w"), indent=1)
