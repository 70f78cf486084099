import os
import subprocess
import sys

import numpy as np
import pytest

import theorysim as ts
from tests.helpers import random_spd_problem


@pytest.fixture
def diag_quadratic():
    """A diagonal quadratic: A @ e adds exact zeros, so engine and oracle agree to the bit."""
    return ts.models.Quadratic(np.diag([0.1, 0.5, 1.0, 2.0, 4.0]), x_star=np.array([1.0, -2.0, 0.5, 0.0, 3.0]))


@pytest.fixture
def dense_quadratic():
    A, x_star, _ = random_spd_problem(6, 0.05, 1.0, seed=0)
    return ts.models.Quadratic(A, x_star=x_star)


@pytest.fixture
def least_squares():
    r = np.random.default_rng(1)
    X = r.standard_normal((40, 5))
    return ts.models.LeastSquares(X, X @ r.standard_normal(5) + 0.1 * r.standard_normal(40))


@pytest.fixture(scope="session")
def nvvm():
    """NVVM (numba-cuda's [cu13] extra) for a GPU build without a GPU: skipped where it is missing,
    a failure in CI (the test extra installs it there, so a skip would hide a broken install)."""
    probe = subprocess.run([sys.executable, "-c", "from numba.cuda.cudadrv import nvvm; nvvm.NVVM()"],
                           capture_output=True, text=True, env={**os.environ, "NUMBA_ENABLE_CUDASIM": "0"})
    if probe.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail("CI must build PTX: install numba-cuda[cu13] (the test extra does)\n" + probe.stderr[-800:])
        pytest.skip("no NVVM here: pip install 'theorysim[cuda]'")
