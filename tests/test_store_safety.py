"""Nothing lost, nothing rewritten (issue 37, items 1-2): `theorysim results` never writes a table
over a store (or its WAL / index / journal, or any SQLite file) and never writes beside the store
it reads; a rerun of a finished sweep is a no-op that leaves the store's bytes as they were, with
every executor."""
import hashlib
import shutil
import sqlite3

import pytest

from theorysim import sweep
from theorysim.cli import main
from theorysim.sweep.store import Store

from .test_sweep import _summary, write_spec


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def store_with_a_wal_and_no_index(store, tmp_path):
    """tmp_path/copy/s.sqlite: ``store`` plus one point ("extra-point") that sits only in its -wal (a
    writer that never folded it back in), and no -shm."""
    live = tmp_path / "live" / "s.sqlite"
    live.parent.mkdir()
    shutil.copyfile(store, live)
    writer = Store(live)
    row = Store(store, read_only=True).rows()[0]
    writer.write("extra-point", row["config"], "done", 0.1, row["metrics"], None)
    copy = tmp_path / "copy" / "s.sqlite"
    copy.parent.mkdir()
    shutil.copyfile(live, copy)
    shutil.copyfile(live.with_name("s.sqlite-wal"), copy.with_name("s.sqlite-wal"))
    writer.close()
    return copy


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 12-point sweep: (spec, store)."""
    tmp = tmp_path_factory.mktemp("finished")
    spec = write_spec(tmp, seeds=2, steps=100)
    store = tmp / "s.sqlite"
    assert main(["sweep", str(spec), "--executor", "serial", "--store", str(store)]) == 0
    return spec, store


@pytest.mark.parametrize("target", ["store", "wal", "shm", "journal", "other-store", "link"])
@pytest.mark.parametrize("flag", ["--csv", "--parquet"])
def test_results_never_writes_a_table_over_a_store(finished, tmp_path, capsys, flag, target):
    _, store = finished
    work = tmp_path / "s.sqlite"
    shutil.copyfile(store, work)
    other = tmp_path / "other.sqlite"
    shutil.copyfile(store, other)
    dest = {"store": work, "wal": tmp_path / "s.sqlite-wal", "shm": tmp_path / "s.sqlite-shm",
            "journal": tmp_path / "s.sqlite-journal", "other-store": other, "link": tmp_path / "link.csv"}[target]
    if target == "link":
        dest.symlink_to(work)
    before = digest(work), digest(other)
    capsys.readouterr()
    assert main(["results", str(work), flag, str(dest)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and flag in err[0] and str(dest) in err[0], err
    assert (digest(work), digest(other)) == before
    assert not (tmp_path / "s.sqlite-wal").exists() and not (tmp_path / "s.sqlite-shm").exists()


def test_results_refuses_one_file_for_both_tables(finished, tmp_path, capsys):
    _, store = finished
    out = tmp_path / "t.out"
    assert main(["results", str(store), "--csv", str(out), "--parquet", str(out)]) == 2
    assert "--csv and --parquet" in capsys.readouterr().err
    assert not out.exists()


def test_a_store_with_a_wal_and_no_index_is_read_whole_and_nothing_written_beside_it(finished, tmp_path, capsys):
    spec, store = finished
    copy = store_with_a_wal_and_no_index(store, tmp_path)
    before = sorted(p.name for p in copy.parent.iterdir())
    assert before == ["s.sqlite", "s.sqlite-wal"]
    frame = sweep.load(copy)
    assert len(frame) == 13 and "extra-point" in set(frame["key"])  # the WAL's point is read
    assert main(["results", str(copy)]) == 0
    assert sorted(p.name for p in copy.parent.iterdir()) == before  # no -shm created beside it


@pytest.mark.parametrize("executor", ["serial", "local", "dask"])
def test_rerunning_a_finished_sweep_is_a_no_op(finished, tmp_path, capsys, executor):
    spec, store = finished
    work = tmp_path / "s.sqlite"
    shutil.copyfile(store, work)
    before = digest(work), work.stat().st_mtime_ns
    capsys.readouterr()
    assert main(["sweep", str(spec), "--executor", executor, "--store", str(work)]) == 0
    assert _summary(capsys.readouterr().out, work) == {"done": 0, "diverged": 0, "failed": 0, "already finished": 12}
    assert (digest(work), work.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.sqlite"]  # no WAL, no index, no journal


def test_a_finished_sweep_on_a_store_sqlite_cannot_write_reruns(finished, tmp_path, monkeypatch, capsys):
    """Read-only storage (simulated: any connection that is not read-only fails): nothing to do, exit 0."""
    spec, store = finished
    real = sqlite3.connect

    def read_only_storage(database, *args, **kwargs):
        if not str(database).startswith("file:") and str(database) != ":memory:":
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", read_only_storage)
    assert main(["sweep", str(spec), "--executor", "serial", "--store", str(store)]) == 0
    assert "12 already finished" in capsys.readouterr().out


def test_a_symlinked_store_is_guarded_where_sqlite_keeps_its_files(finished, tmp_path, capsys):
    """SQLite keeps a store's -wal and -shm beside the link's target: results refuses to write a
    table there, and reading a linked store whose WAL has no index creates no index there."""
    _, store = finished
    copy = store_with_a_wal_and_no_index(store, tmp_path)
    wal_bytes = (copy.parent / "s.sqlite-wal").read_bytes()
    link = tmp_path / "link.sqlite"
    link.symlink_to(copy)
    capsys.readouterr()
    assert main(["results", str(link), "--csv", str(copy.parent / "s.sqlite-wal")]) == 2
    assert "is the store being read" in capsys.readouterr().err
    assert (copy.parent / "s.sqlite-wal").read_bytes() == wal_bytes
    assert len(sweep.load(link)) == 13
    assert sorted(p.name for p in copy.parent.iterdir()) == ["s.sqlite", "s.sqlite-wal"]


def test_api_seeds_beyond_int64_are_refused_in_one_line():
    import numpy as np

    from theorysim.engine.experiment import Experiment
    from theorysim.models import Quadratic

    with pytest.raises(ValueError, match=r"seed=9223372036854775808: expected an integer in \[0, 2\^63 - 1\]"):
        Experiment(Quadratic(np.eye(2)), "sgd", lr=0.1, steps=2, seeds=[2**63])


BUS_ERROR_SCRIPT = """
import os, sys
from theorysim.cli import _one_line_on_bus_error
from theorysim.sweep.store import Store
path = sys.argv[1]
_one_line_on_bus_error("sweep", path, "the points written before are intact", 1)
store = Store(path)
store.write("first", {"seed": 0}, "done", 0.1, {}, None)
os.truncate(path + "-shm", 0)  # another program truncates the index SQLite has mapped
store.write("second", {"seed": 1}, "done", 0.1, {}, None)  # SIGBUS inside SQLite
print("no bus error")
"""


def test_an_index_truncated_under_sqlite_gives_one_line_not_a_bare_bus_error(tmp_path):
    """Issue 37 item 6: a store whose -shm mapping loses its backing mid-run (SIGBUS inside SQLite,
    where Python's own handler cannot act) ends with one line and exit 1; the committed point is
    intact and the store opens again."""
    import subprocess
    import sys

    path = tmp_path / "s.sqlite"
    proc = subprocess.run([sys.executable, "-c", BUS_ERROR_SCRIPT, str(path)], capture_output=True, text=True,
                          timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, (proc.returncode, proc.stderr)
    assert lines[0].startswith(f"theorysim sweep: error: store {path}: its shared-memory index") and \
        "bus error" in lines[0], proc.stderr
    assert "no bus error" not in proc.stdout
    assert Store(path, read_only=True).finished_keys() == {"first"}


def test_the_bus_error_line_also_covers_a_fault_with_the_interpreter_lock_held(tmp_path):
    """The handler does not depend on where the fault happens: a plain mmap read past a truncated
    file's end (Python holding its lock) gives the same one line."""
    import subprocess
    import sys

    script = ("import mmap, os, sys\n"
              "from theorysim.core.bus_error import exit_in_one_line_on_bus_error\n"
              "assert exit_in_one_line_on_bus_error('error: the mapping went away', 3)\n"
              "f = open(sys.argv[1], 'w+b'); f.write(b'x' * 8192); f.flush()\n"
              "m = mmap.mmap(f.fileno(), 8192); os.truncate(sys.argv[1], 0)\n"
              "print(m[5000])\n")
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path / "f.bin")], capture_output=True, text=True,
                          timeout=60)
    assert (proc.returncode, proc.stderr, proc.stdout) == (3, "error: the mapping went away\n", "")


def test_results_without_pandas_is_one_line_naming_the_extra(finished, capsys, monkeypatch):
    _, store = finished
    monkeypatch.setitem(__import__("sys").modules, "pandas", None)  # import pandas -> ImportError
    assert main(["results", str(store)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "theorysim[frame]" in err[0], err
