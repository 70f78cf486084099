"""Benign overfitting and grokking on XOR cluster data (Xu, Wang, Frei, Vardi, Hu 2023)."""
