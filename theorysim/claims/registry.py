"""Every claim of every setup: the claims modules the setups hold (:func:`theorysim.setups.claim_modules`),
imported once; each registers its claims (:func:`theorysim.claims.claim.register`)."""
from __future__ import annotations

import importlib

from theorysim import setups
from theorysim.claims.claim import REGISTERED, REGISTERED_BY, Claim, Paper

_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for module in setups.claim_modules():
        importlib.import_module(module)
    _loaded = True


def all_claims() -> list[Claim]:
    _load()
    return [REGISTERED[k] for k in sorted(REGISTERED)]


def papers() -> dict[str, Paper]:
    """Paper key -> Paper, over all registered claims."""
    return {c.paper.key: c.paper for c in all_claims()}


def get_claim(claim_id: str) -> Claim:
    _load()
    if claim_id not in REGISTERED:
        raise ValueError(f"claim {claim_id!r}: unknown; valid: {', '.join(sorted(REGISTERED))}")
    return REGISTERED[claim_id]


def select(paper: str | None = None, claim: str | None = None) -> list[Claim]:
    """Claims of one paper key and/or one claim id (``ValueError`` listing the valid ones)."""
    chosen = all_claims()
    if paper is not None:
        keys = sorted(papers())
        if paper not in keys:
            raise ValueError(f"--paper {paper!r}: unknown paper key; valid: {', '.join(keys)}")
        chosen = [c for c in chosen if c.paper.key == paper]
    if claim is not None:
        ids = [c.id for c in chosen]
        if claim not in ids:
            raise ValueError(f"--claim {claim!r}: unknown claim id; valid: {', '.join(ids)}")
        chosen = [c for c in chosen if c.id == claim]
    return chosen


def setup_of(claim: Claim) -> str:
    """The setup whose claims module registered ``claim`` (``<name>`` for
    ``theorysim.setups.<name>.claims.<paper>``), or that module's name for a claim registered elsewhere.
    A setup's claims may share its simulation caches, so they run in one process, in order."""
    module = REGISTERED_BY.get(claim.id, "")
    parts = module.split(".")
    if len(parts) > 2 and parts[:2] == ["theorysim", "setups"]:
        return parts[2]
    return module
