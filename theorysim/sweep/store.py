"""The sweep store: one SQLite file (WAL), written only by the coordinating process,
one transaction per finished point (README, "A short tour"; the store: README, "Design")."""
from __future__ import annotations

import io
import json
import sqlite3
import time
from pathlib import Path

import numpy as np

SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    key TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed', 'diverged')),
    seconds REAL,
    metrics TEXT,
    arrays BLOB,
    version TEXT,
    error TEXT,
    finished REAL
)
"""


def pack_arrays(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def unpack_arrays(blob: bytes | None) -> dict[str, np.ndarray]:
    if not blob:
        return {}
    with np.load(io.BytesIO(blob)) as z:
        return {k: z[k] for k in z.files}


class Store:
    def __init__(self, path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(SCHEMA)
        self.db.commit()

    def finished_keys(self) -> set[str]:
        """Keys that need no rerun (done or diverged; failed points are retried)."""
        return {k for (k,) in self.db.execute("SELECT key FROM points WHERE status != 'failed'")}

    def write(self, key: str, config: dict, status: str, seconds: float, metrics: dict | None,
              arrays: dict | None, error: str | None = None) -> None:
        from theorysim.core.version import __version__

        with self.db:  # one transaction per point
            self.db.execute(
                "INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, json.dumps(config, sort_keys=True), status, seconds,
                 None if metrics is None else json.dumps(metrics, sort_keys=True),
                 None if arrays is None else pack_arrays(arrays), __version__, error, time.time()),
            )

    def rows(self) -> list[dict]:
        cur = self.db.execute("SELECT key, config, status, seconds, metrics, arrays, version, error FROM points ORDER BY key")
        out = []
        for key, config, status, seconds, metrics, arrays, version, error in cur:
            out.append({"key": key, "config": json.loads(config), "status": status, "seconds": seconds,
                        "metrics": json.loads(metrics) if metrics else {}, "arrays": arrays, "version": version,
                        "error": error})
        return out

    def close(self) -> None:
        self.db.close()


def load(path):
    """The store as a tidy pandas DataFrame: one row per point, config keys and metrics as columns."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        raise ImportError("theorysim.sweep.load needs pandas: pip install 'theorysim[frame]'") from None
    if not Path(path).exists():
        raise ValueError(f"store {path!s}: no such file")
    store = Store(path)
    try:
        records = []
        for row in store.rows():
            rec = {"key": row["key"], "status": row["status"], "seconds": row["seconds"], "version": row["version"],
                   "error": row["error"]}
            rec.update({k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in row["config"].items()})
            rec.update(row["metrics"])
            records.append(rec)
    finally:
        store.close()
    return pd.DataFrame.from_records(records)
