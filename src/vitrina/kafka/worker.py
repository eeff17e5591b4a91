"""The stream-worker loop every service shares: decode → validate → transform → write → commit.

One loop, assembled per service from the parts in kafka/steps.py: a Step (decode, validate,
transform / route), optionally a Sink (files, an index) and a SideInput (the filter's ban
list). Offsets are committed only after outputs are durable (producer flushed, or the sink's
files / index committed); on Apache Kafka with `kafka.transactions` outputs and offsets
commit in one transaction. Failures are typed:
- invalid record (ContractError, incl. RecordTooLarge) → `dead-letters` with the reason, once
  per (topic, partition, offset); a flood per partition (DeadLetterPolicy) dead-letters the
  record that trips it, commits, and stops the worker loudly;
- transient (UnavailableError from a sink) → consumption paused, the write retried with
  backoff; never dead-lettered;
- refused for good by a sink's backend (e.g. the indexer's RejectedDocuments) → the sink's
  `take_dead_letters()`, produced before the offsets commit; the rest of the batch is written;
- a transactional producer that failed for good (a fatal error) → replaced, and the worker
  reads again from its committed offsets (a few in a row without a commit stop it);
- anything else → the worker crashes and commits nothing more; the supervisor restarts it.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn

import orjson
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from vitrina import metrics
from vitrina.errors import BrokerError, ContractError, UnavailableError
from vitrina.kafka.clients import consumer_config
from vitrina.kafka.deadletter import (
    REPLAY_HEADERS,
    DeadLetterFlood,
    DeadLetterPolicy,
    Output,
    dead_letter,
    replay_targets,
)
from vitrina.kafka.errors import init_transactions
from vitrina.kafka.incarnations import IncarnationCheck
from vitrina.kafka.inspect import TopicRecreated, consume_ready
from vitrina.kafka.lifecycle import release
from vitrina.kafka.offsets import (
    GroupMovedOn,
    ProducerFailed,
    ProducerStuck,
    TransactionAborted,
    abort_transaction,
    commit_offsets,
    commit_transaction,
    committed_offsets,
)
from vitrina.kafka.produce import (
    MAX_MESSAGE_BYTES,
    DeliveryTracker,
    RecordTooLarge,
    fits,
    make_producer,
    produce_output,
)
from vitrina.kafka.steps import SideInput, SideWork, Sink, Step
from vitrina.lifecycle import on_signals
from vitrina.security.acl import readers_of
from vitrina.settings import Settings

__all__ = ["DeliveryTracker", "Step", "StreamWorker", "make_producer", "produce_output"]

log = logging.getLogger(__name__)

# An output value above this cannot be produced (key, headers and framing need the rest).
_MAX_VALUE_BYTES = MAX_MESSAGE_BYTES - 8192
# Backoff of a sink whose backend is away: first retry after 0.5 s, then doubling to 30 s.
_RETRY_FIRST_S, _RETRY_MAX_S = 0.5, 30.0
# Flushes a sink gets to write what it holds after a flood (`_stop_after_sink_flood`).
_FLOOD_FLUSHES = 5
# Transactions given up in a row for abortable errors before the worker stops instead.
MAX_ABORTS_IN_ROW = 3
# Producers replaced after failing for good with no commit in between before the worker
# stops instead (another live instance with its transactional id fences each new one).
MAX_FATAL_IN_ROW = 3
# Producers left to a call that never returned (each keeps its threads, sockets and buffers
# until the process exits) before the worker stops instead, for its restart to reclaim them.
MAX_STUCK_PRODUCERS = 3


def _replay_headers(
    msg: Message, readers: frozenset[str]
) -> tuple[list[tuple[str, bytes]], set[str] | None]:
    """The replay headers a record carries, and the services a replayed copy is for
    (`readers`: the services that read its topic, one of which it must be for)."""
    carried = [
        (str(h[0]), h[1])
        for h in (msg.headers() or [])
        if h[0] in REPLAY_HEADERS and isinstance(h[1], bytes)
    ]
    return carried, replay_targets(carried, msg.topic(), readers)


class StreamWorker:
    """Runs one Step (with its Sink / SideInput) over a consumer group until stopped."""

    def __init__(
        self,
        settings: Settings,
        step: Step,
        topics: list[str],
        *,
        group_id: str,
        sink: Sink | None = None,
        side_input: SideInput | None = None,
        principal: str | None = None,
        instance_id: str | None = None,
        metrics_port: int | None = None,
        output_settings: Settings | None = None,
        transactions: bool | None = None,
        consumer_extra: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.step, self.sink, self.side_input = step, sink, side_input
        self.service = step.service
        self.topics = topics
        self.group_id = group_id
        self.clock = clock
        self.stop_event = threading.Event()
        self.policy = DeadLetterPolicy(settings.worker.dlq_window, settings.worker.dlq_flood_ratio)
        self._pending: dict[tuple[str, int], int] = {}
        self._readers: dict[str, frozenset[str]] = {}  # services reading a topic (ACL plan)
        self._to_recover: list[TopicPartition] = []
        self._revoking: set[tuple[str, int]] = set()  # partitions in an on_revoke callback
        # A side input's rejects whose dead letters were in an aborted transaction.
        self._rejects_again: SideWork | None = None
        self._aborts_in_row = 0  # transactions given up for an abortable error, no commit since
        self._fatal_in_row = 0  # producers replaced for a fatal error, no commit since
        # Where each partition's end was when the consumer last reached it; filled only with
        # `enable.partition.eof` (consumer_extra), for a run that stops at the end.
        self.reached_end: dict[tuple[str, int], int] = {}
        self._tracker = DeliveryTracker(self.service)
        # Outputs and offsets commit together only when both are Kafka records of one cluster.
        self._transactional = (
            (settings.kafka.transactions if transactions is None else transactions)
            and sink is None
            and output_settings is None
        )
        self._in_transaction = False
        self._failed = False
        self._retry_at: float | None = None
        self._retry_delay = _RETRY_FIRST_S
        self._last_lag = 0.0
        self._last_commit = clock()
        # Label children cached per topic: `.labels()` costs a lock and a dict lookup,
        # which shows at tens of thousands of messages per second.
        self._consumed: dict[str, Any] = {}
        self._produced: dict[str, Any] = {}
        self._end_to_end = metrics.END_TO_END.labels(self.service)
        principal = principal or self.service
        self._principal = principal
        # Each input topic's incarnation (topic id) as it was when its partitions were
        # assigned, asked again before every commit: librdkafka does not follow topic ids,
        # so a topic deleted and created again under the worker is read on from the old
        # positions, skipping the new records below them (seen: the filter published 101
        # of 140 products). A sink that checks before its own writes does it there.
        self._incarnations: dict[str, str] = {}
        self._incarnation_check = (
            None
            if getattr(sink, "checks_incarnations", False)
            else IncarnationCheck(settings, principal, self.service)
        )
        # Stable across restarts (no pid): a restarted worker's init_transactions fences its
        # killed predecessor and aborts the transaction it left open, at once instead of
        # after the transaction timeout. Replicas on one host need distinct instance ids.
        instance = instance_id or socket.gethostname()

        # Delivery reports for failures only: a Python callback per delivered record costs
        # more than the filter's whole decision; successes are counted when produced, and
        # flush() still waits for every acknowledgement before a commit.
        def new_producer() -> Any:
            return make_producer(
                output_settings or settings,
                principal,
                self._tracker,
                transactional_id=f"{group_id}-{instance}" if self._transactional else None,
                **{"delivery.report.only.error": True},
            )

        self._new_producer = new_producer
        self._stuck: list[Any] = []  # producers left to a call that never returned
        self.producer = new_producer()
        self.consumer = Consumer(
            consumer_config(
                settings,
                principal,
                group_id,
                error_cb=self._on_client_error,
                stats_cb=self._on_stats,
                **{"statistics.interval.ms": 5000, **(consumer_extra or {})},
            )
        )
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
        up = any(
            b.get("state") == "UP"
            for b in stats.get("brokers", {}).values()
            if b.get("nodeid", -1) >= 0
        )
        metrics.BROKER_UP.labels(self.service).set(1 if up else 0)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Recovery (state rebuild, sink leftovers) runs in the loop, before the first record
        # of these partitions is processed — never inside the callback.
        self._to_recover.extend(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        gone = {(tp.topic, tp.partition) for tp in partitions}
        if not self._failed:
            self._revoking = gone  # a rewind in this commit must not seek them
            try:
                self.commit(force=True)
            finally:
                self._revoking = set()
        self._forget(partitions)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """The group expelled this member (its session expired: a process frozen for longer
        than the session timeout, a coordinator that moved): the partitions may be another
        member's already, so their offsets cannot be committed. With transactions, what was
        written since the last commit is aborted (the next owner reads it again); without,
        the outputs are flushed and the commit is refused, as on a revoke."""
        # Said whether or not a transaction is open: a freeze that ends between two commits
        # loses the partitions all the same (seen in a CI run of stop 33, which logged nothing).
        if not self._transactional:
            what = "its outputs are flushed; records not yet committed are read again"
        elif self._in_transaction:
            what = "aborting the open transaction"
        else:
            what = "no transaction was open, nothing to abort"
        if not self._failed:
            log.warning(
                "%s: expelled from the consumer group (its session expired); %s", self.service, what
            )
        if not self._transactional or self._failed:
            self._on_revoke(consumer, partitions)
            return
        try:
            if self._in_transaction:
                abort_transaction(self.producer, service=self.service)
        finally:
            # Even when that abort failed for good (the loop then takes a new producer): the
            # partitions are another member's now, and so are their bans to act on.
            self._rewind("partitions_lost", lost=partitions)
            self._forget(partitions)

    def _forget(self, partitions: list[TopicPartition]) -> None:
        """Let go of what this process kept for partitions that are no longer its own."""
        gone = {(tp.topic, tp.partition) for tp in partitions}
        for key in gone:
            self._pending.pop(key, None)
            self.policy.forget(*key)
        self._to_recover = [tp for tp in self._to_recover if (tp.topic, tp.partition) not in gone]
        if self.sink is not None:
            self.sink.drop(partitions)
        if self.side_input is not None:
            self.side_input.drop(partitions)

    # -- the loop -----------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        on_signals((signal.SIGTERM, signal.SIGINT), lambda _: self.stop_event.set())

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Process until stop() or `until()` is true; commit what is durable on the way out."""
        self.consumer.subscribe(
            self.topics,
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        batch_size = self.settings.worker.batch_size
        timeout = self.settings.worker.poll_timeout_s
        try:
            while not self.stop_event.is_set() and not (until and until()):
                try:
                    self._step(batch_size, timeout)
                except (KafkaException, ProducerFailed) as exc:
                    self._carry_on_after(exc)
            self.commit(force=True)
        except BaseException:
            self._failed = True  # nothing processed since the last commit may commit now
            raise
        finally:
            for part in (self.sink, self.side_input):
                if part is not None:
                    part.close()
            # With a deadline: a close after the group moved on, or with the coordinator
            # gone, can wait for ever (kafka/lifecycle.py); a stop must not.
            release([self.consumer], f"the {self.service} consumer")
            if self._incarnation_check is not None:
                self._incarnation_check.close()

    def _step(self, batch_size: int, timeout: float) -> None:
        self._recover()
        if self._rejects_again is not None:
            work, self._rejects_again = self._rejects_again, None
            self._do(work)
        if self.side_input is not None:
            self._do(self.side_input.catch_up())
        messages = consume_ready(self.consumer, batch_size, timeout)
        if messages and not self._recover():
            # Partitions assigned during this poll whose recovery must wait: nothing of the
            # batch is processed; every partition reads again from its committed offset.
            self._rewind("sink_unavailable")
            self.consumer.pause(self.consumer.assignment())
            messages = []
        if messages:
            flood = self._process_batch(messages)
            if flood is not None:
                self.commit(force=True)
                raise flood
        self._write_sink(force=False, idle=len(messages) < batch_size)
        self.commit()
        self._report_lag()

    def _carry_on_after(self, exc: KafkaException | ProducerFailed) -> None:
        """Go on after a step failed with `exc`, or raise it: a producer that failed for good
        is replaced; a transaction that cannot go on is aborted (a few times in a row at
        most) — and when that abort fails for good, the producer is replaced too. Either
        way the worker reads again from its committed offsets."""
        failure = self._producer_failure(exc)
        if failure is None:
            if not (
                isinstance(exc, KafkaException) and self._abortable(exc) and self._may_abort_again()
            ):
                raise exc
            log.warning(
                "%s: the transaction cannot go on (%s); aborting it and reading its records again",
                self.service,
                exc.args[0],
            )
            try:
                abort_transaction(self.producer, service=self.service)
            except ProducerFailed as failed:
                failure, exc = failed.message, failed
            else:
                self._rewind("abortable_error")
                return
        self._replace_failed_producer(failure, exc)

    def _abortable(self, exc: KafkaException) -> bool:
        """An error the open transaction's abort cures. Seen on the cluster: right after an
        abort for a group that moved on, a produce in the next transaction failed with
        'Erroneous state' (librdkafka had set an abortable error on it), and the filter
        exited. Once is a hiccup; the caller gives up after a few in a row."""
        if not self._transactional:
            return False
        err: KafkaError = exc.args[0]
        return not err.fatal() and (err.txn_requires_abort() or err.code() == KafkaError._STATE)

    def _producer_failure(self, exc: Exception) -> str | None:
        """Why the transactional producer failed for good, if `exc` says it did (a fatal
        error: fenced after its coordinator aborted a transaction open past its timeout,
        an inconsistent sequence after a broker failure…): it can do nothing more, but a
        new producer can. None for any other error."""
        if not self._transactional:
            return None
        if isinstance(exc, ProducerFailed):
            reason = exc.message
        else:
            err: KafkaError = exc.args[0]
            if not (err.fatal() or err.code() == KafkaError._FATAL):
                return None
            reason = err.str()
        try:  # a produce refused only says "Fatal error"; the next poll raises the cause
            self.producer.poll(0)
        except KafkaException as polled:
            if polled.args[0].fatal():
                reason = polled.args[0].str()
        except BrokerError:
            pass  # the client's ErrorWatch; the reason already given stands
        return reason

    def _replace_failed_producer(self, reason: str, exc: Exception) -> None:
        """Take a new producer with the same transactional id — its init_transactions
        aborts what the failed one left open — and read again from the committed offsets,
        as a restart would, without one. Seen on the cluster: with a broker killed, the
        filter's transaction outlived its timeout, the coordinator aborted it and fenced
        the producer, and the filter exited on "Unable to produce message: Local: Fatal
        error"."""
        self._fatal_in_row += 1
        if self._fatal_in_row > MAX_FATAL_IN_ROW:
            raise BrokerError(
                f"{self.service}: {MAX_FATAL_IN_ROW + 1} producers in a row failed for good "
                f"with no commit in between (the last: {reason}); the worker stops",
                hint="is another instance running with the same transactional id "
                f"({self.group_id}-<instance>)? Replicas on one host need distinct instance "
                "ids; otherwise see the broker log",
            ) from exc
        log.warning(
            "%s: the producer failed for good (%s); taking a new one and reading again from "
            "the last committed offsets",
            self.service,
            reason,
        )
        failed, self.producer = [self.producer], None
        release(failed, f"the {self.service} producer that failed", timeout=5.0)
        self._tracker.error = None  # the failed producer's undelivered records are read again
        self.producer = self._new_producer()
        init_transactions(self.producer, 30)
        self._rewind("producer_failed")

    def _may_abort_again(self) -> bool:
        """Count one more transaction given up for an abortable error (a refused produce or
        commit); False past MAX_ABORTS_IN_ROW with no commit in between: nothing cures it,
        so the worker stops and its restart resumes."""
        self._aborts_in_row += 1
        return self._aborts_in_row <= MAX_ABORTS_IN_ROW

    def stop(self) -> None:
        self.stop_event.set()

    def _recover(self) -> bool:
        """Recover the partitions assigned since the last step; False while the sink's
        backend is away (consumption paused, asked again after the backoff): no record of
        a partition is processed before its recovery."""
        if not self._to_recover:
            return True
        if self.sink is not None and self._retry_at is not None and self.clock() < self._retry_at:
            return False
        partitions, self._to_recover = self._to_recover, []
        if self._incarnation_check is not None:
            self._incarnations.update(self._incarnations_now({tp.topic for tp in partitions}))
        if self.sink is not None:
            try:
                self.sink.recover(self.consumer, partitions)
            except UnavailableError as exc:
                # Seen: the lake sink started with HDFS down exited and crash-looped. Nothing
                # of these partitions was read yet: they wait, paused, for the next try.
                self._to_recover = partitions + self._to_recover
                self._sink_away(exc)
                return False
        if self.side_input is not None:
            self._do(self.side_input.recover(partitions))
        if self._retry_at is None:
            # librdkafka keeps a partition's pause across losing and regaining it: one paused
            # for the sink's backend, elsewhere when the backend came back (the resume asks
            # only the partitions held then), stayed paused here for good (a blind review:
            # the lake sink read nothing for minutes after rejoining, lag 0, status up).
            self.consumer.resume(partitions)
        return True

    def _do(self, work: SideWork) -> None:
        """Write a side input's phases, each durable before the next; dead-letter its rejects."""
        for _ in range(3):
            try:
                for msg, exc in work.rejected:
                    self.write([self._dead_letter(msg, exc, [])], durable=False)
                for outputs in work.phases:
                    self.write(outputs, durable=True)
                if work.rejected and not work.phases:
                    self.write([], durable=True)
            except KafkaException:
                # The loop may abort the transaction and rewind (an abortable error): the
                # rebuild derives the phases again, the dead letters are kept to be written
                # again (seen: lost until the next start, whose bookmark had not moved).
                if work.rejected:
                    self._rejects_again = SideWork(rejected=work.rejected, done=work.done)
                raise
            if work.done is None:
                return
            # With transactions the writes exist only once their transaction commits.
            if not self._transactional or self.commit(force=True):
                work.done()
                return
            # The group moved on and the transaction was aborted: the rebuild after the
            # rewind derives the phases again; the dead letters are written again here.
            work = SideWork(rejected=work.rejected, done=work.done)
        raise BrokerError(f"{self.service}: the consumer group kept moving on; stopping")

    def write(self, outputs: list[Output], *, durable: bool = False) -> None:
        """Write records that no input offset guards (a side input's phased writes).

        Inside the open transaction when transactions are on; otherwise `durable=True` waits
        until the broker has them (raising BrokerError if one was refused).
        """
        if outputs:
            self._begin()
            produced: dict[str, int] = {}
            for out in outputs:
                produce_output(self.producer, out)
                produced[out.topic] = produced.get(out.topic, 0) + 1
            self._count({}, produced)
        if durable and not self._transactional:
            self._flush_outputs()

    def _begin(self) -> None:
        if self._transactional and not self._in_transaction:
            self.producer.begin_transaction()
            self._in_transaction = True

    def _dead_letter(
        self, msg: Message, exc: Exception, carried: list[tuple[str, bytes]]
    ) -> Output:
        topic = msg.topic() or ""
        rule = exc.rule if isinstance(exc, ContractError) else ""
        metrics.REJECTED.labels(self.service, rule or "invalid").inc()
        metrics.DEAD_LETTERED.labels(self.service, topic).inc()
        value = msg.value()
        extra = list(carried)
        if not fits(msg.key(), value):  # the dead letter itself must fit: keep the start
            extra.append(("value_truncated_from", str(len(value or b"")).encode()))
            value = (value or b"")[:100_000]
        return dead_letter(
            self.settings.topics.dead_letters,
            service=self.service,
            error=str(exc),
            key=msg.key(),
            value=value,
            source_topic=topic,
            partition=msg.partition() or 0,
            offset=msg.offset() or 0,
            extra_headers=extra,
        )

    def _process_batch(self, messages: list[Message]) -> DeadLetterFlood | None:
        started = time.perf_counter()
        now_ms = time.time() * 1000
        self._begin()
        real = 0
        consumed: dict[str, int] = {}
        produced: dict[str, int] = {}
        flood: DeadLetterFlood | None = None
        # The batch's first record stands for its oldest (records arrive in offset order).
        ts_type, oldest_ms = messages[0].timestamp()
        if ts_type == 0 or oldest_ms <= 0:
            oldest_ms = 0
        for msg in messages:
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    self.reached_end[(msg.topic() or "", msg.partition() or 0)] = msg.offset() or 0
                    continue
                if err.fatal() or err.code() in (
                    KafkaError.UNKNOWN_TOPIC_OR_PART,
                    KafkaError.TOPIC_AUTHORIZATION_FAILED,
                    KafkaError.GROUP_AUTHORIZATION_FAILED,
                ):
                    raise BrokerError(f"{self.service}: consumer error: {err}")
                log.warning("%s: consumer: %s", self.service, err)
                continue
            real += 1
            # A record without an error always has a topic, partition and offset.
            topic, partition, offset = msg.topic() or "", msg.partition() or 0, msg.offset() or 0
            consumed[topic] = consumed.get(topic, 0) + 1
            carried: list[tuple[str, bytes]] = []
            targets: set[str] | None = None
            try:
                if msg.headers():  # only replayed and special records carry headers
                    readers = self._readers.get(topic)
                    if readers is None:
                        readers = self._readers[topic] = readers_of(self.settings, topic)
                    carried, targets = _replay_headers(msg, readers | {self.service})
                if targets is not None and self.service not in targets:
                    # A replay meant for another service: this one handled the original.
                    self._pending[(topic, partition)] = offset + 1
                    continue
                outputs = self.step.process(msg)
                for out in outputs:  # inline, not fits(): this runs for every output
                    if out.value is not None and len(out.value) > _MAX_VALUE_BYTES:
                        raise RecordTooLarge(out.topic, len(out.value))
            except ContractError as exc:
                flood = self.policy.invalid(topic, partition, offset)
                # A replayed record rejected again is dead-lettered once, by the first of the
                # services it was replayed for, not once per service.
                first = sorted(targets)[0] if targets else self.service
                outputs = [self._dead_letter(msg, exc, carried)] if first == self.service else []
            for out in outputs:
                produce_output(self.producer, out)
                produced[out.topic] = produced.get(out.topic, 0) + 1
            self._pending[(topic, partition)] = offset + 1
            if flood is not None:
                break  # the rest of the batch is replayed after the restart
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
        return flood

    def _count(self, consumed: dict[str, int], produced: dict[str, int]) -> None:
        for counts, cache, metric in (
            (consumed, self._consumed, metrics.CONSUMED),
            (produced, self._produced, metrics.PRODUCED),
        ):
            for topic, n in counts.items():
                child = cache.get(topic)
                if child is None:
                    child = cache[topic] = metric.labels(self.service, topic)
                child.inc(n)

    # -- the sink's writes, retried while its backend is away ------------------------------
    def _write_sink(self, force: bool, idle: bool = False) -> bool:
        """Let the sink write (all of it when forced, or when the input is drained and the
        sink asks for it with `flush_when_idle`); False while its backend is away."""
        if self.sink is None:
            return True
        now = self.clock()
        if self._retry_at is not None and now < self._retry_at and not force:
            return False
        try:
            if (
                force
                or self._retry_at is not None
                or (idle and getattr(self.sink, "flush_when_idle", False))
            ):
                self.sink.flush()
            else:
                self.sink.flush_if_due(now)
        except TopicRecreated as exc:
            log.warning("%s", exc)
            self._rewind("topic_recreated", from_start={exc.topic})
            return False
        except UnavailableError as exc:
            self._sink_away(exc)
            return False
        except DeadLetterFlood as flood:
            self._stop_after_sink_flood(flood)
        self._write_sink_dead_letters()
        if self._retry_at is not None and not self._to_recover:
            log.info("%s: the sink's backend is back; consuming again", self.service)
            self.consumer.resume(self.consumer.assignment())
            self._retry_at, self._retry_delay = None, _RETRY_FIRST_S
        return True

    def _write_sink_dead_letters(self) -> None:
        take = getattr(self.sink, "take_dead_letters", None)
        if take is not None:  # records the sink refused for good: out before their offsets
            self.write(take())

    def _stop_after_sink_flood(self, flood: DeadLetterFlood) -> NoReturn:
        """The sink counted a flood among the records it refused while writing: what it
        holds is written, its dead letters go out and the offsets commit, then the worker
        stops, as for a flood `process` finds (`_step`). Stopping at once committed nothing,
        so each restart read the same records and stopped at the same offset: a blind review
        saw the lake sink crash-loop on 1,200 invalid products until the supervisor gave up.
        The records after the one that tripped it are written or dead-lettered as well
        (the sink writes whole batches), so they commit too."""
        assert self.sink is not None
        for _ in range(_FLOOD_FLUSHES):  # a flush may count the flood again, after its writes
            try:
                self.sink.flush()
            except DeadLetterFlood:
                continue
            break
        self._write_sink_dead_letters()
        self.commit(force=True)
        raise flood

    def _sink_away(self, exc: UnavailableError) -> None:
        """The sink's backend does not answer: pause consumption, ask again after a backoff."""
        log.warning(
            "%s: %s — retrying in %.1f s (consumption paused)",
            self.service,
            exc,
            self._retry_delay,
        )
        self.consumer.pause(self.consumer.assignment())
        self._retry_at = self.clock() + self._retry_delay
        self._retry_delay = min(self._retry_delay * 2, _RETRY_MAX_S)

    # -- commit ---------------------------------------------------------------------------
    def commit(self, force: bool = False) -> bool:
        """Commit consumed offsets once their outputs are durable; True when everything
        consumed so far is committed.

        Unless forced, at most once per `worker.commit_interval_s`: each commit waits for
        every output to be acknowledged, which per batch would cap throughput.
        """
        if force:
            if not self._write_sink(force=True):
                return False
        elif self.clock() - self._last_commit < self.settings.worker.commit_interval_s:
            return False
        if not self._pending or (self.sink is not None and not self.sink.durable()):
            if self._in_transaction and not self._pending and not self._commit_transaction(None):
                return False
            # Not durable yet (a sink still buffering): try again on the next loop, right
            # after its flush, instead of waiting out another interval.
            return not self._pending
        if not self._inputs_unchanged():
            return False
        self._last_commit = self.clock()
        offsets = [TopicPartition(t, p, o) for (t, p), o in self._pending.items()]
        if self._transactional:
            if not self._commit_transaction(offsets):
                return False
        else:
            self._flush_outputs()
            # A transient failure is retried inside; on a rebalance the revoke callback
            # drops the lost partitions' offsets. Either way nothing pending is dropped here.
            if not commit_offsets(self.consumer, offsets, service=self.service):
                return False
        metrics.LAST_COMMIT.labels(self.service).set(time.time())
        for tp in offsets:  # newer offsets may have arrived meanwhile (revoke in a commit)
            if self._pending.get((tp.topic, tp.partition)) == tp.offset:
                del self._pending[(tp.topic, tp.partition)]
        return not self._pending

    def _incarnations_now(self, topics: set[str]) -> dict[str, str]:
        """Each topic's incarnation now, in one request; "" (not checked) for a topic the
        broker gives no id (an old broker, or the topic just went) or cannot say in 10 s."""
        assert self._incarnation_check is not None
        try:
            now = self._incarnation_check.current(sorted(topics), wait_s=10)
        except (BrokerError, UnavailableError) as exc:  # the silence too: not a reason to exit
            log.warning("%s: %s; not checked for being created again", self.service, exc)
            return dict.fromkeys(topics, "")
        unknown = sorted(topic for topic, incarnation in now.items() if not incarnation)
        if unknown:
            log.warning(
                "%s: the broker gives %s no topic id; not checked for being created again",
                self.service,
                ", ".join(unknown),
            )
        return now

    def _inputs_unchanged(self) -> bool:
        """True when every input topic with offsets to commit is still the incarnation its
        partitions were assigned in; else what was read since the last commit is dropped
        (the open transaction aborted) and the new topic read from its start (TopicRecreated)."""
        if self._incarnation_check is None:
            return True
        known = {topic: self._incarnations.get(topic, "") for topic, _ in self._pending}
        try:
            self._incarnation_check(known)
        except TopicRecreated as exc:
            log.warning("%s", exc.message)
            if self._in_transaction:
                abort_transaction(self.producer, service=self.service)
            # Its recovery asks the incarnations again.
            self._rewind("topic_recreated", from_start={exc.topic})
            return False
        except UnavailableError as exc:  # asked again at the next commit
            log.warning("%s; the commit waits", exc.message)
            return False
        return True

    def _commit_transaction(self, offsets: list[TopicPartition] | None) -> bool:
        """Commit the open transaction with `offsets` (None: none to add); False when it
        was aborted, or left to a stuck producer, and the worker rewound instead."""
        try:
            commit_transaction(
                self.producer,
                offsets,
                self.consumer.consumer_group_metadata() if offsets else None,
                service=self.service,
            )
        except GroupMovedOn as exc:
            log.warning("%s", exc.message)
            self._rewind("group_moved_on")
            return False
        except TransactionAborted as exc:
            if not self._may_abort_again():
                raise
            log.warning("%s; reading its records again", exc.message)
            self._rewind("abortable_error")
            return False
        except ProducerStuck as exc:
            if len(self._stuck) >= MAX_STUCK_PRODUCERS:
                raise BrokerError(
                    f"{exc.message}; {len(self._stuck) + 1} producers stuck in this "
                    "process, each kept until it exits: the worker stops",
                    hint="its restart (the supervisor's) reclaims them and resumes from the "
                    "committed offsets; see the broker log for the coordinator's trouble",
                ) from None
            log.warning("%s; taking a new producer", exc.message)
            self._replace_producer()
            self._rewind("producer_stuck")
            return False
        self._in_transaction = False
        self._aborts_in_row = self._fatal_in_row = 0
        return True

    def _replace_producer(self) -> None:
        """Leave the stuck producer to its blocked call (destroying a client while a call
        blocks in it is unsafe; it is reclaimed when the process exits) and take a new one
        with the same transactional id: its init_transactions fences the stuck one and
        settles the transaction it left open — completes it if the coordinator had begun
        its commit, aborts it otherwise. The rewind that follows reads the group's committed
        offsets after that, so they say which: committed records are not read again,
        aborted ones are."""
        self._stuck.append(self.producer)
        self.producer = self._new_producer()
        init_transactions(self.producer, 30)

    def _rewind(
        self,
        reason: str,
        lost: list[TopicPartition] | None = None,
        from_start: set[str] | None = None,
    ) -> None:
        """The open transaction was given up (`reason`: the group moved on, the partitions
        were lost, an abortable error, or a stuck producer was replaced): undo in this process
        what its records did, as a restart would, without one. Every partition still owned
        goes back to its committed offset, and its state (the filter's shelves) is dropped
        and rebuilt from the committed outputs before the next record; the `lost` ones are
        someone else's now. Seen on the cluster: the filter exited instead, on 'Specified
        group generation id is not valid' after its coordinator was killed."""
        metrics.REWINDS.labels(self.service, reason).inc()
        self._in_transaction = False
        self._pending.clear()
        gone = {(tp.topic, tp.partition) for tp in lost or []} | self._revoking
        owned = [tp for tp in self.consumer.assignment() if (tp.topic, tp.partition) not in gone]
        every = owned + list(lost or [])
        for tp in every:
            self.policy.forget(tp.topic, tp.partition)
            self.reached_end.pop((tp.topic, tp.partition), None)
        for part in (self.sink, self.side_input):
            if part is not None:
                part.drop(every)
        if owned:
            for tp in committed_offsets(self.consumer, owned, service=self.service):
                # Nothing committed yet, or a topic created again (`from_start`: what the
                # group committed may still be the old topic's): from the start.
                if tp.offset < 0 or tp.topic in (from_start or ()):
                    tp.offset = OFFSET_BEGINNING
                try:
                    self.consumer.seek(tp)
                except KafkaException as exc:
                    raise BrokerError(
                        f"{self.service}: cannot rewind {tp.topic} [{tp.partition}] after "
                        f"the group moved on: {exc.args[0]}"
                    ) from None
        keys = {(tp.topic, tp.partition) for tp in every}
        self._to_recover = [
            tp for tp in self._to_recover if (tp.topic, tp.partition) not in keys
        ] + owned
        if owned:
            log.info(
                "%s: rewound %d partitions to their committed offsets; their state is rebuilt",
                self.service,
                len(owned),
            )

    def _flush_outputs(self) -> None:
        """Wait until every produced record is acknowledged; crash if one was refused."""
        while self.producer.flush(1.0) > 0:
            if self._tracker.error is not None:
                break
        if self._tracker.error is not None:
            raise BrokerError(
                f"{self.service}: an output was not delivered: "
                f"{self._tracker.error}; offsets not committed"
            )

    def _report_lag(self) -> None:
        now = self.clock()
        if now - self._last_lag < 5.0:
            return
        self._last_lag = now
        try:
            assignment = self.consumer.assignment()
            # Paused (the sink's backend away), nothing is fetched and the cached watermark
            # stands still: the lag read 9 while the group fell 2,822 behind (a blind review),
            # and VitrinaConsumerLagGrowing could not fire. Then the broker is asked.
            paused = self._retry_at is not None
            positions = self.consumer.position(assignment)
            # Paused before its first record, a partition has no position: its commit, asked
            # for all of them in one request (the broker away holds this loop up to 1 s).
            unknown = [tp for tp in positions if tp.offset < 0] if paused else []
            committed = {
                (c.topic, c.partition): c.offset
                for c in (self.consumer.committed(unknown, timeout=1.0) if unknown else [])
            }
            for tp in positions:
                low, high = self.consumer.get_watermark_offsets(
                    tp, timeout=1.0, cached=not paused
                ) or (0, 0)
                if (tp.topic, tp.partition) in committed:
                    start = committed[(tp.topic, tp.partition)]
                    tp.offset = start if start >= 0 else low
                if high is None or high < 0 or tp.offset < 0:
                    continue
                # The embedded broker can report a high watermark below the position:
                # clamp at 0 rather than show negative lag.
                metrics.LAG.labels(self.service, tp.topic, str(tp.partition)).set(
                    max(0, high - tp.offset)
                )
        except KafkaException as exc:
            log.debug("lag: %s", exc)
