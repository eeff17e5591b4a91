"""The embedded mirror: replicate every declared topic to a second cluster.

For local development (production uses MirrorMaker 2 with the identity replication policy).
Topic names, partition numbers, keys, values (tombstones included), headers and timestamps are
kept. Each batch is produced, the target producer flushed, and only then are the source
offsets committed (consumer group on the SOURCE cluster): a restart resumes from the last
commit, so nothing is skipped. What a crash replays is detectable: every copy carries the
source offset in the `vitrina-mirror-offset` header, and a reader that folds by
(partition, source offset) sees each record exactly once, in source order.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from vitrina import metrics
from vitrina.errors import BrokerError
from vitrina.kafka.clients import admin_config, consumer_config, producer_config
from vitrina.settings import Settings
from vitrina.topics import TopicSpec, declared_topics

log = logging.getLogger(__name__)

SERVICE = "mirror"
GROUP_ID = "vitrina-mirror"
SOURCE_OFFSET_HEADER = "vitrina-mirror-offset"
# librdkafka timestamp types: 0 = not available, 1 = create time, 2 = log append time.
_NO_TIMESTAMP = 0


def target_settings(settings: Settings, bootstrap_servers: str | None = None) -> Settings:
    """The same settings pointed at the mirror cluster (default: the embedded mirror broker)."""
    bootstrap = bootstrap_servers or f"{settings.broker.host}:{settings.broker.mirror_port}"
    return settings.model_copy(update={"kafka": settings.kafka.model_copy(
        update={"bootstrap_servers": bootstrap})})


def copy_headers(msg: Message) -> list[tuple[str, bytes]]:
    """The source headers plus the source offset (partition and topic are kept as-is)."""
    headers: list[tuple[str, bytes]] = [  # type: ignore[str-unpack]
        (k, v if isinstance(v, bytes) else (v or "").encode())
        for k, v in (msg.headers() or [])
    ]
    headers.append((SOURCE_OFFSET_HEADER, str(msg.offset()).encode()))
    return headers


def ensure_target_topics(source: Settings, target: Settings, timeout: float = 15.0) -> list[str]:
    """Create the declared topics on the target with the SOURCE's partition counts.

    The registry gives names and configs; the partition count is read from the source (it is
    the registry's unless someone added partitions), so partition N maps to partition N.
    Returns the topic names to mirror (declared topics that exist on the source).
    """
    src_admin = AdminClient(admin_config(source, SERVICE))
    dst_admin = AdminClient(admin_config(target, SERVICE))
    try:
        src_meta = src_admin.list_topics(timeout=timeout).topics
        dst_meta = dst_admin.list_topics(timeout=timeout).topics
    except KafkaException as exc:
        raise BrokerError(f"mirror: cannot reach a cluster: {exc}",
                          hint="are both brokers up? `vitrina broker status [--mirror]`") from None
    specs: list[TopicSpec] = [s for s in declared_topics(source) if s.name in src_meta]
    missing = [s for s in declared_topics(source) if s.name not in src_meta]
    if missing:
        log.warning("mirror: not on the source yet (run `vitrina topics apply`): %s",
                    ", ".join(s.name for s in missing))
    new = [NewTopic(s.name, len(src_meta[s.name].partitions), target.kafka.replication_factor,
                    config=s.configs) for s in specs if s.name not in dst_meta]
    for name, fut in (dst_admin.create_topics(new, request_timeout=timeout).items()
                      if new else []):
        try:
            fut.result()
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise BrokerError(f"mirror: cannot create {name} on the target: {exc}") from None
    for s in specs:
        have = dst_meta.get(s.name)
        if have is not None and len(have.partitions) != len(src_meta[s.name].partitions):
            raise BrokerError(
                f"mirror: {s.name} has {len(have.partitions)} partitions on the target but "
                f"{len(src_meta[s.name].partitions)} on the source",
                hint="partition numbers must match: recreate the topic on the target")
    return [s.name for s in specs]


class Mirror:
    """Copies batches from the source consumer group to the target producer."""

    def __init__(self, source: Settings, target: Settings, *, group_id: str = GROUP_ID,
                 metrics_port: int | None = None) -> None:
        self.source = source
        self.target = target
        self.group_id = group_id
        self.stop_event = threading.Event()
        self.topics = ensure_target_topics(source, target)
        self.delivery_error: KafkaError | None = None
        self.producer = Producer(producer_config(target, SERVICE, on_delivery=self._on_delivery))
        self.consumer = Consumer(consumer_config(source, SERVICE, group_id))
        self._pending: dict[tuple[str, int], int] = {}
        if metrics_port:
            metrics.serve_metrics(source, metrics_port)

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self.delivery_error = self.delivery_error or err
        else:
            metrics.PRODUCED.labels(SERVICE, msg.topic()).inc()

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.commit()

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Mirror until stop() (or `until()`); commit what was flushed on the way out."""
        if not self.topics:
            raise BrokerError("mirror: none of the declared topics exists on the source",
                              hint="run `vitrina topics apply` first")
        self.consumer.subscribe(self.topics, on_revoke=self._on_revoke)
        batch = self.source.worker.batch_size
        try:
            while not self.stop_event.is_set() and not (until and until()):
                messages = self.consumer.consume(batch, self.source.worker.poll_timeout_s)
                if messages:
                    self.replicate(messages)
                    self.commit()
            self.commit()
        finally:
            self.consumer.close()

    def stop(self) -> None:
        self.stop_event.set()

    def replicate(self, messages: list[Message]) -> None:
        for msg in messages:
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                if err.fatal() or err.code() in (KafkaError.TOPIC_AUTHORIZATION_FAILED,
                                                 KafkaError.GROUP_AUTHORIZATION_FAILED):
                    raise BrokerError(f"mirror: consumer error: {err}",
                                      hint="check the mirror principal's ACLs (`vitrina acl plan`)")
                log.warning("mirror: consumer: %s", err)
                continue
            topic, partition, offset = str(msg.topic()), int(msg.partition() or 0), msg.offset()
            assert offset is not None  # a record without error always has an offset
            metrics.CONSUMED.labels(SERVICE, topic).inc()
            kwargs: dict[str, Any] = {"key": msg.key(), "value": msg.value(),
                                      "partition": partition, "headers": copy_headers(msg)}
            ts_type, ts = msg.timestamp()
            if ts_type != _NO_TIMESTAMP:
                kwargs["timestamp"] = ts
            while True:
                try:
                    self.producer.produce(topic, **kwargs)
                    break
                except BufferError:
                    self.producer.poll(0.1)
            self._pending[(topic, partition)] = offset + 1

    def commit(self) -> None:
        """Flush the target producer; only then commit the source offsets."""
        if not self._pending:
            return
        while self.producer.flush(1.0) > 0 and self.delivery_error is None:
            pass
        if self.delivery_error is not None:
            raise BrokerError(f"mirror: a record was not delivered to the target: "
                              f"{self.delivery_error}; source offsets not committed",
                              hint="the next start resumes from the last commit")
        offsets = [TopicPartition(t, p, o) for (t, p), o in self._pending.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # Lost the partitions in a rebalance: their next owner replays from the last
            # commit, and the source-offset header makes that replay detectable.
            log.warning("mirror: commit failed: %s", exc)
        else:
            metrics.LAST_COMMIT.labels(SERVICE).set(time.time())
        self._pending.clear()


def main(settings: Settings, target_bootstrap: str | None = None) -> None:
    """Run the mirror until SIGTERM/SIGINT."""
    mirror = Mirror(settings, target_settings(settings, target_bootstrap),
                    metrics_port=settings.ports.mirror)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: mirror.stop())
    log.info("mirror: %s → %s, %d topics", settings.kafka.bootstrap_servers,
             mirror.target.kafka.bootstrap_servers, len(mirror.topics))
    mirror.run()
