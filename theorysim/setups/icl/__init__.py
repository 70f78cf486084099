"""In-context linear regression: linear self-attention vs GD, preconditioned GD, GD++,
Iterative Newton, ridge and the Bayes posterior mean (shared/papers/icl.md)."""
