"""Philox4x64-10: bitwise against numpy's Philox, distribution tests, stream independence."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from theorysim.core import rng

U64 = st.integers(min_value=0, max_value=2**64 - 1)


def numpy_philox_block(c, k):
    """numpy's Philox increments the counter before each block: start one below."""
    start = (c[0] - 1) % 2**64
    borrow = c[0] == 0
    c1 = (c[1] - 1) % 2**64 if borrow else c[1]
    bg = np.random.Philox(key=np.array(k, dtype=np.uint64), counter=np.array([start, c1, c[2], c[3]], dtype=np.uint64))
    return bg.random_raw(4)


@settings(max_examples=60, deadline=None)
@given(st.tuples(U64, U64, U64, U64), st.tuples(U64, U64))
def test_philox_matches_numpy_bitwise(counter, key):
    if counter[0] == 0 and counter[1] == 0:
        counter = (1, 0, counter[2], counter[3])  # the borrow chain would reach c2 in numpy's increment
    ours = rng.philox4x64(*(np.uint64(c) for c in counter), np.uint64(key[0]), np.uint64(key[1]))
    np.testing.assert_array_equal(np.array(ours, dtype=np.uint64), numpy_philox_block(counter, key))


def test_mulhilo_against_python_integers():
    r = np.random.default_rng(0)
    for a, b in r.integers(0, 2**64 - 1, size=(200, 2), dtype=np.uint64, endpoint=True):
        hi, lo = rng.mulhilo64(np.uint64(a), np.uint64(b))
        prod = int(a) * int(b)
        assert int(hi) == prod >> 64 and int(lo) == prod & (2**64 - 1)


def test_uniform_moments_and_ks():
    u = rng.uniform(7, (200_000,))
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 0.002
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_normal_moments_and_ks():
    z = rng.normal(11, (200_000,))
    n = z.size
    assert abs(z.mean()) < 4 / np.sqrt(n)
    assert abs(z.var() - 1.0) < 4 * np.sqrt(2 / n)
    assert abs(stats.skew(z)) < 4 * np.sqrt(6 / n)
    assert abs(stats.kurtosis(z)) < 4 * np.sqrt(24 / n)
    assert stats.kstest(z, "norm").pvalue > 1e-3


@pytest.mark.parametrize(
    "other",
    [
        {"seed": 12},  # another seed
        {"seed": 11, "step": 1},  # another step
        {"seed": 11, "stream": rng.STREAM_NOISE},  # another stream
        {"seed": 11, "sub": 5},  # another sub-index
    ],
)
def test_streams_are_uncorrelated(other):
    n = 100_000
    a = rng.normal(11, (n,), step=0, stream=rng.STREAM_INIT)
    seed = other.pop("seed")
    b = rng.normal(seed, (n,), **{"step": 0, "stream": rng.STREAM_INIT, **other})
    assert not np.array_equal(a, b)
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(n)
    # a two-sample KS test between streams would miss a shifted copy; check lagged correlation too
    assert abs(np.corrcoef(a[1:], b[:-1])[0, 1]) < 4 / np.sqrt(n)


def test_same_counter_same_numbers_and_prefix_property():
    a = rng.normal(3, (10,), step=4, stream=2, sub=1)
    b = rng.normal(3, (13,), step=4, stream=2, sub=1)
    np.testing.assert_array_equal(a, b[:10])  # a longer draw extends a shorter one


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        rng.key_from_seed(seed)


# ---- ziggurat -------------------------------------------------------------------------------------
def zig_oracle(seed, count, step, stream, sub=0):
    """The ziggurat written again in plain Python on numpy's Philox words (an independent Philox), from
    the description in theorysim.core.rng: normal j is word j % 4 of block j // 4; retries read
    counter (j, step, stream, sub | 2^63 | attempt 2^40). step >= 1 (numpy's counter pre-increment
    cannot start below (0, 0, ...))."""
    import math

    assert step >= 1
    key = [int(w) for w in rng.key_from_seed(seed)]
    X, ratio, R = rng.ZIG_X, rng.ZIG_RATIO, rng.ZIG_R
    unif = lambda w: (int(w) >> 11) * 2.0**-53  # noqa: E731
    open_unif = lambda w: ((int(w) >> 11) + 1) * 2.0**-53  # noqa: E731
    out = []
    for j in range(count):
        w = numpy_philox_block((j // 4, step, stream, sub), key)[j % 4]
        i, u = int(w) & 0xFF, 2.0 * unif(w) - 1.0
        attempt, z = 1, None
        if abs(u) < ratio[i]:
            z = u * X[i]
        while z is None:
            a, b, c, e = numpy_philox_block((j, step, stream, sub | (1 << 63) | (attempt << 40)), key)
            attempt += 1
            if i == 0:
                t = -math.log(open_unif(a)) / R
                if -2.0 * math.log(open_unif(b)) >= t * t:
                    z = R + t if u > 0 else -(R + t)
                continue
            x = u * X[i]
            f0, f1 = math.exp(-0.5 * (X[i] ** 2 - x * x)), math.exp(-0.5 * (X[i + 1] ** 2 - x * x))
            if f1 + unif(a) * (f0 - f1) < 1.0:
                z = x
                continue
            i, u = int(c) & 0xFF, 2.0 * unif(e) - 1.0
            if abs(u) < ratio[i]:
                z = u * X[i]
        out.append(z)
    return np.array(out)


def test_ziggurat_matches_the_oracle_and_takes_every_path():
    """The compiled ziggurat against the plain-Python one on numpy's Philox: the rectangle path is one
    multiply (bitwise), the wedge and tail paths use exp / log (to 1e-15); 40000 draws reach the tail."""
    count = 40_000
    ours = rng.normal_zig(9, (count,), step=2, stream=5)
    ref = zig_oracle(9, count, 2, 5)
    np.testing.assert_allclose(ours, ref, rtol=1e-15, atol=0)
    words = np.concatenate([numpy_philox_block((b, 2, 5, 0), [int(w) for w in rng.key_from_seed(9)])
                            for b in range(count // 4)])
    fast = np.abs(2.0 * ((words >> np.uint64(11)).astype(np.float64) * 2.0**-53) - 1.0) < \
        rng.ZIG_RATIO[(words & np.uint64(0xFF)).astype(np.int64)]
    assert np.array_equal(ours[fast], ref[fast])
    assert fast.mean() == pytest.approx(rng.ZIG_RATIO.mean(), abs=0.002) and np.sum(np.abs(ours) > rng.ZIG_R) >= 3  # wedges and tails were drawn


def test_ziggurat_layers_have_equal_areas():
    """Every layer of the table covers area V: the base layer R f(R) + the tail, layer i
    x_i (f(x_{i+1}) - f(x_i)), the top one x_255 (1 - f(x_255))."""
    from scipy import special

    f = lambda x: np.exp(-0.5 * x * x)  # noqa: E731
    X, R = rng.ZIG_X, rng.ZIG_R
    V = R * f(R) + np.sqrt(np.pi / 2) * special.erfc(R / np.sqrt(2))
    areas = np.array([X[i] * (f(X[i + 1]) - f(X[i])) for i in range(1, 256)])
    np.testing.assert_allclose(areas, V, rtol=1e-11)
    assert X[0] * f(R) == pytest.approx(V, rel=1e-14) and X[256] == 0.0


def test_ziggurat_distribution_and_tail():
    z = rng.normal_zig(11, (400_000,), step=1)
    n = z.size
    assert abs(z.mean()) < 4 / np.sqrt(n)
    assert abs(z.var() - 1.0) < 4 * np.sqrt(2 / n)
    assert abs(stats.skew(z)) < 4 * np.sqrt(6 / n) and abs(stats.kurtosis(z)) < 4 * np.sqrt(24 / n)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    p = 2 * stats.norm.sf(rng.ZIG_R)  # the tail beyond R: its frequency, and its shape given |z| > R
    tail = np.abs(z[np.abs(z) > rng.ZIG_R])
    assert abs(len(tail) - n * p) < 4 * np.sqrt(n * p)
    tail = np.abs(rng.normal_zig(12, (4_000_000,), step=1))
    tail = tail[tail > rng.ZIG_R]
    truncated = stats.truncnorm(rng.ZIG_R, np.inf)
    assert stats.kstest(tail, truncated.cdf).pvalue > 1e-3


def test_ziggurat_offsets_and_streams():
    key = rng.key_from_seed(4)
    full = rng.normal_zig(4, (1001,), step=3, stream=7, sub=2)
    for start, count in ((0, 1001), (1, 7), (517, 300), (998, 3)):
        out = np.empty(count)
        rng.fill_normal_zig_at(key[0], key[1], np.uint64(3), np.uint64(7), np.uint64(2), start, out)
        np.testing.assert_array_equal(out, full[start:start + count])
    other = rng.normal_zig(4, (1001,), step=3, stream=7, sub=3)
    assert abs(np.corrcoef(full, other)[0, 1]) < 4 / np.sqrt(1001)


@pytest.mark.parametrize("n", [5, rng.HOST_PIECE, rng.HOST_PIECE + 1, 3 * rng.HOST_PIECE + 7])
@pytest.mark.parametrize("kind", ["normal", "normal_zig", "uniform"])
def test_host_draws_are_the_serial_stream_whatever_the_threads(kind, n):
    """Python-side draws above HOST_PIECE are filled in parallel pieces; the values are those of
    the one-thread fill of the same counter, for any thread count."""
    import numba

    key = rng.key_from_seed(7)
    counter = (key[0], key[1], np.uint64(3), np.uint64(2), np.uint64(1))
    serial = np.empty(n)
    if kind == "normal":
        rng.fill_normal(*counter, serial)
    elif kind == "normal_zig":
        rng.fill_normal_zig_at(*counter, 0, serial)
    else:
        rng.fill_uniform(*counter, serial)
    before = numba.get_num_threads()
    try:
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            drawn = getattr(rng, kind)(7, (n,), step=3, stream=2, sub=1)
            np.testing.assert_array_equal(drawn, serial)
    finally:
        numba.set_num_threads(before)
