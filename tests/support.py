"""Test helpers shared by integration and e2e tests: real servers and child processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from tests.conftest import free_port, wait_for


def run_vitrina(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`vitrina ARGS` in a child process with exactly `env`, as a user runs it: its exit
    code, stdout and stderr (text), never raising on a failure."""
    return subprocess.run(
        [sys.executable, "-m", "vitrina", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextlib.contextmanager
def threads_touching_files(fs: Any) -> Iterator[set[int]]:
    """The threads that touch a file `fs` opens within the block: Arrow reading a Python
    file in its own threads aborted `analytics show` at exit (exit 134)."""
    touched: set[int] = set()
    real_open = fs.open

    class Watched:
        def __init__(self, fh: Any) -> None:
            self._fh = fh

        def __getattr__(self, name: str) -> Any:
            touched.add(threading.get_ident())
            return getattr(self._fh, name)

        def __enter__(self) -> Watched:
            return self

        def __exit__(self, *exc: object) -> None:
            self._fh.close()

    fs.open = lambda *a, **k: Watched(real_open(*a, **k))
    try:
        yield touched
    finally:
        fs.open = real_open


def private_ports_env() -> dict[str, str]:
    """A free port for every service's HTTP/metrics port (`ports.*`), as environment."""
    from vitrina.settings import ServicePorts

    return {
        f"VITRINA__PORTS__{name.upper()}": str(free_port()) for name in ServicePorts.model_fields
    }


class UvicornThread:
    """A real uvicorn server for an ASGI app, in a thread on 127.0.0.1:`port`."""

    def __init__(self, app: Any, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        wait_for(lambda: self.server.started, 20, message="uvicorn to start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


class ChildProcess:
    """A child process we started; stopped by its own PID only (SIGTERM, then SIGKILL)."""

    def __init__(
        self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name, self.log = name, log
        with open(log, "wb") as fh:
            self.popen = subprocess.Popen(
                argv,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
            )

    def tail(self) -> str:
        return f"--- {self.name} log ---\n" + self.log.read_text(errors="replace")[-1500:]

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)


def settings_env(settings: Any, **extra: str) -> dict[str, str]:
    """Environment that gives a `vitrina` subprocess the same settings as `settings`.

    Starts from a clean environment (no inherited VITRINA_ variables), then sets the data dir,
    the bootstrap servers and every topic name; `extra` adds `VITRINA__…` overrides, e.g.
    `settings_env(s, PORTS__FILTER="9201")`.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITRINA_")}
    env["VITRINA__DATA_DIR"] = str(settings.data_dir)
    env["VITRINA__KAFKA__BOOTSTRAP_SERVERS"] = settings.kafka.bootstrap_servers
    for role, name in settings.topics.model_dump().items():
        env[f"VITRINA__TOPICS__{role.upper()}"] = name
    env.update({f"VITRINA__{key}": value for key, value in extra.items()})
    return env


class ConsumedRecord:
    """A consumed shop-products record as a sink reads it (unit tests; the integration tests
    use the real broker)."""

    def __init__(self, offset: int, value: bytes) -> None:
        self._offset, self._value = offset, value

    def topic(self) -> str:
        return "shop-products"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def value(self) -> bytes:
        return self._value

    def key(self) -> bytes:
        return b"k"

    def timestamp(self) -> tuple[int, int]:
        return (1, 1714561200000 + self._offset)

    def headers(self) -> None:
        return None


class WatchedClaims:
    """A producer that notes, in order, each claim's acknowledgement and each product's
    produce() (confluent-kafka's Producer can not be subclassed for produce alone)."""

    def __init__(self, producer: Any, owners_topic: str) -> None:
        self.producer, self.owners_topic = producer, owners_topic
        self.events: list[tuple[str, Any]] = []

    def produce(self, topic: str, value: Any, key: Any, on_delivery: Any = None, **kw: Any) -> None:
        if topic == self.owners_topic:

            def acknowledged(err: Any, msg: Any) -> None:
                self.events.append(("claim acknowledged", err))
                on_delivery(err, msg)

            self.producer.produce(topic, value, key, on_delivery=acknowledged, **kw)
        else:
            self.events.append(("product produced", None))
            self.producer.produce(topic, value, key, on_delivery=on_delivery, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.producer, name)


def recreate_topic(settings: Any, topic: str) -> None:
    """Delete `topic` and create it again (the settings' definition), as an operator would
    under running services: waits until the old one is gone and the new one exists."""
    from confluent_kafka.admin import AdminClient

    from vitrina.errors import BrokerError
    from vitrina.kafka.admin import apply_topics
    from vitrina.kafka.clients import admin_config

    def created_again() -> bool:  # False while the broker is still deleting the old one
        try:
            return topic in apply_topics(settings).created
        except BrokerError:
            return False

    admin = AdminClient(admin_config(settings))  # held: its futures die with it
    admin.delete_topics([topic])[topic].result(timeout=30)
    wait_for(
        lambda: topic not in admin.list_topics(timeout=10).topics,
        timeout=30,
        message=f"{topic} to be deleted",
    )
    wait_for(created_again, timeout=30, interval=0.5, message=f"{topic} to be created again")


def committed(settings: Any, group: str, topic: str) -> dict[int, int]:
    """The offsets `group` has committed on each partition of `topic` (-1001: none)."""
    from confluent_kafka import Consumer, TopicPartition

    from vitrina.kafka.clients import consumer_config

    consumer = Consumer(consumer_config(settings, "test", group))
    try:
        tps = [TopicPartition(topic, p) for p in range(settings.kafka.partitions)]
        return {tp.partition: tp.offset for tp in consumer.committed(tps, timeout=10)}
    finally:
        consumer.close()
