"""Optional cross-checks against the libraries' own optimizers (torch.optim, optax).

They skip when the library is absent (it is not a dependency), and print the version used.
float64 everywhere, a fixed quadratic 1/2 x^T A x - b^T x with one matrix and one vector block,
deterministic gradients, every step compared (optimizers.md sec. 13).
"""
import numpy as np
import pytest

from theorysim import optim
from tests.helpers import random_spd_problem

A_DIM = 12
SHAPES = {"W": (3, 3), "b": (3,)}


A, B, X0 = random_spd_problem(A_DIM, 0.2, 2.0, seed=3)


def _split(x):
    return {"W": x[:9].reshape(3, 3), "b": x[9:].copy()}


def _grad(x):
    return A @ x - B


def _ours(name, steps, **hyper):
    opt = optim.make(name, **hyper)
    params = _split(X0.copy())
    state = opt.init(params)
    out = []
    for _ in range(steps):
        x = np.concatenate([params["W"].ravel(), params["b"]])
        params, state = opt.step(params, _split(_grad(x)), state)
        out.append(np.concatenate([params["W"].ravel(), params["b"]]))
    return np.array(out)


TORCH_CASES = [
    ("sgd", "SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("sgd", "SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("adagrad", "Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
    ("rmsprop", "RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.01)),
    ("adam", "Adam", dict(lr=0.01, betas=(0.9, 0.99), weight_decay=0.01)),
    ("adam", "Adam", dict(lr=0.01, amsgrad=True)),
    ("adamw", "AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("nadam", "NAdam", dict(lr=0.01, weight_decay=0.01)),
]


@pytest.mark.parametrize("name,torch_name,hyper", TORCH_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(TORCH_CASES)])
def test_against_torch_optim(name, torch_name, hyper):
    torch = pytest.importorskip("torch")
    print("torch", torch.__version__)
    # torch keeps scalar state (NAdam's mu_product, step counts) in the default dtype: float64 too
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        _compare_torch(torch, name, torch_name, hyper)
    finally:
        torch.set_default_dtype(previous)


def _compare_torch(torch, name, torch_name, hyper):
    ours = _ours(name, 50, **hyper)
    W = torch.tensor(X0[:9].reshape(3, 3), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(X0[9:], dtype=torch.float64, requires_grad=True)
    kw = dict(hyper)
    if name == "adam" and kw.get("amsgrad"):
        kw["amsgrad"] = True
    opt = getattr(torch.optim, torch_name)([W, b], foreach=False, **kw)
    At, Bt = torch.tensor(A), torch.tensor(B)
    for t in range(50):
        opt.zero_grad()
        x = torch.cat([W.reshape(-1), b])
        loss = 0.5 * x @ At @ x - Bt @ x
        loss.backward()
        opt.step()
        theirs = torch.cat([W.reshape(-1), b]).detach().numpy()
        err = np.linalg.norm(ours[t] - theirs) / np.linalg.norm(theirs)
        assert err < 1e-12, f"{name} vs torch.optim.{torch_name} at step {t + 1}: relative error {err:.2e}"


OPTAX_CASES = [
    ("lion", dict(lr=0.003, betas=(0.9, 0.99), weight_decay=0.1), "lion", dict(learning_rate=0.003, b1=0.9, b2=0.99, weight_decay=0.1)),
    ("lamb", dict(lr=0.01, weight_decay=0.01), "lamb", dict(learning_rate=0.01, eps=1e-6, weight_decay=0.01)),
    ("lars", dict(lr=0.5, weight_decay=0.01, trust_coefficient=0.01, momentum=0.9), "lars",
     dict(learning_rate=0.5, weight_decay=0.01, trust_coefficient=0.01, momentum=0.9)),
    ("signum", dict(lr=0.003, momentum=0.9), "signum", dict(learning_rate=0.003, beta=0.9)),
    ("signsgd", dict(lr=0.003), "sign_sgd", dict(learning_rate=0.003)),
    ("adabelief", dict(lr=0.01, rectify=False, weight_decouple=False), "adabelief", dict(learning_rate=0.01)),
    ("amsgrad", dict(lr=0.01, amsgrad="optax"), "amsgrad", dict(learning_rate=0.01)),
]


@pytest.mark.parametrize("name,hyper,optax_name,optax_hyper", OPTAX_CASES, ids=[c[0] for c in OPTAX_CASES])
def test_against_optax(name, hyper, optax_name, optax_hyper):
    optax = pytest.importorskip("optax")
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    print("optax", optax.__version__, "jax", jax.__version__)
    ours = _ours(name, 50, **hyper)
    factory = getattr(optax, optax_name, None) or getattr(optax.contrib, optax_name)
    tx = factory(**optax_hyper)
    params = {"W": jnp.asarray(X0[:9].reshape(3, 3)), "b": jnp.asarray(X0[9:])}
    state = tx.init(params)
    for t in range(50):
        x = np.concatenate([np.asarray(params["W"]).ravel(), np.asarray(params["b"])])
        g = _split(_grad(x))
        updates, state = tx.update({k: jnp.asarray(v) for k, v in g.items()}, state, params)
        params = optax.apply_updates(params, updates)
        theirs = np.concatenate([np.asarray(params["W"]).ravel(), np.asarray(params["b"])])
        err = np.linalg.norm(ours[t] - theirs) / np.linalg.norm(theirs)
        assert err < 1e-10, f"{name} vs optax.{optax_name} at step {t + 1}: relative error {err:.2e}"
