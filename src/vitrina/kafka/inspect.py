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


def read_partitions_to_end(settings: Settings, partitions: list[TopicPartition], *,
                           principal: str | None = "admin",
                           timeout: float = 60.0) -> Iterator[Message]:
    """Yield every record of the given partitions, from the beginning to each one's EOF.

    EOF events, not watermarks: correct on Apache Kafka and on the embedded broker.
    """
    if not partitions:
        return
    consumer = Consumer(consumer_config(
        settings, principal, f"vitrina-{principal}-reader-{uuid.uuid4().hex[:8]}",
        **{"enable.partition.eof": True}))
    try:
        # OFFSET_BEGINNING (-2): the earliest retained record.
        consumer.assign([TopicPartition(tp.topic, tp.partition, -2) for tp in partitions])
        remaining = {(tp.topic, tp.partition) for tp in partitions}
        deadline = time.monotonic() + timeout
        while remaining:
            if time.monotonic() > deadline:
                raise BrokerError(f"reading {sorted(remaining)} did not reach the end in "
                                  f"{timeout:.0f} s", hint="the broker may be overloaded")
            for msg in consumer.consume(1000, 0.2):
                err = msg.error()
                if err is None:
                    yield msg
                elif err.code() == KafkaError._PARTITION_EOF:
                    remaining.discard((msg.topic(), msg.partition()))
                else:
                    raise BrokerError(f"reading {msg.topic()}: {err}",
                                      hint="is the broker running? `vitrina broker status`")
    finally:
        consumer.close()


def topic_partitions(settings: Settings, topic: str, principal: str | None = "admin",
                     timeout: float = 10.0) -> list[TopicPartition]:
    """Every partition of `topic`; BrokerError with a hint if it does not exist."""
    from confluent_kafka.admin import AdminClient

    from vitrina.kafka.clients import admin_config

    try:
        meta = AdminClient(admin_config(settings, principal)).list_topics(topic, timeout=timeout)
    except Exception as exc:
        raise BrokerError(f"cannot reach the broker at {settings.kafka.bootstrap_servers}: {exc}",
                          hint="is it running? `vitrina broker status`") from None
    info = meta.topics.get(topic)
    if info is None or info.error is not None or not info.partitions:
        raise BrokerError(f"topic {topic} does not exist", hint="run `vitrina topics apply`")
    return [TopicPartition(topic, p) for p in sorted(info.partitions)]


def read_to_end(settings: Settings, topics: list[str], timeout: float = 30.0,
                principal: str | None = "admin") -> Iterator[Message]:
    """Yield every record of `topics` (those that exist) from the beginning to each EOF."""
    from confluent_kafka.admin import AdminClient

    from vitrina.kafka.clients import admin_config

    try:
        metadata = AdminClient(admin_config(settings, principal)).list_topics(timeout=10)
    except Exception as exc:
        raise BrokerError(f"cannot reach the broker at {settings.kafka.bootstrap_servers}: "
                          f"{exc}", hint="is it running? `vitrina broker status`") from None
    partitions = [TopicPartition(topic, p) for topic in topics
                  if (meta := metadata.topics.get(topic)) is not None and meta.error is None
                  for p in sorted(meta.partitions)]
    yield from read_partitions_to_end(settings, partitions, principal=principal,
                                      timeout=timeout)


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
