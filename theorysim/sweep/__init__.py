"""Parameter sweeps: TOML specs, a resumable SQLite store, serial / local / Dask executors.

    spec = theorysim.sweep.load_spec("experiments/quadratic_gd_rate.toml")
    theorysim.sweep.run_sweep(spec, "gd.sqlite", executor="local")
    frame = theorysim.sweep.load("gd.sqlite")
"""
from theorysim.sweep.runner import EXECUTORS, groups_of, run_sweep
from theorysim.sweep.spec import Spec, SpecError, load_spec, point_key
from theorysim.sweep.store import Store, load, unpack_arrays

__all__ = ["EXECUTORS", "Spec", "SpecError", "Store", "groups_of", "load", "load_spec", "point_key", "run_sweep",
           "unpack_arrays"]
