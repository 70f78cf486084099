"""The fused ensemble engine (CPU): the training loop (:mod:`loop`), :class:`Experiment`, :class:`Result`,
the plain-numpy oracle run (:mod:`naive`) and the cache that claims share simulations through
(:mod:`cache`). Imports the floor, the optimizers and the model contract."""
