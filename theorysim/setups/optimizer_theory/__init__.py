"""Optimizer theory: Lion's box constraint, AdamP's norm growth, Muon's polar factor,
annealed gradient noise."""
