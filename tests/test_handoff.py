"""theorysim.core.handoff: a worker's result as a file whose name fits one atomic pipe write; the
folders of a killed coordinator are removed by the next one. (The faults it exists for are in
tests/test_faults.py: a worker killed mid-send.)"""
import os
import pickle
import subprocess
import sys

import numpy as np

from theorysim.core import handoff


def test_a_value_goes_through_a_file_whose_name_fits_one_pipe_write():
    value = [{"status": "done", "arrays": {"loss": np.arange(100_000.0)}}]
    with handoff.Directory() as d:
        path = handoff.call(d.path, lambda v: v, value)
        assert len(pickle.dumps(path)) < handoff.ATOMIC_PIPE_WRITE
        back = handoff.take(path)
        assert not os.path.exists(path)
        np.testing.assert_array_equal(back[0]["arrays"]["loss"], value[0]["arrays"]["loss"])
        left = handoff.put("never taken", d.path)
    assert not os.path.exists(left) and not os.path.exists(d.path)


def test_the_folders_of_a_killed_coordinator_go_and_no_others(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead = int(gone.stdout)
    names = [f"{handoff.PREFIX}{dead}-a1", f"{handoff.PREFIX}{os.getpid()}-b2", f"{handoff.PREFIX}x-c3", "other"]
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "r.pickle").write_bytes(b"")
    assert handoff.remove_orphans(str(tmp_path)) == [str(tmp_path / names[0])]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])
