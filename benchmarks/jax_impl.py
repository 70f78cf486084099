"""W1 and W2 as a JAX user would write them: x64, jit + vmap over seeds + lax.scan over steps."""
import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


def w1(M_star: np.ndarray, X0: np.ndarray, lr: float, steps: int):
    M = jnp.asarray(M_star)
    n = M.shape[0]

    def loss(X):
        R = X @ X.T - M
        return 0.25 * jnp.sum(R * R)

    def run(X):
        def body(X, _):
            return X - lr * jax.grad(loss)(X), None
        X, _ = jax.lax.scan(body, X, None, length=steps)
        return jnp.linalg.norm(X @ X.T - M)

    f = jax.jit(jax.vmap(run))
    err = f(jnp.asarray(X0.reshape(X0.shape[0], n, -1)))
    return float(jnp.median(err.block_until_ready()))


def w2(d: int, N: int, batch: int, lr: float, init: float, steps: int, seeds: int, eval_prompts: int = 4096):
    D = d + 1
    b1, b2, eps = 0.9, 0.999, 1e-8

    def loss(params, key, B):
        P, Q = params
        k1, k2, k3 = jax.random.split(key, 3)
        X = jax.random.normal(k1, (B, N, d))
        w = jax.random.normal(k2, (B, d))
        xq = jax.random.normal(k3, (B, d))
        y, yq = jnp.einsum("bnd,bd->bn", X, w), jnp.einsum("bd,bd->b", xq, w)
        Z = jnp.concatenate([jnp.concatenate([X, y[..., None]], -1),
                             jnp.concatenate([xq, jnp.zeros_like(yq)[..., None]], -1)[:, None]], 1)
        Z = jnp.swapaxes(Z, -1, -2)
        ctx = Z[..., :N]
        G = ctx @ jnp.swapaxes(ctx, -1, -2)
        out = Z + (P @ G @ Q) @ Z / N
        return 0.5 * jnp.mean((-out[:, -1, -1] - yq) ** 2)

    def train(key):
        kp, kq, kd = jax.random.split(key, 3)
        params = (init * jax.random.normal(kp, (D, D)), init * jax.random.normal(kq, (D, D)))
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)

        def body(carry, t):
            params, m, v = carry
            g = jax.grad(loss)(params, jax.random.fold_in(kd, t), batch)
            m = jax.tree_util.tree_map(lambda a, b: b1 * a + (1 - b1) * b, m, g)
            v = jax.tree_util.tree_map(lambda a, b: b2 * a + (1 - b2) * b * b, v, g)
            tt = t + 1.0
            params = jax.tree_util.tree_map(
                lambda p, a, b: p - lr * (a / (1 - b1**tt)) / (jnp.sqrt(b / (1 - b2**tt)) + eps), params, m, v)
            return (params, m, v), None

        (params, _, _), _ = jax.lax.scan(body, (params, zeros, zeros), jnp.arange(steps))
        return loss(params, jax.random.fold_in(kd, 10**6), eval_prompts)

    f = jax.jit(jax.vmap(train))
    return float(jnp.mean(f(jax.random.split(jax.random.PRNGKey(0), seeds)).block_until_ready()))


def w3(X, y, a, Xt, yt, W0: np.ndarray, lr: float, steps: int):
    X, y, a, Xt, yt = (jnp.asarray(v) for v in (X, y, a, Xt, yt))
    m = a.shape[0]

    def loss(W):
        f = jax.nn.relu(X @ W.T) @ a
        return jnp.mean(jax.nn.softplus(-y * f))

    def run(W):
        def body(W, _):
            return W - lr * jax.grad(loss)(W), None
        W, _ = jax.lax.scan(body, W, None, length=steps)
        train = jnp.mean((y * (jax.nn.relu(X @ W.T) @ a) > 0).astype(jnp.float64))
        test = jnp.mean((yt * (jax.nn.relu(Xt @ W.T) @ a) > 0).astype(jnp.float64))
        return train, test

    train, test = jax.jit(jax.vmap(run))(jnp.asarray(W0.reshape(W0.shape[0], m, -1)))
    return float(jnp.mean(train)), float(jnp.mean(test))
