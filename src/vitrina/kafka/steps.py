"""The parts a worker is assembled from (see kafka/worker.StreamWorker and docs/architecture.md).

    records ─▶ Step.process ─▶ Kafka outputs (producer)     ─┐
               decode, validate,  or Sink (files, an index)  ├─▶ commit when durable
               transform / route  invalid → dead-letters     ─┘
    SideInput (e.g. the ban list) ─▶ phased outputs, caught up in the loop before each poll

Failures are typed: ContractError (an invalid record: dead-lettered), UnavailableError (a
transient outage of a sink's backend: paused and retried, never dead-lettered); anything else
crashes the worker, and nothing it processed is committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from confluent_kafka import Consumer, Message, TopicPartition

from vitrina.kafka.deadletter import Output


class Step:
    """decode → validate → transform / route one record into the records to write.

    Raise ContractError for an invalid record (it is dead-lettered with the reason).
    """

    service = "worker"

    def process(self, message: Message) -> list[Output]:
        raise NotImplementedError


class Sink(Protocol):
    """The write step of a worker whose outputs are not Kafka records (files, an index)."""

    def flush_if_due(self, now: float) -> None:
        """Write buffered records when a size or age threshold is reached."""

    def flush(self) -> None:
        """Write everything buffered (before a forced commit). UnavailableError = retry later."""

    def durable(self) -> bool:
        """True when every record processed so far is written, so its offset may commit."""

    def recover(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Partitions were assigned: tidy up before their first record (called in the loop)."""

    def drop(self, partitions: list[TopicPartition]) -> None:
        """Partitions were revoked: forget what is buffered for them (the next owner replays)."""

    def close(self) -> None:
        """Release resources when the worker stops."""

    # Optional (BatchSink has it): `take_dead_letters() -> list[Output]` — records a write
    # refused for good (e.g. the search index's RejectedDocuments); the worker produces them
    # after the write and before it commits their offsets.


@dataclass
class SideWork:
    """What a side input asks the worker to do: phased writes and invalid side records."""

    phases: list[list[Output]] = field(default_factory=list)  # each durable before the next
    rejected: list[tuple[Message, Exception]] = field(default_factory=list)
    # Called once everything above is durable (e.g. to bookmark the dead-lettered records).
    done: Callable[[], None] | None = None

    def __bool__(self) -> bool:
        return bool(self.phases or self.rejected)


class SideInput(Protocol):
    """State read beside the input stream and kept per assigned input partition.

    The filter's ban list: loaded to its end before the first record, caught up before every
    poll; its per-partition shelves are rebuilt in the loop when partitions are assigned.
    """

    def catch_up(self) -> SideWork:
        """Fold what arrived since the last call."""

    def recover(self, partitions: list[TopicPartition]) -> SideWork:
        """Rebuild the state of newly assigned partitions (called in the loop, not a callback)."""

    def drop(self, partitions: list[TopicPartition]) -> None:
        """Forget the state of revoked partitions."""

    def close(self) -> None:
        """Release resources when the worker stops."""


T = TypeVar("T")


class BatchSink(Step, Generic[T]):
    """A sink in one class: `decode` each record, `write` batches; the worker does the rest.

    Records are buffered until `flush_records` are waiting or the oldest waited
    `flush_seconds`; a batch leaves the buffer only once `write` returned, so a failed write
    commits nothing and a transient one (UnavailableError) is retried with the same batch.
    Give the worker the sink twice: `StreamWorker(settings, sink, topics, sink=sink, …)`.
    """

    flush_records = 1000
    flush_seconds = 1.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.buffer: list[T] = []
        self._oldest: float | None = None
        # Dead letters of records `write` could not write for good; the worker produces them.
        self.dead_lettered: list[Output] = []

    def decode(self, message: Message) -> T:
        """The record as the sink writes it; raise ContractError when it is invalid."""
        raise NotImplementedError

    def write(self, batch: list[T]) -> None:
        """Write one batch durably (idempotently: a replay after a crash writes it again)."""
        raise NotImplementedError

    def process(self, message: Message) -> list[Output]:
        item = self.decode(message)
        if not self.buffer:
            self._oldest = self.clock()
        self.buffer.append(item)
        return []

    def flush_if_due(self, now: float) -> None:
        if self.buffer and (
            len(self.buffer) >= self.flush_records
            or now - (self._oldest or now) >= self.flush_seconds
        ):
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.write(list(self.buffer))
            self.buffer = []
            self._oldest = None

    def durable(self) -> bool:
        return not self.buffer

    def take_dead_letters(self) -> list[Output]:
        """The dead letters the last writes left, handed over once."""
        taken, self.dead_lettered = self.dead_lettered, []
        return taken

    def recover(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        return None

    def drop(self, partitions: list[TopicPartition]) -> None:
        # Items do not remember their partition here: keep them; a replay rewrites the same
        # data (write must be idempotent), so nothing is lost or doubled.
        return None

    def close(self) -> None:
        return None
