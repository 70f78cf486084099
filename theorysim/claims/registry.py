"""Every claim of every setup: the claims modules the setups hold (:func:`theorysim.setups.claim_modules`),
imported once; each registers its claims (:func:`theorysim.claims.claim.register`)."""
from __future__ import annotations

import importlib

from theorysim import setups
from theorysim.claims.claim import REGISTERED, REGISTERED_BY, Claim, Paper

_loaded: list = []  # the setups' environment key the registry was loaded for
_BROKEN: dict[str, str] = {}  # claims module -> one line, for plugin claims modules whose import failed


def _load() -> None:
    """Import every claims module once: the built-in ones, then the plugins' (entry points and
    ``THEORYSIM_SETUPS`` folders), refusing a plugin claim whose id or paper key is a built-in one."""
    key = setups._environment_key()
    if _loaded and _loaded[0] == key:
        return
    sources = setups.sources()
    builtin_keys: set[str] = set()
    for module in setups.claim_modules():
        name = setups.setup_of_module(module)
        src = sources.get(name)
        if src is None or src.builtin:
            importlib.import_module(module)
            builtin_keys |= {c.paper.key for c in REGISTERED.values() if REGISTERED_BY.get(c.id) == module}
            continue
        before = set(REGISTERED)
        try:
            importlib.import_module(module)
        except ValueError as err:
            if "registered twice" in str(err):
                raise ValueError(f"setup {name!r} ({src.origin}): {str(err).splitlines()[0]}: its id collides with a "
                                 "claim already registered (a built-in one or another plugin's); rename it") from None
            _BROKEN[module] = f"claims module {module} of setup {name!r} ({src.origin}) failed to import: " \
                              f"ValueError: {str(err).strip().splitlines()[0][:200] if str(err).strip() else ''}"
            continue
        except Exception as err:  # noqa: BLE001 - a plugin's claims can fail to import in any way
            _BROKEN[module] = f"claims module {module} of setup {name!r} ({src.origin}) failed to import: " \
                              f"{type(err).__name__}: {str(err).strip().splitlines()[0][:200] if str(err).strip() else ''}"
            continue
        for claim_id in sorted(set(REGISTERED) - before):
            if REGISTERED[claim_id].paper.key in builtin_keys:
                raise ValueError(f"claim {claim_id!r} of setup {name!r} ({src.origin}) uses the built-in paper key "
                                 f"{REGISTERED[claim_id].paper.key!r}; file a plugin's claims under a paper key of "
                                 "its own")
    _loaded[:] = [key]


def broken() -> list[str]:
    """One line per plugin setup or claims module that failed to import (the rest loaded)."""
    _load()
    return sorted(setups.broken().values()) + sorted(_BROKEN.values())


def _unknown_hint() -> str:
    lines = broken()
    return f" ({'; '.join(lines)})" if lines else ""


def all_claims() -> list[Claim]:
    _load()
    return [REGISTERED[k] for k in sorted(REGISTERED)]


def papers() -> dict[str, Paper]:
    """Paper key -> Paper, over all registered claims."""
    return {c.paper.key: c.paper for c in all_claims()}


def get_claim(claim_id: str) -> Claim:
    _load()
    if claim_id not in REGISTERED:
        raise ValueError(f"claim {claim_id!r}: unknown; valid: {', '.join(sorted(REGISTERED))}{_unknown_hint()}")
    return REGISTERED[claim_id]


def select(paper: str | None = None, claim: str | None = None) -> list[Claim]:
    """Claims of one paper key and/or one claim id (``ValueError`` listing the valid ones)."""
    chosen = all_claims()
    if paper is not None:
        keys = sorted(papers())
        if paper not in keys:
            raise ValueError(f"--paper {paper!r}: unknown paper key; valid: {', '.join(keys)}{_unknown_hint()}")
        chosen = [c for c in chosen if c.paper.key == paper]
    if claim is not None:
        ids = [c.id for c in chosen]
        if claim not in ids:
            raise ValueError(f"--claim {claim!r}: unknown claim id; valid: {', '.join(ids)}{_unknown_hint()}")
        chosen = [c for c in chosen if c.id == claim]
    return chosen


def setup_of(claim: Claim) -> str:
    """The setup whose claims module registered ``claim`` (built-in or a plugin:
    :func:`theorysim.setups.setup_of_module`), or that module's name for a claim registered elsewhere.
    A setup's claims may share its simulation caches, so they run in one process, in order."""
    module = REGISTERED_BY.get(claim.id, "")
    return setups.setup_of_module(module) or module
