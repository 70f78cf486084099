"""``Result``: what an ensemble run returns, as numpy arrays plus the full configuration."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theorysim.core.layout import Layout


@dataclass
class Result:
    """Curves, final parameters and divergence of every member of one run.

    ``records[E, R, M]`` holds metric ``metric_names[j]`` of member m at iterate ``steps[r]``
    (NaN after a member diverged); ``theta[E, P]`` the last iterate; ``diverged_step[m]`` the
    iterate at which member m was stopped (-1 if it finished).
    """

    config: dict[str, Any]
    layout: Layout
    metric_names: tuple[str, ...]
    steps: np.ndarray
    records: np.ndarray
    theta: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    members: list[dict[str, Any]]
    param_records: np.ndarray | None = None
    seconds: float = 0.0
    compile_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_members(self) -> int:
        return self.records.shape[0]

    def curve(self, name: str) -> np.ndarray:
        """``[E, R]`` values of one metric over the record steps."""
        if name not in self.metric_names:
            raise ValueError(f"metric {name!r}: unknown; recorded: {', '.join(self.metric_names)}")
        return self.records[:, :, self.metric_names.index(name)]

    def final(self, name: str) -> np.ndarray:
        """``[E]`` last recorded value of one metric."""
        return self.curve(name)[:, -1]

    def params(self) -> dict[str, np.ndarray]:
        """Final parameters by block: ``{name: array[E, *shape]}``."""
        return self.layout.unpack(self.theta)

    def member_values(self, key: str) -> np.ndarray:
        """One member field (``seed``, ``lr``, ``optimizer``, ...) for every member."""
        if key not in self.members[0]:
            raise ValueError(f"member field {key!r}: unknown; fields: {', '.join(self.members[0])}")
        return np.array([m[key] for m in self.members])

    def to_frame(self):
        """Long/tidy table: one row per (member, step, metric) with every member field as a column."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError(
                "Result.to_frame() needs pandas, which theorysim does not install by default: "
                "pip install 'theorysim[frame]' (or pip install pandas)"
            ) from None
        E, R, M = self.records.shape
        member = np.repeat(np.arange(E), R * M)
        frame = pd.DataFrame(
            {
                "member": member,
                "step": np.tile(np.repeat(self.steps, M), E),
                "metric": np.tile(np.array(self.metric_names, dtype=object), E * R),
                "value": self.records.reshape(-1),
            }
        )
        fields = pd.DataFrame(self.members).drop(columns=["member"])
        fields["diverged"] = self.diverged
        fields["diverged_step"] = self.diverged_step
        return frame.join(fields, on="member")
