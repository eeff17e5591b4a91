"""`vitrina up`'s life: broker watch policy, a vanished console, private logs, busy ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import free_port, wait_for

from vitrina import metrics
from vitrina.errors import ConfigError
from vitrina.lifecycle import BrokerWatch, PipeSafe
from vitrina.runstate import AlreadyRunning, PlatformLock, running_platform
from vitrina.settings import load_settings
from vitrina.supervisor import ProcessSpec, Supervisor


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def broker_watch(
    state: dict[str, int | bool], restart: Callable[[], str], clock: Clock
) -> tuple[BrokerWatch, list[str]]:
    """A watch over fakes: the broker is up while state["up"]; the lines it says."""
    said: list[str] = []
    watch = BrokerWatch(
        lambda: bool(state["up"]),
        restart,
        lambda: "11 created",
        lambda _name, _color, line: said.append(line),
        clock=clock,
    )
    return watch, said


def test_broker_watch_says_once_restarts_and_reapplies_topics() -> None:
    """Issue 12 item 6: a dead broker went unnoticed (7,700 client errors in 50 s)."""
    clock, calls = Clock(), []
    state = {"up": True, "fail": 2}

    def restart() -> str:
        calls.append("restart")
        if state["fail"]:
            state["fail"] -= 1
            raise RuntimeError("port busy")
        state["up"] = True
        return "127.0.0.1:1"

    watch, said = broker_watch(state, restart, clock)
    watch.check()
    assert said == [] and calls == []
    state["up"] = False
    for _ in range(10):  # many loop turns while it is down and restarts fail
        clock.now += 2.5
        watch.check()
    assert said[0].startswith("the embedded broker is down")
    assert sum("failed" in line for line in said) == 1  # said once, not per retry
    assert watch.restarts == 1 and "topics re-applied (11 created)" in said[-1]
    assert len(said) == 3
    clock.now += 10
    watch.check()
    assert len(said) == 3


def test_broker_watch_counts_the_restart_itself_in_the_downtime() -> None:
    """A broker killed with -9 came back ~14 s later, and `vitrina up` said "broker back on
    127.0.0.1:19092 after 0 s": the downtime was measured before the restart ran."""
    clock = Clock()
    state = {"up": True}

    def restart() -> str:
        clock.now += 14.0  # starting the broker takes time
        state["up"] = True
        return "127.0.0.1:1"

    watch, said = broker_watch(state, restart, clock)
    state["up"] = False
    clock.now += 2.5
    watch.check()
    assert "after 14 s" in said[-1], said


def test_a_closed_console_goes_quiet_instead_of_raising(tmp_path: Path) -> None:
    read, write = os.pipe()
    stream = os.fdopen(write, "w")
    os.close(read)  # the reader (`head -1`) is gone
    safe = PipeSafe(stream)
    safe.write("stopping services…\n" * 1000)
    safe.flush()
    assert safe.broken
    safe.write("still fine\n")


def test_logs_are_private(tmp_path: Path) -> None:
    """Issue 12 item 10: log directory 755 and files 644."""
    logs = tmp_path / "logs"
    sup = Supervisor(logs, lambda *_: None)
    sup.start(ProcessSpec("one", [sys.executable, "-c", "print('customer data')"]))
    wait_for(
        lambda: (logs / "one.log").is_file() and (logs / "one.log").read_text(),
        10,
        message="the log line",
    )
    sup.stop_all(grace=5)
    assert logs.stat().st_mode & 0o777 == 0o700
    assert (logs / "one.log").stat().st_mode & 0o777 == 0o600


def test_a_broken_console_does_not_stop_the_log_pump(tmp_path: Path) -> None:
    def emit(*_: str) -> None:
        raise BrokenPipeError

    sup = Supervisor(tmp_path, emit)
    sup.start(ProcessSpec("chatty", [sys.executable, "-c", "print('a'); print('b')"]))
    wait_for(
        lambda: (
            (tmp_path / "chatty.log").is_file()
            and (tmp_path / "chatty.log").read_text().split() == ["a", "b"]
        ),
        10,
        message="both lines in the log",
    )
    sup.stop_all(grace=5)


def test_metrics_port_in_use_names_the_port_and_the_setting(tmp_path: Path) -> None:
    """Issue 12 item 12: a raw traceback (OSError: address already in use)."""
    port = free_port()
    settings = load_settings(data_dir=tmp_path, ports={"filter": port})
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", port))
        busy.listen()
        with pytest.raises(ConfigError) as info:
            metrics.serve_metrics(settings, port)
    assert f"127.0.0.1:{port} (ports.filter)" in info.value.message
    assert "VITRINA__PORTS__FILTER" in (info.value.hint or "")


def test_one_platform_per_data_dir_naming_the_running_pid(tmp_path: Path) -> None:
    """Issue 12 item 12: a second `vitrina up` printed "platform running" and broke both."""
    settings = load_settings(data_dir=tmp_path)
    assert running_platform(settings) is None
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from vitrina.settings import "
            "load_settings; from vitrina.runstate import PlatformLock; "
            "lock = PlatformLock(load_settings(data_dir=Path(sys.argv[1])), ['filter']).acquire();"
            " print('locked', flush=True); time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(AlreadyRunning) as info:
            PlatformLock(settings).acquire()
        assert f"pid {holder.pid}" in info.value.message
        state = running_platform(settings)
        assert state is not None and state["services"] == ["filter"]
    finally:
        holder.kill()
        holder.wait(10)
    assert running_platform(settings) is None  # a dead holder's file blocks nothing
    PlatformLock(settings).acquire().release()


def test_up_only_refuses_an_unknown_service(tmp_path: Path) -> None:
    from rich.console import Console

    from vitrina.orchestrate import start_platform

    with pytest.raises(ConfigError) as info:
        start_platform(load_settings(data_dir=tmp_path), Console(), only=["filtre"])
    assert "filtre" in info.value.message and "filter" in (info.value.hint or "")
    assert running_platform(load_settings(data_dir=tmp_path)) is None


def test_services_do_not_outlive_a_killed_supervisor(tmp_path: Path) -> None:
    """kill -9 of `vitrina up` must not leave its services running as orphans."""
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from vitrina.supervisor import "
            "ProcessSpec, Supervisor; sup = Supervisor(Path(sys.argv[1]), lambda *a: None); "
            "sup.start(ProcessSpec('sleeper', [sys.executable, '-c', 'import time; "
            "time.sleep(120)'])); print(sup.pid('sleeper'), flush=True); time.sleep(120)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait(10)
    from vitrina.broker import pid_alive

    wait_for(lambda: not pid_alive(child), 20, message="the orphaned service to stop")


def test_sigint_stops_a_process_started_with_sigint_ignored() -> None:
    """A script's background job (`vitrina up &`) starts with SIGINT ignored; before the fix
    `kill -INT` left it running and only SIGTERM stopped it."""
    program = (
        "import sys, time\n"
        "from vitrina.lifecycle import stop_on_signals\n"
        "with stop_on_signals():\n"
        "    try:\n"
        "        print('ready', flush=True)\n"
        "        time.sleep(60)\n"
        "    except KeyboardInterrupt:\n"
        "        print('interrupted', flush=True)\n"
        "        sys.exit(3)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", program],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=20) == 3
        assert child.stdout.read().strip() == "interrupted"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


# A second signal that comes while the first one's handler is inside the stop event's set()
# (or while the main thread is inside its wait()): the handler runs with the event's lock
# held by its own thread. Each service's handler is called in that state, in a process of
# its own, so a handler that blocks fails the test by timeout instead of hanging the suite.
_NESTED_SIGNAL = """
import signal, sys, threading
from types import SimpleNamespace
from vitrina.settings import load_settings

kind = sys.argv[1]
if kind == "worker":  # filter, indexer, lake sink, mirror
    from vitrina.kafka.worker import StreamWorker
    holder = SimpleNamespace(stop_event=threading.Event())
    StreamWorker.install_signal_handlers(holder)
    event = holder.stop_event
elif kind == "analytics":
    from vitrina.services.analytics_scheduler import AnalyticsScheduler
    scheduler = AnalyticsScheduler(load_settings(data_dir=sys.argv[2]), job=lambda _: None)
    scheduler.install_signal_handlers()
    event = scheduler._stop
else:  # traffic, the client API's process supervisor
    from vitrina.lifecycle import stop_event
    event = stop_event()
handler = signal.getsignal(signal.SIGTERM)
with event._cond:  # the lock Event.set() and Event.wait() hold (not re-entrant)
    handler(signal.SIGTERM, None)
    handler(signal.SIGTERM, None)
print("set" if event.wait(10) else "not set", flush=True)
"""


@pytest.mark.parametrize("kind", ["worker", "analytics", "service"])
def test_a_stop_signal_inside_the_stop_events_own_lock_does_not_hang_the_service(
    kind: str, tmp_path: Path
) -> None:
    """Regression: every service's SIGTERM handler called `stop_event.set()` in the signal
    handler. After `kill -9` of `vitrina up`, PR_SET_PDEATHSIG sent its SIGTERM again as
    the child was handed from one dying thread of the supervisor to the next; the traffic
    service's main thread was left blocked in four nested handlers (py-spy: Event.set inside
    Event.set), orphaned, holding its metrics port, and the next `vitrina up` refused to
    start ("ports already in use"). Handlers now only write to a pipe (`on_signals`)."""
    try:
        child = subprocess.run(
            [sys.executable, "-c", _NESTED_SIGNAL, kind, str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the {kind}'s signal handler blocked on its stop event's lock")
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.strip() == "set"
