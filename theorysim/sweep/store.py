"""The sweep store: one SQLite file (WAL while a sweep writes), written only by the coordinating
process, one transaction per finished point (README, "A short tour"; the store: docs/history.md, "Design").

A store carries a marker: table ``theorysim_store`` with ``format = 'theorysim-sweep-store'`` and
``schema = 1``. :class:`Store` opens an existing file only if it is such a store (or an early
theorysim store: exactly the ``points`` table below) and refuses anything else (a directory, a
text file, a truncated file, another program's database) *before writing a byte to it*.
:func:`load` and ``theorysim results`` open stores read-only and never create tables.
"""
from __future__ import annotations

import io
import json
import os
import sqlite3
import time
from pathlib import Path

import numpy as np

FORMAT, SCHEMA_VERSION = "theorysim-sweep-store", 1
SQLITE_HEADER = b"SQLite format 3\x00"
COLUMNS = ("key", "config", "status", "seconds", "metrics", "arrays", "version", "error", "finished")

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
);
CREATE TABLE IF NOT EXISTS theorysim_store (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class StoreError(ValueError):
    """A path that is not (or cannot become) a theorysim store; the message names it."""


class StoreFullError(OSError):
    """The disk (or the store's size limit) is full: the points written so far are intact."""


def pack_arrays(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def unpack_arrays(blob: bytes | None) -> dict[str, np.ndarray]:
    if not blob:
        return {}
    with np.load(io.BytesIO(blob)) as z:
        return {k: z[k] for k in z.files}


def _why_not_a_store(db: sqlite3.Connection) -> str | None:
    """None if ``db`` is a theorysim store, else the reason in a few words."""
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "theorysim_store" in tables:
        marker = dict(db.execute("SELECT name, value FROM theorysim_store"))
        if marker.get("format") != FORMAT:
            return f"its marker says format={marker.get('format')!r}"
        if marker.get("schema") != str(SCHEMA_VERSION):
            return f"schema {marker.get('schema')!r}; this theorysim reads schema {SCHEMA_VERSION}"
        return None
    if tables == {"points"}:  # an early store, before the marker: the same table, nothing else
        cols = tuple(row[1] for row in db.execute("PRAGMA table_info(points)"))
        if cols == COLUMNS:
            return None
    if not tables:
        return "an empty SQLite database, not a theorysim store"
    return f"a SQLite database of another program (tables: {', '.join(sorted(tables))})"


def check_store_path(path, must_exist: bool) -> Path:
    """Refuse a path that is not a theorysim store, reading only (raises :class:`StoreError`)."""
    path = Path(path)
    try:
        if path.is_dir():
            raise StoreError(f"store {path}: is a directory; expected a .sqlite file")
        exists = path.exists()
    except OSError as err:  # a name too long, a symlink loop, a file used as a directory
        raise StoreError(f"store {path}: cannot be used ({err.strerror or err.__class__.__name__})") from None
    if path.is_symlink() and not exists:
        raise StoreError(f"store {path}: a symbolic link to {os.readlink(path)}, which does not exist")
    if exists and not path.is_file():
        raise StoreError(f"store {path}: not a regular file; expected a .sqlite file")
    if not exists:
        if must_exist:
            raise StoreError(f"store {path}: no such file")
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise StoreError(f"store {path}: directory {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise StoreError(f"store {path}: directory {parent} is not writable")
        return path
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as err:
        raise StoreError(f"store {path}: cannot be read ({err.strerror})") from None
    if head != SQLITE_HEADER:
        what = "an empty file" if not head else "not a SQLite file"
        raise StoreError(f"store {path}: {what}; a theorysim store is a SQLite file written by `theorysim sweep`")
    try:
        db = _connect_read_only(path)
        try:
            reason = _why_not_a_store(db)
            if reason is None:
                db.execute("SELECT count(*) FROM points").fetchone()  # reads pages: finds truncation
        finally:
            db.close()
    except sqlite3.DatabaseError as err:
        raise StoreError(f"store {path}: damaged or truncated SQLite file ({err})") from None
    if reason is not None:
        raise StoreError(f"store {path}: {reason}; refusing to touch it")
    return path


def sidecars(path) -> list[Path]:
    """The files SQLite keeps beside a database: its WAL, shared-memory index and rollback journal."""
    path = Path(path)
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """Read-only, writing nothing beside the store, and on read-only storage too.

    A plain ``mode=ro`` connection to a store that has a ``-wal`` but no ``-shm`` (a sweep killed
    before it folded its WAL back in, then the index removed) would create the ``-shm`` beside it;
    such a store is read from a private copy of the file and its WAL instead, loaded into memory.
    ``immutable`` is the fallback when SQLite cannot open the file plainly (read-only storage)."""
    path = Path(path)
    wal, shm, _ = sidecars(Path(os.path.realpath(path)))  # beside a link's target, where SQLite keeps them
    if wal.exists() and not shm.exists():
        try:
            return _snapshot_in_memory(path, wal)
        except OSError as err:  # no room for the copy, or the WAL folded back in meanwhile
            raise StoreError(f"store {path}: cannot read its WAL ({err.strerror or err}); rerun when the sweep "
                             "writing it has finished") from None
    uri = path.resolve().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        return sqlite3.connect(f"{uri}?immutable=1", uri=True)


def _snapshot_in_memory(path: Path, wal: Path) -> sqlite3.Connection:
    """The store with its WAL applied, as an in-memory database; nothing written beside ``path``."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="theorysim-store-") as tmp:
        copy = Path(tmp) / "store.sqlite"
        shutil.copyfile(path, copy)
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        source = sqlite3.connect(copy)
        try:
            db = sqlite3.connect(":memory:")
            source.backup(db)
        finally:
            source.close()
    return db


class Store:
    """A theorysim store opened for writing (``theorysim sweep``); ``read_only=True`` for readers."""

    def __init__(self, path, read_only: bool = False):
        self.path = check_store_path(path, must_exist=read_only)
        self.read_only = read_only
        if read_only:
            self.db = _connect_read_only(self.path)
            return
        new = not self.path.exists()
        try:
            self.db = sqlite3.connect(self.path, timeout=60)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            with self.db:
                self.db.executescript(SCHEMA)
                self.db.execute("INSERT OR REPLACE INTO theorysim_store VALUES ('format', ?), ('schema', ?)",
                                (FORMAT, str(SCHEMA_VERSION)))
        except (sqlite3.Error, OSError) as err:
            if getattr(self, "db", None) is not None:
                self.db.close()
            if new:  # a half-created, still empty store would block the next run: remove it (never a
                for p in (self.path, *sidecars(self.path)):  # file another sweep has written into)
                    try:
                        if p.exists() and p.stat().st_size == 0:
                            p.unlink()
                    except OSError:
                        pass
            if "full" in str(err):
                raise StoreError(f"store {self.path}: disk full while creating the store ({err}); nothing was "
                                 "run: free space and rerun the same command") from None
            raise StoreError(f"store {self.path}: cannot be written ({err})") from None

    def finished_keys(self) -> set[str]:
        """Keys that need no rerun (done or diverged; failed points are retried)."""
        return {k for (k,) in self.db.execute("SELECT key FROM points WHERE status != 'failed'")}

    def write(self, key: str, config: dict, status: str, seconds: float, metrics: dict | None,
              arrays: dict | None, error: str | None = None) -> None:
        from theorysim.core.version import __version__

        try:
            with self.db:  # one transaction per point: a failed write leaves the earlier ones intact
                self.db.execute(
                    "INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (key, json.dumps(config, sort_keys=True), status, seconds,
                     None if metrics is None else json.dumps(metrics, sort_keys=True),
                     None if arrays is None else pack_arrays(arrays), __version__, error, time.time()),
                )
        except sqlite3.OperationalError as err:
            if "full" in str(err):
                raise StoreFullError(f"store {self.path}: disk full ({err}); the points written before are "
                                     "intact, free space and rerun the same command to resume") from None
            if "readonly" in str(err) or "disk I/O" in str(err):
                raise StoreFullError(f"store {self.path}: cannot be written any more ({err}); the points written "
                                     "before are intact, make it writable and rerun the same command to resume") from None
            raise

    def rows(self) -> list[dict]:
        cur = self.db.execute("SELECT key, config, status, seconds, metrics, arrays, version, error FROM points ORDER BY key")
        out = []
        for key, config, status, seconds, metrics, arrays, version, error in cur:
            try:
                row = {"key": key, "config": json.loads(config), "status": status, "seconds": seconds,
                       "metrics": json.loads(metrics) if metrics else {}, "arrays": arrays, "version": version,
                       "error": error}
                if not isinstance(row["config"], dict) or not isinstance(row["metrics"], dict):
                    raise ValueError("config and metrics must be JSON objects")
            except (TypeError, ValueError) as err:
                raise StoreError(f"store {self.path}: the row of point {str(key)[:80]!r} is damaged ({err}); the "
                                 "other rows are intact (delete this one, e.g. with sqlite3, and rerun the sweep "
                                 "to recompute it)") from None
            out.append(row)
        return out

    def close(self) -> None:
        if not self.read_only:
            try:  # fold the WAL back in: a finished store is one self-contained file
                self.db.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.OperationalError:  # another sweep still writes to it; it will
                pass
        self.db.close()


def load(path):
    """The store as a tidy pandas DataFrame: one row per point, config keys and metrics as columns
    (the store is opened read-only)."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        raise ImportError("theorysim.sweep.load needs pandas: pip install 'theorysim[frame]'") from None
    store = Store(path, read_only=True)
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
