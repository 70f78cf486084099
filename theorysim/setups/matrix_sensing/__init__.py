"""Matrix sensing: how over-parameterization slows GD (Xiong, Ding, Du 2023)."""
