"""The worker's small parts alone: commit retries, the dead-letter policy, record size.

The commit tests use a stand-in consumer: a coordinator that times out on demand cannot be
provoked reliably on the embedded broker (the loop itself runs on the real broker in
tests/integration/test_worker_safety.py).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from vitrina.errors import BrokerError, ContractError
from vitrina.kafka.deadletter import DeadLetterFlood, DeadLetterPolicy
from vitrina.kafka.offsets import (
    GroupMovedOn,
    ProducerStuck,
    TransactionAborted,
    commit_offsets,
    commit_transaction,
    committed_offsets,
    watermark_offsets,
)
from vitrina.kafka.produce import MAX_MESSAGE_BYTES, RecordTooLarge, fits


class FlakyConsumer:
    """Fails its first `failures` commits with `code`, then commits."""

    def __init__(self, failures: int, code: int) -> None:
        self.failures, self.code = failures, code
        self.commits: list[list[TopicPartition]] = []
        self.calls = 0

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise KafkaException(KafkaError(self.code))
        self.commits.append(offsets)


OFFSETS = [TopicPartition("t", 0, 10)]


def commit(consumer: Any, **kwargs: Any) -> bool:
    return commit_offsets(consumer, OFFSETS, service="test", sleep=lambda _: None, **kwargs)


@pytest.mark.parametrize(
    "code",
    [
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError._TIMED_OUT,
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    ],
)
def test_a_transient_commit_error_is_retried_until_it_commits(code: int) -> None:
    consumer = FlakyConsumer(2, code)
    assert commit(consumer) is True
    assert consumer.commits == [OFFSETS] and consumer.calls == 3


def test_a_commit_that_keeps_failing_raises_and_keeps_nothing_secret() -> None:
    with pytest.raises(BrokerError, match="commit failed 3 times"):
        commit(FlakyConsumer(10, KafkaError.REQUEST_TIMED_OUT), attempts=3)


def test_a_commit_refused_by_a_rebalance_is_not_retried() -> None:
    consumer = FlakyConsumer(1, KafkaError.REBALANCE_IN_PROGRESS)
    assert commit(consumer) is False and consumer.calls == 1


def test_nothing_to_commit_is_success() -> None:
    assert commit(FlakyConsumer(1, KafkaError._NO_OFFSET)) is True


def test_a_permanent_commit_error_raises_at_once() -> None:
    consumer = FlakyConsumer(1, KafkaError.GROUP_AUTHORIZATION_FAILED)
    with pytest.raises(BrokerError):
        commit(consumer)
    assert consumer.calls == 1


class LoadingCoordinator:
    """Answers `committed` with NOT_COORDINATOR `failures` times (a broker just started)."""

    def __init__(self, failures: int, code: int = KafkaError.NOT_COORDINATOR) -> None:
        self.failures, self.code, self.calls = failures, code, 0

    def committed(self, partitions: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        self.calls += 1
        if self.calls <= self.failures:
            raise KafkaException(KafkaError(self.code))
        return [TopicPartition(tp.topic, tp.partition, 7) for tp in partitions]


def test_committed_offsets_wait_out_a_loading_coordinator() -> None:
    """Regression: the filter crashed on 'Failed to get committed offsets: Not coordinator'
    right after the embedded Apache Kafka started (vitrina demo)."""
    consumer = LoadingCoordinator(3)
    [tp] = committed_offsets(consumer, OFFSETS, service="test", sleep=lambda _: None)  # type: ignore[arg-type]
    assert tp.offset == 7 and consumer.calls == 4


def test_committed_offsets_give_up_with_the_last_error_after_the_timeout() -> None:
    ticks = iter(range(0, 1000, 5))
    with pytest.raises(BrokerError, match="for 20 s"):
        committed_offsets(
            LoadingCoordinator(10**6),  # type: ignore[arg-type]
            OFFSETS,
            service="test",
            timeout_s=20,
            sleep=lambda _: None,
            clock=lambda: float(next(ticks)),
        )


def test_committed_offsets_fail_at_once_on_a_permanent_error() -> None:
    consumer = LoadingCoordinator(1, KafkaError.GROUP_AUTHORIZATION_FAILED)
    with pytest.raises(BrokerError, match="cannot read committed offsets"):
        committed_offsets(consumer, OFFSETS, service="test", sleep=lambda _: None)  # type: ignore[arg-type]
    assert consumer.calls == 1


def test_policy_trips_on_the_record_over_the_limit_per_partition() -> None:
    policy = DeadLetterPolicy(window=20, ratio=0.5)
    for offset in range(10):
        assert policy.invalid("t", 0, offset) is None
    assert policy.invalid("t", 1, 0) is None  # another partition has its own window
    flood = policy.invalid("t", 0, 10)
    assert isinstance(flood, DeadLetterFlood)
    assert "partition 0" in str(flood) and "offset 10" in str(flood)


def test_policy_forgets_invalid_records_older_than_the_window() -> None:
    policy = DeadLetterPolicy(window=20, ratio=0.5)
    # One invalid record every other offset: 10 in any 20 offsets, never more.
    assert all(policy.invalid("t", 0, offset) is None for offset in range(0, 400, 2))


def test_valid_records_from_other_partitions_do_not_dilute_a_flood() -> None:
    policy = DeadLetterPolicy(window=10, ratio=0.5)
    results = [policy.invalid("t", 3, offset) for offset in range(6)]
    assert results[:5] == [None] * 5 and isinstance(results[5], DeadLetterFlood)


def test_forget_clears_a_revoked_partition() -> None:
    policy = DeadLetterPolicy(window=10, ratio=0.5)
    for offset in range(5):
        policy.invalid("t", 0, offset)
    policy.forget("t", 0)
    assert policy.invalid("t", 0, 5) is None


def test_record_too_large_is_a_contract_error_with_a_hint() -> None:
    assert fits(b"k", b"x" * 1000)
    assert not fits(b"k", b"x" * MAX_MESSAGE_BYTES)
    exc = RecordTooLarge("shop-products", 2_000_000)
    assert isinstance(exc, ContractError) and "2,000,000 bytes" in str(exc) and exc.hint


class MovingLeader:
    """get_watermark_offsets fails `failures` times with `code`, then answers (0, 9)."""

    def __init__(self, failures: int, code: int) -> None:
        self.failures, self.code, self.calls = failures, code, 0

    def get_watermark_offsets(self, tp: TopicPartition, timeout: float) -> tuple[int, int]:
        self.calls += 1
        if self.calls <= self.failures:
            raise KafkaException(KafkaError(self.code))
        return 0, 9


@pytest.mark.parametrize("code", [KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError._DESTROY_BROKER])
def test_watermarks_wait_out_a_leader_that_moves(code: int) -> None:
    """Regression: with a broker killed on the cluster, the filter crashed re-reading product
    versions on 'Failed to get watermark offsets: Not leader for partition' (and 'Broker
    handle destroyed') and rebuilt its whole shelf after the restart."""
    consumer = MovingLeader(3, code)
    tp = TopicPartition("shop-products", 0)
    assert watermark_offsets(consumer, tp, service="filter", sleep=lambda _: None) == (0, 9)  # type: ignore[arg-type]
    assert consumer.calls == 4
    with pytest.raises(BrokerError, match="authorization"):
        watermark_offsets(
            MovingLeader(1, KafkaError.TOPIC_AUTHORIZATION_FAILED),  # type: ignore[arg-type]
            tp,
            service="filter",
            sleep=lambda _: None,
        )


class LoadingTxnCoordinator:
    """A transactional producer whose send_offsets_to_transaction first fails `failures` times
    with `error`; records what was called."""

    def __init__(self, failures: int, error: KafkaError) -> None:
        self.failures, self.error = failures, error
        self.calls: list[str] = []

    def send_offsets_to_transaction(self, offsets: Any, meta: Any, timeout: float) -> None:
        self.calls.append("send_offsets")
        if self.calls.count("send_offsets") <= self.failures:
            raise KafkaException(self.error)

    def commit_transaction(self, timeout: float) -> None:
        self.calls.append("commit")

    def abort_transaction(self, timeout: float) -> None:
        self.calls.append("abort")

    def flush(self, timeout: float) -> int:
        self.calls.append("flush")
        return 0


def test_a_transaction_commit_waits_out_a_loading_coordinator() -> None:
    """Regression: right after a broker restart on the cluster, the filter crashed with a
    traceback on 'Failed to commit offsets to transaction: Coordinator load in progress'."""
    loading = KafkaError(KafkaError.COORDINATOR_LOAD_IN_PROGRESS, retriable=True)
    producer = LoadingTxnCoordinator(2, loading)
    commit_transaction(producer, OFFSETS, None, service="filter", sleep=lambda _: None)
    assert producer.calls == ["send_offsets"] * 3 + ["commit"]


def test_a_fenced_or_aborting_transaction_is_a_clear_error() -> None:
    fenced = KafkaError(KafkaError._FENCED, fatal=True)
    with pytest.raises(BrokerError, match="failed for good"):
        commit_transaction(
            LoadingTxnCoordinator(1, fenced), OFFSETS, None, service="filter", sleep=lambda _: None
        )
    # One that requires an abort is aborted and said so: the worker reads its records again
    # (the cluster test `test_a_commit_that_must_be_aborted_is_aborted_and_read_again`).
    abortable = KafkaError(KafkaError.INVALID_TXN_STATE, txn_requires_abort=True)
    producer = LoadingTxnCoordinator(1, abortable)
    with pytest.raises(TransactionAborted, match="it was aborted"):
        commit_transaction(producer, OFFSETS, None, service="filter", sleep=lambda _: None)
    assert producer.calls == ["send_offsets", "flush", "abort"]  # flush: librdkafka#4849


@pytest.mark.parametrize("code", [KafkaError.UNKNOWN_MEMBER_ID, KafkaError.ILLEGAL_GENERATION])
def test_offsets_refused_because_the_group_moved_on_abort_and_say_so(code: int) -> None:
    """The worker tells this apart from a failure: it rewinds and carries on (the cluster
    test `test_a_filter_frozen_past_its_session_timeout_carries_on_exactly`)."""
    moved = KafkaError(code, txn_requires_abort=True)
    producer = LoadingTxnCoordinator(1, moved)
    with pytest.raises(GroupMovedOn, match="moved on"):
        commit_transaction(producer, OFFSETS, None, service="filter", sleep=lambda _: None)
    assert producer.calls == ["send_offsets", "flush", "abort"]  # flush: librdkafka#4849


def test_a_send_offsets_that_never_returns_is_given_up_at_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """librdkafka#5456/#5511: with the group coordinator killed, send_offsets_to_transaction
    ignored its 30 s timeout and blocked the filter for good (a cluster rehearsal: 240 s)."""
    from vitrina.kafka import offsets

    class Stuck(LoadingTxnCoordinator):
        def send_offsets_to_transaction(self, offsets: Any, meta: Any, timeout: float) -> None:
            self.calls.append("send_offsets")
            threading.Event().wait()  # as librdkafka did

    monkeypatch.setattr(offsets, "TRANSACTION_CALL_DEADLINE_S", 0.3)
    producer = Stuck(0, KafkaError(KafkaError._TIMED_OUT))
    with pytest.raises(ProducerStuck, match="did not return within"):
        commit_transaction(producer, OFFSETS, None, service="filter", sleep=lambda _: None)
    assert producer.calls == ["send_offsets"]  # never committed: the new producer aborts it


def test_a_commit_that_never_returns_is_given_up_at_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same watchdog on commit_transaction: the worker then takes a new producer, whose
    init_transactions settles the stuck transaction either way, and rewinds to the offsets
    committed with it (the cluster test `…_stuck_committing_…`)."""
    from vitrina.kafka import offsets

    class Stuck(LoadingTxnCoordinator):
        def commit_transaction(self, timeout: float) -> None:
            self.calls.append("commit")
            threading.Event().wait()

    monkeypatch.setattr(offsets, "TRANSACTION_CALL_DEADLINE_S", 0.3)
    producer = Stuck(0, KafkaError(KafkaError._TIMED_OUT))
    with pytest.raises(ProducerStuck, match="committing the transaction did not return"):
        commit_transaction(producer, OFFSETS, None, service="filter", sleep=lambda _: None)
    assert producer.calls == ["send_offsets", "commit"]
