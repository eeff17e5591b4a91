"""The one way to hand a record to a producer: wait while its queue is full, refuse what is too big.

librdkafka raises BufferError when its local queue is full: the right answer is to serve
delivery reports (`poll`) and try again — backpressure, not failure, as long as the cluster
makes progress: a queue still full after QUEUE_FULL_WAIT_S is a BrokerError, loudly, never an
endless wait. A record larger than
`message.max.bytes` can never be sent: that is a property of the record (RecordTooLarge, a
ContractError), so a worker dead-letters the input instead of crash-looping on it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from vitrina import metrics
from vitrina.errors import BrokerError, ContractError
from vitrina.kafka.clients import producer_config

if TYPE_CHECKING:
    from vitrina.kafka.deadletter import Output
    from vitrina.settings import Settings

# librdkafka's and Apache Kafka's default message.max.bytes; producer_config sets it explicitly
# so that this check and the client agree.
MAX_MESSAGE_BYTES = 1_000_000
# Key, headers and the record batch framing also count towards the limit.
_OVERHEAD_BYTES = 4096
# 130 s: twice librdkafka's message.timeout.ms (60 s, producer_config) plus slack. By then
# every record that filled the queue was delivered or failed and its space was freed; a
# queue still full is a producer that makes no progress, and waiting longer cannot help.
QUEUE_FULL_WAIT_S = 130.0


class RecordTooLarge(ContractError):
    """A record larger than the producer's message.max.bytes."""

    def __init__(self, topic: str, size: int, limit: int = MAX_MESSAGE_BYTES) -> None:
        super().__init__(
            f"record of {size:,} bytes for {topic} exceeds the {limit:,}-byte limit",
            field="(root)",
            rule="maxBytes",
            hint="split or shrink the record; the broker refuses bigger records",
        )


def fits(key: bytes | str | None, value: bytes | None, limit: int = MAX_MESSAGE_BYTES) -> bool:
    """True when a record of this key and value can be produced (a cheap pre-check)."""
    return len(value or b"") + len(key or b"") + _OVERHEAD_BYTES <= limit


def produce(
    producer: Producer,
    topic: str,
    value: bytes | None,
    key: bytes | str | None = None,
    *,
    wait_s: float = QUEUE_FULL_WAIT_S,
    **kwargs: Any,
) -> None:
    """Produce one record, waiting (serving delivery reports) while the local queue is full.

    `kwargs` are confluent-kafka's: headers, partition, timestamp, on_delivery.
    Raises RecordTooLarge when the client refuses the record for its size, and BrokerError
    when the queue stays full for `wait_s` seconds (the cluster acknowledges nothing).
    """
    deadline: float | None = None
    while True:
        try:
            producer.produce(topic, value, key, **kwargs)
            return
        except BufferError:
            now = time.monotonic()
            if deadline is None:
                deadline = now + wait_s
            elif now >= deadline:
                raise BrokerError(
                    f"the producer's local queue stayed full for {wait_s:.0f} s while writing "
                    f"to {topic}: the cluster acknowledged no write in that time",
                    hint="are enough brokers up? acks=all waits for min.insync.replicas "
                    "in-sync replicas: `vitrina broker status`; the write is safe to retry",
                ) from None
            producer.poll(0.1)
        except KafkaException as exc:
            if exc.args and exc.args[0].code() == KafkaError.MSG_SIZE_TOO_LARGE:
                raise RecordTooLarge(topic, len(value or b"") + len(key or b"")) from None
            raise


class DeliveryTracker:
    """Producer delivery callback: remembers the first failure so the worker can crash."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.error: KafkaError | None = None

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None and self.error is None:
            self.error = err
        elif err is None:
            metrics.PRODUCED.labels(self.service, msg.topic()).inc()


def make_producer(
    settings: Settings,
    principal: str,
    tracker: DeliveryTracker | None = None,
    transactional_id: str | None = None,
    **extra: Any,
) -> Producer:
    conf = producer_config(settings, principal, transactional_id=transactional_id, **extra)
    if tracker is not None:
        conf["on_delivery"] = tracker
    return Producer(conf)


def produce_output(producer: Producer, out: Output) -> None:
    """Produce one Output, waiting (not failing) while the local queue is full."""
    kwargs: dict[str, Any] = {}
    if out.headers:
        kwargs["headers"] = out.headers
    if out.partition is not None:
        kwargs["partition"] = out.partition
    if out.timestamp_ms is not None:
        kwargs["timestamp"] = out.timestamp_ms
    produce(producer, out.topic, out.value, out.key, **kwargs)
