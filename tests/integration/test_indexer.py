"""The search indexer against the real embedded broker and a real tantivy index.

In a thread: products become searchable, a tombstone removes one, an invalid record goes to
dead-letters with the reason. As a subprocess: kill -9 mid-stream, restart, and the index
equals the latest allowed state (folded by product_id).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest
import tantivy
from confluent_kafka import Producer
from tests.conftest import free_port, wait_for
from tests.support import recreate_topic, settings_env

from vitrina.domain.generator import generate_catalog
from vitrina.kafka.clients import producer_config
from vitrina.kafka.deadletter import headers_dict
from vitrina.kafka.inspect import read_to_end
from vitrina.kafka.worker import StreamWorker
from vitrina.search.embedded import EmbeddedSearch
from vitrina.services.indexer import build_worker
from vitrina.settings import Settings

pytestmark = pytest.mark.integration

Record = tuple[str, bytes | None]


def produce(settings: Settings, records: Iterable[Record]) -> None:
    producer = Producer(producer_config(settings, "test"))
    for key, value in records:
        while True:
            try:
                producer.produce(settings.topics.filtered_products, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(30) == 0


def index_of(settings: Settings) -> EmbeddedSearch | None:
    try:
        return EmbeddedSearch(settings.search_path, readonly=True)
    except Exception:
        return None  # the indexer has not created it yet


def indexer_thread(settings: Settings) -> tuple[StreamWorker, threading.Thread]:
    """An indexer of its own group, running on a thread."""
    worker = build_worker(settings, group_id=f"indexer-{uuid.uuid4().hex[:6]}")
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return worker, thread


def indexed(settings: Settings, count: int) -> EmbeddedSearch:
    """The index, once it holds `count` products."""
    index: EmbeddedSearch = wait_for(
        lambda: index_of(settings), timeout=30, message="the index to exist"
    )
    wait_for(lambda: index.count() == count, timeout=30, message=f"{count} indexed products")
    return index


def test_products_searchable_tombstone_removes_invalid_dead_letters(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(search={"commit_seconds": 0.2})
    catalog = list(generate_catalog(50, seed=7))
    produce(settings, [(p["product_id"], orjson.dumps(p)) for p in catalog])
    worker, thread = indexer_thread(settings)
    try:
        index = indexed(settings, 50)
        first = catalog[0]
        assert first["product_id"] in {
            h.product_id for h in index.search(first["name"], limit=5).hits
        }

        renamed = {**first, "name": "Гантели уникальные Zzyzx"}
        # as a store may send it: the record's bytes are the stored copy, as they came
        renamed_bytes = orjson.dumps(renamed, option=orjson.OPT_INDENT_2)
        produce(
            settings,
            [
                (first["product_id"], renamed_bytes),
                (catalog[1]["product_id"], None),
                ("123", b"{not json"),
                ("124", orjson.dumps({"product_id": "124", "name": "без цены"})),
            ],
        )
        wait_for(
            lambda: index.get(catalog[1]["product_id"]) is None,
            timeout=30,
            message="the tombstoned product to disappear",
        )
        assert index.count() == 49
        assert [h.product_id for h in index.search("zzyzx").hits] == [first["product_id"]]
        searcher = index.index.searcher()
        query = tantivy.Query.term_query(index.schema, "product_id", first["product_id"])
        address = searcher.search(query, limit=1).hits[0][1]
        assert bytes(searcher.doc(address)["stored"][0]) == renamed_bytes
        assert index.get(first["product_id"]) == renamed

        def dead_letters() -> list[dict[str, str]]:
            return [
                headers_dict(m.headers())
                for m in read_to_end(settings, [settings.topics.dead_letters])
            ]

        letters = wait_for(
            lambda: (
                [d for d in dead_letters() if d["service"] == "indexer"]
                if len(dead_letters()) >= 2
                else None
            ),
            timeout=30,
            message="2 dead letters",
        )
        reasons = " | ".join(d["error"] for d in letters)
        assert "malformed JSON" in reasons and "price" in reasons
        assert {d["source_topic"] for d in letters} == {settings.topics.filtered_products}
    finally:
        worker.stop()
        thread.join(30)
    assert not thread.is_alive()


def test_a_record_keyed_by_another_product_is_dead_lettered_not_indexed(
    make_settings: Callable[..., Settings],
) -> None:
    """filtered-products is compacted by key and the index keyed by product_id: a record
    whose key names another product (produced around the filter) would be indexed under an
    id its key does not hold, so the key's tombstone could never withdraw it. Seen on
    `vitrina up`: key `k9`, product `p1-big` was indexed, not dead-lettered."""
    settings = make_settings(search={"commit_seconds": 0.2})
    stray, good = list(generate_catalog(2, seed=11))
    produce(
        settings,
        [("k-other", orjson.dumps(stray)), (good["product_id"], orjson.dumps(good))],
    )
    worker = build_worker(settings, group_id=f"indexer-{uuid.uuid4().hex[:6]}")
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        index = wait_for(lambda: index_of(settings), timeout=30, message="the index to exist")
        wait_for(lambda: index.get(good["product_id"]), timeout=30, message="the good product")
        letters = wait_for(
            lambda: [
                headers_dict(m.headers())
                for m in read_to_end(settings, [settings.topics.dead_letters])
            ],
            timeout=30,
            message="a dead letter",
        )
    finally:
        worker.stop()
        thread.join(30)
    assert index.get(stray["product_id"]) is None
    assert len(letters) == 1 and letters[0]["service"] == "indexer"
    assert "k-other" in letters[0]["error"] and stray["product_id"] in letters[0]["error"]


def test_caught_up_indexer_commits_at_once_and_waits_for_no_full_batch(
    make_settings: Callable[..., Settings],
) -> None:
    """Product -> searchable was ~1 s at low traffic: librdkafka's consume(500, t) waited the
    whole poll timeout unless 500 records were there, and the index committed only every
    `commit_seconds`. Both set beyond the waits here (20 s, 60 s): the fix makes a caught-up
    worker take what is waiting and commit at once."""
    settings = make_settings(search={"commit_seconds": 60}, worker={"poll_timeout_s": 20})
    catalog = list(generate_catalog(3, seed=8))
    worker = build_worker(settings, group_id=f"indexer-{uuid.uuid4().hex[:6]}")
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        produce(settings, [(catalog[0]["product_id"], orjson.dumps(catalog[0]))])
        index = wait_for(lambda: index_of(settings), timeout=30, message="the index to exist")
        wait_for(lambda: index.count() == 1, timeout=30, message="the first product indexed")
        for product in catalog[1:]:
            produce(settings, [(product["product_id"], orjson.dumps(product))])
            wait_for(
                lambda product=product: index.get(product["product_id"]) is not None,
                timeout=10,
                message=f"product {product['product_id']} searchable before the timers",
            )
    finally:
        worker.stop()
        produce(settings, [("wake-up", None)])  # ends the worker's current poll
        thread.join(30)
    assert not thread.is_alive()


RUN_INDEXER = """
import sys
from vitrina.services.indexer import build_worker
from vitrina.settings import load_settings
settings = load_settings()
worker = build_worker(settings, group_id=sys.argv[1], metrics_port=int(sys.argv[2]))
worker.install_signal_handlers()
worker.run()
"""


def indexer_env(settings: Settings) -> dict[str, str]:
    # Small batches and frequent index commits so a kill lands between the two.
    return settings_env(settings, WORKER__BATCH_SIZE="50", SEARCH__COMMIT_SECONDS="0.2")


def start_indexer(env: dict[str, str], group: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen(
            [sys.executable, "-c", RUN_INDEXER, group, str(free_port())],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )


def test_kill_9_mid_stream_then_restart_converges_to_latest_state(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    group, log = f"indexer-kill-{uuid.uuid4().hex[:6]}", tmp_path / "indexer.log"
    env = indexer_env(settings)
    catalog = list(generate_catalog(600, seed=11))
    # Three versions of every product, with some deleted and some deleted-then-republished.
    records: list[Record] = []
    latest: dict[str, dict[str, Any] | None] = {}
    for version in range(3):
        for i, p in enumerate(catalog):
            pid = p["product_id"]
            if (version == 1 and i % 5 == 0) or (version == 2 and i % 7 == 0):
                records.append((pid, None))
                latest[pid] = None
            else:
                doc = {**p, "name": f"{p['name']} v{version}"}
                records.append((pid, orjson.dumps(doc)))
                latest[pid] = doc
    expected = {pid: doc for pid, doc in latest.items() if doc is not None}

    def feed() -> None:  # still producing while the indexer is killed: mid-stream for sure
        for start in range(0, len(records), 30):
            produce(settings, records[start : start + 30])
            time.sleep(0.1)  # ~300 records/s: the 1,800 records take ~6 s

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    indexer = start_indexer(env, group, log)
    try:
        index = wait_for(lambda: index_of(settings), timeout=60, message="the index to exist")
        wait_for(
            lambda: index.count() >= 100,
            timeout=60,
            message=f"the first indexer to index 100 products (log: {log})",
        )
        mid_stream = feeder.is_alive()
        os.kill(indexer.pid, signal.SIGKILL)
        indexer.wait(10)
        assert mid_stream, "the kill should land while records are still arriving"
        feeder.join(60)
        assert not feeder.is_alive()

        indexer = start_indexer(env, group, log)

        def converged() -> bool:
            if index.product_ids() != set(expected):
                return False
            return all(
                (index.get(pid) or {}).get("name") == doc["name"] for pid, doc in expected.items()
            )

        wait_for(
            converged,
            timeout=90,
            interval=0.5,
            message=f"the index to equal the latest state (log: {log})",
        )
        assert index.count() == len(expected)
    finally:
        indexer.send_signal(signal.SIGTERM)
        try:
            indexer.wait(20)
        except subprocess.TimeoutExpired:
            indexer.kill()
    assert indexer.returncode == 0, log.read_text()


def test_a_topic_recreated_under_a_running_indexer_gets_all_its_products_indexed(
    make_settings: Callable[..., Settings],
) -> None:
    """filtered-products deleted and created again while the indexer runs, the new topic
    holding more records than the old one. A guard, not a regression test: it passed before
    the lake sink's fix too. The consumer is not told (no rebalance, no error), yet the
    worker read the new topic from its start here — while a bare consumer that never commits
    was seen to go on from the old positions, skipping the records below them (a probe on
    this broker). Were the indexer to do that, the new products below them would never be
    indexed, and this test would fail."""
    settings = make_settings(search={"commit_seconds": 0.2})
    topic = settings.topics.filtered_products
    catalog = list(generate_catalog(140, seed=11))
    produce(settings, [(p["product_id"], orjson.dumps(p)) for p in catalog[:40]])
    worker, thread = indexer_thread(settings)
    try:
        index = indexed(settings, 40)
        recreate_topic(settings, topic)
        produce(settings, [(p["product_id"], orjson.dumps(p)) for p in catalog[40:]])
        wait_for(
            lambda: index.count() == 140,
            timeout=60,
            message="the new topic's 100 products beside the old 40",
            explain=lambda: f"{index.count()} indexed",
        )
    finally:
        worker.stop()
        thread.join(30)
    assert not thread.is_alive()
