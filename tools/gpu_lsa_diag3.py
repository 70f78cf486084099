"""Third LSA diagnostic on a lent GPU: lsa_loss_grad compiled with debug=True (device exceptions
are then raised on the host, with their message)."""
import json, os, traceback, types
import numpy as np
import theorysim.cuda.retarget as R
from theorysim.cuda import cuda
from theorysim.setups.icl import model as M

_jit = cuda.jit


def _debug_jit(*a, **k):
    k.setdefault("debug", True)
    k.setdefault("opt", False)
    return _jit(*a, **k)


R.cuda = types.SimpleNamespace(jit=_debug_jit)
grad_dev = R.device(M.lsa_loss_grad)


@_jit(debug=True, opt=False)
def grad_kernel(th, fd, idd, mh, k0, k1, t, grad, work, res):
    if cuda.grid(1) == 0:
        res[0] = grad_dev(th, fd, idd, mh, k0, k1, t, grad, work)


OUT = os.environ.get("OUT", ".")
m = M.LinearSelfAttention(2, 4, layers=1, batch=3, eval_prompts=5)
fd, idd = m.data()
th = m.init(np.array([0]), np.array([[0.1]]))[0]
res = cuda.to_device(np.zeros(1))
try:
    grad_kernel[1, 1](cuda.to_device(th), cuda.to_device(fd), cuda.to_device(idd), cuda.to_device(np.zeros(1)),
                      np.uint64(1), np.uint64(2), 1, cuda.to_device(np.zeros(th.size)), cuda.to_device(np.zeros(m.work_size)), res)
    cuda.synchronize()
    msg = {"loss": float(res.copy_to_host()[0])}
except Exception as e:
    msg = {"error": "".join(traceback.format_exception(type(e), e))[-3000:]}
print(json.dumps(msg, indent=1), flush=True)
json.dump(msg, open(os.path.join(OUT, "lsa_diag3.json"), "w"), indent=1)
