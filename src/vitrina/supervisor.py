"""A small process supervisor for `vitrina up` / `vitrina demo`.

Each service runs as its own process; its output is prefixed with the service name; a
process that dies is restarted with backoff (1, 2, 4 ... s, at most a minute apart), and one
that keeps dying is reported loudly as a crash loop but never given up on: a cause that
passes (a flood of bad records a worker stops at, 500 at a time; a backend away) then heals
without an operator restarting the platform, as Kubernetes' CrashLoopBackOff does.
Stopping goes in reverse start order: SIGTERM, then SIGKILL.
Logs are private (directory 0700, files 0600: they may hold customer data), and a console
that goes away (`vitrina up | head -1`) never stops the logs or the shutdown.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vitrina.lifecycle import die_with_parent

# A service that dies this many times within CRASH_WINDOW_S is reported as a crash loop.
MAX_CRASHES = 5
CRASH_WINDOW_S = 60.0
MAX_BACKOFF_S = 60.0
STOP_GRACE_S = 10.0

COLORS = [
    "cyan",
    "magenta",
    "green",
    "yellow",
    "blue",
    "bright_red",
    "bright_cyan",
    "bright_magenta",
    "bright_green",
    "bright_yellow",
]


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    restart: bool = True
    # Added to the supervisor's own niceness: batch work (lake sink, analytics) yields the
    # CPU to what users wait on (the APIs, the filter, the indexer).
    nice: int = 0


@dataclass
class _Running:
    spec: ProcessSpec
    proc: subprocess.Popen[bytes] | None = None
    crashes: deque[float] = field(default_factory=deque)
    restarts: int = 0
    gave_up: bool = False  # a service that is not restarted (ProcessSpec.restart False)
    looping: bool = False  # reported as a crash loop, until it stays up a crash window
    next_start: float = 0.0


def _child_setup(nice: int) -> Callable[[], None]:
    """What the child runs before exec: die with the supervisor, then lower its priority."""

    parent = os.getpid()  # the supervisor, known before the fork

    def setup() -> None:
        die_with_parent(parent=parent)  # SIGTERM when the supervisor dies, even by SIGKILL
        if nice:
            os.nice(nice)

    return setup


class Supervisor:
    def __init__(
        self,
        log_dir: Path,
        emit: Callable[[str, str, str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`emit(service, color, line)` prints one prefixed line (the CLI renders it)."""
        self.log_dir = log_dir
        self.emit = emit
        self.clock = clock
        self._procs: list[_Running] = []
        self._lock = threading.Lock()
        self._stopping = False
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(log_dir, 0o700)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, spec: ProcessSpec) -> None:
        running = _Running(spec)
        with self._lock:
            self._procs.append(running)
        self._spawn(running)

    def _color(self, name: str) -> str:
        names = [r.spec.name for r in self._procs]
        return COLORS[names.index(name) % len(COLORS)] if name in names else "white"

    def _spawn(self, running: _Running) -> None:
        spec = running.spec
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(spec.env or {})}
        proc = subprocess.Popen(
            spec.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            preexec_fn=_child_setup(spec.nice),
        )
        running.proc = proc
        threading.Thread(target=self._pump, args=(spec.name, proc), daemon=True).start()

    def _pump(self, name: str, proc: subprocess.Popen[bytes]) -> None:
        color = self._color(name)
        assert proc.stdout is not None
        path = self.log_dir / f"{name}.log"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "ab") as log:
            for raw in iter(proc.stdout.readline, b""):
                log.write(raw)
                log.flush()
                # A console that is gone must not stop this thread draining the pipe.
                with contextlib.suppress(Exception):
                    self.emit(name, color, raw.decode("utf-8", "replace").rstrip())

    def poll(self) -> list[str]:
        """Restart dead processes (with backoff); return the names that entered a crash
        loop at this poll."""
        now = self.clock()
        looping = []
        with self._lock:
            procs = list(self._procs)
        for running in procs:
            proc = running.proc
            if self._stopping or running.gave_up or proc is None or proc.poll() is None:
                if proc is None and not running.gave_up and now >= running.next_start:
                    self._spawn(running)
                continue
            code = proc.returncode
            running.proc = None
            name = running.spec.name
            if not running.spec.restart:
                self.emit(name, "red", f"exited with code {code}")
                running.gave_up = True
                continue
            running.crashes.append(now)
            while running.crashes and now - running.crashes[0] > CRASH_WINDOW_S:
                running.crashes.popleft()
            delay = min(MAX_BACKOFF_S, 2.0 ** (len(running.crashes) - 1))
            running.restarts += 1
            running.next_start = now + delay
            if len(running.crashes) >= MAX_CRASHES and not running.looping:
                running.looping = True
                looping.append(name)
                self.emit(
                    name,
                    "red",
                    f"died {len(running.crashes)} times in {CRASH_WINDOW_S:.0f} s (last exit "
                    f"code {code}): crash loop, restarting at most every "
                    f"{MAX_BACKOFF_S:.0f} s until it stays up — see "
                    f"{self.log_dir / (name + '.log')}",
                )
                continue
            if len(running.crashes) == 1:
                running.looping = False  # up for a whole crash window: the loop is over
            self.emit(name, "red", f"exited with code {code}; restarting in {delay:.0f} s")
        return looping

    def alive(self, name: str) -> bool:
        for running in self._procs:
            if running.spec.name == name:
                return running.proc is not None and running.proc.poll() is None
        return False

    def pid(self, name: str) -> int | None:
        for running in self._procs:
            if running.spec.name == name and running.proc is not None:
                return running.proc.pid
        return None

    def looping(self) -> list[str]:
        """The services in a crash loop now: reported as one, and dead or last died within
        a crash window (one that has stayed up a whole window since is out of it)."""
        now = self.clock()
        with self._lock:
            procs = list(self._procs)
        return [
            r.spec.name
            for r in procs
            if r.looping
            and (r.proc is None or (r.crashes and now - r.crashes[-1] < CRASH_WINDOW_S))
        ]

    def restarts(self) -> dict[str, int]:
        return {r.spec.name: r.restarts for r in self._procs}

    def stop_all(self, grace: float = STOP_GRACE_S) -> None:
        """SIGTERM every service (in reverse start order), wait for them together until one
        deadline `grace` away, then SIGKILL what is left. One after another, each with its
        own grace, a broker restarting at that moment made a Ctrl-C take 35 s: the services
        that waited for it used their 10 s each. No service needs another to stop first
        (each commits only what it made durable; kill -9 is safe anyway)."""
        self._stopping = True
        stopping = []
        for running in reversed(self._procs):
            proc = running.proc
            if proc is None or proc.poll() is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            stopping.append((running, proc))
        deadline = time.monotonic() + grace
        for running, proc in stopping:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.emit(running.spec.name, "red", "did not stop in time; killing")
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(timeout=5)
