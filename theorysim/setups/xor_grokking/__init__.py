"""Benign overfitting and grokking on XOR cluster data (Xu, Wang, Frei, Vardi, Hu 2023)."""
from theorysim.core.bounds import COUNT, POSITIVE, SEED, Bound
from theorysim.setups import Setup, SweepSetup, Workload
from theorysim.setups.xor_grokking import bench, data
from theorysim.setups.xor_grokking.model import TwoLayerReLU, TwoLayerReLUSpan


def _build(cfg):
    keys = ("n", "p", "m", "test")
    net = data.build({**{k: int(cfg[k]) for k in keys}, "eta": float(cfg["eta"]), "mu_scale": float(cfg["mu_scale"])},
                     int(cfg["data_seed"]))
    return net.span_form() if cfg["form"] == "span" else net


def _check(keys, spec, resolved):
    if keys["form"] == "span":  # the span form is exact only for SGD-type rules
        TwoLayerReLUSpan.check_optimizer(spec, resolved, where="experiment.")


def _size(keys):
    n, p, m, test = (int(keys[k]) for k in ("n", "p", "m", "test"))
    params = m * n if keys["form"] == "span" else m * p
    return params, 8 * ((n + test) * p + 4 * p + 2 * n), float(m) * n * p  # a step: n inputs of p through m units


SETUP = Setup(
    name="xor_grokking", doc=__doc__,
    sweeps=(SweepSetup("xor_grokking", {"n": 50, "p": 2500, "m": 100, "eta": 0.05, "mu_scale": 2.5, "test": 500,
                                        "data_seed": 1000, "form": "direct"}, _build, (TwoLayerReLU, TwoLayerReLUSpan),
                       choices={"form": ("direct", "span")}, check=_check, size=_size,
                       bounds={"n": COUNT, "p": COUNT, "m": COUNT, "test": COUNT, "eta": Bound(0.0, 0.5, hi_open=True),
                               "mu_scale": POSITIVE, "data_seed": SEED},
                       doc="two-layer ReLU net on XOR clusters with label-flip rate eta (form: direct or span)"),),
    workloads=(Workload("W3", bench.w3_xor_relu, "XOR two-layer ReLU, span form: n = 200, p = 2000, m = 200, "
                                                 "GD, 100 steps, 4 seeds"),
               Workload("W3-direct", bench.w3_direct, "W3 with the direct kernel (the JAX / PyTorch algorithm)"),
               Workload("W3-256", bench.w3_ensemble, "W3 on E = 256 members (256 draws of W_0 on one data draw): "
                                                     "the GPU-sized ensemble")),
)
