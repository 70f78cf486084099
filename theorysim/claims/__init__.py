"""Claims: a paper's prediction as data, checked by simulation into a verdict.

    from theorysim.claims import Claim, Paper, Measurement, tol, register
"""
from theorysim.claims.claim import Check, Claim, Measurement, Paper, Verdict
from theorysim.claims import tolerance as tol
from theorysim.claims.registry import all_claims, get_claim, papers, register, select

__all__ = [
    "Check", "Claim", "Measurement", "Paper", "Verdict", "all_claims", "get_claim", "papers", "register",
    "select", "tol",
]
