"""The DSD task of Lahoti, Karp, Winston, Singh, Li (2024): sample complexity of CNNs, LCNs and
FCNs with the LSA activation on k patches of dimension d, by closed-form projected steps and by GD
through the engine with one member per (training-set size, seed)."""
from theorysim.core.bounds import COUNT, NONNEG, SEED
from theorysim.setups import Setup, SweepSetup
from theorysim.setups.dsd import data, model, study


def _build(keys):
    """One point: the first m rows of draw ``data_seed`` (drawn at the pool size, as the claims' searches
    draw at their largest size and train on prefixes); its init comes from seed + data_seed, so a point
    with seed 0 is member (m, data_seed) of the claims' search (search.gd_errors)."""
    k, d = int(keys["k"]), int(keys["d"])
    X, y, _ = data.sample(int(keys["pool"]), k, d, float(keys["sigma"]), keys["mode"], seed=int(keys["data_seed"]))
    m = int(keys["m"])
    return model.PatchNet(keys["arch"], k, d, X[:m], y[:m], init_offset=int(keys["data_seed"]))


def _check(keys, spec, resolved):
    if int(keys["m"]) > int(keys["pool"]):
        raise ValueError(f"experiment.m={keys['m']!r}: expected a training-set size in [1, pool={keys['pool']}]")


def _size(keys):
    """The pool is drawn whole (pool rows of k d inputs and a label) before the first m are kept;
    a full-batch step touches the m training rows with every parameter."""
    k, d, m, pool = int(keys["k"]), int(keys["d"]), int(keys["m"]), int(keys["pool"])
    params = model.n_params(keys["arch"], k, d)
    return params, 8 * (pool + m) * (k * d + 1), float(params) * m


SETUP = Setup(
    name="dsd", doc=__doc__,
    sweeps=(SweepSetup("dsd", study.SWEEP_KEYS, _build, model.PatchNet,
                       choices={"arch": model.ARCHITECTURES, "mode": data.MODES},
                       bounds={"k": COUNT, "d": COUNT, "m": COUNT, "pool": COUNT, "sigma": NONNEG, "data_seed": SEED},
                       check=_check, size=_size,
                       doc="CNN / LCN / FCN with the LSA activation on the first m of `pool` DSD samples (draw "
                           "data_seed), Lahoti et al. 2024; test errors and m* from the store: "
                           "theorysim.setups.dsd.study"),),
)
