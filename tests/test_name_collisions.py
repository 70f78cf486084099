"""Hyperparameter names never collide silently: a name that both the model (or the setup) and the
chosen optimizer take is refused, naming both, unless it is given on one side explicitly."""
import numpy as np
import pytest

import theorysim as ts
from theorysim.setups.matrix_sensing import problem
from theorysim.sweep import builders, load_spec


@pytest.fixture(scope="module")
def sensing():
    return problem.model({"n": 6, "r": 2, "m": 0, "problem_seed": 0}, 3, "XXT")


def test_experiment_refuses_alpha_claimed_by_model_and_rmsprop(sensing):
    with pytest.raises(ValueError, match=r"'alpha' is a hyperparameter of both model 'factorized_sensing' and "
                                         r"optimizer 'rmsprop'.*model_hyper"):
        ts.Experiment(sensing, "rmsprop", steps=3, alpha=0.5)
    # per member too: only the members whose optimizer takes alpha are ambiguous
    with pytest.raises(ValueError, match="member 1: 'alpha'"):
        ts.Experiment(sensing, ["sgd", "rmsprop"], steps=3, alpha=0.5)


def test_experiment_explicit_sides_are_honoured(sensing):
    # the model's alpha in model_hyper, the optimizer's as a keyword: both reach their rows
    exp = ts.Experiment(sensing, "rmsprop", steps=3, lr=1e-3, alpha=0.9, model_hyper={"alpha": 0.25})
    assert exp.resolved[0]["alpha"] == 0.9
    assert exp.model_hyper[0, sensing.hyper_index("alpha")] == 0.25
    assert exp.members[0]["alpha"] == 0.9 and exp.members[0]["model.alpha"] == 0.25
    # without a clash the bare name still goes to the model, as before
    plain = ts.Experiment(sensing, "sgd", steps=3, alpha=0.25)
    assert plain.model_hyper[0, sensing.hyper_index("alpha")] == 0.25 and "alpha" not in plain.resolved[0]
    # the same initial point either way: the model's alpha scales the init
    a = plain.run().theta
    b = ts.Experiment(sensing, "sgd", steps=3, model_hyper={"alpha": 0.25}).run().theta
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="model_hyper: model 'factorized_sensing' has no hyperparameter 'beta'"):
        ts.Experiment(sensing, "sgd", steps=3, model_hyper={"beta": 1.0})


XOR = {"setup": "xor_grokking", "steps": 3, "optimizer": "noisy_sgd", "seed": 0}


def test_sweep_refuses_xor_eta_with_noisy_sgd_and_accepts_prefixes():
    with pytest.raises(ValueError, match=r"experiment.eta: ambiguous: setup key 'eta' of setup 'xor_grokking' and "
                                         r"hyperparameter 'eta' of optimizer 'noisy_sgd'; write model.eta or optim.eta"):
        builders.validate({**XOR, "eta": 0.1})
    engine, setup, model_hyper, opt_hyper = builders.split({**XOR, "model.eta": 0.1, "optim.eta": 0.02})
    assert setup["eta"] == 0.1 and opt_hyper == {"eta": 0.02} and model_hyper == {}
    builders.validate({**XOR, "model.eta": 0.1, "optim.eta": 0.02})
    # with SGD, `eta` is unambiguous: the flip rate, as before
    _, setup, _, opt_hyper = builders.split({**XOR, "optimizer": "sgd", "eta": 0.1})
    assert setup["eta"] == 0.1 and "eta" not in opt_hyper
    with pytest.raises(ValueError, match="optim.eta: optimizer 'sgd' has no hyperparameter 'eta'"):
        builders.split({**XOR, "optimizer": "sgd", "optim.eta": 0.1})
    with pytest.raises(ValueError, match="model.gamma: setup 'xor_grokking' has no key or model hyperparameter"):
        builders.split({**XOR, "model.gamma": 0.1})


def test_sweep_model_hyperparameter_collision_and_toml_dotted_keys(tmp_path):
    base = {"setup": "matrix_sensing", "steps": 3, "optimizer": "rmsprop", "seed": 0}
    with pytest.raises(ValueError, match="ambiguous: model hyperparameter 'alpha'"):
        builders.validate({**base, "alpha": 0.5})
    spec = tmp_path / "s.toml"
    spec.write_text('[experiment]\nsetup = "matrix_sensing"\noptimizer = "rmsprop"\nsteps = 3\nm = 0\n'
                    'model.alpha = 0.5\n\n[grid]\n"optim.alpha" = [0.9, 0.99]\n')
    points = load_spec(spec).points()
    assert [p["optim.alpha"] for p in points] == [0.9, 0.99] and all(p["model.alpha"] == 0.5 for p in points)
    _, _, model_hyper, opt_hyper = builders.split(points[0])
    assert model_hyper == {"alpha": 0.5} and opt_hyper == {"alpha": 0.9}
