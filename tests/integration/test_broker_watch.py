"""The supervisor's broker watch against a real embedded broker killed with SIGKILL."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from tests.conftest import free_port, wait_for

from vitrina import broker
from vitrina.kafka.admin import apply_topics
from vitrina.orchestrate import watch_broker
from vitrina.settings import load_settings
from vitrina.topics import declared_topics

pytestmark = pytest.mark.integration


def test_a_killed_broker_is_said_once_restarted_and_its_topics_reapplied(tmp_path: Path) -> None:
    """Issue 12 item 6: after kill -9 of the broker nothing noticed and nothing recovered."""
    port = free_port()
    settings = load_settings(
        data_dir=tmp_path, broker={"port": port}, kafka={"bootstrap_servers": f"127.0.0.1:{port}"}
    )
    first = broker.start(settings)
    try:
        apply_topics(settings)
        said: list[str] = []
        watch = watch_broker(settings, lambda _name, _color, line: said.append(line))
        watch.every_s = 0.2
        watch.check()
        assert said == []
        assert first.pid is not None
        os.kill(first.pid, signal.SIGKILL)

        def recovered() -> bool:
            watch.check()
            return watch.restarts == 1

        wait_for(recovered, 60, interval=0.3, message=f"the broker back; said: {said}")
        assert said[0].startswith("the embedded broker is down")
        assert "topics re-applied" in said[-1] and len(said) in (2, 3), said
        # said once; between, at most the one failed restart a port taken meanwhile causes
        # (another process may bind it the moment the broker dies; in a rehearsal on
        # 2026-12-05 the restart found it taken, most likely by a parallel test's broker),
        # which the next try, 5 s on, gets past
        assert len(said) == 2 or said[1].startswith("restarting the broker failed"), said
        now = broker.status(settings)
        assert now.running and now.pid != first.pid
        names = AdminClient({"bootstrap.servers": now.address}).list_topics(timeout=10).topics
        assert {spec.name for spec in declared_topics(settings)} <= set(names)
    finally:
        broker.stop(settings)


def test_clients_never_create_topics(broker_settings, unique: str) -> None:
    """Issue 12 item 6: while topics were missing, services auto-created them (4 partitions)."""
    from confluent_kafka import Producer

    from vitrina.kafka.clients import producer_config

    missing = f"never-declared-{unique}"
    errors: list[str] = []
    producer = Producer(
        {
            **producer_config(broker_settings, "test"),
            "message.timeout.ms": 3000,
            "on_delivery": lambda err, _msg: errors.append(str(err)),
        }
    )
    producer.produce(missing, b"x", b"k")
    producer.flush(10)
    admin = AdminClient({"bootstrap.servers": broker_settings.kafka.bootstrap_servers})
    assert missing not in admin.list_topics(timeout=10).topics
    assert errors and errors[0] != "None"
