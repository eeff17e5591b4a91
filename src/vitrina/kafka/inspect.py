"""Read-only views of topics: record counts and latest records, read to the true end.

The end of a partition is detected with partition-EOF events, not the high watermark: the
embedded broker's watermark can be wrong, and EOF is correct on both brokers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from vitrina.errors import BrokerError
from vitrina.kafka.clients import consumer_config
from vitrina.settings import Settings


def read_to_end(settings: Settings, topics: list[str], timeout: float = 30.0,
                principal: str | None = "admin") -> Iterator[Message]:
    """Yield every record of `topics` from the beginning until each partition's EOF."""
    consumer = Consumer(consumer_config(
        settings, principal, f"vitrina-inspect-{uuid.uuid4().hex[:8]}",
        **{"enable.partition.eof": True}))
    try:
        try:
            metadata = consumer.list_topics(timeout=10)
        except Exception as exc:
            raise BrokerError(f"cannot reach the broker at {settings.kafka.bootstrap_servers}: "
                              f"{exc}", hint="is it running? `vitrina broker status`") from None
        assignment = []
        for topic in topics:
            meta = metadata.topics.get(topic)
            if meta is None or meta.error is not None:
                continue
            assignment += [TopicPartition(topic, p, 0) for p in meta.partitions]
        if not assignment:
            return
        # OFFSET_BEGINNING (-2): start at the earliest retained record.
        consumer.assign([TopicPartition(tp.topic, tp.partition, -2) for tp in assignment])
        remaining = {(tp.topic, tp.partition) for tp in assignment}
        deadline = time.monotonic() + timeout
        while remaining:
            if time.monotonic() > deadline:
                raise BrokerError(f"reading {', '.join(topics)} did not reach the end in "
                                  f"{timeout:.0f} s", hint="the broker may be overloaded")
            for msg in consumer.consume(1000, 0.5):
                err = msg.error()
                if err is None:
                    yield msg
                elif err.code() == KafkaError._PARTITION_EOF:
                    remaining.discard((msg.topic(), msg.partition()))
                else:
                    raise BrokerError(f"reading {msg.topic()}: {err}")
    finally:
        consumer.close()


def count_records(settings: Settings, topics: list[str], timeout: float = 60.0) -> dict[str, int]:
    counts = dict.fromkeys(topics, 0)
    for msg in read_to_end(settings, topics, timeout):
        counts[msg.topic() or ""] += 1
    return counts


def fold_latest(settings: Settings, topic: str, timeout: float = 30.0) -> dict[str, Any]:
    """Fold a compacted topic by key (compaction never runs on the embedded broker)."""
    state: dict[str, Any] = {}
    for msg in read_to_end(settings, [topic], timeout):
        key = (msg.key() or b"").decode("utf-8", "replace")
        if msg.value() is None:
            state.pop(key, None)
        else:
            state[key] = msg.value()
    return state
