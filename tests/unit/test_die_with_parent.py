"""A child asks to die with its parent (prctl PR_SET_PDEATHSIG); a parent already dead by
then never sends the signal. Regression (a CI run): a granian worker whose service was
SIGKILLed during its start-up outlived it, an orphan. The child now checks the parent it
was forked from and signals itself."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

CHILD = (
    "import signal, sys, time\n"
    "from vitrina.lifecycle import die_with_parent\n"
    "die_with_parent(signal.SIGKILL, int(sys.argv[1]))\n"
    "time.sleep(30)\n"
)


def test_a_child_whose_parent_is_already_gone_dies_at_once() -> None:
    # A pid that is not this child's parent: as if the parent died and init adopted it.
    gone = 2**22 + 1
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(gone)], timeout=20, capture_output=True, check=False
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()


def test_a_child_whose_parent_lives_goes_on() -> None:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(os.getpid())])
    try:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=3)  # bounded: what is asserted is that nothing happens
        assert proc.returncode is None, f"the child exited ({proc.returncode}), parent alive"
    finally:
        proc.kill()
        proc.wait()
