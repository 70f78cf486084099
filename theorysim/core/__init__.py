"""The floor every layer may use, importing nothing of theorysim above it: the compile policy
(:mod:`config`), the counter RNG (:mod:`rng`), parameter :mod:`layout`, model :mod:`data` packing
and hyperparameter :mod:`bounds`."""
