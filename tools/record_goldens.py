"""Record the optimizers' golden trajectories from the reference libraries themselves.

    pip install /path/to/torch-cpu.whl "jax[cpu]" optax adamp adabelief-pytorch==0.2.1 sgd-sai==1.0.3 \
        pytorch-optimizer bitsandbytes
    python tools/record_goldens.py            # writes tests/golden/optimizers.json

For every case of ``tests/golden_cases.py`` it runs the library's optimizer (float64 throughout)
on the shared problem for 50 steps and stores every iterate with the library's name and version.
The tests (``tests/test_golden.py``) compare theorysim against this file on every run, with no
library installed and no skip. Cases whose library is missing here are left as they are in the file.
"""
from __future__ import annotations

import importlib.metadata
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests import golden_cases as G  # noqa: E402

OUT = ROOT / "tests" / "golden" / "optimizers.json"
DISTRIBUTION = {"torch": "torch", "optax": "optax", "adamp": "adamp", "adabelief_pytorch": "adabelief-pytorch",
                "sgd_sai": "sgd-sai", "pytorch_optimizer": "pytorch-optimizer"}


def _torch_optimizer(library: str, name: str):
    import torch

    if library == "torch":
        return getattr(torch.optim, name)
    module = importlib.import_module(library)
    return getattr(module, name)


def run_torch(library: str, call) -> np.ndarray:
    import torch

    name, kw = call
    torch.set_default_dtype(torch.float64)  # scalar state (NAdam's mu product, step counts) in float64 too
    A, B, X0 = G.problem()
    W = torch.tensor(X0[:9].reshape(3, 3), requires_grad=True)
    b = torch.tensor(X0[9:], requires_grad=True)
    cls = _torch_optimizer(library, name)
    extra = {"foreach": False} if library == "torch" else {}
    opt = cls([W, b], **kw, **extra)
    At, Bt = torch.tensor(A), torch.tensor(B)
    out = []
    for _ in range(G.STEPS):
        opt.zero_grad()
        x = torch.cat([W.reshape(-1), b])
        (0.5 * x @ At @ x - Bt @ x).backward()
        opt.step()
        out.append(torch.cat([W.reshape(-1), b]).detach().numpy().copy())
    return np.array(out)


def run_optax(call) -> np.ndarray:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    name, kw = call
    factory = getattr(optax, name, None) or getattr(optax.contrib, name)
    tx = factory(**kw)
    A, B, X0 = G.problem()
    params = {k: jnp.asarray(v) for k, v in G.split(X0).items()}
    state = tx.init(params)
    out = []
    for _ in range(G.STEPS):
        g = G.split(A @ G.flat(params) - B)
        updates, state = tx.update({k: jnp.asarray(v) for k, v in g.items()}, state, params)
        params = optax.apply_updates(params, updates)
        out.append(G.flat(params))
    return np.array(out)


def record_bitsandbytes() -> None:
    """bitsandbytes' 8-bit Adam and Lion (CPU backend, float32, 256-entry blocks) on one 8192-entry
    vector for 10 steps (G.bnb_problem), and Adam8bit on issue 37's feedback gradient for three betas
    (G.bnb_feedback_problem): the final parameters, to tests/golden/bitsandbytes_8bit.npz."""
    import bitsandbytes as bnb
    import torch

    x0, grads = G.bnb_problem()
    out = {}
    for rule, cls in (("adam", bnb.optim.Adam8bit), ("lion", bnb.optim.Lion8bit)):
        p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float32))
        opt = cls([p], lr=G.BNB_LR)
        for g in grads:
            p.grad = torch.tensor(g, dtype=torch.float32)
            opt.step()
        out[rule] = p.detach().numpy().copy()
        ours = G.bnb_theorysim(rule)
        d = np.abs(ours - out[rule])
        print(f"{rule}8bit bitsandbytes {bnb.__version__}: |theorysim - bnb| median {np.median(d):.2e}, "
              f"99% {np.quantile(d, 0.99):.2e}, max {d.max():.2e}")
    x0, h = G.bnb_feedback_problem()
    for betas in G.BNB_FEEDBACK_BETAS:
        p = torch.nn.Parameter(torch.tensor(x0))
        opt = bnb.optim.Adam8bit([p], lr=G.BNB_LR, betas=betas)
        for _ in range(G.BNB_STEPS):
            p.grad = torch.tensor(G.bnb_feedback_grad(p.detach().numpy(), h))
            opt.step()
        key = f"adam_feedback_{betas[0]:g}_{betas[1]:g}"
        out[key] = p.detach().numpy().copy()
        for rounding in ("nearest", "cpu_lut"):
            d = np.abs(G.bnb_feedback_theorysim(betas, rounding) - out[key])
            print(f"{key} ({rounding}): |theorysim - bnb| > 1e-4 on {np.mean(d > 1e-4):.2%}, 99% {np.quantile(d, 0.99):.2e}")
    np.savez_compressed(OUT.with_name("bitsandbytes_8bit.npz"), version=np.array(bnb.__version__), **out)


def main() -> int:
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    for case_id, rule, hyper, library, call in G.CASES:
        try:
            traj = run_optax(call) if library == "optax" else run_torch(library, call)
            version = importlib.metadata.version(DISTRIBUTION[library])
        except ImportError as err:
            print(f"{case_id}: {library} not installed ({err}); kept as it was")
            continue
        ours = G.theorysim_trajectory(rule, hyper)
        err = float(np.max(np.linalg.norm(ours - traj, axis=1) / np.linalg.norm(traj, axis=1)))
        data[case_id] = {"rule": rule, "hyper": {k: list(v) if isinstance(v, tuple) else v for k, v in hyper.items()},
                         "library": library, "call": call[0], "library_hyper": {k: list(v) if isinstance(v, tuple) else v
                                                                                for k, v in call[1].items()},
                         "version": version, "steps": G.STEPS, "trajectory": traj.tolist()}
        print(f"{case_id:22s} {library} {version}: theorysim max relative difference {err:.2e}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"{OUT}: {len(data)} cases")
    try:
        record_bitsandbytes()
    except ImportError as err:
        print(f"bitsandbytes not installed ({err}); its golden kept as it was")
    return 0


if __name__ == "__main__":
    sys.exit(main())
