"""`vitrina index rebuild` against the real broker and a real tantivy index.

The rebuilt index holds exactly the fold of filtered-products (a document the topic no
longer backs is gone), the group's offsets end at the topic's end, and a rebuild refuses to
run beside an indexer or a running platform, leaving the index and the offsets untouched.
Killed with SIGKILL halfway, a second rebuild converges to the same index.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from tests.conftest import TEST_BROKER, wait_for
from tests.integration.test_indexer import Record, produce
from tests.support import settings_env

from vitrina.domain.generator import generate_catalog
from vitrina.kafka.clients import consumer_config, producer_config
from vitrina.kafka.inspect import group_members, read_to_end, topic_partitions
from vitrina.runstate import AlreadyRunning, PlatformLock
from vitrina.search.embedded import EmbeddedSearch
from vitrina.services.index_rebuild import PRINCIPAL, IndexerRunning, rebuild
from vitrina.services.indexer import build_worker
from vitrina.settings import Settings

pytestmark = pytest.mark.integration


def history(n: int, seed: int) -> tuple[list[Record], dict[str, bytes]]:
    """Two versions of `n` products, every fifth deleted: the records and their fold."""
    records: list[Record] = []
    latest: dict[str, bytes | None] = {}
    for version in range(2):
        for i, p in enumerate(generate_catalog(n, seed=seed)):
            pid = p["product_id"]
            value = (
                None
                if version == 1 and i % 5 == 0
                else orjson.dumps({**p, "name": f"{p['name']} v{version}"})
            )
            records.append((pid, value))
            latest[pid] = value
    return records, {pid: v for pid, v in latest.items() if v is not None}


def partitions(settings: Settings) -> list[TopicPartition]:
    return topic_partitions(settings, settings.topics.filtered_products)


def committed(settings: Settings, group: str) -> dict[int, int]:
    consumer = Consumer(consumer_config(settings, "indexer", group))
    try:
        return {
            tp.partition: tp.offset for tp in consumer.committed(partitions(settings), timeout=10)
        }
    finally:
        consumer.close()


def ends(settings: Settings) -> dict[int, int]:
    """Each partition's last offset + 1, read to the end (Tansu's end offsets
    from ListOffsets run short, so they are not used)."""
    last = {tp.partition: -1001 for tp in partitions(settings)}
    for msg in read_to_end(settings, [settings.topics.filtered_products]):
        last[msg.partition() or 0] = max(last[msg.partition() or 0], (msg.offset() or 0) + 1)
    return last


def index_ids(settings: Settings) -> set[str]:
    index = EmbeddedSearch(settings.search_path, readonly=True)
    try:
        return index.product_ids()
    finally:
        index.close()


def run_indexer_until(settings: Settings, group: str, expected: int) -> None:
    worker = build_worker(settings, group_id=group)
    worker.run(
        until=lambda: (
            (settings.search_path / "meta.json").is_file() and len(index_ids(settings)) >= expected
        )
    )


def test_rebuild_replays_the_fold_and_drops_what_the_topic_no_longer_backs(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(search={"commit_seconds": 0.2})
    group = f"indexer-{uuid.uuid4().hex[:6]}"
    records, fold = history(300, seed=21)
    produce(settings, records)
    run_indexer_until(settings, group, len(fold))
    # An index written by an older version: a document no record backs any more.
    stale = EmbeddedSearch(settings.search_path)
    stale.upsert([{**next(iter(generate_catalog(1, seed=99))), "product_id": "stale-1"}])
    stale.commit()
    stale.close()
    assert "stale-1" in index_ids(settings)

    seen: list[tuple[int, int]] = []
    report = rebuild(settings, group_id=group, on_progress=lambda d, t: seen.append((d, t)))

    assert index_ids(settings) == set(fold)
    assert report.documents == len(fold) and report.records == len(records)
    assert seen and seen[-1] == (len(records), len(records))
    assert all(d <= t for d, t in seen)
    assert committed(settings, group) == ends(settings)
    index = EmbeddedSearch(settings.search_path, readonly=True)
    pid = next(iter(fold))
    assert index.get(pid)["name"].endswith(" v1")  # the latest version, not the first
    index.close()


@pytest.mark.skipif(TEST_BROKER != "kafka", reason="transactions: Apache Kafka only")
def test_rebuild_ends_when_the_topic_ends_in_a_transaction_marker(
    make_settings: Callable[..., Settings],
) -> None:
    """The filter produces transactionally on Apache Kafka: the last offset of a partition
    is then a commit marker no consumer ever receives, and the rebuild must still end."""
    settings = make_settings(search={"commit_seconds": 0.2})
    records, fold = history(60, seed=5)
    producer = Producer(
        {**producer_config(settings, "test"), "transactional.id": f"tx-{uuid.uuid4().hex[:6]}"}
    )
    producer.init_transactions(30)
    producer.begin_transaction()
    for key, value in records:
        producer.produce(settings.topics.filtered_products, key=key, value=value)
    producer.commit_transaction(30)

    report = rebuild(settings, group_id=f"indexer-{uuid.uuid4().hex[:6]}")

    assert index_ids(settings) == set(fold) and report.documents == len(fold)


def test_rebuild_refuses_beside_a_running_indexer_or_platform_and_touches_nothing(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(search={"commit_seconds": 0.2})
    group = f"indexer-{uuid.uuid4().hex[:6]}"
    records, fold = history(50, seed=8)
    produce(settings, records)
    worker = build_worker(settings, group_id=group)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        wait_for(
            lambda: (
                (settings.search_path / "meta.json").is_file() and index_ids(settings) == set(fold)
            ),
            timeout=30,
            message="the running indexer to index the fold",
        )
        wait_for(lambda: committed(settings, group) == ends(settings), 30, message="its commit")
        with pytest.raises(IndexerRunning) as refused:
            rebuild(settings, group_id=group)
        assert "indexer" in refused.value.message and refused.value.hint
        assert index_ids(settings) == set(fold)
        assert committed(settings, group) == ends(settings)
    finally:
        worker.stop()
        thread.join(30)
    assert not thread.is_alive()

    lock = PlatformLock(settings).acquire()
    try:
        with pytest.raises(AlreadyRunning):
            rebuild(settings, group_id=group)
    finally:
        lock.release()
    assert committed(settings, group) == ends(settings)


# Slowed to ~20 batches a second (its progress callback sleeps) so the kill lands mid-replay.
REBUILD = """
import sys, time
from vitrina.services.index_rebuild import rebuild
from vitrina.settings import load_settings
rebuild(load_settings(), group_id=sys.argv[1], on_progress=lambda done, total: time.sleep(0.05))
"""


def test_rebuild_killed_halfway_then_run_again_converges(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    group = f"indexer-{uuid.uuid4().hex[:6]}"
    records, fold = history(2000, seed=13)
    produce(settings, records)
    env = settings_env(settings, WORKER__BATCH_SIZE="100", SEARCH__COMMIT_SECONDS="0.1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path.cwd()), env.get("PYTHONPATH")]))
    log = tmp_path / "rebuild.log"
    with log.open("ab") as fh:
        child = subprocess.Popen(
            [sys.executable, "-c", REBUILD, group], env=env, stdout=fh, stderr=subprocess.STDOUT
        )
    try:
        # Killed once the replay committed part of the topic, well before its end.
        wait_for(
            lambda: (
                child.poll() is not None
                or 0
                < sum(max(o, 0) for o in committed(settings, group).values())
                < len(records) // 2
            ),
            timeout=60,
            interval=0.05,
            message="the rebuild to commit part of the replay",
        )
        assert child.poll() is None, log.read_text()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    assert len(index_ids(settings)) < len(fold)  # halfway for sure
    # Apache Kafka lists the killed consumer as a member until its session times out (the
    # rebuild refuses till then, as beside a live indexer); the embedded broker lists none.
    wait_for(
        lambda: group_members(settings, group, PRINCIPAL) == [],
        timeout=30,
        message="the group empty",
    )

    report = rebuild(settings, group_id=group)

    assert index_ids(settings) == set(fold) and report.documents == len(fold)
    assert committed(settings, group) == ends(settings)


def test_the_cli_rebuilds_and_reports(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(search={"commit_seconds": 0.2})
    records, fold = history(40, seed=3)
    produce(settings, records)
    env, group = settings_env(settings), f"indexer-{uuid.uuid4().hex[:6]}"
    done = subprocess.run(
        [sys.executable, "-m", "vitrina", "index", "rebuild", "--json", "--group", group],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    report = orjson.loads(done.stdout)
    assert report["documents"] == len(fold) and report["records"] == len(records)
    assert index_ids(settings) == set(fold)
    assert committed(settings, group) == ends(settings)

    lock = PlatformLock(settings).acquire()
    try:
        again = subprocess.run(
            [sys.executable, "-m", "vitrina", "index", "rebuild", "--group", group],
            env=env,
            capture_output=True,
            timeout=60,
        )
    finally:
        lock.release()
    assert again.returncode == 1
    assert "already running" in again.stderr.decode() and "Traceback" not in again.stderr.decode()
