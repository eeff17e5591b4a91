"""The embedded mirror: replicate every declared topic to a second cluster.

For local development (production uses MirrorMaker 2 with the identity replication policy).
Topic names, partition numbers, keys, values (tombstones included), headers and timestamps are
kept. It is the shared worker loop (kafka/worker.StreamWorker) with a one-line step: each
batch is produced, the target producer flushed, and only then are the source offsets
committed (consumer group on the SOURCE cluster): a restart resumes from the last commit, so
nothing is skipped. What a crash replays is detectable: every copy carries the
source offset in the `vitrina-mirror-offset` header, and a reader that folds by
(partition, source offset) sees each record exactly once, in source order.
"""

from __future__ import annotations

import logging

from confluent_kafka import KafkaException, Message
from confluent_kafka.admin import AdminClient, NewTopic

from vitrina.errors import BrokerError
from vitrina.kafka.clients import admin_config
from vitrina.kafka.deadletter import Output
from vitrina.kafka.steps import Step
from vitrina.kafka.worker import StreamWorker
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
    return settings.model_copy(
        update={"kafka": settings.kafka.model_copy(update={"bootstrap_servers": bootstrap})}
    )


def copy_headers(msg: Message) -> list[tuple[str, bytes]]:
    """The source headers plus the source offset (partition and topic are kept as-is)."""
    headers: list[tuple[str, bytes]] = [  # type: ignore[str-unpack]
        (k, v if isinstance(v, bytes) else (v or "").encode()) for k, v in (msg.headers() or [])
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
        raise BrokerError(
            f"mirror: cannot reach a cluster: {exc}",
            hint="are both brokers up? `vitrina broker status [--mirror]`",
        ) from None
    specs: list[TopicSpec] = [s for s in declared_topics(source) if s.name in src_meta]
    missing = [s for s in declared_topics(source) if s.name not in src_meta]
    if missing:
        log.warning(
            "mirror: not on the source yet (run `vitrina topics apply`): %s",
            ", ".join(s.name for s in missing),
        )
    new = [
        NewTopic(
            s.name,
            len(src_meta[s.name].partitions),
            target.kafka.replication_factor,
            config=s.configs,
        )
        for s in specs
        if s.name not in dst_meta
    ]
    for name, fut in dst_admin.create_topics(new, request_timeout=timeout).items() if new else []:
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
                hint="partition numbers must match: recreate the topic on the target",
            )
    return [s.name for s in specs]


class MirrorStep(Step):
    """A record of the source → the same record for the target: topic, partition, key,
    value (tombstones too), headers plus the source offset, timestamp."""

    service = SERVICE

    def process(self, message: Message) -> list[Output]:
        ts_type, ts = message.timestamp()
        return [
            Output(
                str(message.topic()),
                message.key(),
                message.value(),
                headers=copy_headers(message),
                partition=message.partition(),
                timestamp_ms=None if ts_type == _NO_TIMESTAMP else ts,
            )
        ]


def build(
    source: Settings,
    target: Settings,
    *,
    group_id: str = GROUP_ID,
    metrics_port: int | None = None,
    step: Step | None = None,
) -> StreamWorker:
    """The mirror as a StreamWorker: consume the source group, produce to the target, commit
    the source offsets once the target acknowledged every copy (no transactions: the offsets
    live on another cluster than the outputs)."""
    topics = ensure_target_topics(source, target)
    if not topics:
        raise BrokerError(
            "mirror: none of the declared topics exists on the source",
            hint="run `vitrina topics apply` first",
        )
    return StreamWorker(
        source,
        step or MirrorStep(),
        topics,
        group_id=group_id,
        principal=SERVICE,
        output_settings=target,
        transactions=False,
        metrics_port=metrics_port,
    )


def main(settings: Settings, target_bootstrap: str | None = None) -> None:
    """Run the mirror until SIGTERM/SIGINT."""
    target = target_settings(settings, target_bootstrap)
    worker = build(settings, target, metrics_port=settings.ports.mirror)
    worker.install_signal_handlers()
    log.info(
        "mirror: %s → %s, %d topics",
        settings.kafka.bootstrap_servers,
        target.kafka.bootstrap_servers,
        len(worker.topics),
    )
    worker.run()
