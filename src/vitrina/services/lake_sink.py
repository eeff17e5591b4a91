"""`vitrina run lake-sink`: every raw topic → the Parquet data lake.

decode (codec; invalid → dead-letters) → lake rows → buffer per (dataset, partition, date) →
flush on size or time → commit. The worker commits offsets only while nothing is buffered,
so a committed offset always falls on a file boundary. Files are named by (partition, first
offset, topic incarnation): a replay rewrites instead of duplicating, and when a partition is
assigned the files of the same incarnation at or past the group's committed offset —
leftovers of a crashed run, whose batches the replay may cut differently — are deleted first
(in the loop, before the partition's first record). Together: every record exactly once in
the lake. A new incarnation of a topic (a broker that forgot its data, a recreated topic)
writes new names and never deletes or overwrites the files of an earlier one.

Products (the large records) are not parsed on arrival: the consumer thread keeps each
one's raw bytes and metadata, and when its file is due the writer thread checks and parses
the whole batch at once (`lake.product_batch`: Arrow's JSON reader and vectorised checks of
the contract). A record it is not sure of is judged alone as before (the door's one-pass
check, then the JSON Schema) and kept as a flat tuple of column values (`lake.columns`), or
dead-lettered with the reason the worker gives on arrival. Blocked products are judged on
arrival by the JSON Schema and kept as such tuples. Building a file's table, encoding the
Parquet and writing the file run on background threads (`lake_sink_writes`) while this one
takes the next records; offsets commit only once nothing is buffered and every file is
written. Dead letters of a file's batch (a product that breaks its contract, or one that
only fails in the conversion, like an integer beyond int64) are handed to the worker after
the write, before their offsets commit (`take_dead_letters`); the worker's flood rule
counts them too (`DeadLetterPolicy`: the next flush raises DeadLetterFlood).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import Any

import jsonschema_rs
import pyarrow as pa
from confluent_kafka import Consumer, Message, TopicPartition
from prometheus_client import Gauge

from vitrina import metrics
from vitrina.contracts.codec import check_depth, decode, loads, schema, validate
from vitrina.errors import VitrinaError
from vitrina.kafka.deadletter import HEADER_OFFSET, REPLAY_HEADERS, DeadLetterPolicy, Output
from vitrina.kafka.incarnations import IncarnationCheck
from vitrina.kafka.inspect import topic_incarnation
from vitrina.kafka.offsets import committed_offsets, watermark_offsets
from vitrina.kafka.steps import Step
from vitrina.kafka.worker import StreamWorker
from vitrina.lake.columns import (
    COLUMNAR,
    VALUES,
    warm_up,
)
from vitrina.lake.compaction import Compacted, compact, finish_merges
from vitrina.lake.filesystems import answering, away, lake_away
from vitrina.lake.layout import CONTRACT_OF, DATASETS, record_date
from vitrina.lake.pii import pii_key
from vitrina.lake.rows import RecordMeta, lake_rows
from vitrina.lake.writer import LakeWriter, Written
from vitrina.services.bans import decode_ban
from vitrina.services.lake_sink_tables import SERVICE, file_table
from vitrina.services.lake_sink_writes import BackgroundWrites, Job
from vitrina.settings import Settings

log = logging.getLogger(__name__)

# Here, not in vitrina.metrics: only the lake sink's process exports it (that module's docstring).
BUFFERED = Gauge("vitrina_lake_buffered_rows", "Rows waiting in memory for a flush")

# Flush everything once this many rows are buffered in total, whatever their age:
# bounds memory when records spread over many (dataset, partition, date) buffers.
MEMORY_FACTOR = 4

# 50,000 allocations between the collector's youngest-generation passes (CPython: 700). A
# record leaves ~20 short-lived containers (its parsed product) that all die by reference
# count, so those passes found nothing to free and cost ~17 % of the sink's CPU (~30 -> ~25
# us/record). Reference cycles are still collected, every 50,000 allocations.
GC_GEN0_THRESHOLD = 50_000

# Files built and written at once, and queued. Building a file's table (Arrow's JSON reader)
# and writing it (zstd, fsync) mostly run without the GIL: two threads keep a second core
# busy while the consumer thread, which now only keeps raw bytes, waits on them.
WRITER_THREADS = 2
WRITES_IN_FLIGHT = 3

BufferKey = tuple[str, int, date]
# What a background write returns: the file (None: every record dead-lettered), its dead
# letters with their rules, and how long it took.
Outcome = tuple[Written | None, list[tuple[Output, str]], float]
_DAY_MS = 86_400_000


class LakeSink(Step):
    """The sink's Step: turns records into buffered rows and buffers into Parquet files."""

    service = SERVICE
    # Its own check, before every file write (`_write`), so the worker's before every
    # commit is not needed: a file named by an old incarnation's offsets is the harm here.
    checks_incarnations = True

    def __init__(
        self,
        settings: Settings,
        writer: LakeWriter,
        key: bytes,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.writer = writer
        self.pii_key = key
        self.wall_clock = wall_clock
        self.flush_records = settings.lake.flush_records
        self.flush_seconds = settings.lake.flush_seconds
        self.role_of = {getattr(settings.topics, role): role for role in DATASETS}
        # Rows (small records, converted as they arrive) or Pending products (columnar).
        self.buffers: dict[BufferKey, list[Any]] = {}
        self.buffered = 0
        self.dead_lettered: list[Output] = []  # refused when written; the worker sends them
        # The worker's flood rule, for the records refused with their file's batch (the
        # worker counts only those it refuses on arrival): one partition mostly invalid
        # stops the sink loudly instead of dead-lettering all of it.
        self.policy = DeadLetterPolicy(settings.worker.dlq_window, settings.worker.dlq_flood_ratio)
        self._days: dict[int, date] = {}  # ms // day → date: one datetime per day, not record
        # The products' contract validators (the same schema files the codec compiles).
        self._columnar = {
            role: jsonschema_rs.validator_for(schema(CONTRACT_OF[role]), validate_formats=True)
            for role in COLUMNAR
        }
        warm_up()
        self.incarnations: dict[str, str] = {}  # role -> incarnation of its topic
        self._check = IncarnationCheck(settings, SERVICE, "lake")  # before every write
        self._oldest: float | None = None  # worker clock when the current buffers began
        self.writes = BackgroundWrites(
            self._write_one, max_in_flight=WRITES_IN_FLIGHT, threads=WRITER_THREADS
        )
        self._failed: BaseException | None = None  # a background write's error, raised next
        # Compaction of this sink's partitions (lake.compaction), a round on its own thread.
        self.compact_interval = settings.lake.compact_interval_s
        self._consumer: Consumer | None = None  # known from the first assignment
        self._compact_at: float | None = None  # worker clock of the next round
        self._compaction: Future[dict[str, Compacted]] | None = None
        self._compactor: ThreadPoolExecutor | None = None
        self._stop_compaction = threading.Event()

    # -- decode → rows → buffer ------------------------------------------------------------
    def process(self, message: Message) -> list[Output]:
        # A consumed record (not an error event) always has topic, partition and offset.
        topic, partition, offset = (
            str(message.topic()),
            message.partition() or 0,
            message.offset() or 0,
        )
        role = self.role_of[topic]
        raw = message.value()
        columnar = self._columnar.get(role)
        value: dict[str, Any] | None = None  # None: a tombstone (an unban)
        values: tuple[Any, ...] = ()
        if columnar is not None:
            # A product is kept raw, checked and parsed with its file's batch on the writer
            # thread (`lake.product_batch`); a blocked product (or an empty value) here.
            if role != "shop_products" or raw is None:
                values = VALUES[role](self._decode_product(role, raw, columnar))
        elif role == "banned_products":
            if raw is not None:  # keyed by its own product_id, or no ban (as for the filter)
                ban_key = message.key()
                value = decode_ban(raw, ban_key.decode("utf-8", "replace") if ban_key else "")
        else:
            value = decode(CONTRACT_OF[role], raw)
        ts_type, ts = message.timestamp()
        if ts_type == 0 or ts is None or ts < 0:
            ts = int(self.wall_clock() * 1000)  # no broker timestamp: file it under today
        day = self._days.get(ts // _DAY_MS)
        if day is None:
            day = self._days[ts // _DAY_MS] = record_date(ts)
        raw_key = message.key()
        key = raw_key.decode("utf-8", "replace") if isinstance(raw_key, bytes) else raw_key
        if value is None and role in COLUMNAR:  # a columnar dataset's record
            headers = message.headers()
            carried = (
                tuple(
                    (str(h[0]), h[1])
                    for h in headers
                    if h[0] in REPLAY_HEADERS and isinstance(h[1], bytes)
                )
                if headers
                else None
            )
            items: list[Any] = [(offset, ts, key, raw, raw_key, carried, *values)]
        else:
            meta = RecordMeta(topic, partition, offset, ts, key)
            items = lake_rows(role, value, meta, self.pii_key)
        buffer = self.buffers.get((role, partition, day))
        if buffer is None:
            self.buffers[(role, partition, day)] = items
        else:
            buffer.extend(items)
        self.buffered += len(items)
        return []

    @staticmethod
    def _decode_product(role: str, raw: bytes | None, validator: Any) -> dict[str, Any]:
        """The codec's decode without its instant check: the columnar path parses every
        instant itself, and an impossible one (2025-02-30) sends the batch through the
        per-record path, where the codec's decode dead-letters it with the codec's reason."""
        contract = CONTRACT_OF[role]
        value = loads(raw)
        check_depth(contract, value, raw)
        if not validator.is_valid(value):
            validate(contract, value, raw)  # raises the ContractError naming field and rule
        return value

    def _table(
        self, role: str, partition: int, items: list[Any]
    ) -> tuple[pa.Table | None, list[tuple[Output, str]]]:
        """The file's table and the dead letters of records it can not hold (`file_table`)."""
        return file_table(self.settings, self.pii_key, role, partition, items)

    def take_dead_letters(self) -> list[Output]:
        """Records the last writes refused, handed to the worker once (before the commit)."""
        taken, self.dead_lettered = self.dead_lettered, []
        return taken

    # -- flushing ------------------------------------------------------------------------------
    def flush_if_due(self, now: float) -> None:
        self._collect(wait_for=0)
        self._compact_if_due(now)
        BUFFERED.set(self.buffered)  # once per poll, not once per record
        if not self.buffered:
            self._oldest = None
            return
        if self._oldest is None:
            self._oldest = now
        if (
            now - self._oldest >= self.flush_seconds
            or self.buffered >= MEMORY_FACTOR * self.flush_records
        ):
            self.flush(wait=False)
            return
        full = [k for k, rows in self.buffers.items() if len(rows) >= self.flush_records]
        if full:
            self._write(full)

    def flush(self, wait: bool = True) -> None:
        """Write every buffer; with `wait`, return once all files are written (raising the
        error of one that was not: its records are buffered again for the retry)."""
        self._collect(wait_for=0)
        if self.buffered:
            self._write(list(self.buffers))
        self._oldest = None
        if wait:
            self._collect(wait_for=-1)

    def _write(self, keys: list[BufferKey]) -> None:
        """Hand these buffers to the background writer (one file each)."""
        # Each topic still the incarnation its files are named after: else a new one's
        # records would take (and replace) the old one's file names, as a test saw.
        self._check(
            {
                getattr(self.settings.topics, role): self.incarnations.get(role, "")
                for role in {key[0] for key in keys}
            }
        )
        for key in keys:
            items = self.buffers.pop(key)
            self.buffered -= len(items)
            self._outcomes(self.writes.submit(key, items))
        BUFFERED.set(self.buffered)

    def _write_one(self, key: BufferKey, items: list[Any]) -> Outcome:
        """On the writer thread: one buffer → its table → one Parquet file."""
        started = time.perf_counter()
        role, partition, day = key
        table, dead = self._table(role, partition, items)
        written = None
        if table is not None:
            written = self.writer.write_table(role, day, table, self.incarnations.get(role, ""))
        return written, dead, time.perf_counter() - started

    def _collect(self, wait_for: int) -> None:
        """Act on finished writes; raise a failed write's error (its records buffered again)."""
        self._outcomes(self.writes.completed(wait_for))
        failed, self._failed = self._failed, None
        if failed is not None:
            raise failed

    def _outcomes(self, jobs: list[Job]) -> None:
        for job in jobs:
            exc = job.future.exception()
            role = job.key[0]
            if exc is not None:
                # Back in front of what arrived since (lower offsets first); written again
                # by the retry, under the same file name.
                self.buffers[job.key] = job.items + self.buffers.get(job.key, [])
                self.buffered += len(job.items)
                if lake_away(exc):  # the worker pauses and retries (a DataNode down)
                    exc = away(exc, self.settings.lake_url)
                self._failed = self._failed or exc
                continue
            written, dead, seconds = job.future.result()
            topic = getattr(self.settings.topics, role)
            for letter, _ in dead:
                offset = int(dict(letter.headers or []).get(HEADER_OFFSET, b"-1"))
                flood = self.policy.invalid(topic, job.key[1], offset)
                if flood is not None:  # raised by the next flush: the worker stops
                    self._failed = self._failed or flood
            # Only once written: a write retried later must not dead-letter them twice.
            for letter, rule in dead:
                self.dead_lettered.append(letter)
                metrics.REJECTED.labels(SERVICE, rule).inc()
                metrics.DEAD_LETTERED.labels(SERVICE, topic).inc()
            metrics.LAKE_FLUSH.observe(seconds)
            if written is None:
                continue  # every record of it was dead-lettered
            metrics.LAKE_FILES.labels(role).inc()
            metrics.LAKE_ROWS.labels(role).inc(written.rows)
            metrics.LAKE_BYTES.labels(role).inc(written.bytes)

    def durable(self) -> bool:
        """Nothing buffered, every file written and its dead letters taken: offsets may
        commit. Waits for the writes in flight once nothing is buffered (after a full
        flush), so the commit follows the files at once."""
        if self.buffered:
            return False
        self._settle()  # a failed write is raised again by the next flush (worker's retry)
        return self._failed is None and not self.buffered and not self.dead_lettered

    def _settle(self) -> None:
        """Wait for every write; a failure stays for the next flush to raise."""
        try:
            self._collect(wait_for=-1)
        except Exception as exc:
            self._failed = exc

    # -- compaction ---------------------------------------------------------------------------
    def _compact_if_due(self, now: float) -> None:
        """Collect a finished round; start the next once due (`lake.compact_interval_s`):
        over the partitions assigned now, below the group's committed offsets."""
        if self._compaction is not None:
            if not self._compaction.done():
                return
            self._compacted(self._compaction)
            self._compaction = None
        if not self.compact_interval or self._consumer is None:
            return
        if self._compact_at is None:  # the first round a minute after start at the most
            self._compact_at = now + min(60.0, self.compact_interval)
        if now < self._compact_at:
            return
        self._compact_at = now + self.compact_interval
        mine = [tp for tp in self._consumer.assignment() if tp.topic in self.role_of]
        if not mine:
            return
        try:
            offsets = committed_offsets(self._consumer, mine, service=SERVICE, timeout_s=10)
        except VitrinaError as exc:  # the broker away: the next round asks again
            log.warning("lake: compaction skipped, no committed offsets: %s", exc)
            return
        rounds: dict[str, dict[int, int]] = {}
        for tp in offsets:
            if tp.offset > 0 and tp.topic in self.role_of:
                rounds.setdefault(self.role_of[tp.topic], {})[tp.partition] = tp.offset
        if not rounds:
            return
        if self._compactor is None:
            self._compactor = ThreadPoolExecutor(1, thread_name_prefix="lake-compaction")
        self._stop_compaction.clear()
        self._compaction = self._compactor.submit(self._compact, rounds, dict(self.incarnations))

    def _compact(
        self, rounds: dict[str, dict[int, int]], incarnations: dict[str, str]
    ) -> dict[str, Compacted]:
        """On the compaction thread: one round over every dataset."""
        done: dict[str, Compacted] = {}
        for role, committed in rounds.items():
            if self._stop_compaction.is_set():
                break
            if role not in incarnations:
                continue
            # Asked again: a round merges every file of an incarnation other than the
            # current one (all final), so the current one must be the broker's now, not
            # the one of our last assignment (a topic created again since).
            # Not waited out (wait_s=0): a stop or a rebalance waits for this round, and the
            # next round asks again anyway.
            topic = getattr(self.settings.topics, role)
            if incarnations[role] != topic_incarnation(self.settings, topic, SERVICE, wait_s=0):
                log.warning(
                    "lake: %s was created again; compaction waits until the sink takes the "
                    "new incarnation (at its next write)",
                    topic,
                )
                continue
            done[role] = compact(
                self.writer,
                role,
                committed,
                incarnations[role],
                self.settings.lake.compact_target_bytes,
                self._stop_compaction,
            )
        return done

    def _compacted(self, future: Future[dict[str, Compacted]]) -> None:
        exc = future.exception()
        if exc is not None:  # its files are whole; a decided merge completes next round
            log.warning("lake: compaction failed, retried next round: %s", exc)
            return
        for role, outcome in future.result().items():
            metrics.LAKE_COMPACTED.labels(role).inc(outcome.absorbed)
            if outcome.merged:
                log.info(
                    "lake: compaction merged %d %s files into %d",
                    outcome.absorbed,
                    role,
                    outcome.merged,
                )

    def _settle_compaction(self) -> None:
        """Stop a round between two merges and wait for it (before partitions move)."""
        if self._compaction is None:
            return
        self._stop_compaction.set()
        self._compacted(self._compaction)  # waits for it
        self._compaction = None

    # -- crash leftovers ---------------------------------------------------------------------
    def recover(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Delete this incarnation's files past the committed offset of newly assigned
        partitions (before any of their records is processed), after completing merges a
        stop cut short."""
        self._consumer = consumer
        mine = [
            TopicPartition(tp.topic, tp.partition) for tp in partitions if tp.topic in self.role_of
        ]
        if not mine:
            return
        # A storage that does not answer (the lake's servers down when the sink starts): the
        # worker pauses and asks again, as for a write (kafka/worker.py).
        with answering(self.settings.lake_url):
            self._recover(consumer, mine)

    def _recover(self, consumer: Consumer, mine: list[TopicPartition]) -> None:
        self._settle()  # no write of ours runs while leftovers are deleted
        self._settle_compaction()
        for topic in {tp.topic for tp in mine}:
            role = self.role_of[topic]
            # Asked at every assignment: a topic recreated while we ran is a new incarnation.
            self.incarnations[role] = topic_incarnation(self.settings, topic, SERVICE)
            # Merges a stop cut short are completed first: the cleanup deletes by name.
            assigned = {tp.partition for tp in mine if tp.topic == topic}
            finish_merges(self.writer, role, assigned)
        committed = committed_offsets(consumer, mine, service=SERVICE)
        for tp in committed:
            start = tp.offset if tp.offset >= 0 else _log_start(consumer, tp)
            role = self.role_of[tp.topic]
            deleted = self.writer.delete_uncommitted(
                role, tp.partition, start, self.incarnations[role]
            )
            if deleted:
                metrics.LAKE_LEFTOVERS.labels(role).inc(len(deleted))
        self.drop(mine)

    def drop(self, partitions: list[TopicPartition]) -> None:
        """Rows still buffered for these partitions: the replay from the last commit brings
        them again (to us or to their next owner)."""
        self._settle()
        self._settle_compaction()  # the next owner may merge them: no round of ours runs
        for tp in partitions:
            self.policy.forget(tp.topic, tp.partition)  # its window goes with the partition
            role = self.role_of.get(tp.topic)
            for key in [k for k in self.buffers if k[0] == role and k[1] == tp.partition]:
                self.buffered -= len(self.buffers.pop(key))
        BUFFERED.set(self.buffered)

    def close(self) -> None:
        """Wait for the writes in flight (their files are complete, committed or not) and
        stop compaction between two merges."""
        self._outcomes(self.writes.close())
        self._settle_compaction()
        if self._compactor is not None:
            self._compactor.shutdown(wait=True)
        self._check.close()


def _log_start(
    consumer: Consumer, tp: TopicPartition, sleep: Callable[[float], None] = time.sleep
) -> int:
    """No committed offset: the group starts at the log start (auto.offset.reset=earliest).

    Files from there on are deleted as replayable, so the log start must be the broker's:
    a transient error is asked again, any other is BrokerError (the worker exits and is
    restarted). Taking 0 for an error, as before, deleted files below a log start that
    retention had moved on: rows no replay brings back.
    """
    low, _ = watermark_offsets(consumer, tp, service=SERVICE, sleep=sleep)
    return max(0, low)


def raw_topics(settings: Settings) -> list[str]:
    return [getattr(settings.topics, role) for role in DATASETS]


def relax_gc() -> None:
    """Fewer passes of the garbage collector in this process (see GC_GEN0_THRESHOLD)."""
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, GC_GEN0_THRESHOLD), gen1, gen2)


# The sink writes a file every `lake.flush_seconds` (5 s), so a fetch may wait for 1 MiB or
# half a second. At the default (a fetch answered as soon as one byte is there) the sink
# fetched the client API's query log record by few: at 5k records/s the broker spent 0.167
# cores and the sink 0.103 on it, with these 0.101 and 0.063 (median of 4, interleaved).
FETCH_BATCHING = {"fetch.min.bytes": 1 << 20, "fetch.wait.max.ms": 500}


def build_worker(
    settings: Settings,
    *,
    group_id: str | None = None,
    metrics_port: int | None = None,
    consumer_extra: dict[str, Any] | None = None,
) -> StreamWorker:
    """The sink as a StreamWorker (used by `main` and by tests that run it in a thread;
    `consumer_extra`: librdkafka settings a benchmark gives its baseline too)."""
    step = LakeSink(settings, LakeWriter.from_settings(settings), pii_key(settings))
    return StreamWorker(
        settings,
        step,
        raw_topics(settings),
        sink=step,
        group_id=group_id or settings.lake.consumer_group,
        metrics_port=metrics_port,
        consumer_extra={**FETCH_BATCHING, **(consumer_extra or {})},
    )


def main(settings: Settings) -> None:
    """Run the lake sink until SIGTERM/SIGINT; /metrics on settings.ports.lake_sink."""
    relax_gc()  # a process-wide setting: the sink's own process only, not a test's
    worker = build_worker(settings, metrics_port=settings.ports.lake_sink)
    worker.install_signal_handlers()
    log.info("%s: %s → %s", SERVICE, ", ".join(worker.topics), settings.lake_url)
    worker.run()
