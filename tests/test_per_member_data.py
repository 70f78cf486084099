"""Per-member data: member e of one ensemble trains on its own data set, exactly as a lone run on it."""
import numpy as np
import pytest

import theorysim as ts
from theorysim.core.data import pack, pack_members, unpack
from theorysim.engine import naive

E, N, P = 4, 12, 3


def _data(seed=0):
    g = np.random.default_rng(seed)
    X = g.normal(size=(E, N, P))
    w = g.normal(size=(E, P))
    y = np.einsum("enp,ep->en", X, w) + 0.1 * g.normal(size=(E, N))
    return X, y


RUNS = [  # (optimizer, hyperparameters): full batch GD, minibatch SGD with momentum, Adam, Newton
    ("sgd", {"lr": 0.05}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "batch_size": 5}),
    ("adam", {"lr": 0.01}),
    ("newton", {"lr": 0.5}),
]


@pytest.mark.parametrize("n_used", [None, [12, 5, 3, 9]])
@pytest.mark.parametrize("opt,hyper", RUNS)
def test_ensemble_with_per_member_data_equals_separate_runs_bit_for_bit(opt, hyper, n_used):
    X, y = _data()
    model = ts.models.LeastSquares(X, y, n_used=n_used)
    assert model.data_members == E
    seeds = [3, 1, 4, 1]
    kw = dict(steps=25, record_every=5, record_params=True)
    together = ts.Experiment(model, opt, seeds=seeds, **kw, **hyper).run()
    oracle = naive.run(ts.Experiment(model, opt, seeds=seeds, **kw, **hyper))
    counts = n_used or [N] * E
    for e in range(E):
        alone_model = ts.models.LeastSquares(X[e, : counts[e]], y[e, : counts[e]])
        alone = ts.Experiment(alone_model, opt, seeds=[seeds[e]], **kw, **hyper).run()
        np.testing.assert_array_equal(together.records[e], alone.records[0])
        np.testing.assert_array_equal(together.theta[e], alone.theta[0])
        # the numpy oracle of the ensemble runs member e on its own data set too
        np.testing.assert_allclose(oracle["records"][e], alone.records[0], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(oracle["theta"][e], alone.theta[0], rtol=1e-10, atol=1e-13)
    # the members really differ (their data sets do)
    assert len({float(v) for v in together.final("loss")}) == E


def test_shared_data_is_one_row_and_per_member_data_one_row_each():
    X, y = _data()
    shared = ts.models.LeastSquares(X[0], y[0])
    f, i = shared.data()
    assert f.ndim == 1 and shared.data_members == 0 and shared.for_member(2) is shared
    per = ts.models.LeastSquares(X, y, n_used=[12, 5, 3, 9])
    f, i = per.data()
    assert f.shape[0] == E and i.shape[0] == E
    for e in range(E):
        Xe, ye, ne = unpack(f[e], i[e])
        np.testing.assert_array_equal(Xe, X[e])
        assert int(ne[0]) == [12, 5, 3, 9][e]


def test_the_ensemble_size_follows_the_data_and_must_agree():
    X, y = _data()
    model = ts.models.LeastSquares(X, y)
    assert ts.Experiment(model, "sgd", steps=2).n_members == E  # one seed, E data sets
    with pytest.raises(ValueError, match="model data: 4"):
        ts.Experiment(model, "sgd", steps=2, seeds=[0, 1, 2])


@pytest.mark.parametrize("bad,match", [
    ({"n_used": [12, 5, 0, 9]}, "n_used="),
    ({"n_used": [12, 5, 13, 9]}, "n_used="),
    ({"n_used": [1.5, 5, 3, 9]}, "n_used="),
    ({"n_used": [3, 3]}, "n_used="),
])
def test_bad_n_used_is_refused(bad, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        ts.models.LeastSquares(X, y, **bad)
    with pytest.raises(ValueError, match="only with per-member data"):
        ts.models.LeastSquares(X[0], y[0], n_used=[3])


def test_pack_members_refuses_different_shapes():
    with pytest.raises(ValueError, match="member 1"):
        pack_members([(np.zeros((2, 3)), np.zeros(2)), (np.zeros((3, 3)), np.zeros(3))])
    f, i = pack_members([(np.ones(2), np.array([1])), (np.zeros(2), np.array([2]))])
    assert f.shape == (2, 2) and np.array_equal(i[1], pack(np.zeros(2), np.array([2]))[1])


def _seeded_setup():
    """A sweep setup whose members draw their own least-squares data from their seeds (rng.STREAM_DATA)."""
    from theorysim.core import rng
    from theorysim.core.bounds import COUNT
    from theorysim.setups import SweepSetup

    def draw(seed, n, d):
        X = rng.normal(int(seed), (n, d), stream=rng.STREAM_DATA)
        y = X @ np.ones(d) + 0.1 * rng.normal(int(seed), (n,), stream=rng.STREAM_DATA, sub=1)
        return X, y

    def build_members(keys, seeds):
        data = [draw(s, int(keys["n"]), int(keys["d"])) for s in seeds]
        return ts.models.LeastSquares(np.stack([x for x, _ in data]), np.stack([t for _, t in data]))

    decl = SweepSetup("seeded_ls", {"n": 12, "d": 3}, lambda keys: None, ts.models.LeastSquares,
                      bounds={"n": COUNT, "d": COUNT}, build_members=build_members,
                      size=lambda k: (int(k["d"]), 8 * int(k["n"]) * (int(k["d"]) + 1), float(k["n"]) * k["d"]))
    return decl, draw


def test_sweep_members_draw_their_data_from_their_seeds(tmp_path, monkeypatch):
    """build_members: each member's data from its own seed, so a point trains on the same data whatever group
    it runs in (here 3 seeds in one ensemble, then seed 5 alone), and a claim's member drawing with the same
    convention (rng.STREAM_DATA) gets the same run, bit for bit."""
    from theorysim import setups, sweep
    from theorysim.sweep.store import Store, unpack_arrays

    decl, draw = _seeded_setup()
    real = setups.sweep_setups
    monkeypatch.setattr(setups, "sweep_setups", lambda: {**real(), decl.name: decl})
    experiment = {"setup": "seeded_ls", "optimizer": "sgd", "lr": 0.05, "steps": 30, "record_every": 30}
    together = sweep.Spec("mem.toml", experiment, {}, {}, [3, 5, 7], {"arrays": True}, [])
    alone = sweep.Spec("mem.toml", experiment, {}, {}, [5], {"arrays": True}, [])
    assert len(sweep.groups_of(together.points())) == 1  # still one ensemble
    for spec, path in ((together, tmp_path / "t.sqlite"), (alone, tmp_path / "a.sqlite")):
        assert sweep.run_sweep(spec, path, executor="serial", progress=False)["done"] == len(spec.seeds)
    theta = {}
    for path in (tmp_path / "t.sqlite", tmp_path / "a.sqlite"):
        store = Store(path, read_only=True)
        for row in store.rows():
            theta.setdefault(row["config"]["seed"], []).append(unpack_arrays(row["arrays"])["theta"])
        store.close()
    assert np.array_equal(theta[5][0], theta[5][1])  # the same data and run in either group
    X, y = draw(5, 12, 3)  # a claim's member with seed 5
    claim = ts.Experiment(ts.models.LeastSquares(X, y), "sgd", lr=0.05, steps=30, seeds=[5], record_every=30).run()
    assert np.array_equal(claim.theta[0], theta[5][0])
