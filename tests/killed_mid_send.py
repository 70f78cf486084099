"""A worker killed in the middle of sending a message to its coordinator, for tests/test_faults.py:
the first worker to call :func:`die_after_its_next_write` (the marker file named by
``$THEORYSIM_TEST_DIE_MARKER`` says who was first) dies right after the next ``write`` call of its
next message, as SIGKILL may strike between any two system calls. A message longer than 16 KiB
goes out as a header and a body (two writes), so only the header arrives; a message up to
PIPE_BUF bytes goes out whole in its one write.

Also the worker functions the tests hand to the pools (a pool imports them by name): a sweep's
group runner and a claim, registered when this module is imported, whose verdict is long."""
import os
import signal
from multiprocessing import connection

from theorysim.claims import Claim, Measurement, register, tol
from tests.runner_claims import RUNNER

MARKER = "THEORYSIM_TEST_DIE_MARKER"


def die_after_its_next_write() -> None:
    try:
        os.close(os.open(os.environ[MARKER], os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:  # another worker already died this way
        return

    def write_once_then_die(self, buf):
        os.write(self._handle, buf)
        os.kill(os.getpid(), signal.SIGKILL)

    connection.Connection._send = write_once_then_die


def run_group_then_die_sending(group, backend="cpu"):
    """The sweep's group runner; the first worker here dies sending the results."""
    from theorysim.sweep.execute import run_group

    results = run_group(group, backend)
    die_after_its_next_write()
    return results


def _simulate_then_die_sending(cfg):
    die_after_its_next_write()
    return 1.0


CLAIMS = [register(Claim(
    id="runnertest/dies-sending-its-verdict", paper=RUNNER, reference="-", statement="The value is 1.",
    quick={}, full={}, simulate=_simulate_then_die_sending, predict=lambda cfg: 1.0,
    # a verdict longer than 16 KiB, as a claim with per-seed details may well have
    measure=lambda cfg, r: Measurement.exact(r, "a toy value", details={"log": "x" * 50_000}), tolerance=tol.relative(0.1)))]
