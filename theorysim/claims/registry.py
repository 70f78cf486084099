"""Every claim of every setup, found by importing ``theorysim.setups.<name>.claims``."""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from theorysim.claims.claim import Claim, Paper

_CLAIMS: dict[str, Claim] = {}
_loaded = False


def register(claim: Claim) -> Claim:
    if claim.id in _CLAIMS and _CLAIMS[claim.id] is not claim:
        raise ValueError(f"claim {claim.id!r} registered twice")
    _CLAIMS[claim.id] = claim
    return claim


def setups() -> list[str]:
    """Names of the setup packages under ``theorysim.setups``."""
    import theorysim.setups as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.ispkg)


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for name in setups():
        module = f"theorysim.setups.{name}.claims"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    _loaded = True


def all_claims() -> list[Claim]:
    _load()
    return [_CLAIMS[k] for k in sorted(_CLAIMS)]


def papers() -> dict[str, Paper]:
    """Paper key -> Paper, over all registered claims."""
    return {c.paper.key: c.paper for c in all_claims()}


def get_claim(claim_id: str) -> Claim:
    _load()
    if claim_id not in _CLAIMS:
        raise ValueError(f"claim {claim_id!r}: unknown; valid: {', '.join(sorted(_CLAIMS))}")
    return _CLAIMS[claim_id]


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
