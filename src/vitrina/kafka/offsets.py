"""Committing consumed offsets: transient errors are retried, a lost partition is let go.

A commit that times out or meets a moving coordinator is retried with backoff; the offsets
stay pending until a commit succeeds, so a failed commit never drops them. A commit refused
because the group moved on (rebalance) is not an error of ours: the partitions' next owner
replays from the last commit and our idempotent outputs make that harmless.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from vitrina.errors import BrokerError

log = logging.getLogger(__name__)

# Errors of a commit that a retry can cure (the coordinator moved, loaded or timed out).
TRANSIENT = frozenset(
    {
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError._TIMED_OUT,
        KafkaError._TRANSPORT,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.NOT_COORDINATOR,
        KafkaError._WAIT_COORD,
        KafkaError.NETWORK_EXCEPTION,
        KafkaError._ALL_BROKERS_DOWN,
    }
)
# The group moved on: these partitions are (or are about to be) someone else's.
REBALANCED = frozenset(
    {
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError._ASSIGNMENT_LOST,
        KafkaError.FENCED_INSTANCE_ID,
        KafkaError._STATE,
    }
)


def commit_offsets(
    consumer: Consumer,
    offsets: list[TopicPartition],
    *,
    service: str,
    attempts: int = 5,
    backoff_s: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Commit synchronously; True when committed (or nothing to commit), False when the
    partitions were lost to a rebalance. Raises BrokerError after `attempts` transient
    failures (the offsets stay pending; the supervisor restarts the worker)."""
    delay = backoff_s
    for attempt in range(1, attempts + 1):
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
            return True
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            code = err.code()
            if code == KafkaError._NO_OFFSET:
                return True
            if code in REBALANCED:
                log.warning(
                    "%s: commit refused, the group rebalanced (%s); the next owner "
                    "replays from the last commit",
                    service,
                    err,
                )
                return False
            if code not in TRANSIENT and not err.retriable():
                raise BrokerError(
                    f"{service}: commit failed: {err}",
                    hint="check the group's ACLs and the broker log",
                ) from None
            if attempt == attempts:
                raise BrokerError(
                    f"{service}: commit failed {attempts} times: {err}",
                    hint="is the broker overloaded or away? the offsets stay "
                    "uncommitted and are replayed",
                ) from None
            log.warning(
                "%s: commit failed (%s), retry %d/%d in %.1f s",
                service,
                err,
                attempt,
                attempts - 1,
                delay,
            )
            sleep(delay)
            delay = min(delay * 2, 5.0)
    return False


def committed_offsets(
    consumer: Consumer,
    partitions: list[TopicPartition],
    *,
    service: str,
    timeout_s: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[TopicPartition]:
    """The group's committed offsets, waiting out a coordinator that is moving or still
    loading `__consumer_offsets` (right after a broker start Apache Kafka answers
    NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS for a few seconds). Raises BrokerError
    with the last error after `timeout_s`, or at once for an error a retry cannot cure."""
    return _waiting_out(
        lambda deadline: list(consumer.committed(partitions, timeout=min(15.0, timeout_s))),
        TRANSIENT,
        "committed offsets",
        "check the group's ACLs and the broker log",
        service=service,
        timeout_s=timeout_s,
        sleep=sleep,
        clock=clock,
    )


# A partition's leader moving (a broker killed, or restarted and taking its partitions
# back) answers these to a watermark request for a few seconds; a retry reaches the new one.
_LEADER_MOVING = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError._DESTROY_BROKER,  # the connection to the killed leader was torn down
    }
)


def watermark_offsets(
    consumer: Consumer,
    tp: TopicPartition,
    *,
    service: str,
    timeout_s: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[int, int]:
    """A partition's (low, high) watermarks, waiting out a leader that is moving. Seen on
    the cluster: a broker killed mid-read made the filter crash on 'Failed to get watermark
    offsets: Not leader for partition' (and '… Broker handle destroyed'), then rebuild its
    whole shelf after the restart. BrokerError after `timeout_s`, or at once for an error
    a retry cannot cure."""

    def read(deadline: float) -> tuple[int, int]:
        low, high = consumer.get_watermark_offsets(
            tp, timeout=max(1.0, min(15.0, deadline - clock()))
        )
        return int(low), int(high)

    return _waiting_out(
        read,
        TRANSIENT | _LEADER_MOVING,
        f"the offsets of {tp.topic} [{tp.partition}]",
        # Seen after a kill -9 of the embedded broker (no ACLs there): "Unknown partition"
        # while the restarted broker loads its topics; the supervisor restarts the service.
        "has the broker just restarted (`vitrina broker status`)? on a secured cluster, "
        "check the topic's ACLs; see the broker log",
        service=service,
        timeout_s=timeout_s,
        sleep=sleep,
        clock=clock,
    )


T = TypeVar("T")


def _waiting_out(
    call: Callable[[float], T],
    transient: frozenset[int] | set[int],
    what: str,
    denied_hint: str,
    *,
    service: str,
    timeout_s: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> T:
    """`call(deadline)`, again with backoff while the broker answers an error in
    `transient` (or one librdkafka calls retriable), until `timeout_s`; BrokerError naming
    `what` then, or at once for any other error."""
    deadline = clock() + timeout_s
    delay = 0.2
    while True:
        try:
            return call(deadline)
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            if err.code() not in transient and not err.retriable():
                raise BrokerError(
                    f"{service}: cannot read {what}: {err}", hint=denied_hint
                ) from None
            if clock() + delay > deadline:
                raise BrokerError(
                    f"{service}: cannot read {what} for {timeout_s:.0f} s: {err}",
                    hint="is the broker up? the supervisor restarts the worker",
                ) from None
            log.info("%s: %s not available yet (%s), retrying", service, what, err)
            sleep(delay)
            delay = min(delay * 2, 2.0)


class GroupMovedOn(BrokerError):
    """The consumer group moved on while a transaction was open (this member's session
    expired, or a rebalance bumped the generation): its offsets were refused and the
    transaction aborted. Not a failure of the worker: it rewinds and carries on."""


class TransactionAborted(BrokerError):
    """The transaction hit an error librdkafka says its abort cures (txn_requires_abort, e.g.
    'skipped sequence numbers' after a process froze past its session): it was aborted, and
    its records are to be read again. Not a failure of the worker."""


class ProducerFailed(BrokerError):
    """The transactional producer failed for good (a fatal error, e.g. fenced): it can do
    nothing more; a worker takes a new one and reads again from its committed offsets."""


class ProducerStuck(BrokerError):
    """A transactional call did not return within its deadline: librdkafka can wait for ever
    for a coordinator that was killed (confluentinc/librdkafka#5456: the call's timeout is
    never checked; #5511: a coordinator gone from the metadata is never looked up again).
    The producer is left to its blocked call; the caller takes a new one, whose
    init_transactions settles the stuck transaction (completes a commit the coordinator had
    begun, aborts anything else), and rewinds to the offsets committed with it."""


# A transactional call's own timeout (30 s) plus a margin: past that it is stuck.
TRANSACTION_CALL_DEADLINE_S = 45.0


def _within_deadline(call: Callable[[], None], what: str, *, service: str) -> None:
    """`call()` in a thread of its own, waited for at most TRANSACTION_CALL_DEADLINE_S:
    ProducerStuck past that; its error, if it raised one."""
    done = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # handed to the caller below
            failed.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name=f"{service} {what}", daemon=True).start()
    if not done.wait(TRANSACTION_CALL_DEADLINE_S):
        raise ProducerStuck(
            f"{service}: {what} did not return within {TRANSACTION_CALL_DEADLINE_S:.0f} s "
            "(a killed coordinator, librdkafka#5456)",
            hint="the worker takes a new producer, which settles the stuck transaction, and "
            "reads again from the offsets committed with it",
        )
    if failed:
        raise failed[0]


def commit_transaction(
    producer: Any,
    offsets: list[TopicPartition] | None,
    group_metadata: Any,
    *,
    service: str,
    timeout_s: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Add the consumed `offsets` to the open transaction (None: none to add) and commit it,
    retrying what librdkafka calls retriable. Seen on the cluster: right after a broker
    restart the filter crashed on 'Failed to commit offsets to transaction: Coordinator
    load in progress' — a state the same call gets past a second later.

    Offsets refused because the group moved on (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION…:
    seen on the cluster when the group's coordinator was killed and this member's session
    expired before a new one took the group) abort the transaction and raise GroupMovedOn:
    the caller undoes in memory what the aborted records did and carries on. So does any
    other error that requires an abort (TransactionAborted; seen after a freeze: 'skipped
    sequence numbers'). A fenced producer (another instance took over its
    transactional id) or no success within `timeout_s` raise BrokerError naming it: the
    worker stops and its restart resumes from the last committed transaction, whose
    outputs are the only ones read_committed readers see."""
    deadline = clock() + timeout_s
    delay = 0.2
    sent = offsets is None
    while True:
        try:
            if not sent:
                _within_deadline(
                    lambda: producer.send_offsets_to_transaction(offsets, group_metadata, 30),
                    "adding the offsets to the transaction",
                    service=service,
                )
                sent = True
            _within_deadline(
                lambda: producer.commit_transaction(30),
                "committing the transaction",
                service=service,
            )
            return
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            what = "adding offsets to" if not sent else "committing"
            if err.fatal():
                raise ProducerFailed(
                    f"{service}: {what} the transaction failed for good: {err.str()}",
                    hint="a fenced producer: its transaction outlived its timeout, or another "
                    "instance took over this transactional id (a zombie is stopped so); the "
                    "worker takes a new producer and resumes from the last committed "
                    "transaction",
                ) from None
            if not sent and err.code() in REBALANCED:
                abort_transaction(producer, service=service)
                raise GroupMovedOn(
                    f"{service}: the consumer group moved on ({err.str()}); the open "
                    "transaction was aborted",
                    hint="its records are read again from the last committed offsets",
                ) from None
            if err.txn_requires_abort() or not err.retriable():
                # Not retriable either way: once aborted, the records are read again (the
                # worker gives up after a few in a row, e.g. for a missing ACL).
                abort_transaction(producer, service=service)
                raise TransactionAborted(
                    f"{service}: {what} the transaction failed ({err.str()}); it was aborted",
                    hint="its records are read again from the last committed offsets",
                ) from None
            if clock() + delay > deadline:
                with contextlib.suppress(BrokerError):  # the failure to report is the commit's
                    abort_transaction(producer, service=service)
                raise BrokerError(
                    f"{service}: {what} the transaction failed: {err.str()}; it was aborted",
                    hint="is the broker up? the supervisor restarts the worker, which resumes "
                    "from the last committed transaction",
                ) from None
            log.warning("%s: %s the transaction: %s, retrying", service, what, err.str())
            sleep(delay)
            delay = min(delay * 2, 2.0)


FLUSH_BEFORE_ABORT_S = 10.0


def abort_transaction(producer: Any, *, service: str) -> None:
    """Abort the open transaction, to go on with a new one; BrokerError when even the abort
    fails: the producer cannot go on, and the worker's restart resumes from the last
    committed transaction.

    The records in flight are waited for first (at most `FLUSH_BEFORE_ABORT_S`): an abort
    sent while a transaction's first records travel can reach the coordinator before their
    partitions are added to it, and the coordinator refuses to end an empty transaction
    with a fatal INVALID_TXN_STATE (confluentinc/librdkafka#4849). Seen in the cluster test
    that refuses one of the filter's produces: the abort right after it failed so, and the
    producer could not go on."""
    try:
        producer.flush(FLUSH_BEFORE_ABORT_S)
        producer.abort_transaction(30)
    except KafkaException as exc:
        failed = ProducerFailed if exc.args[0].fatal() else BrokerError
        raise failed(
            f"{service}: aborting the transaction failed: {exc.args[0].str()}",
            hint="the supervisor restarts the worker, which resumes from the last committed "
            "transaction",
        ) from None
