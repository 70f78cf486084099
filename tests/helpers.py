"""Small fixtures shared by test modules."""
import numpy as np


def random_spd_problem(dim: int, lo: float, hi: float, seed: int):
    """(A, b, x0): A symmetric with eigenvalues log-spaced in [lo, hi] in a random basis, and two
    standard normal vectors."""
    r = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(r.standard_normal((dim, dim)))
    A = (Q * np.geomspace(lo, hi, dim)) @ Q.T
    return 0.5 * (A + A.T), r.standard_normal(dim), r.standard_normal(dim)
