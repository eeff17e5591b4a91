"""Read-only views of topics: record counts and latest records, read to the true end.

The end of a partition is detected with partition-EOF events, not the high watermark: the
embedded broker's watermark can be wrong, and EOF is correct on both brokers.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from vitrina.errors import BrokerError
from vitrina.kafka.clients import consumer_config
from vitrina.kafka.offsets import TRANSIENT, _waiting_out, commit_offsets, committed_offsets
from vitrina.settings import Settings

log = logging.getLogger(__name__)


def consume_ready(consumer: Consumer, size: int, timeout: float) -> list[Message]:
    """What is waiting, up to `size`; waits up to `timeout` only while nothing is.

    librdkafka's `consume(n, t)` returns early only once n messages are there: at low traffic
    every hop of the pipeline waited the whole poll timeout (0.2 s) for each record.
    """
    messages = consumer.consume(size, 0)
    if messages or timeout <= 0:
        return messages
    first = consumer.poll(timeout)
    if first is None:
        return []
    return [first, *consumer.consume(size - 1, 0)] if size > 1 else [first]


# For a reader that stops at the end. A partition's end is found by a fetch that comes back
# empty, which the broker holds for fetch.wait.max.ms (500 ms by default): half of every
# `unban`'s second. A follower keeps the default: an idle one would ask 100 times a second.
TO_THE_END: dict[str, Any] = {"fetch.wait.max.ms": 10}


class TopicFollower:
    """Reads partitions from their beginning to their true end, then follows new records.

    The one reader of state kept in topics (the ban list, the client API's view, `dlq`,
    `topics` inspection): assign() from the beginning, no consumer group membership (every
    reader needs every partition); the end is each partition's EOF event, never the high
    watermark. A partition given with an offset >= 0 is read from there (a tail view).
    `group_id` only names where `commit` keeps a reader's own bookmark.
    """

    def __init__(
        self,
        settings: Settings,
        partitions: list[TopicPartition],
        *,
        principal: str | None = "admin",
        group_id: str | None = None,
        **extra: Any,
    ) -> None:
        self.partitions = [TopicPartition(tp.topic, tp.partition) for tp in partitions]
        self.service = principal or "reader"
        self.consumer = Consumer(
            consumer_config(
                settings,
                principal,
                group_id or f"vitrina-{principal}-reader-{uuid.uuid4().hex[:8]}",
                **{"enable.partition.eof": True, **extra},
            )
        )
        # The partitions' leaders known before the assignment: assigned first, each
        # partition found no leader yet and librdkafka retried its offset query only after
        # a fixed 500 ms (half of every ~1 s `ban unban`, ban list load and state rebuild).
        for topic in {tp.topic for tp in partitions}:
            with contextlib.suppress(KafkaException):  # only sooner, never needed
                self.consumer.list_topics(topic, timeout=10)
        # From a partition's given offset, else OFFSET_BEGINNING (-2): the earliest record.
        self.consumer.assign(
            [
                TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else -2)
                for tp in partitions
            ]
        )
        self._not_at_end = {(tp.topic, tp.partition) for tp in self.partitions}

    @property
    def at_end(self) -> bool:
        """Every partition reached its end at least once."""
        return not self._not_at_end

    def poll(
        self, max_records: int = 1000, timeout: float = 0.0, *, strict: bool = True
    ) -> list[Message]:
        """Records available now (EOF events noted, not returned).

        Client errors raise BrokerError; with `strict=False` (a long-lived follower) only
        fatal ones do, and transient ones are logged — the client reconnects by itself.
        """
        records = []
        for msg in consume_ready(self.consumer, max_records, timeout):
            err = msg.error()
            if err is None:
                records.append(msg)
            elif err.code() == KafkaError._PARTITION_EOF:
                self._not_at_end.discard((msg.topic(), msg.partition()))
            elif strict or err.fatal():
                raise BrokerError(
                    f"reading {msg.topic()}: {err}",
                    hint="is the broker running? `vitrina broker status`",
                )
            else:
                log.warning("reading %s: %s", msg.topic(), err)
        return records

    def read_to_end(self, timeout: float = 60.0) -> Iterator[Message]:
        """Yield records until every partition has reported its end.

        `timeout` bounds a stall, not the whole read: BrokerError once `timeout` seconds pass
        with neither a record nor a partition's end. A long topic read at any steady pace
        finishes (a total deadline made the filter's state rebuild fail at every start once
        its topics held more than ~6M products)."""
        deadline = time.monotonic() + timeout
        while self._not_at_end:
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"reading {sorted(self._not_at_end)}: no record and no end for {timeout:.0f} s",
                    hint="the broker may be overloaded",
                )
            left = len(self._not_at_end)
            records = self.poll(1000, 0.2)
            yield from records
            if records or len(self._not_at_end) < left:  # (the caller's time is not a stall)
                deadline = time.monotonic() + timeout

    def committed(self) -> dict[tuple[str, int], int]:
        """This reader's bookmark per partition (-1 when none) under its `group_id`."""
        return {
            (tp.topic, tp.partition): tp.offset
            for tp in committed_offsets(self.consumer, self.partitions, service=self.service)
        }

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        commit_offsets(
            self.consumer,
            [TopicPartition(t, p, o) for (t, p), o in offsets.items()],
            service=self.service,
        )

    def close(self) -> None:
        self.consumer.close()


def read_partitions_to_end(
    settings: Settings,
    partitions: list[TopicPartition],
    *,
    principal: str | None = "admin",
    timeout: float = 60.0,
) -> Iterator[Message]:
    """Yield every record of the given partitions, from the beginning to each one's EOF."""
    if not partitions:
        return
    follower = TopicFollower(settings, partitions, principal=principal, **TO_THE_END)
    try:
        yield from follower.read_to_end(timeout)
    finally:
        follower.close()


def topic_partitions(
    settings: Settings, topic: str, principal: str | None = "admin", timeout: float = 10.0
) -> list[TopicPartition]:
    """Every partition of `topic`; a clear error if it is missing or not visible (ACLs)."""
    from confluent_kafka.admin import AdminClient

    from vitrina.kafka.clients import admin_config, identity
    from vitrina.kafka.errors import check_topic, fetch_metadata

    ident = identity(settings, principal)
    meta = fetch_metadata(AdminClient(admin_config(settings, principal)), ident, topic, timeout)
    check_topic(ident, topic, meta)
    return [TopicPartition(topic, p) for p in sorted(meta.topics[topic].partitions)]


def read_to_end(
    settings: Settings, topics: list[str], timeout: float = 30.0, principal: str | None = "admin"
) -> Iterator[Message]:
    """Yield every record of `topics` (those that exist) from the beginning to each EOF."""
    from confluent_kafka.admin import AdminClient

    from vitrina.kafka.clients import admin_config, identity
    from vitrina.kafka.errors import fetch_metadata

    metadata = fetch_metadata(
        AdminClient(admin_config(settings, principal)), identity(settings, principal), timeout=10
    )
    partitions = [
        TopicPartition(topic, p)
        for topic in topics
        if (meta := metadata.topics.get(topic)) is not None and meta.error is None
        for p in sorted(meta.partitions)
    ]
    yield from read_partitions_to_end(settings, partitions, principal=principal, timeout=timeout)


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


def group_members(
    settings: Settings,
    group_id: str,
    principal: str,
    timeout: float = 10.0,
    *,
    wait_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    who: str = "",
) -> list[str]:
    """Who is in the group now ("client_id@host"); [] for a group without members (or
    none at all).

    Asked before work that must not run beside the group's members (`index rebuild`, `lake
    compact`): a transient error is asked again for up to `wait_s`, and a broker that still
    cannot say is BrokerError ("cannot tell whether {who} runs") — the command stops
    instead of guessing "nobody".
    """
    from confluent_kafka.admin import AdminClient

    from vitrina.kafka.clients import admin_config
    from vitrina.kafka.lifecycle import release

    box: list[Any] = [AdminClient(admin_config(settings, principal))]

    def ask(_deadline: float) -> list[str]:
        future = box[0].describe_consumer_groups([group_id], request_timeout=timeout)[group_id]
        try:
            description = future.result()
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError.GROUP_ID_NOT_FOUND:
                return []  # a group never joined (DescribeGroups v6 says so, older ones "Dead")
            raise
        return [f"{m.client_id}@{m.host}" for m in description.members]

    try:
        return _waiting_out(
            ask,
            TRANSIENT,
            f"the members of group {group_id}",
            "check the principal's ACLs (DESCRIBE on the group)",
            service=principal,
            timeout_s=wait_s,
            sleep=sleep,
            clock=time.monotonic,
        )
    except BrokerError as exc:
        if not who:
            raise
        raise BrokerError(f"cannot tell whether {who} runs: {exc.message}", hint=exc.hint) from None
    finally:
        release(box, f"{principal}: admin client")


class TopicMissing(BrokerError):
    """The topic asked about does not exist (not worth asking again)."""


class TopicRecreated(BrokerError):
    """A topic a worker reads was deleted and created again while it ran. Its consumer is
    not told (librdkafka does not follow topic ids: it reads the new topic on from the old
    positions, or from its start when those are out of range, with no rebalance), so the
    worker rewinds: what it read since its last commit is dropped, and the new topic is
    read from its start. Not from its committed offsets: the group coordinator deletes the
    old topic's asynchronously, and a rewind that came first read them (seen in CI: the
    lake sink wrote the new topic's partitions from offsets 14 and 15, the indexer indexed
    113 of 140 products)."""

    def __init__(self, message: str, *, topic: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.topic = topic


def topic_incarnation(
    settings: Settings,
    topic: str,
    principal: str | None = "admin",
    timeout: float = 10.0,
    *,
    wait_s: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """A short, stable name of this *incarnation* of `topic`: hash of cluster id + topic id.

    A broker that lost its data, or a topic deleted and created again, starts its offsets
    at 0 again under a new topic id: whatever is named by offsets (lake files) must say
    which incarnation the offsets belong to. A transient error (a broker not reached, a
    request timed out) is asked again for up to `wait_s`: the lake sink asks at every
    assignment, and one refused connection right after it was frozen made it exit (a
    cluster test). Raises BrokerError when the broker gives no id, or at once when the
    topic does not exist.
    """
    from confluent_kafka.admin import AdminClient

    from vitrina.kafka.clients import admin_config

    admin = AdminClient(admin_config(settings, principal))

    def ask(_deadline: float) -> tuple[str, str]:
        cluster_id = admin.list_topics(topic, timeout=timeout).cluster_id or ""
        topic_id = topic_ids(admin, [topic], timeout)[topic]
        if topic_id is None:
            # Not a KafkaException (librdkafka calls it retriable): _waiting_out passes it on.
            raise TopicMissing(
                f"cannot describe topic {topic}: it does not exist",
                hint="is the topic created? `vitrina topics apply`",
            )
        return cluster_id, topic_id

    try:
        cluster_id, topic_id = _waiting_out(
            ask,
            TRANSIENT,
            f"topic {topic}'s id",
            "check the principal's ACLs (DESCRIBE on the topic)",
            service=principal or "vitrina",
            timeout_s=wait_s,
            sleep=sleep,
            clock=time.monotonic,
        )
    except TopicMissing:
        raise
    except BrokerError as exc:
        raise BrokerError(
            f"cannot describe topic {topic}: {exc.message}",
            hint="is the broker up and the topic created? `vitrina topics apply`",
        ) from None
    if not has_id(topic_id):
        raise BrokerError(
            f"the broker gives topic {topic} no topic id",
            hint="use a broker with topic ids (Apache Kafka ≥ 2.8, Tansu)",
        )
    return incarnation_of(cluster_id, topic_id)


def has_id(topic_id: str | None) -> bool:
    """False for no topic id, or the all-zero (unset) id a broker without ids gives."""
    return bool(topic_id) and not set(topic_id or "") <= {"A", "0", "=", "-"}


def incarnation_of(cluster_id: str, topic_id: str) -> str:
    """The incarnation name of a topic id on a cluster (see topic_incarnation)."""
    import hashlib

    return hashlib.sha256(f"{cluster_id}/{topic_id}".encode()).hexdigest()[:10]


def topic_ids(admin: Any, topics: list[str], timeout: float = 10.0) -> dict[str, str | None]:
    """Each topic's id now, in one request (None: the topic does not exist). Errors other
    than a missing topic are raised (KafkaException)."""
    from confluent_kafka import TopicCollection

    futures = admin.describe_topics(TopicCollection(topics), request_timeout=timeout)
    ids: dict[str, str | None] = {}
    for topic, future in futures.items():
        try:
            ids[topic] = str(future.result().topic_id or "")
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise
            ids[topic] = None
    return ids
