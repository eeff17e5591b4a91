"""Native server processes (JVMs, moto) started by the project: PID file, log, readiness, stop.

Every server of `vitrina cluster up` is one `ManagedProcess`: started detached in its own
session, its PID recorded under ``<root>/run/<name>.pid``, its output in
``<root>/logs/<name>.log``, ready when `ready()` says so, stopped by that PID only
(SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from vitrina.errors import VitrinaError
from vitrina.lifecycle import die_with_parent


class ClusterError(VitrinaError):
    """A native server failed to start, stop or answer."""


class ExitedWhileStarting(ClusterError):
    """The server's process ended before it was ready (killed, or its own failure)."""


UP, DEGRADED, DOWN = "up", "degraded", "down"


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    running: bool
    answering: bool  # it serves its clients (a cluster: enough of its nodes for writes)
    address: str
    pid: int | None = None
    detail: str = ""
    nodes_down: tuple[int, ...] = ()  # the nodes of a multi-node component that do not answer

    @property
    def health(self) -> str:
        """UP, DEGRADED or DOWN. A cluster that lost a node but still takes writes is
        DEGRADED, not DOWN: calling it down (as `cluster status` did with one of three
        brokers killed, writes going on) sends an operator to the wrong fix."""
        if not self.answering:
            return DOWN
        if self.running and not self.nodes_down:
            return UP
        return DEGRADED


class Component(Protocol):
    """One part of the native distributed stack (a broker, MirrorMaker 2, HDFS, OpenSearch…)."""

    name: str

    def start(self) -> None:
        """Start (idempotent) and return once it answers; raise ClusterError naming the log."""

    def stop(self) -> None:
        """Stop by recorded PID (idempotent)."""

    def status(self) -> ComponentStatus: ...


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie still "exists": treat it as dead
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


@dataclass
class ManagedProcess:
    name: str
    root: Path
    argv: Sequence[str]
    ready: Callable[[], bool]
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    start_timeout_s: float = 90.0
    stop_timeout_s: float = 20.0
    extra_env: dict[str, str] = field(default_factory=dict)
    # True: SIGTERM when the process that started it dies, even by SIGKILL (`vitrina up`'s
    # embedded broker); False: it outlives its starter (`vitrina broker start`, clusters).
    die_with_starter: bool = False
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def pid_file(self) -> Path:
        return self.root / "run" / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.root / "logs" / f"{self.name}.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def running(self) -> bool:
        return self.pid() is not None

    def start(self) -> int:
        """Start unless already running; wait until `ready()`; return the PID."""
        pid = self.pid()
        if pid is not None:
            self._wait_ready(pid, None)
            return pid
        pid, self._proc = self._spawn()
        self._wait_ready(pid, self._proc)
        return pid

    def launch(self) -> int:
        """Start unless already running, without waiting (servers that need their peers,
        like the nodes of one KRaft quorum); `wait_ready()` afterwards."""
        pid = self.pid()
        if pid is None:
            pid, self._proc = self._spawn()
        return pid

    def wait_ready(self) -> None:
        pid = self.pid()
        if pid is None:
            raise ClusterError(
                f"{self.name} is not running:\n{self.log_tail()}", hint=f"see {self.log_file}"
            )
        proc = self._proc
        self._wait_ready(pid, proc if proc is not None and proc.pid == pid else None)

    def _spawn(self) -> tuple[int, subprocess.Popen[bytes]]:
        self.pid_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = dict(self.env if self.env is not None else os.environ)
        env.update(self.extra_env)
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                list(self.argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=die_with_parent if self.die_with_starter else None,
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid, proc

    def _wait_ready(self, pid: int, proc: subprocess.Popen[bytes] | None) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            exited = proc.poll() is not None if proc is not None else not pid_alive(pid)
            if exited:
                self.pid_file.unlink(missing_ok=True)
                raise ExitedWhileStarting(
                    f"{self.name} exited while starting:\n{self.log_tail()}",
                    hint=f"see {self.log_file}",
                )
            if self.ready():
                return
            time.sleep(0.25)
        raise ClusterError(
            f"{self.name} (pid {pid}) did not become ready within "
            f"{self.start_timeout_s:.0f} s:\n{self.log_tail()}",
            hint=f"see {self.log_file}",
        )

    def stop(self, sig: int = signal.SIGTERM) -> bool:
        """Stop by recorded PID; False when it was not running. SIGKILL after the grace time."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + self.stop_timeout_s
        while time.monotonic() < deadline and pid_alive(pid):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.1)
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """kill -9, for failure tests."""
        self.stop(signal.SIGKILL)

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no log)"


def java_argv(
    classpath: str,
    main_class: str,
    args: Sequence[str] = (),
    heap: str = "256m",
    jvm_opts: Sequence[str] = (),
) -> list[str]:
    """A small-heap JVM command line (2 cores, many JVMs on one machine); ClusterError
    when no `java` is on PATH (with the jars cached, nothing else asked: a missing Java was
    a FileNotFoundError traceback, a blind review)."""
    if shutil.which("java") is None:
        raise ClusterError(
            "java not found on PATH",
            hint="install Java 17 (Debian: apt-get install -y openjdk-17-jre-headless), or "
            "put its bin folder on PATH",
        )
    return [
        "java",
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
        *jvm_opts,
        "-cp",
        classpath,
        main_class,
        *args,
    ]
