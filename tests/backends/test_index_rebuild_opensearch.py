"""`vitrina index rebuild` on a real OpenSearch node: the index comes back with our mapping.

An index made with an older or operator-made mapping (`price` as `integer`) refuses a price of
5e9 for good: the indexer dead-letters that product. Rebuilding drops the index and replays
filtered-products into one created with the current mapping, where the product fits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import orjson
import pytest
from tests.conftest import wait_for
from tests.integration.test_indexer import produce

from vitrina.cluster.opensearch import OpenSearchNode
from vitrina.domain.generator import generate_catalog
from vitrina.services.index_rebuild import rebuild
from vitrina.services.indexer import build_worker
from vitrina.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_rebuild_recreates_the_index_with_the_current_mapping(
    opensearch: OpenSearchNode, make_settings: Callable[..., Settings]
) -> None:
    from opensearchpy import OpenSearch

    from vitrina.search.opensearch import OpenSearchIndex, index_body

    index_name = f"vitrina-rebuild-{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        search={
            "commit_seconds": 0.2,
            "backend": {"type": "opensearch", "url": opensearch.url, "index": index_name},
        }
    )
    client = OpenSearch(hosts=[opensearch.url], timeout=60)
    body = index_body()
    body["mappings"]["properties"]["price"] = {"type": "integer"}  # ours is double
    client.indices.create(index=index_name, body=body)
    catalog = list(generate_catalog(12, seed=4))
    big = {**catalog[0], "product_id": "990002", "price": {**catalog[0]["price"], "amount": 5e9}}
    products = [*catalog, big]
    produce(settings, [(p["product_id"], orjson.dumps(p)) for p in products])
    reader = OpenSearchIndex(client, index_name)
    group = f"indexer-{uuid.uuid4().hex[:6]}"
    worker = build_worker(settings, group_id=group)
    worker.run(until=lambda: reader.count() == len(catalog))
    assert reader.get("990002") is None  # refused by the old mapping, dead-lettered

    report = rebuild(settings, group_id=group)

    wait_for(lambda: reader.count() == len(products), timeout=30, message="every product")
    assert report.documents == len(products) and report.backend == "opensearch"
    assert reader.get("990002") is not None
    mapping = client.indices.get_mapping(index=index_name)[index_name]["mappings"]
    assert mapping["properties"]["price"]["type"] == "double"
