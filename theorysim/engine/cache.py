"""Simulations that several claims share, computed once per configuration.

Two claims that need the same expensive runs (the trained K-layer attention models of
``vonoswald2023/multilayer-vs-gd`` and ``fu2023/layers-match-newton``) get them from one
:class:`RunCache`: its key is the canonical JSON of the configuration that determines the runs,
so the same configuration always gives the same (already computed) results and a different one
never does. ``clear()`` empties it (tests; long sessions that must free memory).
"""
from __future__ import annotations

import json
from typing import Any, Callable


class RunCache:
    """``get(config, compute)``: ``compute()`` the first time ``config`` is seen, the stored result after.

    ``config`` is anything JSON can encode with ``default=str`` (dicts are keyed sorted), and must
    contain everything the result depends on.
    """

    def __init__(self, name: str):
        self.name = name
        self._store: dict[str, Any] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(config: Any) -> str:
        return json.dumps(config, sort_keys=True, default=str)

    def get(self, config: Any, compute: Callable[[], Any]) -> Any:
        k = self.key(config)
        if k in self._store:
            self.hits += 1
        else:
            self.misses += 1
            self._store[k] = compute()
        return self._store[k]

    def __contains__(self, config: Any) -> bool:
        return self.key(config) in self._store

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        self._store.clear()
        self.hits = self.misses = 0

    def __repr__(self) -> str:
        return f"RunCache({self.name!r}: {len(self)} configurations, {self.hits} hits, {self.misses} misses)"
