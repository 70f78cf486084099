"""The papers whose claims this setup checks."""
from __future__ import annotations

from theorysim.claims import Paper


LION = Paper(key="lion2023", title="Lion Secretly Solves Constrained Optimization: As Lyapunov Predicts",
             authors="L. Chen, B. Liu, K. Liang, Q. Liu", year=2023, arxiv="2310.05898", venue="ICLR 2024")


ADAMP = Paper(key="adamp2021", title="AdamP: Slowing Down the Slowdown for Momentum Optimizers on Scale-invariant Weights",
              authors="B. Heo, S. Chun, S. J. Oh, D. Han, S. Yun, G. Kim, Y. Uh, J.-W. Ha", year=2021,
              arxiv="2006.08217", venue="ICLR 2021")


MUON = Paper(key="muon2024", title="Muon: An optimizer for hidden layers in neural networks",
             authors="K. Jordan, Y. Jin, V. Boza, J. You, F. Cesista, L. Newhouse, J. Bernstein", year=2024,
             venue="kellerjordan.github.io/posts/muon (with Bernstein & Newhouse, arXiv 2409.20325)")


NOISE = Paper(key="neelakantan2015", title="Adding Gradient Noise Improves Learning for Very Deep Networks",
              authors="A. Neelakantan, L. Vilnis, Q. V. Le, I. Sutskever, L. Kaiser, K. Kurach, J. Martens",
              year=2015, arxiv="1511.06807")
