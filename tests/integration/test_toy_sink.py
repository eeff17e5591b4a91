"""A new sink is one class (docs/architecture.md): a toy JSON Lines sink on the real broker.

It also shows the failure kinds: an invalid record is dead-lettered; a backend that is away
(UnavailableError) pauses the worker and the same batch is written once it is back — never
dead-lettered, and no offset commits before the write succeeded.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer, Message, Producer, TopicPartition
from tests.conftest import wait_for

from vitrina.contracts import decode
from vitrina.errors import UnavailableError
from vitrina.kafka.clients import consumer_config, producer_config
from vitrina.kafka.deadletter import headers_dict
from vitrina.kafka.inspect import read_to_end
from vitrina.kafka.steps import BatchSink
from vitrina.kafka.worker import StreamWorker
from vitrina.settings import Settings

pytestmark = pytest.mark.integration


class JsonLinesSink(BatchSink[dict[str, Any]]):
    """The whole sink: how to decode a record and how to write a batch."""

    service = "toy-jsonl"
    flush_records = 5
    flush_seconds = 0.2

    def __init__(self, path: Path, outages: int = 0) -> None:
        super().__init__()
        self.path, self.outages = path, outages

    def decode(self, message: Message) -> dict[str, Any]:
        return decode("client_event", message.value())

    def write(self, batch: list[dict[str, Any]]) -> None:
        if self.outages:
            self.outages -= 1
            raise UnavailableError("toy backend away", hint="it comes back by itself")
        with self.path.open("ab") as fh:
            fh.writelines(orjson.dumps(item) + b"\n" for item in batch)


def event(i: int) -> bytes:
    return orjson.dumps(
        {
            "event_id": f"e-{i}",
            "user_id": "u-1",
            "type": "view",
            "product_id": "1001",
            "timestamp": "2024-05-01T10:00:00Z",
        }
    )


def committed_total(settings: Settings, group: str, topic: str) -> int:
    consumer = Consumer(consumer_config(settings, "test", group))
    try:
        tps = [TopicPartition(topic, p) for p in range(settings.kafka.partitions)]
        return sum(max(0, tp.offset) for tp in consumer.committed(tps, timeout=10))
    finally:
        consumer.close()


def test_a_toy_sink_in_one_class_writes_retries_and_dead_letters(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    topic, group = settings.topics.client_events, f"toy-{uuid.uuid4().hex[:6]}"
    producer = Producer(producer_config(settings, "test"))
    for i in range(12):
        producer.produce(topic, event(i), b"u-1", partition=0)
    producer.produce(topic, b'{"event_id": "bad"}', b"u-1", partition=0)
    assert producer.flush(30) == 0

    out = tmp_path / "events.jsonl"
    sink = JsonLinesSink(out, outages=2)
    worker = StreamWorker(settings, sink, [topic], group_id=group, sink=sink)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        wait_for(
            lambda: committed_total(settings, group, topic) == 13,
            timeout=60,
            message="all 13 records committed",
        )
    finally:
        worker.stop()
        thread.join(30)
    assert not thread.is_alive()
    written = [orjson.loads(line)["event_id"] for line in out.read_bytes().splitlines()]
    assert sorted(written) == sorted(f"e-{i}" for i in range(12))  # once each, after 2 outages
    [letter] = [
        headers_dict(m.headers()) for m in read_to_end(settings, [settings.topics.dead_letters])
    ]
    assert letter["service"] == "toy-jsonl" and letter["source_offset"] == "12"
