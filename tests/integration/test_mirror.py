"""The embedded mirror on two real Tansu brokers: every record once, in order, across restarts."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from tests.conftest import free_port, wait_for

from vitrina import broker
from vitrina.kafka.worker import StreamWorker
from vitrina.services.mirror import SOURCE_OFFSET_HEADER, MirrorStep, build, target_settings
from vitrina.settings import Settings

pytestmark = pytest.mark.integration

Record = tuple[int, int, bytes | None, bytes | None, list[tuple[str, bytes]], int]


@pytest.fixture(scope="module")
def mirror_port(broker_settings: Settings) -> Iterator[int]:
    """A second real broker (the mirror cluster) for this module."""
    port = free_port()
    broker.start(broker_settings, "mirror-broker-test", port)
    yield port
    broker.stop(broker_settings, "mirror-broker-test")


# The records' own timestamps (the mirror must keep them), an hour old: inside the topics'
# retention. They were from November 2023, three years past shop-products' 7 days, so the
# broker's retention check (every 5 min) could delete them mid-test: "offset reset … Offset out
# of range" and 0 of 750 originals read back, about once in ten runs.
STAMP = int(time.time() * 1000) - 3_600_000


def _produce(settings: Settings, topic: str, start: int, count: int, partitions: int) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers, "linger.ms": 5})
    for i in range(start, start + count):
        value = None if i % 17 == 0 else f'{{"n": {i}}}'.encode()  # some tombstones
        producer.produce(
            topic,
            key=f"k{i}".encode(),
            value=value,
            partition=i % partitions,
            headers=[("trace", f"t{i}".encode())],
            timestamp=STAMP + i,
        )
    assert producer.flush(15) == 0


def _read_all(bootstrap: str, topic: str, partitions: int, expected: int) -> list[Record]:
    """Read every partition from the beginning to its end (EOF, not the high watermark)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "unused",
            "enable.partition.eof": True,
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    records: list[Record] = []
    eof: set[int] = set()

    def done() -> bool:
        for msg in consumer.consume(500, 0.2):
            err = msg.error()
            if err is not None:
                assert err.code() == KafkaError._PARTITION_EOF, err
                eof.add(msg.partition())
                continue
            records.append(
                (
                    msg.partition(),
                    msg.offset(),
                    msg.key(),
                    msg.value(),
                    list(msg.headers() or []),
                    msg.timestamp()[1],
                )
            )
        return len(eof) == partitions and len(records) >= expected

    try:
        wait_for(done, timeout=30, message=f"{expected} records on {topic}")
    finally:
        consumer.close()
    return records


def _run_in_thread(
    mirror: StreamWorker, until: Callable[[], bool] | None = None
) -> threading.Thread:
    def run() -> None:
        with contextlib.suppress(CrashForTest):
            mirror.run(until=until)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class CrashForTest(Exception):
    """What kills the 'crashing' mirror in the middle of a batch."""


class CrashingMirror(MirrorStep):
    """Copies `records` records, then dies like a kill -9 (nothing more is committed)."""

    def __init__(self, records: int) -> None:
        self.left = records

    def process(self, message: Any) -> list[Any]:
        if self.left == 0:
            raise CrashForTest("simulated crash")
        self.left -= 1
        return super().process(message)


def _source_offset(headers: list[tuple[str, Any]]) -> int:
    return int(dict(headers)[SOURCE_OFFSET_HEADER])


def test_every_record_replicated_once_in_order_across_restarts(
    make_settings: Callable[..., Settings], mirror_port: int, unique: str
) -> None:
    source = make_settings()
    target = target_settings(source, f"127.0.0.1:{mirror_port}")
    topic = source.topics.shop_products
    partitions = source.kafka.partitions
    group = f"vitrina-mirror-{unique}"

    _produce(source, topic, 0, 300, partitions)
    first = build(source, target, group_id=group)
    thread = _run_in_thread(first)
    bootstrap = target.kafka.bootstrap_servers
    wait_for(
        lambda: len(_read_all(bootstrap, topic, partitions, 0)) >= 100,
        timeout=40,
        message="the first mirror to copy some records",
    )
    first.stop()  # mid-stream: more records arrive while it is down
    thread.join(20)
    assert not thread.is_alive()

    _produce(source, topic, 300, 300, partitions)
    # A mirror that dies without committing (kill -9): whatever it copied gets replayed.
    # (It would commit only every hour: the crash comes before any commit.)
    no_commits = source.model_copy(
        update={"worker": source.worker.model_copy(update={"commit_interval_s": 3600})}
    )
    crashed = build(no_commits, target, group_id=group, step=CrashingMirror(50))
    _run_in_thread(crashed).join(60)
    assert crashed.producer.flush(10) == 0  # its copies reached the target, uncommitted

    _produce(source, topic, 600, 150, partitions)
    second = build(source, target, group_id=group)
    thread = _run_in_thread(second)
    seen: list[list[Record]] = [[]]

    def all_copied() -> bool:
        seen[0] = _read_all(bootstrap, topic, partitions, 0)
        return len({(p, _source_offset(h)) for p, _, _, _, h, _ in seen[0]}) == 750

    try:
        wait_for(all_copied, timeout=60, message="all 750 records on the mirror")
    finally:
        second.stop()
        thread.join(20)
    copies = seen[0]
    assert len(copies) > 750  # the crashed mirror's batch was replayed (and is detectable)

    # Same topics, same partition counts on the target (from the registry + source).
    from confluent_kafka.admin import AdminClient

    src_meta = (
        AdminClient({"bootstrap.servers": source.kafka.bootstrap_servers})
        .list_topics(timeout=10)
        .topics
    )
    dst_meta = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
    for name in second.topics:
        assert len(dst_meta[name].partitions) == len(src_meta[name].partitions), name

    originals = _read_all(source.kafka.bootstrap_servers, topic, partitions, 750)
    assert len(originals) == 750
    by_source = {
        (p, off): (key, value, headers, ts) for p, off, key, value, headers, ts in originals
    }
    folded: dict[tuple[int, int], Record] = {}
    last_seen: dict[int, int] = {}
    for record in copies:
        partition, _, key, value, headers, ts = record
        source_offset = _source_offset(headers)
        if (partition, source_offset) in folded:
            continue  # a replay, detectable by its source offset
        # In order per partition: first copies appear in source-offset order.
        assert source_offset > last_seen.get(partition, -1)
        last_seen[partition] = source_offset
        folded[(partition, source_offset)] = record
        assert (key, value, headers[:-1], ts) == by_source[(partition, source_offset)]
    assert set(folded) == set(by_source)  # every record, same partition, no gap
