"""A real MirrorMaker 2 from the secured cluster A to a secured 1-node cluster B.

MM2 runs as the `mirror` principal with the ACLs of `vitrina acl apply` on both clusters, plus
the two target-side grants the plan lacks (`grant_target_extras`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from tests.conftest import wait_for
from tests.distributed.conftest import SecuredCluster

from vitrina.cluster import topology
from vitrina.cluster.kafka import KafkaCluster
from vitrina.cluster.mirrormaker import MirrorMaker, grant_target_extras
from vitrina.kafka.admin import apply_topics
from vitrina.security.acl import apply_acls
from vitrina.settings import Settings, TopicNames

pytestmark = [pytest.mark.distributed, pytest.mark.slow]

INTERVAL_S = 2  # checkpoints, group offset syncs, refreshes


@dataclass
class Mirror:
    a: Settings  # admin on A, with this module's topic names
    b: Settings  # admin on B
    mm2: MirrorMaker
    target: KafkaCluster
    suffix: str


@pytest.fixture(scope="module")
def mirror(secured_cluster: SecuredCluster) -> Iterator[Mirror]:
    suffix = uuid.uuid4().hex[:6]
    names = {role: f"{default}-{suffix}" for role, default in TopicNames().model_dump().items()}
    target = topology.mirror(secured_cluster.plan)
    target.start()
    mm2 = MirrorMaker(
        secured_cluster.kafka,
        target,
        secured_cluster.plan.root,
        topics=f".*-{suffix}",
        interval_s=INTERVAL_S,
    )
    try:
        a = secured_cluster.settings_for("admin", topics=names)
        b = topology.settings_for(
            target, "admin", secured_cluster.plan.data_dir / "mirror-admin", topics=names
        )
        apply_topics(a)
        apply_acls(a)
        apply_acls(b)
        grant_target_extras(target)  # reported: missing from the ACL plan
        mm2.start()
        yield Mirror(a, b, mm2, target, suffix)
    finally:
        mm2.stop()
        target.stop()


def _conf(settings: Settings) -> dict[str, Any]:
    from vitrina.kafka.clients import base_config

    conf = base_config(settings, "admin")
    conf.pop("logger", None)
    return conf


def read_all(
    settings: Settings, topic: str, partitions: int, expected: int
) -> dict[int, list[tuple[Any, Any, Any]]]:
    """Every record of `topic` per partition (assign, from the beginning)."""
    consumer = Consumer(
        {
            **_conf(settings),
            "group.id": "vitrina-cli-mm2-check",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got: dict[int, list[tuple[Any, Any, Any]]] = {p: [] for p in range(partitions)}
    try:

        def more() -> bool:
            for msg in consumer.consume(500, 1.0):
                if msg.error() is None:
                    got[msg.partition()].append((msg.key(), msg.value(), msg.headers()))
            return sum(len(v) for v in got.values()) >= expected

        wait_for(more, timeout=90, interval=0, message=f"{expected} records in {topic}")
    finally:
        consumer.close()
    return got


def test_every_topic_arrives_with_keys_headers_and_order(mirror: Mirror) -> None:
    topics = list(mirror.a.topics.model_dump().values())
    producer = Producer(_conf(mirror.a) | {"acks": "all", "enable.idempotence": True})
    per_topic = 40
    for topic in topics:
        for i in range(per_topic):
            producer.produce(
                topic,
                key=f"k{i % 7}".encode(),
                value=f"{topic}:{i}".encode(),
                headers=[("seq", str(i).encode()), ("src", b"a")],
            )
    assert producer.flush(60) == 0
    for topic in topics:
        partitions = 3
        source = read_all(mirror.a, topic, partitions, per_topic)
        copied = read_all(mirror.b, topic, partitions, per_topic)
        assert copied == source, f"{topic} differs on the mirror"
    wait_for(lambda: sum(mirror.mm2.lag().values()) == 0, timeout=60, message="MM2 lag 0")


def test_consumer_group_fails_over_from_translated_offsets(mirror: Mirror) -> None:
    topic = mirror.a.topics.orders
    group = f"vitrina-analytics-failover-{mirror.suffix}"
    producer = Producer(_conf(mirror.a) | {"acks": "all"})
    total = 300  # values 0..299 (the earlier test's values are "<topic>:<i>")
    for i in range(total):
        producer.produce(topic, key=f"order-{i}".encode(), value=str(i).encode())
    assert producer.flush(60) == 0

    consumer_conf = {
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    }
    seen_a: list[bytes] = []
    expected = {str(i).encode() for i in range(total)}
    consumer = Consumer(_conf(mirror.a) | consumer_conf)
    consumer.subscribe([topic])
    try:

        def consumed_all() -> bool:
            for msg in consumer.consume(50, 1.0):
                if msg.error() is None:
                    seen_a.append(msg.value())
                    consumer.commit(msg, asynchronous=False)
            return len(set(seen_a) & expected) == total

        wait_for(consumed_all, timeout=90, interval=0, message="the orders on A")
    finally:
        consumer.close()
    committed_a = _committed(mirror.a, group, topic)
    # The primary goes on receiving while the consumer is away (then fails over to B).
    more = 60
    for i in range(total, total + more):
        producer.produce(topic, key=f"order-{i}".encode(), value=str(i).encode())
    assert producer.flush(60) == 0

    # The checkpoint connector translates the group's offsets and commits them on B.
    wait_for(
        lambda: _committed(mirror.b, group, topic) != {},
        timeout=120,
        interval=1.0,
        message="translated offsets of the group on B",
    )
    wait_for(
        lambda: (
            sum(_committed(mirror.b, group, topic).values()) >= sum(committed_a.values()) - 10 * 3
        ),
        timeout=60,
        interval=1.0,
        message="translated offsets close to A's",
    )

    seen_b: list[bytes] = []
    consumer = Consumer(_conf(mirror.b) | consumer_conf)
    consumer.subscribe([topic])
    try:

        def rest() -> bool:
            for msg in consumer.consume(100, 1.0):
                if msg.error() is None:
                    seen_b.append(msg.value())
            # (the topic also holds the previous test's records: a superset)
            return set(seen_a) | set(seen_b) >= {str(i).encode() for i in range(total + more)}

        wait_for(rest, timeout=90, interval=0, message="the rest of the orders on B")
    finally:
        consumer.close()
    # Records consumed on A and again on B. MM2 translates through its sparse offset syncs:
    # exact near the head (where the last syncs are), coarser far behind it.
    reread = len(set(seen_a) & set(seen_b))
    # offset.lag.max=10: an offset sync at least every 10 records per partition, so the
    # translated offset is at most 10 records behind per partition (3 partitions).
    assert reread <= 30, f"{reread} records re-read after failover"
    print(f"failover re-read {reread} of {len(seen_a)} consumed on A")


def _committed(settings: Settings, group: str, topic: str) -> dict[int, int]:
    """The group's committed offsets, read with the admin API (a consumer instance with the
    group id would count as "consumers using this group" and stop MM2's offset sync)."""
    from confluent_kafka import ConsumerGroupTopicPartitions
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(_conf(settings))
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(3)])
    result = admin.list_consumer_group_offsets([request], request_timeout=10)[group].result()
    return {tp.partition: tp.offset for tp in result.topic_partitions if tp.offset >= 0}


def _values_until(
    settings: Settings, topic: str, wanted: set[bytes], isolation: str
) -> list[bytes]:
    """Every value of `topic`'s partition 0 from its start, read with `isolation`, until all
    of `wanted` were read."""
    consumer = Consumer(
        {
            **_conf(settings),
            "group.id": "vitrina-cli-mm2-check",
            "enable.auto.commit": False,
            "isolation.level": isolation,
        }
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    seen: list[bytes] = []
    try:

        def more() -> bool:
            seen.extend(m.value() for m in consumer.consume(500, 1.0) if m.error() is None)
            return wanted <= set(seen)

        wait_for(more, timeout=90, interval=0, message=f"{len(wanted)} records in {topic}")
    finally:
        consumer.close()
    return seen


def test_an_aborted_transaction_never_reaches_the_mirror_and_a_committed_one_after_it_does(
    mirror: Mirror,
) -> None:
    """Regression (operator review): MM2's source consumer read with Kafka's default
    read_uncommitted, so the records of an aborted transaction were copied to the mirror,
    where a read_committed reader gets them (the abort marker is not copied)."""
    # A declared topic: the `mirror` principal's ACLs cover those (MM2 never sees others).
    topic = mirror.a.topics.client_queries
    producer = Producer(_conf(mirror.a) | {"transactional.id": f"vitrina-mm2-test-{mirror.suffix}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, value=f"aborted-{i}".encode(), partition=0)
    assert producer.flush(30) == 0  # in the log before the abort
    producer.abort_transaction(30)
    producer.begin_transaction()
    for i in range(5):
        producer.produce(topic, value=f"committed-{i}".encode(), partition=0)
    producer.commit_transaction(30)
    committed = {f"committed-{i}".encode() for i in range(5)}
    aborted = {f"aborted-{i}".encode() for i in range(10)}

    on_primary = _values_until(mirror.a, topic, committed, "read_uncommitted")
    assert aborted <= set(on_primary)  # the aborted records are there to be (not) copied
    # Partition 0, copied in order: the committed records came after the aborted ones.
    on_mirror = _values_until(mirror.b, topic, committed, "read_uncommitted")
    assert sorted(set(on_mirror) & aborted) == []


def _end_offset(settings: Settings, topic: str) -> int:
    consumer = Consumer({**_conf(settings), "group.id": "vitrina-cli-mm2-check"})
    try:
        return int(consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1])
    except Exception:  # the topic is not there yet
        return 0
    finally:
        consumer.close()


def test_every_topic_on_the_primary_has_the_primarys_replication_factor(
    mirror: Mirror, secured_cluster: SecuredCluster
) -> None:
    """Regression (operator review): MM2 also ran a heartbeat connector for the disabled
    mirror -> primary flow, which created `heartbeats` on the primary with the mirror's
    replication factor (1): killing the broker holding it left an offline partition.
    Both flows' herders start together; ten heartbeats on the mirror (one per interval)
    mean the primary's `heartbeats`, had it been made, would be there by now."""
    wait_for(
        lambda: _end_offset(mirror.b, "heartbeats") >= 10,
        timeout=120,
        interval=1.0,
        message="ten heartbeats on the mirror",
    )
    topics = secured_cluster.kafka.admin().list_topics(timeout=10).topics
    size = secured_cluster.kafka.size
    other = {
        name: {len(p.replicas) for p in meta.partitions.values()}
        for name, meta in topics.items()
        if {len(p.replicas) for p in meta.partitions.values()} != {size}
    }
    assert other == {}, f"topics on the primary without RF {size}"


def test_a_restarted_mirrormaker_is_ready_only_once_it_copies_again(mirror: Mirror) -> None:
    """A blind review: `cluster up --only mirrormaker` said "up in 0 s" for a restarted MM2.
    Readiness asked only whether `heartbeats` exists on the mirror, which stays from the
    first run, so `start` returned before the new process ran a connector. Now `start`
    returns once a heartbeat written since this start has arrived. (Last in this file: it
    restarts the module's MM2.)"""
    mirror.mm2.stop()
    before = _end_offset(mirror.b, "heartbeats")
    assert before > 0  # the topic stays from the first run
    mirror.mm2.start()
    assert _end_offset(mirror.b, "heartbeats") > before
