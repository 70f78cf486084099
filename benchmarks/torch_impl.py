"""W1 and W2 as a PyTorch user would write them: float64, autograd, batched over seeds."""
import math
import sys
import time

import numpy as np
import torch

torch.set_default_dtype(torch.float64)


def w1(M_star: np.ndarray, X0: np.ndarray, lr: float, steps: int):
    """GD on f(X) = 1/4 ||X X^T - M*||_F^2 for every seed at once (X: [E, n, k])."""
    M = torch.as_tensor(M_star)
    E, n = X0.shape[0], M.shape[0]
    X = torch.as_tensor(X0.reshape(E, n, -1)).clone().requires_grad_(True)
    opt = torch.optim.SGD([X], lr=lr)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        R = X @ X.transpose(1, 2) - M
        loss = 0.25 * (R * R).sum()  # seeds are independent: the sum's gradient is each seed's own
        loss.backward()
        opt.step()
    with torch.no_grad():
        err = torch.linalg.norm(X @ X.transpose(1, 2) - M, dim=(1, 2))
    return float(np.median(err.numpy()))  # torch.median takes the lower middle value; numpy averages


def w2(d: int, N: int, batch: int, lr: float, init: float, steps: int, seeds: int, eval_prompts: int = 4096):
    """One-layer LSA (P, Q per seed: [E, D, D]), fresh prompts x ~ N(0, I), w ~ N(0, I), y = w.x
    every step, Adam; loss 1/2 mean (y_hat - y_q)^2 per seed."""
    D = d + 1
    g = torch.Generator().manual_seed(0)
    P = (init * torch.randn(seeds, D, D, generator=g)).requires_grad_(True)
    Q = (init * torch.randn(seeds, D, D, generator=g)).requires_grad_(True)
    opt = torch.optim.Adam([P, Q], lr=lr)

    def loss_of(X, y, xq, yq):
        # tokens Z: [E, B, D, N + 1], query last with y-entry 0
        Z = torch.cat([torch.cat([X, y[..., None]], -1), torch.cat([xq, torch.zeros_like(yq)[..., None]], -1)[:, :, None]], 2)
        Z = Z.transpose(-1, -2)
        ctx = Z[..., :N]
        G = ctx @ ctx.transpose(-1, -2)
        out = Z + (P[:, None] @ G @ Q[:, None]) @ Z / N
        pred = -out[..., -1, -1]
        return 0.5 * ((pred - yq) ** 2).mean(dim=1)

    def sample(B):
        X = torch.randn(seeds, B, N, d, generator=g)
        w = torch.randn(seeds, B, d, generator=g)
        xq = torch.randn(seeds, B, d, generator=g)
        return X, torch.einsum("ebnd,ebd->ebn", X, w), xq, torch.einsum("ebd,ebd->eb", xq, w)

    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss_of(*sample(batch)).sum().backward()
        opt.step()
    with torch.no_grad():
        return float(loss_of(*sample(eval_prompts)).mean())


if __name__ == "__main__":
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads())


def w3(X, y, a, Xt, yt, W0: np.ndarray, lr: float, steps: int):
    """Full-batch GD on the mean logistic loss of f(x) = sum_j a_j relu(<w_j, x>), every seed at
    once (W: [E, m, p]); returns the mean final (train, clean test) accuracy."""
    X, y, a, Xt, yt = (torch.as_tensor(v) for v in (X, y, a, Xt, yt))
    E, m = W0.shape[0], a.shape[0]
    W = torch.as_tensor(W0.reshape(E, m, -1)).clone().requires_grad_(True)
    opt = torch.optim.SGD([W], lr=lr)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        f = torch.relu(X @ W.transpose(1, 2)) @ a  # [E, n]
        torch.nn.functional.softplus(-y * f).mean(dim=1).sum().backward()
        opt.step()
    with torch.no_grad():
        train = ((y * (torch.relu(X @ W.transpose(1, 2)) @ a)) > 0).double().mean()
        test = ((yt * (torch.relu(Xt @ W.transpose(1, 2)) @ a)) > 0).double().mean()
    return float(train), float(test)
