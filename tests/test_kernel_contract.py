"""A model kernel that does not fit the engine is refused before the run in one line naming the model,
the kernel and what the engine passes; a metric the kernel never writes is caught after the first run
(a sentinel NaN, not a silent NaN) (issue 39)."""
import numpy as np
import pytest

from theorysim.core.config import jit
from theorysim.engine.experiment import Experiment
from theorysim.models.linear import Quadratic, quadratic_loss_grad, quadratic_metrics


@jit
def five_argument_metrics(theta, fdata, idata, mh, out):
    out[0] = 0.0
    return 0.0


@jit
def metrics_returning_nothing(theta, fdata, idata, mh, out, work):
    out[0] = theta[0]
    out[1] = theta[1]


@jit
def metrics_writing_two(theta, fdata, idata, mh, out, work):
    out[0] = theta[0]
    out[1] = np.nan  # a NaN the kernel writes is a value, not a missing metric
    return 0.0


def model_with(metrics, names=("loss", "error_norm")):
    class Custom(Quadratic):
        name = "custom"
        metric_names = names
        kernels = (quadratic_loss_grad, metrics, None)

    return Custom(np.eye(3))


@pytest.mark.parametrize("metrics, match", [
    (five_argument_metrics, r"model 'custom': metrics kernel five_argument_metrics takes 5 arguments; the engine "
                            r"passes 6: \(theta, fdata, idata, mh, out, work -> 0\.0\)"),
    (metrics_returning_nothing, r"model 'custom': metrics kernel metrics_returning_nothing does not compile for the "
                                r"engine's signature .*: it returns None"),
    (lambda *a: 0.0, r"model 'custom': metrics kernel .*: expected a function built with theorysim\.core\.config\.jit"),
])
def test_a_kernel_that_does_not_fit_the_engine_is_one_line(metrics, match):
    with pytest.raises(ValueError, match=match) as err:
        Experiment(model_with(metrics), "sgd", lr=0.1, steps=2, seeds=[0]).run()
    assert "\n" not in str(err.value)


def test_a_metric_the_kernel_never_writes_is_named():
    model = model_with(metrics_writing_two, ("loss", "error_norm", "sharpness"))
    with pytest.raises(ValueError, match=r"model 'custom': its metrics kernel metrics_writing_two never writes "
                                         r"metric\(s\) 'sharpness' \(out\[2\]"):
        Experiment(model, "sgd", lr=0.1, steps=2, seeds=[0]).run()
    res = Experiment(model_with(metrics_writing_two), "sgd", lr=0.1, steps=2, seeds=[0]).run()
    assert np.isnan(res.curve("error_norm")).all() and np.isfinite(res.curve("loss")).all()


def test_records_a_stopped_member_never_reached_read_nan():
    res = Experiment(Quadratic(np.eye(3) * 10.0), "sgd", lr=1.0, steps=40, seeds=[0, 1], record_every=1,
                     divergence_factor=2.0).run()  # lr 1 on curvature 10 diverges at once
    assert res.diverged.all()
    assert np.isnan(res.curve("loss")[:, -1]).all()
