"""Shared fixtures: one real broker per session (VITRINA_TEST_BROKER), unique names per test."""

from __future__ import annotations

import os
import random
import signal
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vitrina.settings import Settings, load_settings

SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "seed-catalogs"
FIXTURES = Path(__file__).parent / "fixtures"


# Ports handed out in this run: a server started later must never get one twice.
_HANDED_OUT: set[int] = set()
# Listening ports are drawn from here, below the kernel's ephemeral range (see below).
_LISTEN_RANGE_LOW = 20000


def ephemeral_range_low() -> int:
    """The first port the kernel gives outgoing connections (Linux default 32768)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def listen_range() -> tuple[int, int]:
    """This test process's slice of [20000, ephemeral low): under pytest-xdist each worker
    (PYTEST_XDIST_WORKER gwN of PYTEST_XDIST_WORKER_COUNT) draws from its own slice, so two
    workers can never hand out the same port (each knows only its own handed-out set)."""
    low, high = _LISTEN_RANGE_LOW, ephemeral_range_low()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or count < 2:
        return low, high
    index = int(worker[2:]) % count
    size = (high - low) // count
    return low + index * size, low + (index + 1) * size


def free_port() -> int:
    """A port nothing listens on, for a server a test starts a moment later.

    Drawn below the kernel's ephemeral range: bind(0) hands out an ephemeral port, and any
    client's outgoing connection (a broker's, a Kafka client's) could take that very port
    before our server binds it: the JMX exporter once failed to start that way. Outgoing
    connections never get a port below the range, and no port is handed out twice per run
    (nor by two xdist workers: `listen_range`).
    """
    low, high = listen_range()
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(low, high)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free port in {low}-{high} after 500 tries")


def wait_for(
    condition: Callable[[], Any],
    timeout: float = 20.0,
    interval: float = 0.1,
    message: str = "condition",
    explain: Callable[[], str] | None = None,
) -> Any:
    """Poll `condition` until it returns a truthy value; fail with `message` after `timeout`,
    and with what `explain` returns then (the state that kept the condition false)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            why = f" ({explain()})" if explain is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}{why}")
        time.sleep(interval)


# The integration suite's broker: VITRINA_TEST_BROKER=kafka (single-node Apache Kafka, the
# embedded default and what production runs) or tansu (the former in-memory embedded broker).
TEST_BROKER = os.environ.get("VITRINA_TEST_BROKER", "kafka")


def pytest_report_header() -> str:
    return f"vitrina test broker: {TEST_BROKER} (VITRINA_TEST_BROKER=kafka|tansu)"


# Under pytest-xdist (`scripts/test.sh` runs `-n 3 --dist loadgroup`) tests are sent to
# workers in groups (`suite_scope`): every test of tests/distributed shares one group (one
# secured cluster, started once, tests that kill and restart its nodes one after another), so
# do the tests of tests/backends (one HDFS, OpenSearch and S3 server); any other file is its
# own group, so its tests run in file order on one worker and module-scoped fixtures start
# once, as in a serial run. Each worker has its own session broker (`broker_settings`) and
# its own port slice. The groups are ours (`pytest_xdist_make_scheduler`): xdist 3.8 puts
# `xdist_group` marks into `item._nodeid`, which pytest 9.2's node ids no longer read, so
# marks would silently group nothing. The longest groups go first (with
# --no-loadscope-reorder the workers take groups in collection order): the cluster's tests,
# the backends', then e2e, integration and, to fill the gaps at the end, the unit files.
_SHARED_GROUPS = {"distributed": "secured-cluster", "backends": "backend-servers"}
_FIRST = ("distributed", "backends", "e2e", "integration")


def suite_scope(nodeid: str) -> str:
    """The group of a test: its shared group (tests/distributed, tests/backends) or its file."""
    path = nodeid.split("::", 1)[0]
    parts = path.split("/")
    if len(parts) > 2 and parts[0] == "tests" and parts[1] in _SHARED_GROUPS:
        return _SHARED_GROUPS[parts[1]]
    return path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist", "no") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SuiteScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return suite_scope(nodeid)

    return SuiteScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # An xdist worker runs with dist "no" and `loadgroup` set (xdist.remote.setup_config).
    if not getattr(config.option, "loadgroup", False):
        return
    root = Path(__file__).parent

    def rank(item: pytest.Item) -> int:
        try:
            top = item.path.relative_to(root).parts[0]
        except ValueError:
            return len(_FIRST)
        return _FIRST.index(top) if top in _FIRST else len(_FIRST)

    items.sort(key=rank)  # stable: file order and test order within a file stay


def _group_coordinator_ready(bootstrap: str) -> bool:
    """True once the broker answers a consumer group's offset fetch (its coordinator is up)."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "vitrina-test-warmup", "log_level": 0}
    )
    try:
        consumer.committed([TopicPartition("vitrina-test-warmup", 0)], timeout=5)
        return True
    except KafkaException:
        return False
    finally:
        consumer.close()


@pytest.fixture(scope="session")
def broker_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Start one real broker for the whole session (engine: VITRINA_TEST_BROKER)."""
    from vitrina import broker

    if TEST_BROKER not in ("kafka", "tansu"):
        raise pytest.UsageError(f"VITRINA_TEST_BROKER={TEST_BROKER!r}: use kafka or tansu")
    data_dir = tmp_path_factory.mktemp("broker")
    port = free_port()
    settings = load_settings(
        data_dir=data_dir,
        broker={"port": port, "engine": TEST_BROKER},
        kafka={"bootstrap_servers": f"127.0.0.1:{port}"},
    )
    # Taken down with the session's process even when that dies hard (a segfault in a
    # client library, a kill -9 of an xdist worker): such deaths left brokers running.
    broker.start(settings, die_with_starter=True)
    if TEST_BROKER == "kafka":
        # A fresh Kafka answers metadata before its group coordinator is up: the first test
        # on it (each xdist worker's first) got NOT_COORDINATOR from `committed()`.
        wait_for(
            lambda: _group_coordinator_ready(settings.kafka.bootstrap_servers),
            timeout=60,
            interval=0.2,
            message="the session broker's group coordinator",
        )
    yield settings
    # The session's data dir is thrown away: a clean shutdown (up to 20 s with the thousands of
    # partitions a session creates) buys nothing here, so SIGKILL; `stop` drops the PID file.
    # (A clean stop is tested where it matters: tests/integration/test_broker.py.)
    pid = broker.status(settings).pid
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
    broker.stop(settings)


def settings_on_broker(
    broker: Settings, data_dir: Path, create_topics: bool = True, **overrides: Any
) -> Settings:
    """Settings bound to `broker`'s cluster, `data_dir` and unique topic names (created).

    Overrides are nested dicts as `load_settings` takes them; `topics` and `kafka` are merged
    into the unique names and the broker's bootstrap servers.
    """
    from vitrina.kafka.admin import apply_topics

    suffix = overrides.pop("suffix", None) or uuid.uuid4().hex[:8]
    names = {
        role: f"{default}-{suffix}" for role, default in Settings().topics.model_dump().items()
    }
    names.update(overrides.pop("topics", {}))
    kafka = {"bootstrap_servers": broker.kafka.bootstrap_servers, **overrides.pop("kafka", {})}
    settings = load_settings(
        data_dir=data_dir, broker=broker.broker.model_dump(), kafka=kafka, topics=names, **overrides
    )
    if create_topics:
        apply_topics(settings)
    return settings


@pytest.fixture
def make_settings(broker_settings: Settings, tmp_path: Path) -> Callable[..., Settings]:
    """Settings bound to the session broker, a fresh data dir and unique topic names.

    Call it with extra overrides (nested dicts) as needed; topics are created on first call.
    """
    suffix = uuid.uuid4().hex[:8]

    def factory(create_topics: bool = True, **overrides: Any) -> Settings:
        data_dir = overrides.pop("data_dir", tmp_path / "data")
        return settings_on_broker(
            broker_settings, data_dir, create_topics, suffix=suffix, **overrides
        )

    return factory


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]
