"""The DSD task of Lahoti, Karp, Winston, Singh, Li (2024): sample complexity of CNNs, LCNs and
FCNs with the LSA activation on k patches of dimension d, by the paper's two-step projected GD learner
(reconstructed: :mod:`theorysim.setups.dsd.two_step`) and by GD through the engine with one member per
(training-set size, seed)."""
from theorysim.core.bounds import COUNT, NONNEG, SEED
from theorysim.setups import Setup, SweepSetup
from theorysim.setups.dsd import data, model, study, two_step

LEARNERS = ("gd", "two_step")


def _build(keys):
    """One point: the first m rows of draw ``data_seed`` (drawn at the pool size, as the claims' searches
    draw at their largest size and train on prefixes); its init comes from seed + data_seed, so a point
    with seed 0 is member (m, data_seed) of the claims' search (search.gd_errors, or with learner =
    "two_step" search.two_step_searches: the init is then the learner's step 1 and the engine's one GD
    step at rate 2 eta2 and b = b1 its step 2)."""
    k, d = int(keys["k"]), int(keys["d"])
    X, y, _ = data.sample(int(keys["pool"]), k, d, float(keys["sigma"]), keys["mode"], seed=int(keys["data_seed"]))
    m = int(keys["m"])
    if keys["learner"] == "two_step":
        return two_step.start_model(keys["arch"], k, d, X[:m], y[:m], init_offset=int(keys["data_seed"]))
    return model.PatchNet(keys["arch"], k, d, X[:m], y[:m], init_offset=int(keys["data_seed"]))


def _check(keys, spec, resolved):
    if int(keys["m"]) > int(keys["pool"]):
        raise ValueError(f"experiment.m={keys['m']!r}: expected a training-set size in [1, pool={keys['pool']}]")
    if keys["learner"] == "two_step":
        if keys["arch"] not in two_step.ARCHS:
            raise ValueError(f"experiment.arch={keys['arch']!r}: learner 'two_step' is defined for "
                             f"{', '.join(map(repr, two_step.ARCHS))}")
        if spec.name != "sgd":
            raise ValueError(f"experiment.optimizer={spec.name!r}: learner 'two_step' takes its second step as one "
                             "plain GD step; expected 'sgd' (with steps = 1, lr = 2 eta2, b = b1)")


def _size(keys):
    """The pool is drawn whole (pool rows of k d inputs and a label) before the first m are kept;
    a full-batch step touches the m training rows with every parameter."""
    k, d, m, pool = int(keys["k"]), int(keys["d"]), int(keys["m"]), int(keys["pool"])
    params = model.n_params(keys["arch"], k, d)
    return params, 8 * (pool + m) * (k * d + 1), float(params) * m


SETUP = Setup(
    name="dsd", doc=__doc__,
    sweeps=(SweepSetup("dsd", study.SWEEP_KEYS, _build, model.PatchNet,
                       choices={"arch": model.ARCHITECTURES, "mode": data.MODES, "learner": LEARNERS},
                       bounds={"k": COUNT, "d": COUNT, "m": COUNT, "pool": COUNT, "sigma": NONNEG, "data_seed": SEED},
                       check=_check, size=_size,
                       doc="CNN / LCN / FCN with the LSA activation on the first m of `pool` DSD samples (draw "
                           "data_seed), Lahoti et al. 2024; learner = 'gd' (from a random init) or 'two_step' "
                           "(init = the two-step learner's step 1, one engine GD step = its step 2); test errors, "
                           "excess risks and m* from the store: theorysim.setups.dsd.study"),),
)
