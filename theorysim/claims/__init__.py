"""Claims: a paper's prediction as data, checked by simulation into a verdict.

    from theorysim.claims import Claim, Paper, Measurement, tol, register   # what a setup's claims use
    from theorysim.claims.registry import all_claims, select              # every setup's claims
"""
from theorysim.claims import tolerance as tol
from theorysim.claims.claim import (Check, Claim, ExpectedFailure, Measurement, Paper, Verdict, reconstruction,
                                    regime, register)

__all__ = ["Check", "Claim", "ExpectedFailure", "Measurement", "Paper", "Verdict", "reconstruction", "regime",
           "register", "tol"]
