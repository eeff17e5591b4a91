"""Data safety of the shared worker loop (issue 12 items 2–5) on the real embedded broker.

A sink's failed flush commits nothing; a record a worker cannot handle is dead-lettered (never
a crash loop); the flood stop dead-letters the record that trips it and commits it, so a
restart neither re-dead-letters nor duplicates a lake row.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer, Message, Producer
from tests.conftest import TEST_BROKER, wait_for
from tests.support import committed, recreate_topic

from vitrina.contracts import decode
from vitrina.domain.generator import generate_catalog
from vitrina.errors import UnavailableError
from vitrina.kafka.clients import consumer_config, producer_config
from vitrina.kafka.deadletter import DeadLetterFlood, Output, headers_dict
from vitrina.kafka.incarnations import IncarnationCheck
from vitrina.kafka.inspect import TopicRecreated, read_to_end, topic_incarnation
from vitrina.kafka.worker import Step, StreamWorker
from vitrina.lake.reader import read_dataset
from vitrina.lake.writer import LakeWriter
from vitrina.services.indexer import build_worker as build_indexer
from vitrina.services.lake_sink import build_worker as build_lake_sink
from vitrina.settings import Settings

pytestmark = pytest.mark.integration


def deep(levels: int) -> Any:
    """A JSON value nested `levels` deep: orjson parses up to 1,024 but dumps only 255."""
    value: Any = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


def send(
    settings: Settings,
    topic: str,
    records: list[tuple[str | None, bytes | None]],
    partition: int | None = None,
) -> None:
    producer = Producer(producer_config(settings, "test"))
    for key, value in records:
        kwargs: dict[str, Any] = {} if partition is None else {"partition": partition}
        producer.produce(topic, value, key, **kwargs)
        producer.poll(0)
    assert producer.flush(30) == 0


def letters(settings: Settings) -> list[dict[str, str]]:
    return [
        headers_dict(m.headers()) for m in read_to_end(settings, [settings.topics.dead_letters])
    ]


def event(i: int) -> bytes:
    return orjson.dumps(
        {
            "event_id": f"e-{i}",
            "user_id": "u-1",
            "type": "view",
            "product_id": "1001",
            "timestamp": "2024-05-01T10:00:00Z",
        }
    )


class Running:
    """A worker in a thread; `error` keeps what it raised."""

    def __init__(self, worker: StreamWorker) -> None:
        self.worker = worker
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.worker.run()
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def stop(self) -> None:
        self.worker.stop()
        self.thread.join(30)
        assert not self.thread.is_alive()


class LosingSink(Step):
    """A sink whose flush empties its buffer and then fails (like a full disk)."""

    service = "toy-losing-sink"

    def __init__(self) -> None:
        self.buffer: list[bytes] = []

    def process(self, message: Message) -> list[Output]:
        self.buffer.append(message.value() or b"")
        return []

    def flush_if_due(self, now: float) -> None:
        if self.buffer:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.buffer = []
            raise OSError("disk full")

    def durable(self) -> bool:
        return not self.buffer

    def recover(self, consumer: Any, partitions: Any) -> None:
        return None

    def drop(self, partitions: Any) -> None:
        return None

    def close(self) -> None:
        return None


class SinkAwayAtStart(Step):
    """A sink whose backend does not answer the first `away` recoveries (the lake's servers
    down when the lake sink starts); it keeps each record's (partition, offset) and which
    partitions it had recovered by then."""

    service = "toy-away-at-start"

    def __init__(self, away: int) -> None:
        self.away = away
        self.recovered: set[int] = set()
        self.seen: list[tuple[int, int]] = []
        self.early: list[tuple[int, int]] = []

    def process(self, message: Message) -> list[Output]:
        at = (message.partition() or 0, message.offset() or 0)
        self.seen.append(at)
        if at[0] not in self.recovered:
            self.early.append(at)
        return []

    def flush_if_due(self, now: float) -> None:
        return None

    def flush(self) -> None:
        return None

    def durable(self) -> bool:
        return True

    def recover(self, consumer: Any, partitions: Any) -> None:
        if self.away > 0:
            self.away -= 1
            raise UnavailableError("the lake at s3://toy does not answer")
        self.recovered |= {tp.partition for tp in partitions}

    def drop(self, partitions: Any) -> None:
        return None

    def close(self) -> None:
        return None


def test_a_sink_away_at_assignment_pauses_and_processes_each_record_once_after(
    make_settings: Callable[..., Settings],
) -> None:
    """Seen in a blind review of the native cluster: the lake sink started with HDFS down
    exited (its assignment's clean-up lists the lake) and crash-looped until HDFS answered.
    The worker now pauses and asks the sink again; no record of a partition is processed
    before that partition's recovery, and none twice."""
    settings = make_settings()
    topic, group = settings.topics.client_events, f"away-{uuid.uuid4().hex[:6]}"
    send(settings, topic, [(f"u-{i % 5}", event(i)) for i in range(60)])
    sink = SinkAwayAtStart(away=3)
    running = Running(StreamWorker(settings, sink, [topic], group_id=group, sink=sink))
    try:
        wait_for(lambda: len(sink.seen) >= 60 or running.error, 60, message="every record")
    finally:
        running.stop()
    assert running.error is None, running.error
    assert sink.away == 0 and not sink.early, sink.early
    assert len(sink.seen) == len(set(sink.seen)) == 60


class SwitchableSink(Step):
    """A sink whose backend is away while `away` is set: its flush raises UnavailableError
    (the worker pauses consumption and retries). Keeps each record's (partition, offset)."""

    service = "toy-switchable-sink"

    def __init__(self) -> None:
        self.away = threading.Event()
        self.buffer: list[tuple[int, int]] = []
        self.written: list[tuple[int, int]] = []

    def process(self, message: Message) -> list[Output]:
        self.buffer.append((message.partition() or 0, message.offset() or 0))
        return []

    def flush_if_due(self, now: float) -> None:
        self.flush()

    def flush(self) -> None:
        if self.away.is_set() and self.buffer:
            raise UnavailableError("the toy backend does not answer")
        self.written += self.buffer
        self.buffer = []

    def durable(self) -> bool:
        return not self.buffer

    def recover(self, consumer: Any, partitions: Any) -> None:
        return None

    def drop(self, partitions: Any) -> None:
        gone = {tp.partition for tp in partitions}
        self.buffer = [at for at in self.buffer if at[0] not in gone]

    def close(self) -> None:
        return None


def test_partitions_paused_for_an_away_sink_consume_again_when_they_come_back(
    make_settings: Callable[..., Settings],
) -> None:
    """Seen in a blind review (broker killed under load): the lake sink paused for its
    backend, was expelled and rejoined, said "the sink's backend is back; consuming again"
    and then read nothing more for minutes, lag 0, status up. librdkafka keeps a partition's
    pause across losing and regaining it, and the resume had asked only the partitions held
    at that moment. Here a partition paused for the backend moves to another member and
    back while the backend returns in between: it must be read again."""
    settings = make_settings()
    topic, group = settings.topics.client_events, f"paused-{uuid.uuid4().hex[:6]}"
    sink = SwitchableSink()
    running = Running(StreamWorker(settings, sink, [topic], group_id=group, sink=sink))
    other = Consumer(consumer_config(settings, "test", group))
    try:
        wait_for(lambda: len(running.worker.consumer.assignment()) == 3, 60, message="3 partitions")
        sink.away.set()
        send(settings, topic, [(f"u-{i}", event(i)) for i in range(30)])  # pauses the worker
        wait_for(lambda: running.worker._retry_at is not None, 30, message="the pause")
        other.subscribe([topic])  # takes some partitions from the paused worker
        wait_for(
            lambda: other.poll(0.2) is None and other.assignment(),
            60,
            message="the other member's share",
        )
        sink.away.clear()  # the backend is back while those partitions are elsewhere
        wait_for(lambda: running.worker._retry_at is None, 30, message="consuming again")
        other.close()  # they come back to the worker
        wait_for(lambda: len(running.worker.consumer.assignment()) == 3, 60, message="3 again")
        send(settings, topic, [(f"u-{i}", event(i)) for i in range(30, 90)])
        wait_for(
            lambda: {p for p, _ in sink.written if _ >= 0} == {0, 1, 2} and len(sink.written) >= 60,
            60,
            message=f"records of every partition (written: {len(sink.written)})",
        )
    finally:
        running.stop()
    assert running.error is None, running.error


def test_the_lag_of_a_worker_paused_for_its_sink_keeps_counting(
    make_settings: Callable[..., Settings],
) -> None:
    """A blind review (the HDFS DataNode down): the lake sink's lag metric read 9 while its
    group fell 2,822 behind, since a paused consumer fetches nothing and its cached high
    watermarks stood still; VitrinaConsumerLagGrowing could not fire."""
    from prometheus_client import REGISTRY

    settings = make_settings()
    topic, group = settings.topics.client_events, f"lagging-{uuid.uuid4().hex[:6]}"
    sink = SwitchableSink()
    sink.away.set()
    running = Running(StreamWorker(settings, sink, [topic], group_id=group, sink=sink))

    def lag() -> float:
        return sum(
            REGISTRY.get_sample_value(
                "vitrina_worker_consumer_lag_messages",
                {"service": sink.service, "topic": topic, "partition": str(p)},
            )
            or 0.0
            for p in range(settings.kafka.partitions)
        )

    try:
        send(settings, topic, [(f"u-{i}", event(i)) for i in range(30)])
        wait_for(lambda: running.worker._retry_at is not None, 30, message="the pause")
        send(settings, topic, [(f"u-{i}", event(i)) for i in range(30, 230)])
        wait_for(lambda: lag() >= 200, 30, message="the lag to count the records since")
    finally:
        sink.away.clear()
        running.stop()
    assert running.error is None, running.error


def test_a_failed_sink_flush_commits_no_offsets(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    topic, group = settings.topics.client_events, f"losing-{uuid.uuid4().hex[:6]}"
    send(settings, topic, [("u-1", event(i)) for i in range(20)])
    sink = LosingSink()
    running = Running(StreamWorker(settings, sink, [topic], group_id=group, sink=sink))
    running.thread.join(60)
    assert isinstance(running.error, OSError), running.error
    assert all(offset < 0 for offset in committed(settings, group, topic).values()), (
        "offsets of records whose flush failed were committed"
    )


def test_indexer_dead_letters_an_unindexable_product_and_indexes_the_rest(
    make_settings: Callable[..., Settings],
) -> None:
    from vitrina.search.embedded import EmbeddedSearch

    settings = make_settings(search={"commit_seconds": 0.2})
    catalog = list(generate_catalog(100, seed=3))
    poison = {**catalog[0], "product_id": "999001", "extra": deep(300)}
    records = [(p["product_id"], orjson.dumps(p)) for p in catalog[:50]]
    records.append(("999001", _dumps_deep(poison)))
    records += [(p["product_id"], orjson.dumps(p)) for p in catalog[50:]]
    send(settings, settings.topics.filtered_products, records, partition=0)
    running = Running(build_indexer(settings, group_id=f"indexer-{uuid.uuid4().hex[:6]}"))
    try:

        def indexed() -> int:
            try:
                return EmbeddedSearch(settings.search_path, readonly=True).count()
            except Exception:
                return 0

        wait_for(
            lambda: indexed() == 100 or running.error,
            timeout=60,
            message="100 valid products indexed",
        )
        assert running.error is None, running.error
        [letter] = wait_for(
            lambda: [d for d in letters(settings) if d["service"] == "indexer"],
            timeout=30,
            message="the poison product dead-lettered",
        )
        assert letter["source_offset"] == "50" and "nest" in letter["error"].lower()
    finally:
        running.stop()


def _dumps_deep(value: Any) -> bytes:
    """JSON text of a value nested deeper than orjson can dump (written by hand)."""
    if isinstance(value, dict):
        return (
            b"{"
            + b",".join(orjson.dumps(k) + b":" + _dumps_deep(v) for k, v in value.items())
            + b"}"
        )
    if isinstance(value, list):
        return b"[" + b",".join(_dumps_deep(v) for v in value) + b"]"
    return orjson.dumps(value)


def test_lake_sink_dead_letters_an_unwritable_record_and_writes_the_rest(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(lake={"flush_records": 10, "flush_seconds": 0.3})
    catalog = list(generate_catalog(30, seed=5))
    poison = {**catalog[0], "product_id": "999002", "specifications": {"x": deep(300)}}
    records = [(p["product_id"], orjson.dumps(p)) for p in catalog[:10]]
    records.append(("999002", _dumps_deep(poison)))
    records += [(p["product_id"], orjson.dumps(p)) for p in catalog[10:]]
    send(settings, settings.topics.shop_products, records, partition=0)
    writer = LakeWriter.from_settings(settings)
    running = Running(build_lake_sink(settings, group_id=f"lake-{uuid.uuid4().hex[:6]}"))
    try:

        def rows() -> int:
            try:
                return read_dataset(writer, "shop_products").num_rows
            except Exception:
                return 0

        wait_for(lambda: rows() == 30 or running.error, timeout=60, message="30 lake rows")
        assert running.error is None, running.error
        wait_for(
            lambda: [d for d in letters(settings) if d["source_offset"] == "10"],
            timeout=30,
            message="the poison record dead-lettered",
        )
    finally:
        running.stop()


class ValidateProducts(Step):
    """The smallest real consumer of shop-products: decode and validate, write nothing."""

    service = "toy-validator"

    def process(self, message: Message) -> list[Output]:
        decode("product", message.value())
        return []


def test_flood_stop_dead_letters_the_tripping_record_and_a_restart_repeats_none(
    make_settings: Callable[..., Settings],
) -> None:
    # window 20, ratio 0.5: the 11th invalid record within 20 offsets trips the stop.
    settings = make_settings(worker={"dlq_window": 20, "dlq_flood_ratio": 0.5})
    topic, group = settings.topics.shop_products, f"flood-{uuid.uuid4().hex[:6]}"
    send(settings, topic, [(str(i), b"{not json") for i in range(40)], partition=0)

    first = Running(StreamWorker(settings, ValidateProducts(), [topic], group_id=group))
    first.thread.join(60)
    assert isinstance(first.error, DeadLetterFlood), first.error
    after_first = wait_for(lambda: letters(settings), timeout=20, message="dead letters")
    assert len(after_first) == 11, "the record that tripped the flood stop is dead-lettered"
    assert committed(settings, group, topic)[0] == 11, "the dead-lettered records commit"

    second = Running(StreamWorker(settings, ValidateProducts(), [topic], group_id=group))
    second.thread.join(60)
    assert isinstance(second.error, DeadLetterFlood), second.error
    found = wait_for(
        lambda: (lambda d: d if len(d) >= 22 else None)(letters(settings)),
        timeout=20,
        message="22 dead letters",
    )
    offsets = [(d["source_partition"], d["source_offset"]) for d in found]
    assert len(offsets) == len(set(offsets)) == 22, "a record was dead-lettered twice"


def test_flood_stop_then_restart_leaves_no_duplicate_lake_row(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        worker={"dlq_window": 20, "dlq_flood_ratio": 0.5},
        lake={"flush_records": 1000, "flush_seconds": 30},
    )
    topic, group = settings.topics.client_events, f"flood-lake-{uuid.uuid4().hex[:6]}"
    # 11 invalid then 29 valid records: the stop comes with valid rows still buffered.
    send(
        settings,
        topic,
        [("u-1", b"{not json") for _ in range(11)] + [("u-1", event(i)) for i in range(29)],
        partition=0,
    )
    first = Running(build_lake_sink(settings, group_id=group))
    first.thread.join(60)
    assert isinstance(first.error, DeadLetterFlood), first.error
    writer = LakeWriter.from_settings(settings)
    settings_fast = settings.model_copy(
        update={"lake": settings.lake.model_copy(update={"flush_seconds": 0.3})}
    )
    second = Running(build_lake_sink(settings_fast, group_id=group))
    try:
        wait_for(
            lambda: committed(settings, group, topic)[0] == 40,
            timeout=60,
            message="everything committed after the restart",
        )
    finally:
        second.stop()
    assert second.error is None, second.error
    table = read_dataset(writer, "client_events", ["_partition", "_offset"])
    keys = list(
        zip(
            table.column("_partition").to_pylist(), table.column("_offset").to_pylist(), strict=True
        )
    )
    assert len(keys) == len(set(keys)) == 29, f"{len(keys)} rows, {len(set(keys))} distinct"


def test_a_flood_the_lake_sink_finds_while_writing_commits_and_a_restart_goes_on(
    make_settings: Callable[..., Settings],
) -> None:
    """Products that parse but break the contract are judged by the lake sink in the
    batch it writes, and dead-lettered after the write. A blind review produced 1,200 such
    products: the sink stopped on the flood without committing, so each restart read the
    same records and stopped at the same offset until the supervisor gave up, and the lake
    took nothing more. Now what it wrote and refused commits before it stops, and the
    restart goes on."""
    settings = make_settings(
        worker={"dlq_window": 20, "dlq_flood_ratio": 0.5},
        lake={"flush_records": 1000, "flush_seconds": 0.3},
    )
    topic, group = settings.topics.shop_products, f"flood-batch-{uuid.uuid4().hex[:6]}"
    catalog = list(generate_catalog(40, seed=9))
    for product in catalog[:11]:  # valid JSON, invalid product: judged in the write
        product["price"]["amount"] = -1
    send(settings, topic, [(p["product_id"], orjson.dumps(p)) for p in catalog], partition=0)

    first = Running(build_lake_sink(settings, group_id=group))
    first.thread.join(60)
    assert isinstance(first.error, DeadLetterFlood), first.error
    assert committed(settings, group, topic)[0] == 40, "what was written and refused commits"
    refused = wait_for(
        lambda: (lambda d: d if len(d) >= 11 else None)(letters(settings)),
        timeout=20,
        message="11 dead letters",
    )
    offsets = {d["source_offset"] for d in refused}
    assert len(refused) == len(offsets) == 11 and offsets == {str(i) for i in range(11)}

    second = Running(build_lake_sink(settings, group_id=group))
    more = list(generate_catalog(5, seed=10))
    send(settings, topic, [(p["product_id"], orjson.dumps(p)) for p in more], partition=0)
    try:
        wait_for(
            lambda: committed(settings, group, topic)[0] == 45 or second.error,
            timeout=60,
            message="the restart goes on with what came next",
        )
    finally:
        second.stop()
    assert second.error is None, second.error
    writer = LakeWriter.from_settings(settings)
    table = read_dataset(writer, "shop_products", ["_offset"])
    assert sorted(table.column("_offset").to_pylist()) == list(range(11, 45))


class Inflate(Step):
    """Writes each record 2,000 times over: too large for any producer for big inputs."""

    service = "toy-inflate"

    def __init__(self, topic: str) -> None:
        self.topic = topic

    def process(self, message: Message) -> list[Output]:
        return [Output(self.topic, message.key(), (message.value() or b"") * 2000)]


def test_an_output_too_large_for_the_producer_is_dead_lettered_not_a_crash(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    topic, group = settings.topics.client_events, f"inflate-{uuid.uuid4().hex[:6]}"
    send(settings, topic, [("small", b"x"), ("big", b"y" * 1000), ("small2", b"z")], partition=0)
    running = Running(
        StreamWorker(settings, Inflate(settings.topics.orders), [topic], group_id=group)
    )
    try:
        wait_for(
            lambda: committed(settings, group, topic)[0] == 3 or running.error,
            timeout=30,
            message="all three records committed",
        )
        assert running.error is None, running.error
        [letter] = letters(settings)
        assert letter["source_offset"] == "1" and "exceeds" in letter["error"]
        assert len(list(read_to_end(settings, [settings.topics.orders]))) == 2
    finally:
        running.stop()


@pytest.mark.parametrize(
    "headers",
    [
        [("replay_for", b"\xff\xfe")],
        [("replay_for", b",")],
        [("replay_for", b"")],
        [("replay_for", b"garbage")],
        [("replay_for", b"filter"), ("replay_root", b"shop-products:0:7")],
        # Seen on the cluster: a well-formed copy addressed to a service that does not read
        # the topic was skipped by every reader (neither in the lake nor dead-lettered).
        [("replay_for", b"ghost"), ("replay_root", b"{topic}:0:0"), ("replay_count", b"1")],
    ],
    ids=["not-utf8", "comma", "empty", "no-root", "root-of-another-topic", "for-no-reader"],
)
def test_a_broken_replay_header_is_dead_lettered_not_a_crash_loop(
    make_settings: Callable[..., Settings], headers: list[tuple[str, bytes]]
) -> None:
    """`replay_for` is written by `dlq replay`; a record produced around it may carry any
    bytes there. Seen on `vitrina up`: b"\\xff\\xfe" crashed the filter and the lake sink
    on every restart (UnicodeDecodeError) until the supervisor gave up on both, and
    b"garbage" made every consumer skip the record: it reached neither the lake nor
    dead-letters."""
    settings = make_settings(lake={"flush_records": 10, "flush_seconds": 0.3})
    topic = settings.topics.client_events
    headers = [(k, v.replace(b"{topic}", topic.encode())) for k, v in headers]
    producer = Producer(producer_config(settings, "test"))
    producer.produce(topic, event(1), "u-1", partition=0, headers=headers)
    producer.produce(topic, event(2), "u-1", partition=0)
    assert producer.flush(30) == 0
    for build in (
        lambda group: StreamWorker(settings, ValidateEvents(), [topic], group_id=group),
        lambda group: build_lake_sink(settings, group_id=group),
    ):
        group = f"replay-hdr-{uuid.uuid4().hex[:6]}"
        running = Running(build(group))
        try:
            wait_for(
                lambda: committed(settings, group, topic)[0] == 2 or running.error,  # noqa: B023
                timeout=60,
                message="both records committed",
            )
        finally:
            running.stop()
        assert running.error is None, running.error
    found = wait_for(
        lambda: (lambda d: d if len(d) >= 2 else None)(letters(settings)),
        timeout=20,
        message="the record dead-lettered by both services",
    )
    assert sorted(d["service"] for d in found) == ["lake-sink", "toy-event-validator"]
    assert {d["source_offset"] for d in found} == {"0"}
    assert all("replay_" in d["error"] for d in found), found
    assert all("replay_for" not in d for d in found), "the broken header is not carried on"


class ValidateEvents(Step):
    """A consumer of client-events that decodes and validates, writes nothing."""

    service = "toy-event-validator"

    def process(self, message: Message) -> list[Output]:
        decode("client_event", message.value())
        return []


def test_lake_sink_refuses_a_ban_keyed_by_another_product(
    make_settings: Callable[..., Settings],
) -> None:
    """Seen on the cluster: a banned-products record keyed 100005 with product_id 100006 was
    dead-lettered by the filter but written to the lake as a ban of 100006, which analytics
    reads; the sink now refuses it as the filter does (bans.decode_ban)."""
    settings = make_settings(lake={"flush_records": 10, "flush_seconds": 0.3})

    def ban(pid: str) -> bytes:
        return orjson.dumps(
            {
                "product_id": pid,
                "reason": "t",
                "banned_by": "t",
                "banned_at": "2026-01-01T00:00:00Z",
            }
        )

    send(
        settings,
        settings.topics.banned_products,
        [("100005", ban("100006")), ("100007", ban("100007"))],
        partition=0,
    )
    writer = LakeWriter.from_settings(settings)
    running = Running(build_lake_sink(settings, group_id=f"lake-{uuid.uuid4().hex[:6]}"))
    try:

        def banned() -> list[str]:
            try:
                return read_dataset(writer, "banned_products").column("product_id").to_pylist()
            except Exception:
                return []

        wait_for(lambda: banned() or running.error, timeout=60, message="the valid ban in the lake")
        assert running.error is None, running.error
        found = wait_for(
            lambda: [d for d in letters(settings) if d["source_offset"] == "0"],
            timeout=30,
            message="the mismatched ban dead-lettered",
        )
        assert "differs from product_id" in found[0]["error"]
        assert banned() == ["100007"]
    finally:
        running.stop()


class FreezeOnce(Step):
    """Copies each record to `topic`; at the record `at` it freezes once for `freeze_s`,
    as a process stopped (SIGSTOP, a VM paused) for longer than its transaction's timeout."""

    service = "toy-freeze"

    def __init__(self, topic: str, at: bytes, freeze_s: float) -> None:
        self.topic, self.at, self.freeze_s = topic, at, freeze_s
        self.frozen = False

    def process(self, message: Message) -> list[Output]:
        if message.value() == self.at and not self.frozen:
            self.frozen = True
            time.sleep(self.freeze_s)  # the fault itself, not a wait for a condition
        return [Output(self.topic, message.key(), message.value())]


def each_copied_once(
    settings: Settings,
    running: Running,
    group: str,
    topics: tuple[str, str],
    values: list[bytes],
) -> None:
    """Wait until the worker committed every record of `topics[0]` partition 0 (after its
    freeze), then check each was copied to `topics[1]` exactly once (read_committed)."""
    source, out = topics
    wait_for(
        lambda: committed(settings, group, source)[0] == len(values) or running.error,
        timeout=90,
        message="every record committed after the freeze",
    )
    assert running.error is None, running.error
    copied = [m.value() for m in read_to_end(settings, [out])]
    assert sorted(copied) == sorted(values), f"{len(copied)} copies of {len(values)}"


@pytest.mark.skipif(TEST_BROKER != "kafka", reason="transactions: Apache Kafka only")
def test_a_producer_that_failed_for_good_is_replaced_and_nothing_is_lost_or_doubled(
    make_settings: Callable[..., Settings],
) -> None:
    """Seen in CI on the 3-broker cluster: the filter's transaction outlived its timeout (its
    commit waited on a killed broker), the coordinator aborted it and fenced the producer,
    and the filter exited on "Unable to produce message: Local: Fatal error". A worker takes
    a new producer instead and reads again from its committed offsets. Here the transaction
    times out after 2 s (the broker aborts timed-out ones every 10 s) while the step freezes
    for 18 s, halfway through the first batch."""
    settings = make_settings(kafka={"transactions": True, "transaction_timeout_ms": 2000})
    topic, out = settings.topics.client_events, settings.topics.orders
    group = f"freeze-{uuid.uuid4().hex[:6]}"
    values = [f"r-{i}".encode() for i in range(40)]
    send(settings, topic, [(f"k-{i}", v) for i, v in enumerate(values)], partition=0)
    step = FreezeOnce(out, at=values[20], freeze_s=18.0)
    running = Running(StreamWorker(settings, step, [topic], group_id=group))
    try:
        each_copied_once(settings, running, group, (topic, out), values)
        assert step.frozen
    finally:
        running.stop()


class AbortFailsOnce:
    """A transactional producer whose first abort fails for good (a fatal error, as
    librdkafka's when the coordinator fenced the producer meanwhile)."""

    def __init__(self, producer: Any) -> None:
        self.producer, self.failed = producer, 0

    def abort_transaction(self, *args: Any) -> None:
        from confluent_kafka import KafkaError, KafkaException

        if not self.failed:
            self.failed += 1
            raise KafkaException(
                KafkaError(KafkaError._FENCED, "Local: This instance has been fenced", fatal=True)
            )
        self.producer.abort_transaction(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.producer, name)


class Forgets:
    """A side input with no state: keeps which partitions the worker let go of."""

    def __init__(self) -> None:
        self.dropped: list[tuple[str, int]] = []

    def catch_up(self) -> Any:
        from vitrina.kafka.steps import SideWork

        return SideWork()

    def recover(self, partitions: Any) -> Any:
        from vitrina.kafka.steps import SideWork

        return SideWork()

    def drop(self, partitions: Any) -> None:
        self.dropped.extend((tp.topic, tp.partition) for tp in partitions)

    def close(self) -> None:
        return None


@pytest.mark.skipif(TEST_BROKER != "kafka", reason="transactions: Apache Kafka only")
def test_partitions_lost_while_the_abort_fails_for_good_are_let_go_and_nothing_is_doubled(
    make_settings: Callable[..., Settings],
) -> None:
    """Regression: a worker frozen past its poll interval loses its partitions (on_lost),
    and aborts the open transaction; when that abort failed for good, the exception left the
    callback before the lost partitions were let go of: their side state was kept (for the
    filter: the shelves of products another replica owns now, which a ban would retract a
    second time). The worker must let them go, take a new producer and carry on: every
    record copied once."""
    # No commit due when the freeze ends (the interval is longer than it): the transaction
    # is still open when the next poll tells the worker its partitions were lost.
    settings = make_settings(kafka={"transactions": True}, worker={"commit_interval_s": 15})
    topic, out = settings.topics.client_events, settings.topics.orders
    group = f"lost-{uuid.uuid4().hex[:6]}"
    values = [f"r-{i}".encode() for i in range(40)]
    send(settings, topic, [(f"k-{i}", v) for i, v in enumerate(values)], partition=0)
    freeze = FreezeOnce(out, at=values[20], freeze_s=8.0)
    side = Forgets()
    worker = StreamWorker(
        settings,
        freeze,
        [topic],
        group_id=group,
        side_input=side,  # type: ignore[arg-type]
        consumer_extra={"max.poll.interval.ms": 6000, "session.timeout.ms": 6000},
    )
    wrapped = worker.producer = AbortFailsOnce(worker.producer)
    running = Running(worker)
    try:
        each_copied_once(settings, running, group, (topic, out), values)
        assert freeze.frozen and wrapped.failed == 1
        assert (topic, 0) in side.dropped  # let go of when lost
    finally:
        running.stop()


def test_a_broker_that_cannot_say_the_incarnations_at_assignment_stops_no_worker(
    make_settings: Callable[..., Settings],
) -> None:
    """Seen in a rehearsal (2026-12-05, the secured cluster's test of services frozen past
    their session timeout, the machine loaded): on its assignment after SIGCONT the indexer
    asked its input's incarnation, the broker did not answer within the check's 10 s
    (UnavailableError), and the indexer exited. Its docstring said such a topic is only not
    checked, but only BrokerError was caught. The broker's silence cannot be made on demand,
    so the check raises it once, as it would."""
    settings = make_settings()
    topic, out = settings.topics.client_events, settings.topics.orders
    group = f"unsaid-{uuid.uuid4().hex[:6]}"
    values = [f"u-{i}".encode() for i in range(30)]
    send(settings, topic, [(f"k-{i}", v) for i, v in enumerate(values)], partition=0)
    worker = StreamWorker(settings, FreezeOnce(out, at=b"", freeze_s=0.0), [topic], group_id=group)
    check = worker._incarnation_check
    assert check is not None
    asked = check.current
    calls: list[list[str]] = []

    def silent_once(topics: list[str], wait_s: float = 10.0) -> dict[str, str]:
        calls.append(topics)
        if len(calls) == 1:
            raise UnavailableError(f"toy: cannot check {', '.join(topics)} when assigned")
        return asked(topics, wait_s)

    check.current = silent_once  # type: ignore[method-assign]
    running = Running(worker)
    try:
        each_copied_once(settings, running, group, (topic, out), values)
        assert calls  # it was asked, and failed, at the assignment
    finally:
        running.stop()


def test_the_check_of_input_topics_names_them_as_the_lake_does_and_sees_a_recreation(
    make_settings: Callable[..., Settings],
) -> None:
    """A worker asks its input topics' incarnations at assignment with its own admin client,
    in one request (it built a client and asked the cluster id per topic before); they must
    be the names the lake gives files, and a topic created again must be seen."""
    settings = make_settings()
    orders, events = settings.topics.orders, settings.topics.client_events
    missing = f"no-such-topic-{uuid.uuid4().hex[:6]}"
    check = IncarnationCheck(settings, "test", "toy")
    try:
        now = check.current([orders, events, missing])
        assert now == {
            orders: topic_incarnation(settings, orders, "test"),
            events: topic_incarnation(settings, events, "test"),
            missing: "",
        }
        assert now[orders] != now[events]
        check(now)  # nothing changed
        recreate_topic(settings, orders)
        with pytest.raises(TopicRecreated):
            check(now)
        assert check.current([orders])[orders] == topic_incarnation(settings, orders, "test")
        assert check.current([orders])[orders] != now[orders]
    finally:
        check.close()
