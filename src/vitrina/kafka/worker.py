"""The stream-worker loop every service shares: decode → validate → transform → write → commit.

Offsets are committed only after outputs are durable (producer flushed, or the sink's files /
index committed); on Apache Kafka with `kafka.transactions` the outputs and the offsets are
committed in one transaction. Invalid input goes to `dead-letters`; transient broker trouble
is retried by the client; anything else crashes the worker and the supervisor restarts it.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from vitrina import metrics
from vitrina.errors import BrokerError, ContractError
from vitrina.kafka.clients import consumer_config, producer_config
from vitrina.kafka.deadletter import HEADER_REPLAYS, FloodGuard, Output, dead_letter
from vitrina.kafka.errors import init_transactions
from vitrina.settings import Settings

log = logging.getLogger(__name__)


class Step:
    """One service's logic. Subclasses override `process`; sinks also `flush`/`durable`."""

    service = "worker"
    produces = True  # False for sinks that write files or an index, not Kafka records

    def process(self, message: Message) -> list[Output]:
        raise NotImplementedError

    def before_batch(self) -> None:
        """Hook run before each poll (e.g. the filter folds new bans here)."""

    def on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Partitions were assigned (e.g. a sink removes crash leftovers past the commit)."""

    def on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Partitions were revoked, after their offsets were committed (drop their state)."""

    def flush_if_due(self, now: float) -> None:
        """Sinks flush buffered writes when a size or time threshold is reached."""

    def flush(self) -> None:
        """Make every processed input durable (called before a forced commit)."""

    def durable(self) -> bool:
        """True when everything processed so far is durable and its offsets may commit."""
        return True

    def close(self) -> None:
        """Release resources when the worker stops."""


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


def make_producer(settings: Settings, principal: str, tracker: DeliveryTracker | None = None,
                  transactional_id: str | None = None, **extra: Any) -> Producer:
    conf = producer_config(settings, principal, transactional_id=transactional_id, **extra)
    if tracker is not None:
        conf["on_delivery"] = tracker
    return Producer(conf)


def produce_output(producer: Producer, out: Output) -> None:
    """Produce one Output, waiting (not failing) while the local queue is full."""
    kwargs: dict[str, Any] = {"key": out.key, "value": out.value}
    if out.headers:
        kwargs["headers"] = out.headers
    if out.partition is not None:
        kwargs["partition"] = out.partition
    if out.timestamp_ms is not None:
        kwargs["timestamp"] = out.timestamp_ms
    while True:
        try:
            producer.produce(out.topic, **kwargs)
            return
        except BufferError:
            producer.poll(0.1)


class StreamWorker:
    """Runs one Step over a consumer group until stopped."""

    def __init__(self, settings: Settings, step: Step, topics: list[str], *, group_id: str,
                 principal: str | None = None, instance_id: str | None = None,
                 metrics_port: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.step = step
        self.service = step.service
        self.topics = topics
        self.group_id = group_id
        self.clock = clock
        self.stop_event = threading.Event()
        self.flood = FloodGuard(settings.worker.dlq_window, settings.worker.dlq_flood_ratio)
        self._pending: dict[tuple[str, int], int] = {}
        self._tracker = DeliveryTracker(self.service)
        self._transactional = settings.kafka.transactions and step.produces
        self._in_transaction = False
        self._last_lag = 0.0
        self._last_commit = clock()
        # Label children cached per topic: `.labels()` costs a lock and a dict lookup,
        # which shows at tens of thousands of messages per second.
        self._consumed: dict[str, Any] = {}
        self._produced: dict[str, Any] = {}
        self._end_to_end = metrics.END_TO_END.labels(self.service)
        principal = principal or self.service
        instance = instance_id or f"{socket.gethostname()}-{os.getpid()}"
        # Delivery reports for failures only: a Python callback per delivered record costs
        # more than the filter's whole decision; successes are counted when produced, and
        # flush() still waits for every acknowledgement before a commit.
        self.producer = make_producer(
            settings, principal, self._tracker,
            transactional_id=f"{group_id}-{instance}" if self._transactional else None,
            **{"delivery.report.only.error": True})
        self.consumer = Consumer(consumer_config(
            settings, principal, group_id,
            error_cb=self._on_client_error, stats_cb=self._on_stats,
            **{"statistics.interval.ms": 5000}))
        if self._transactional:
            # In steps: a refused login ends it at once, not after 30 s (kafka/errors.py).
            init_transactions(self.producer, 30)
        if metrics_port:
            metrics.serve_metrics(settings, metrics_port)

    # -- client callbacks --------------------------------------------------------------
    def _on_client_error(self, err: KafkaError) -> None:
        if err.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT):
            metrics.BROKER_UP.labels(self.service).set(0)
        # Not logged here: the client's ErrorWatch (kafka/clients.py) says a broker is away
        # once a minute instead of ~12 lines a second, and raises a refused login or an
        # untrusted CA out of consume(), which stops the worker with that message.

    def _on_stats(self, stats_json: str) -> None:
        stats = orjson.loads(stats_json)
        up = any(b.get("state") == "UP" for b in stats.get("brokers", {}).values()
                 if b.get("nodeid", -1) >= 0)
        metrics.BROKER_UP.labels(self.service).set(1 if up else 0)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.commit(force=True)
        self.step.on_revoke(consumer, partitions)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.step.on_assign(consumer, partitions)

    # -- the loop -----------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop_event.set())

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Process until stop() or `until()` is true; commit what is durable on the way out."""
        self.consumer.subscribe(self.topics, on_assign=self._on_assign,
                                on_revoke=self._on_revoke)
        batch_size = self.settings.worker.batch_size
        timeout = self.settings.worker.poll_timeout_s
        try:
            while not self.stop_event.is_set() and not (until and until()):
                self.step.before_batch()
                messages = self.consumer.consume(batch_size, timeout)
                if messages:
                    self._process_batch(messages)
                self.step.flush_if_due(self.clock())
                self.commit()
                self._report_lag()
            self.commit(force=True)
        finally:
            self.step.close()
            self.consumer.close()

    def stop(self) -> None:
        self.stop_event.set()

    def write(self, outputs: list[Output], *, durable: bool = False) -> None:
        """Write records that no input offset guards (e.g. the filter's retractions).

        Inside the open transaction when transactions are on; otherwise `durable=True` waits
        until the broker has them (raising BrokerError if one was refused).
        """
        if not outputs:
            return
        if self._transactional and not self._in_transaction:
            self.producer.begin_transaction()
            self._in_transaction = True
        produced: dict[str, int] = {}
        for out in outputs:
            produce_output(self.producer, out)
            produced[out.topic] = produced.get(out.topic, 0) + 1
        self._count({}, produced)
        if durable and not self._transactional:
            self._flush_outputs()

    def _process_batch(self, messages: list[Message]) -> None:
        started = time.perf_counter()
        now_ms = time.time() * 1000
        if self._transactional and not self._in_transaction:
            self.producer.begin_transaction()
            self._in_transaction = True
        real = 0
        consumed: dict[str, int] = {}
        produced: dict[str, int] = {}
        # The batch's first record stands for its oldest (records arrive in offset order).
        ts_type, oldest_ms = messages[0].timestamp()
        if ts_type == 0 or oldest_ms <= 0:
            oldest_ms = 0
        for msg in messages:
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                if err.fatal() or err.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART,
                                                 KafkaError.TOPIC_AUTHORIZATION_FAILED,
                                                 KafkaError.GROUP_AUTHORIZATION_FAILED):
                    raise BrokerError(f"{self.service}: consumer error: {err}")
                log.warning("%s: consumer: %s", self.service, err)
                continue
            real += 1
            # A record without an error always has a topic, partition and offset.
            topic, partition, offset = msg.topic() or "", msg.partition() or 0, msg.offset() or 0
            consumed[topic] = consumed.get(topic, 0) + 1
            try:
                outputs = self.step.process(msg)
                self.flood.record(False)
            except ContractError as exc:
                metrics.REJECTED.labels(self.service, exc.rule or "invalid").inc()
                metrics.DEAD_LETTERED.labels(self.service, topic).inc()
                # A replayed record that fails again keeps its replay_count (see `dlq replay`).
                replays = [(str(h[0]), h[1]) for h in (msg.headers() or [])
                           if h[0] == HEADER_REPLAYS and isinstance(h[1], bytes)]
                outputs = [dead_letter(self.settings.topics.dead_letters, service=self.service,
                                       error=str(exc), key=msg.key(), value=msg.value(),
                                       source_topic=topic, partition=partition, offset=offset,
                                       extra_headers=replays)]
                self.flood.record(True)
            for out in outputs:
                produce_output(self.producer, out)
                produced[out.topic] = produced.get(out.topic, 0) + 1
            self._pending[(topic, partition)] = offset + 1
        # Serve delivery callbacks once per batch, not per message.
        self.producer.poll(0)
        self._count(consumed, produced)
        if oldest_ms:
            # Once per batch, for its oldest record (the batch's worst case): a histogram
            # observation per record costs more than the filter's decision.
            self._end_to_end.observe(max(0.0, now_ms - oldest_ms) / 1000)
        if real:
            metrics.BATCH_SIZE.labels(self.service).observe(real)
            metrics.PROCESSING.labels(self.service).observe(time.perf_counter() - started)

    def _count(self, consumed: dict[str, int], produced: dict[str, int]) -> None:
        for counts, cache, metric in ((consumed, self._consumed, metrics.CONSUMED),
                                      (produced, self._produced, metrics.PRODUCED)):
            for topic, n in counts.items():
                child = cache.get(topic)
                if child is None:
                    child = cache[topic] = metric.labels(self.service, topic)
                child.inc(n)

    def commit(self, force: bool = False) -> None:
        """Commit consumed offsets once their outputs are durable.

        Unless forced, at most once per `worker.commit_interval_s`: each commit waits for
        every output to be acknowledged, which per batch would cap throughput.
        """
        if force:
            self.step.flush()
        elif self.clock() - self._last_commit < self.settings.worker.commit_interval_s:
            return
        if not self._pending or not self.step.durable():
            if self._in_transaction and not self._pending:
                self.producer.commit_transaction(30)
                self._in_transaction = False
            # Not durable yet (a sink still buffering): try again on the next loop, right
            # after its flush, instead of waiting out another interval.
            return
        self._last_commit = self.clock()
        offsets = [TopicPartition(t, p, o) for (t, p), o in self._pending.items()]
        if self._transactional:
            self.producer.send_offsets_to_transaction(
                offsets, self.consumer.consumer_group_metadata(), 30)
            self.producer.commit_transaction(30)
            self._in_transaction = False
        else:
            self._flush_outputs()
            try:
                self.consumer.commit(offsets=offsets, asynchronous=False)
            except KafkaException as exc:
                if exc.args[0].code() == KafkaError._NO_OFFSET:
                    return
                # Rebalance in progress: the next owner replays from the last commit;
                # our keyed outputs make that replay harmless.
                log.warning("%s: commit failed: %s", self.service, exc)
                self._pending.clear()
                return
        metrics.LAST_COMMIT.labels(self.service).set(time.time())
        self._pending.clear()

    def _flush_outputs(self) -> None:
        """Wait until every produced record is acknowledged; crash if one was refused."""
        while self.producer.flush(1.0) > 0:
            if self._tracker.error is not None:
                break
        if self._tracker.error is not None:
            raise BrokerError(f"{self.service}: an output was not delivered: "
                              f"{self._tracker.error}; offsets not committed")

    def _report_lag(self) -> None:
        now = self.clock()
        if now - self._last_lag < 5.0:
            return
        self._last_lag = now
        try:
            assignment = self.consumer.assignment()
            for tp in self.consumer.position(assignment):
                _, high = self.consumer.get_watermark_offsets(tp, cached=True) or (0, 0)
                if high is None or high < 0 or tp.offset < 0:
                    continue
                # The embedded broker can report a high watermark below the position:
                # clamp at 0 rather than show negative lag.
                metrics.LAG.labels(self.service, tp.topic, str(tp.partition)).set(
                    max(0, high - tp.offset))
        except KafkaException as exc:
            log.debug("lag: %s", exc)
