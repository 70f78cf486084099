"""The papers whose claims this setup checks."""
from __future__ import annotations

from theorysim.claims import Paper


VONOSWALD = Paper(key="vonoswald2023", title="Transformers learn in-context by gradient descent",
                  authors="J. von Oswald, E. Niklasson, E. Randazzo, J. Sacramento, A. Mordvintsev, A. Zhmoginov, M. Vladymyrov",
                  year=2023, arxiv="2212.07677", venue="ICML 2023")


AHN = Paper(key="ahn2023", title="Transformers learn to implement preconditioned gradient descent for in-context learning",
            authors="K. Ahn, X. Cheng, H. Daneshmand, S. Sra", year=2023, arxiv="2306.00297", venue="NeurIPS 2023")


FU = Paper(key="fu2023", title="Transformers Learn Higher-Order Optimization Methods for In-Context Learning: "
           "A Study with Linear Models", authors="D. Fu, T.-Q. Chen, R. Jia, V. Sharan", year=2023, arxiv="2310.17086")


AKYUREK = Paper(key="akyurek2022", title="What learning algorithm is in-context learning? Investigations with linear models",
                authors="E. Akyurek, D. Schuurmans, J. Andreas, T. Ma, D. Zhou", year=2022, arxiv="2211.15661",
                venue="ICLR 2023")


# Trained one-layer LSA vs the closed-form optimal one-step learner
MAHANKALI = Paper(key="mahankali2023", title="One Step of Gradient Descent is Provably the Optimal In-Context "
                  "Learner with One Layer of Linear Self-Attention", authors="A. Mahankali, T. B. Hashimoto, T. Ma",
                  year=2023, arxiv="2307.03576", venue="ICLR 2024")
