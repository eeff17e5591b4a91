"""The process supervisor restarts crashed services and gives up on a crash loop."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.conftest import wait_for

from vitrina.services import SERVICES
from vitrina.supervisor import (
    CRASH_WINDOW_S,
    MAX_BACKOFF_S,
    MAX_CRASHES,
    ProcessSpec,
    Supervisor,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_prefixes_output_and_stops_in_reverse_order(tmp_path: Path) -> None:
    lines: list[tuple[str, str]] = []
    sup = Supervisor(tmp_path, lambda name, color, line: lines.append((name, line)))
    script = "import time,sys; print('hello', flush=True); time.sleep(60)"
    sup.start(ProcessSpec("one", [sys.executable, "-c", script]))
    sup.start(ProcessSpec("two", [sys.executable, "-c", script]))
    wait_for(lambda: {("one", "hello"), ("two", "hello")} <= set(lines), 10, message="output")
    assert sup.alive("one") and sup.alive("two")
    sup.stop_all(grace=5)
    assert not sup.alive("one") and not sup.alive("two")
    assert (tmp_path / "one.log").read_text().strip() == "hello"


def test_services_stop_together_not_one_grace_after_another(tmp_path: Path) -> None:
    """Each service on SIGTERM waits until every other one has had its SIGTERM too (as
    services waiting out a restarting broker do): stopped one after another, the first was
    killed at its grace before the second was even told to stop, and a Ctrl-C of `vitrina
    up` took 35 s. Stopped together, both exit cleanly."""
    script = (
        "import pathlib, signal, sys, time\n"
        "me, other = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])\n"
        "def stop(*_):\n"
        "    me.touch()\n"
        "    deadline = time.monotonic() + 20\n"
        "    while not other.exists() and time.monotonic() < deadline:\n"
        "        time.sleep(0.01)\n"
        "    sys.exit(0 if other.exists() else 1)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    time.sleep(1)\n"
    )
    lines: list[tuple[str, str]] = []
    sup = Supervisor(tmp_path, lambda name, color, line: lines.append((name, line)))
    one, two = tmp_path / "one.stopping", tmp_path / "two.stopping"
    sup.start(ProcessSpec("one", [sys.executable, "-c", script, str(one), str(two)]))
    sup.start(ProcessSpec("two", [sys.executable, "-c", script, str(two), str(one)]))
    wait_for(lambda: {("one", "ready"), ("two", "ready")} <= set(lines), 10, message="ready")
    procs = [r.proc for r in sup._procs]
    sup.stop_all(grace=5)
    assert [p.returncode for p in procs if p is not None] == [0, 0], lines
    assert not any("did not stop in time" in line for _, line in lines)


def test_a_crash_loop_is_reported_and_restarted_with_backoff_never_given_up(
    tmp_path: Path,
) -> None:
    """A service that keeps dying is reported once as a crash loop and restarted at most
    every MAX_BACKOFF_S. It was given up on after 5 deaths in a minute: a worker stopping
    at a flood of 3,000 bad records (500 dead-lettered per start) then stayed down until
    the whole platform was restarted (hostile-input review)."""
    clock = FakeClock()
    events: list[str] = []
    sup = Supervisor(tmp_path, lambda n, c, line: events.append(line), clock=clock)
    sup.start(ProcessSpec("crashy", [sys.executable, "-c", "raise SystemExit(3)"]))
    looping: list[str] = []
    delays: list[float] = []
    for _ in range(MAX_CRASHES + 3):
        wait_for(lambda: not sup.alive("crashy"), 10, message="crash")
        looping += sup.poll()  # records the crash, schedules a restart with backoff
        running = sup._procs[0]
        delays.append(running.next_start - clock.now)
        clock.now = running.next_start  # the backoff passes (the crashes stay in the window)
        sup.poll()  # respawns
        assert sup.pid("crashy") is not None
    assert looping == ["crashy"]  # reported once, not at every death
    assert sup.restarts()["crashy"] == MAX_CRASHES + 3
    assert delays[:4] == [1, 2, 4, 8] and max(delays) <= MAX_BACKOFF_S
    assert any("exited with code 3" in e for e in events)
    assert sum("crash loop" in e for e in events) == 1
    assert sup.looping() == ["crashy"]  # what `vitrina status` shows (it said "up")
    sup.stop_all(grace=5)


def test_a_crash_loop_is_over_once_the_service_stays_up_a_crash_window(tmp_path: Path) -> None:
    """`vitrina status` reads `looping()`: a crash-looping lake sink was shown "up" whenever
    its metrics port answered between two deaths. One that then stays up is out of it."""
    clock = FakeClock()
    sup = Supervisor(tmp_path, lambda n, c, line: None, clock=clock)
    starts = tmp_path / "starts"
    script = (
        "import pathlib, sys, time; p = pathlib.Path(sys.argv[1]); "
        "n = len(p.read_text()) if p.exists() else 0; p.write_text('x' * (n + 1)); "
        f"sys.exit(3) if n < {MAX_CRASHES} else time.sleep(60)"
    )
    sup.start(ProcessSpec("flaky", [sys.executable, "-c", script, str(starts)]))
    try:
        for _ in range(MAX_CRASHES):
            wait_for(lambda: not sup.alive("flaky"), 10, message="crash")
            sup.poll()
            clock.now = sup._procs[0].next_start
            sup.poll()  # respawns
        assert sup.looping() == ["flaky"]
        wait_for(lambda: len(starts.read_text()) > MAX_CRASHES, 10, message="the last start")
        assert sup.alive("flaky")
        clock.now += CRASH_WINDOW_S + 1  # up a whole crash window
        assert sup.looping() == []
    finally:
        sup.stop_all(grace=5)


def _niceness(pid: int) -> int:
    # /proc/<pid>/stat: field 19 is the nice value; the command name (field 2) may hold spaces.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])


def test_a_batch_service_runs_at_a_lower_priority_than_the_rest(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path, lambda n, c, line: None)
    script = "import time; time.sleep(60)"
    sup.start(ProcessSpec("api", [sys.executable, "-c", script]))
    sup.start(ProcessSpec("batch", [sys.executable, "-c", script], nice=7))
    try:
        api, batch = sup.pid("api"), sup.pid("batch")
        assert api is not None and batch is not None
        own = _niceness(os.getpid())
        assert _niceness(api) == own
        assert _niceness(batch) == min(own + 7, 19)
    finally:
        sup.stop_all(grace=5)


def test_up_starts_the_lake_sink_and_analytics_below_the_apis_and_the_filter() -> None:
    nice = {spec.name: spec.nice for spec in SERVICES}
    assert nice["analytics"] > 0 and nice["lake-sink"] > 0
    assert nice["client-api"] == nice["shop-api"] == nice["filter"] == nice["indexer"] == 0
