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
from pathlib import Path

from tests.conftest import wait_for

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


# A worker that started serving: SIGTERM when its parent is gone, SIGKILL if that stop
# hangs. `hang` ignores SIGTERM, as the granian worker did that CI saw hung for ever.
WORKER = (
    "import os, signal, sys, time\n"
    "from vitrina.lifecycle import die_with_parent, stop_when_orphaned\n"
    "die_with_parent(signal.SIGKILL, os.getppid())\n"
    "if sys.argv[1] == 'hang':\n"
    "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "else:\n"
    "    def stop(signum, frame):\n"
    "        open(sys.argv[2], 'w').write('stopped cleanly')\n"
    "        sys.exit(0)\n"
    "    signal.signal(signal.SIGTERM, stop)\n"
    "stop_when_orphaned(os.getppid(), grace_s=1.0)\n"
    "print(os.getpid(), flush=True)\n"
    "time.sleep(60)\n"
)
# The worker's parent: starts it, says its pid, waits to be killed.
PARENT = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', sys.argv[1], *sys.argv[2:]],"
    " stdout=subprocess.PIPE, text=True)\n"
    "print(child.stdout.readline().strip(), flush=True)\n"
    "time.sleep(60)\n"
)


def orphan_a_started_worker(mode: str, tmp_path: Path) -> int:
    """Start a worker under a parent, SIGKILL the parent; the worker's pid."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, WORKER, mode, str(tmp_path / "stopped")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    return worker


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # an orphan's zombie, not yet reaped by init, is gone too
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    return False


def test_an_orphaned_worker_stops_cleanly(tmp_path: Path) -> None:
    worker = orphan_a_started_worker("clean", tmp_path)
    wait_for(lambda: gone(worker), 15, message="the orphaned worker to stop")
    assert (tmp_path / "stopped").read_text() == "stopped cleanly"


def test_an_orphaned_worker_whose_stop_hangs_is_killed(tmp_path: Path) -> None:
    worker = orphan_a_started_worker("hang", tmp_path)
    wait_for(lambda: gone(worker), 15, message="the hung orphan to be killed")
    assert not (tmp_path / "stopped").exists()
