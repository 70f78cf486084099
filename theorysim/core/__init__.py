"""The spine: parameter layout, counter-based RNG, the fused ensemble engine, experiments."""
