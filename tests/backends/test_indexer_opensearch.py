"""The indexer on a real OpenSearch node and the real broker: a refused document dead-letters.

A product the contract accepts cannot reach OpenSearch's own hard limits with the index the
indexer creates (brand/category ≤ 200 characters, text fields split tokens at 255; a 40 KB
brand is a ContractError, dead-lettered at decode). So the test meets an index that differs
from ours the way an operator-made or older index can: `price` mapped as `integer`. A price of
5e9 (valid by contract) is then refused for good by the real node (HTTP 400,
mapper_parsing_exception → RejectedDocuments after the rest of the bulk is written). Before
the fix the indexer crashed on it, committed nothing and crashed again on every restart; now
that product goes to `dead-letters` with the reason, its offset commits, the other products of
the batch are searchable, and the indexer keeps running.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer, TopicPartition
from tests.conftest import wait_for
from tests.integration.test_indexer import produce
from tests.support import ChildProcess, settings_env

from vitrina.cluster.opensearch import OpenSearchNode
from vitrina.domain.generator import generate_catalog
from vitrina.kafka.clients import consumer_config
from vitrina.kafka.deadletter import headers_dict
from vitrina.kafka.inspect import read_to_end
from vitrina.services.indexer import build_worker
from vitrina.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
VITRINA = [sys.executable, "-m", "vitrina"]


def test_a_product_opensearch_refuses_is_dead_lettered_and_the_indexer_keeps_running(
    opensearch: OpenSearchNode, make_settings: Callable[..., Settings]
) -> None:
    from opensearchpy import OpenSearch

    from vitrina.search.opensearch import OpenSearchIndex, index_body

    index_name = f"vitrina-indexer-{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        search={
            "commit_seconds": 0.2,
            "backend": {"type": "opensearch", "url": opensearch.url, "index": index_name},
        }
    )
    body = index_body()
    body["mappings"]["properties"]["price"] = {"type": "integer"}  # ours is double
    OpenSearch(hosts=[opensearch.url], timeout=60).indices.create(index=index_name, body=body)
    catalog = list(generate_catalog(20, seed=11))
    assert all(p["price"]["amount"] < 2**31 for p in catalog)
    bad = {
        **catalog[5],
        "product_id": "990001",
        "price": {**catalog[5]["price"], "amount": 5_000_000_000},
    }
    records = [(p["product_id"], orjson.dumps(p)) for p in catalog[:10]]
    records.insert(4, (bad["product_id"], orjson.dumps(bad)))
    produce(settings, records)

    group = f"indexer-{uuid.uuid4().hex[:6]}"
    worker = build_worker(settings, group_id=group)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            worker.run()
        except BaseException as exc:  # the test reports it
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    reader = OpenSearchIndex(OpenSearch(hosts=[opensearch.url], timeout=60), index_name)
    try:

        def indexer_letters() -> list[Any]:
            return [
                m
                for m in read_to_end(settings, [settings.topics.dead_letters])
                if headers_dict(m.headers()).get("service") == "indexer"
            ]

        letters = wait_for(
            lambda: indexer_letters() or failure or None,
            timeout=60,
            message="the refused product's dead letter",
        )
        assert not failure, f"the indexer crashed: {failure[0]!r}"
        assert len(letters) == 1
        letter = letters[0]
        headers = headers_dict(letter.headers())
        assert "990001" in headers["error"]
        assert "HTTP 400" in headers["error"] and "price" in headers["error"], headers["error"]
        assert headers["source_topic"] == settings.topics.filtered_products
        source = next(
            m
            for m in read_to_end(settings, [settings.topics.filtered_products])
            if m.key() == b"990001"
        )
        assert (headers["source_partition"], headers["source_offset"]) == (
            str(source.partition()),
            str(source.offset()),
        )
        assert letter.key() == b"990001"
        assert orjson.loads(letter.value()) == bad  # the original bytes, not a copy

        wait_for(lambda: reader.count() == 10, timeout=30, message="the 10 good products")
        assert reader.get("990001") is None
        first = catalog[0]
        assert first["product_id"] in {
            h.product_id for h in reader.search(first["name"], limit=5).hits
        }

        # Still running: a later product is indexed, and every offset commits.
        late = catalog[10]
        produce(settings, [(late["product_id"], orjson.dumps(late))])
        wait_for(
            lambda: reader.get(late["product_id"]) is not None,
            timeout=30,
            message="a product sent after the refused one",
        )
        assert not failure and thread.is_alive()
        probe = Consumer(consumer_config(settings, "test", group))
        try:

            def committed() -> int:
                tps = probe.committed(
                    [
                        TopicPartition(settings.topics.filtered_products, p)
                        for p in range(settings.kafka.partitions)
                    ],
                    10,
                )
                return sum(max(tp.offset, 0) for tp in tps)

            wait_for(
                lambda: committed() == 12,
                timeout=30,
                message="all 12 offsets committed, the refused one included",
            )
        finally:
            probe.close()
    finally:
        worker.stop()
        thread.join(30)
        reader.close()
    assert not thread.is_alive()
    assert not failure, f"the indexer crashed: {failure[0]!r}"


def test_the_indexer_service_logs_where_it_writes_and_not_every_opensearch_request(
    opensearch: OpenSearchNode, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Operator review of 9d56bff: on OpenSearch `vitrina run indexer` logged the local index
    folder it never wrote to, and opensearch-py logged every bulk request at INFO."""
    from opensearchpy import OpenSearch

    from vitrina.search.opensearch import OpenSearchIndex

    index_name = f"vitrina-indexer-{uuid.uuid4().hex[:8]}"
    settings = make_settings()
    produce(settings, [(p["product_id"], orjson.dumps(p)) for p in generate_catalog(5, seed=3)])
    env = settings_env(
        settings,
        PORTS__INDEXER="0",
        LOG_LEVEL="INFO",
        SEARCH__COMMIT_SECONDS="0.2",
        SEARCH__BACKEND__TYPE="opensearch",
        SEARCH__BACKEND__URL=opensearch.url,
        SEARCH__BACKEND__INDEX=index_name,
    )
    indexer = ChildProcess("indexer", [*VITRINA, "run", "indexer"], tmp_path / "indexer.log", env)
    reader = OpenSearchIndex(OpenSearch(hosts=[opensearch.url], timeout=60), index_name)
    try:
        wait_for(
            lambda: indexer.popen.poll() is None and _count(reader) == 5,
            timeout=90,
            interval=0.5,
            message="the 5 products in OpenSearch",
            explain=indexer.tail,
        )
    finally:
        indexer.stop()
    log = indexer.log.read_text()
    assert f"→ OpenSearch {opensearch.url} index {index_name}" in log, log
    assert str(settings.search_path) not in log
    assert "[status:" not in log, log  # opensearch-py's per-request line


def _count(reader: Any) -> int:
    """Documents in the index; -1 until the indexer has created it."""
    try:
        return int(reader.count())
    except Exception:
        return -1
