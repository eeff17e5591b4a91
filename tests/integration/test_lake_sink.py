"""The lake sink against the real embedded broker and real Parquet files.

In a thread: every dataset lands typed, bad records go to dead-letters. As a subprocess
(`vitrina run lake-sink`): kill -9 mid-stream, restart, and the lake holds every record
exactly once by (topic, partition, offset).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
from confluent_kafka import Producer
from tests.conftest import free_port, wait_for
from tests.support import committed, recreate_topic, settings_env

from vitrina.kafka.clients import producer_config
from vitrina.kafka.deadletter import headers_dict
from vitrina.kafka.inspect import read_to_end
from vitrina.lake.layout import DATASETS
from vitrina.lake.reader import dataset_stats, read_dataset
from vitrina.lake.writer import LakeWriter
from vitrina.lifecycle import port_open
from vitrina.services.lake_sink import build_worker
from vitrina.settings import Settings

pytestmark = pytest.mark.integration

OLD_DAY_MS = int(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp() * 1000)
Record = tuple[str | None, bytes | None, int | None]  # key, value, timestamp ms


def product(i: int) -> dict:
    return {
        "product_id": str(1000 + i),
        "name": f"Товар {i}",
        "category": "Электроника",
        "price": {"amount": 100.0 + i, "currency": "RUB"},
        "tags": ["a", "b"],
        "stock": {"available": i, "reserved": 0},
        "updated_at": "2024-05-01T10:00:00Z",
    }


def order(i: int) -> dict:
    return {
        "order_id": f"o-{i}",
        "customer_id": f"c-{i % 7}",
        "email": f"user{i}@mail.ru",
        "order_date": "2024-05-01T10:00:00Z",
        "state": "paid",
        "items": [
            {"product_id": "1001", "quantity": 1, "price": 10.0},
            {"product_id": "1002", "quantity": 3},
        ],
    }


def event(i: int) -> dict:
    return {
        "event_id": f"e-{i}",
        "user_id": f"u-{i % 11}",
        "type": "view",
        "product_id": str(1000 + i % 50),
        "timestamp": "2024-05-01T10:00:00Z",
    }


def query(i: int) -> dict:
    return {
        "query_id": f"q-{i}",
        "user_id": "u-1",
        "kind": "search",
        "query": "часы",
        "filters": {"brand": "X"},
        "result_count": i,
        "latency_ms": 1.5,
        "timestamp": "2024-05-01T10:00:00Z",
    }


def ban(i: int) -> dict:
    return {
        "product_id": str(1000 + i),
        "reason": "подделка",
        "banned_by": "moderator",
        "banned_at": "2024-05-01T10:00:00Z",
    }


def j(value: dict) -> bytes:
    return orjson.dumps(value)


def produce(settings: Settings, topic: str, records: Iterable[Record]) -> int:
    producer = Producer(producer_config(settings, "test"))
    n = 0
    for key, value, ts in records:
        kwargs = {"timestamp": ts} if ts is not None else {}
        while True:
            try:
                producer.produce(topic, key=key, value=value, **kwargs)
                break
            except BufferError:
                producer.poll(0.1)
        n += 1
    assert producer.flush(30) == 0, "records not delivered"
    return n


def lake_rows(writer: LakeWriter, role: str) -> int:
    return dataset_stats(writer, role).rows


def run_in_thread(settings: Settings, group: str) -> tuple[Callable[[], None], threading.Thread]:
    worker = build_worker(settings, group_id=group)
    errors: list[BaseException] = []

    def target() -> None:
        try:
            worker.run()
        except BaseException as exc:  # surfaced by the test, not swallowed
            errors.append(exc)

    thread = threading.Thread(target=target, name="lake-sink", daemon=True)
    thread.start()

    def stop() -> None:
        worker.stop()
        thread.join(30)
        assert not thread.is_alive(), "lake sink did not stop"
        assert not errors, f"lake sink crashed: {errors!r}"

    return stop, thread


def test_every_dataset_lands_typed_and_bad_records_are_dead_lettered(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(lake={"flush_records": 20, "flush_seconds": 0.5})
    t = settings.topics
    produce(
        settings,
        t.shop_products,
        [(str(1000 + i), j(product(i)), None) for i in range(30)]
        + [
            ("1", b"{not json", None),  # malformed
            ("2", j({"product_id": "2", "name": "no price"}), None),
        ],
    )  # contract
    produce(
        settings,
        t.blocked_products,
        [
            (
                str(1000 + i),
                j({**product(i), "ban": {k: v for k, v in ban(i).items() if k != "product_id"}}),
                None,
            )
            for i in range(3)
        ],
    )
    produce(
        settings,
        t.banned_products,
        [(str(1000 + i), j(ban(i)), OLD_DAY_MS) for i in range(3)]
        + [("1000", None, None), ("not a product!", None, None)],
    )  # unban; bad key
    produce(
        settings,
        t.orders,
        [(f"c-{i}", j(order(i)), OLD_DAY_MS) for i in range(5)] + [("c-x", None, None)],
    )  # null order
    produce(settings, t.client_events, [(f"u-{i}", j(event(i)), None) for i in range(7)])
    produce(settings, t.client_queries, [("u-1", j(query(i)), None) for i in range(4)])
    expected = {
        "shop_products": 30,
        "blocked_products": 3,
        "banned_products": 4,
        "orders": 10,
        "client_events": 7,
        "client_queries": 4,
    }

    writer = LakeWriter.from_settings(settings)
    stop, _ = run_in_thread(settings, f"lake-test-{uuid.uuid4().hex[:6]}")
    try:
        wait_for(
            lambda: {r: lake_rows(writer, r) for r in DATASETS} == expected,
            timeout=60,
            message=f"lake rows {expected}",
        )
    finally:
        stop()

    for role in DATASETS:
        table = read_dataset(writer, role)
        keys = set(
            zip(
                table.column("_topic").to_pylist(),
                table.column("_partition").to_pylist(),
                table.column("_offset").to_pylist(),
                table.column("line_no").to_pylist() if role == "orders" else [0] * table.num_rows,
                strict=True,
            )
        )
        assert len(keys) == table.num_rows == expected[role], role
        assert set(table.column("_topic").to_pylist()) == {getattr(t, role)}

    bans = read_dataset(writer, "banned_products").to_pylist()
    assert sum(r["tombstone"] for r in bans) == 1
    orders = read_dataset(writer, "orders")
    assert orders.column("email_hash").null_count == 0
    for column in orders.columns:
        assert not any("@" in str(v) for v in column.to_pylist()), "clear email in the lake"
    # Record timestamps pick the date directory: the orders were stamped 2024-05-01.
    assert {f.day.isoformat() for f in writer.files("orders")} == {"2024-05-01"}
    products = read_dataset(writer, "shop_products").to_pylist()
    assert {p["product_id"] for p in products} == {str(1000 + i) for i in range(30)}
    assert products[0]["price_currency"] == "RUB" and products[0]["tags"] == ["a", "b"]

    dead = [headers_dict(m.headers()) for m in read_to_end(settings, [t.dead_letters])]
    assert sorted(d["source_topic"] for d in dead) == sorted(
        [t.shop_products, t.shop_products, t.banned_products, t.orders]
    )
    assert all(d["service"] == "lake-sink" and d["error"] for d in dead)
    assert any("JSON" in d["error"] for d in dead)
    assert any("tombstone" in d["error"] for d in dead)


def sink_env(settings: Settings, group: str, port: int) -> dict[str, str]:
    # Small files and batches so a kill lands between a flush and its commit.
    return settings_env(
        settings,
        LAKE__CONSUMER_GROUP=group,
        LAKE__FLUSH_RECORDS="40",
        LAKE__FLUSH_SECONDS="0.3",
        WORKER__BATCH_SIZE="40",
        PORTS__LAKE_SINK=str(port),
        # No merges: these tests check the crash cleanup by file names (the merge test
        # turns them on).
        LAKE__COMPACT_INTERVAL_S="0",
    )


def start_sink(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "vitrina", "run", "lake-sink"],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )


def metric_total(port: int, name: str) -> float:
    """The sum over labels of one counter on a sink's /metrics (0 while it is away)."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return 0.0
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{")
    )


def leftovers_deleted(port: int) -> float:
    return metric_total(port, "vitrina_lake_leftover_files_deleted_total")


def assert_events_once(writer: LakeWriter, total: int) -> None:
    """The lake's client events are e-0 … e-(total-1), each record once by position."""
    table = read_dataset(writer, "client_events", ["_partition", "_offset", "event_id"])
    keys = set(
        zip(
            table.column("_partition").to_pylist(), table.column("_offset").to_pylist(), strict=True
        )
    )
    assert len(keys) == table.num_rows == total, f"{table.num_rows} rows, {len(keys)} distinct"
    assert set(table.column("event_id").to_pylist()) == {f"e-{i}" for i in range(total)}


def test_kill_9_mid_stream_then_restart_keeps_every_record_exactly_once(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    topic = settings.topics.client_events
    group = f"lake-kill-{uuid.uuid4().hex[:6]}"
    port = free_port()
    env, log = sink_env(settings, group, port), tmp_path / "sink.log"
    writer = LakeWriter.from_settings(settings)
    total = 6000

    # A producer still writing while the sink is killed: the kill is mid-stream for sure.
    def feed() -> None:
        for start in range(0, total, 200):
            produce(
                settings,
                topic,
                [
                    (f"u-{i % 13}", j(event(i)), OLD_DAY_MS if i % 3 == 0 else None)
                    for i in range(start, start + 200)
                ],
            )
            time.sleep(0.05)  # ~4k records/s: slower than the sink, so it keeps up live

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    sink = start_sink(env, log)
    try:
        # Kill once it has committed some offsets and written more files since.
        wait_for(
            lambda: (
                lake_rows(writer, "client_events") >= 800
                and max(committed(settings, group, topic).values()) > 0
            ),
            timeout=60,
            message="the first sink to write 800 rows and commit",
        )
        os.kill(sink.pid, signal.SIGKILL)
        sink.wait(10)
        rows_at_kill = lake_rows(writer, "client_events")
        commits = committed(settings, group, topic)
        before = {
            f.path
            for f in writer.files("client_events")
            if f.first_offset < commits.get(f.partition, -1)
        }
        beyond = [f for f in writer.files("client_events") if f.path not in before]
        assert before, f"nothing committed at the kill: {commits}"
        feeder.join(60)
        assert not feeder.is_alive()

        sink = start_sink(env, log)
        wait_for(
            lambda: lake_rows(writer, "client_events") >= total,
            timeout=90,
            message=f"{total} rows after the restart (log: {log})",
        )
        if beyond:  # the crash left files past the commit: the restart must have removed them
            wait_for(
                lambda: leftovers_deleted(port) >= len(beyond),
                timeout=10,
                message="leftover deletions in the restarted sink's metrics",
            )
        # Give the sink time to (wrongly) write more, then check nothing is duplicated.
        wait_for(
            lambda: (
                all(v >= 0 for v in committed(settings, group, topic).values())
                and sum(committed(settings, group, topic).values()) == total
            ),
            timeout=30,
            message="the restarted sink to commit everything",
        )
    finally:
        if sink.poll() is None:
            sink.send_signal(signal.SIGTERM)
            sink.wait(20)

    assert rows_at_kill < total
    # Committed files survive the restart untouched (same names; nothing rewrote them).
    assert before <= {f.path for f in writer.files("client_events")}
    assert_events_once(writer, total)  # one topic: its records by (partition, offset)
    assert {f.day.isoformat() for f in writer.files("client_events")} >= {"2024-05-01"}


def compacted(port: int) -> float:
    return metric_total(port, "vitrina_lake_files_compacted_total")


def test_compaction_killed_at_random_moments_keeps_every_record_exactly_once(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """The sink merges its small files below the committed offset while it writes new ones;
    kill -9 at random moments (a merge half done, a flush not committed) and restart: the
    lake holds every record once, in fewer, larger files, and no merge is left half done."""
    settings = make_settings()
    topic = settings.topics.client_events
    group = f"lake-compact-{uuid.uuid4().hex[:6]}"
    port = free_port()
    env = {
        **sink_env(settings, group, port),
        "VITRINA__LAKE__COMPACT_INTERVAL_S": "0.3",
        "VITRINA__LAKE__COMPACT_TARGET_BYTES": "60000",
    }
    log = tmp_path / "sink.log"
    writer = LakeWriter.from_settings(settings)
    total, chunk = 6000, 100
    rng = random.Random(20261203)

    def feed() -> None:  # ~1,000 records a second for 6 s: kills land while it writes
        for start in range(0, total, chunk):
            produce(
                settings,
                topic,
                [
                    (f"u-{i % 13}", j(event(i)), OLD_DAY_MS if i % 3 == 0 else None)
                    for i in range(start, start + chunk)
                ],
            )
            time.sleep(0.1)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    sink = start_sink(env, log)
    try:
        for _ in range(3):
            wait_for(lambda: compacted(port) > 0, timeout=60, message=f"a merge ({log})")
            # Rounds every 0.3 s, flushes every 0.3 s: the kill lands in either, at random.
            time.sleep(rng.uniform(0, 0.6))
            os.kill(sink.pid, signal.SIGKILL)
            sink.wait(10)
            sink = start_sink(env, log)
        feeder.join(60)
        assert not feeder.is_alive()
        wait_for(
            lambda: sum(v for v in committed(settings, group, topic).values() if v > 0) == total,
            timeout=90,
            message=f"the last sink to commit all {total} records ({log})",
        )
        # Flushes of 40 records are 200+ files; merged to ~30 KB-60 KB, ~30 remain.
        wait_for(
            lambda: len(writer.files("client_events")) <= 40,
            timeout=30,
            message="the last sink to merge what it committed",
        )
    finally:
        if sink.poll() is None:
            sink.send_signal(signal.SIGTERM)
            sink.wait(20)

    assert_events_once(writer, total)
    assert writer.hidden_files("client_events", ".compact-") == []


def test_a_fresh_broker_never_costs_the_lake_its_rows(
    broker_settings: Settings, tmp_path: Path
) -> None:
    """Issue 12.1: the lake survives a broker that forgot everything (or a recreated topic).

    Broker A, then a fresh broker B on the same address (offsets start at 0 again under new
    topic ids), then A again (which kept its data, or — Tansu — forgot it too): the lake holds
    every row of all three runs, whatever the engine.
    """
    from vitrina import broker
    from vitrina.kafka.admin import apply_topics
    from vitrina.settings import load_settings

    port = free_port()
    settings = load_settings(
        data_dir=tmp_path / "data",
        broker={"port": port, "engine": broker_settings.broker.engine},
        kafka={"bootstrap_servers": f"127.0.0.1:{port}"},
        lake={"flush_records": 20, "flush_seconds": 0.3},
    )
    writer = LakeWriter.from_settings(settings)
    group, topic = "lake-incarnation", settings.topics.client_events

    def run_sink_until(rows: int) -> None:
        stop, _ = run_in_thread(settings, group)
        try:
            wait_for(
                lambda: lake_rows(writer, "client_events") >= rows,
                timeout=90,
                message=f"{rows} lake rows",
            )
        finally:
            stop()

    def on_broker(name: str, first: int, count: int, rows: int) -> None:
        wait_for(
            lambda: not port_open("127.0.0.1", port),
            timeout=30,
            message="the previous broker to release its port",
        )
        broker.start(settings, name, port)
        try:
            apply_topics(settings)
            produce(
                settings,
                topic,
                [(f"u-{i}", j(event(i)), None) for i in range(first, first + count)],
            )
            run_sink_until(rows)
        finally:
            broker.stop(settings, name)

    on_broker("incarnation-a", 0, 50, 50)
    on_broker("incarnation-b", 50, 30, 80)  # a fresh broker: offsets from 0 again
    on_broker("incarnation-a", 80, 20, 100)
    ids = read_dataset(writer, "client_events", ["event_id"]).column("event_id").to_pylist()
    assert sorted(ids) == sorted(f"e-{i}" for i in range(100)), "rows lost or doubled"


@pytest.mark.parametrize("new", [30, 100], ids=["fewer-records-than-before", "more"])
def test_a_topic_recreated_under_a_running_sink_costs_the_lake_no_rows(
    make_settings: Callable[..., Settings], new: int
) -> None:
    """A topic deleted and created again while the sink runs, without a restart (its
    consumer is not told: no rebalance, no error). Regression, both ways it went wrong:
    - fewer records than before: the old positions are out of range, the consumer starts
      the new topic at 0, and its files took (overwrote) the names of the old incarnation's
      files of the same day, partition and first offset: 40 rows became 30;
    - more: the consumer went on from the old positions, and the new records below them
      never reached the lake."""
    settings = make_settings(lake={"flush_records": 10, "flush_seconds": 0.3})
    topic = settings.topics.client_events
    writer = LakeWriter.from_settings(settings)

    def rows_and_files() -> str:
        names = sorted(f.path.rsplit("/", 1)[-1] for f in writer.files("client_events"))
        return f"{lake_rows(writer, 'client_events')} rows in {names}"

    produce(settings, topic, [(f"u-{i}", j(event(i)), None) for i in range(40)])
    stop, _ = run_in_thread(settings, f"lake-test-{uuid.uuid4().hex[:6]}")
    try:
        wait_for(
            lambda: lake_rows(writer, "client_events") == 40,
            timeout=60,
            message="the first incarnation's 40 rows",
            explain=rows_and_files,
        )
        recreate_topic(settings, topic)
        produce(settings, topic, [(f"u-{i}", j(event(i)), None) for i in range(40, 40 + new)])
        wait_for(
            lambda: lake_rows(writer, "client_events") >= 40 + new,
            timeout=90,
            message=f"the second incarnation's {new} rows beside the first's 40",
            explain=rows_and_files,
        )
    finally:
        stop()
    ids = read_dataset(writer, "client_events", ["event_id"]).column("event_id").to_pylist()
    assert sorted(ids) == sorted(f"e-{i}" for i in range(40 + new)), "rows lost or doubled"
