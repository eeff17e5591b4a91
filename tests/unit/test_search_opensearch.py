"""The OpenSearch backend: the requests it builds (mapping, bulk body, query DSL), checked
through an in-process fake transport; plus a live test when VITRINA_TEST_OPENSEARCH_URL names
a server (no server can run on the development machine)."""

from __future__ import annotations

import os
import uuid
from typing import Any, ClassVar

import orjson
import pytest
from opensearchpy import NotFoundError, OpenSearch, Transport

from vitrina.errors import BadRequestError, UnavailableError
from vitrina.search.base import SearchFilters
from vitrina.search.opensearch import (
    OpenSearchIndex,
    bulk_lines,
    index_body,
    index_document,
    query_body,
)

PRODUCT = {"product_id": "42", "name": "Кроссовки беговые Nike", "description": "Лёгкие",
           "price": {"amount": 4999.0, "currency": "RUB"}, "category": "Обувь", "brand": "Nike",
           "stock": {"available": 3, "reserved": 0}, "tags": ["бег"],
           "specifications": {"Размер": "42", "Вес": 300}}


class FakeTransport(Transport):
    """Records every request; answers like an OpenSearch node would for these calls."""

    requests: ClassVar[list[tuple[str, str, Any]]] = []
    indices: ClassVar[set[str]] = set()

    def perform_request(self, method: str, url: str, params: Any = None, body: Any = None,
                        timeout: Any = None, ignore: Any = (), headers: Any = None) -> Any:
        if isinstance(body, bytes | str) and url.endswith("_bulk"):
            body = [orjson.loads(line) for line in body.splitlines() if line.strip()]
        FakeTransport.requests.append((method, url, body))
        name = url.strip("/").split("/")[0]
        if method == "HEAD":  # the real transport answers HEAD with a bool
            return name in FakeTransport.indices
        if method == "PUT" and url.count("/") == 1:
            FakeTransport.indices.add(name)
            return {"acknowledged": True}
        if url.endswith("_bulk"):
            items = [{"delete": {"_id": line["delete"]["_id"], "status": 404,
                                 "error": {"type": "not_found"}}}
                     for line in body if "delete" in line]
            return {"errors": bool(items), "items": items}
        if url.endswith("_search"):
            return {"hits": {"total": {"value": 1}, "hits": [
                {"_id": "42", "_score": 3.5, "_source": {"product": PRODUCT}}]}}
        if "/_doc/" in url:
            raise NotFoundError(404, "not_found", {})
        if url.endswith("_count"):
            return {"count": 7}
        return {}


@pytest.fixture
def backend() -> OpenSearchIndex:
    FakeTransport.requests = []
    FakeTransport.indices = set()
    client = OpenSearch(hosts=["http://fake:9200"], transport_class=FakeTransport)
    return OpenSearchIndex(client, "vitrina-products")


def test_mapping_has_russian_analysis_and_exact_filter_keys() -> None:
    body = index_body()
    analysis = body["settings"]["analysis"]
    assert {"type": "stemmer", "language": "russian"} in analysis["filter"].values()
    props = body["mappings"]["properties"]
    assert props["name"]["analyzer"] == "ru_text"
    assert props["category_key"] == {"type": "keyword", "normalizer": "key"}
    assert props["price"]["type"] == "double" and props["in_stock"]["type"] == "boolean"
    assert props["product"]["enabled"] is False
    assert set(index_document(PRODUCT)) <= set(props)  # dynamic: strict would refuse extras


def test_document_carries_lemmas_and_filter_keys() -> None:
    doc = index_document(PRODUCT)
    assert "кроссовок" in doc["name_lemma"].split()
    assert doc["category_key"] == "обувь" and doc["brand_key"] == "nike"
    assert doc["in_stock"] is True and doc["price"] == 4999.0
    assert doc["specifications"] == "42 300" and doc["product"] == PRODUCT


def test_bulk_body_is_keyed_by_product_id() -> None:
    lines = bulk_lines("ix", [PRODUCT], ["7"])
    assert lines[0] == {"delete": {"_index": "ix", "_id": "7"}}
    assert lines[1] == {"index": {"_index": "ix", "_id": "42"}}
    assert lines[2]["product_id"] == "42"


def test_query_dsl_filters_sort_paging() -> None:
    body = query_body("кроссовок", SearchFilters(category="Обувь", brand="NIKE", price_min=100,
                                                 in_stock=True), "price_desc", 5, 10)
    assert body is not None
    filters = body["query"]["bool"]["filter"]
    assert {"term": {"category_key": "обувь"}} in filters
    assert {"term": {"brand_key": "nike"}} in filters
    assert {"range": {"price": {"gte": 100.0}}} in filters
    assert {"term": {"in_stock": True}} in filters
    assert body["sort"][0] == {"price": {"order": "desc"}}
    assert (body["from"], body["size"]) == (10, 5)
    should = body["query"]["bool"]["must"][0]["bool"]["should"]
    assert should[1]["multi_match"]["query"] == "кроссовок"  # lemma of the query word


def test_hostile_queries_build_clean_bodies() -> None:
    assert query_body("")["query"]["bool"]["must"] == [{"match_all": {}}]  # type: ignore[index]
    assert query_body("😀 ?!") is None  # text with nothing searchable: empty result
    body = query_body('name:"(x AND' + "я" * 10_000)
    assert body is not None
    text = body["query"]["bool"]["must"][0]["bool"]["should"][0]["multi_match"]["query"]
    assert ":" not in text and '"' not in text and len(text) <= 256
    with pytest.raises(BadRequestError):
        query_body("x", sort="cheap")  # type: ignore[arg-type]


def test_backend_requests_through_fake_transport(backend: OpenSearchIndex) -> None:
    backend.upsert([PRODUCT])
    backend.delete(["404"])  # deleting a missing document is not an error
    backend.commit()
    calls = [(m, u) for m, u, _ in FakeTransport.requests]
    assert calls[:3] == [("HEAD", "/vitrina-products"), ("PUT", "/vitrina-products"),
                         ("POST", "/_bulk")]
    assert ("POST", "/vitrina-products/_refresh") in calls
    create_body = FakeTransport.requests[1][2]
    assert create_body["mappings"]["properties"]["name_lemma"]["analyzer"] == "ru_lemma"
    page = backend.search("кроссовки", SearchFilters(brand="Nike"))
    assert page.total == 1 and page.hits[0].product == PRODUCT and page.hits[0].score == 3.5
    _, url, body = FakeTransport.requests[-1]
    assert url == "/vitrina-products/_search" and body["query"]["bool"]["filter"]
    assert backend.search("😀").total == 0
    assert backend.get("1") is None
    assert backend.count() == 7


def test_bulk_item_failure_is_an_unavailable_error(backend: OpenSearchIndex) -> None:
    class Failing(FakeTransport):
        def perform_request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if url.endswith("_bulk"):
                return {"errors": True, "items": [{"index": {
                    "_id": "42", "status": 429, "error": {"type": "es_rejected_execution"}}}]}
            return super().perform_request(method, url, *args, **kwargs)

    failing = OpenSearchIndex(OpenSearch(hosts=["http://fake:9200"], transport_class=Failing),
                              "ix")
    with pytest.raises(UnavailableError, match="es_rejected_execution"):
        failing.upsert([PRODUCT])


LIVE_URL = os.environ.get("VITRINA_TEST_OPENSEARCH_URL")


@pytest.mark.skipif(not LIVE_URL, reason="set VITRINA_TEST_OPENSEARCH_URL to a server")
def test_live_server_round_trip() -> None:
    client = OpenSearch(hosts=[LIVE_URL], verify_certs=False)
    index = OpenSearchIndex(client, f"vitrina-test-{uuid.uuid4().hex[:8]}")
    try:
        other = {**PRODUCT, "product_id": "43", "name": "Гантели разборные", "category": "Спорт",
                 "price": {"amount": 1500.0, "currency": "RUB"}}
        index.upsert([PRODUCT, other])
        index.commit()
        assert index.count() == 2
        assert [h.product_id for h in index.search("кроссовок").hits] == ["42"]
        assert [h.product_id for h in index.search("", sort="price_asc").hits] == ["43", "42"]
        assert index.search("гантель", SearchFilters(category="спорт")).total == 1
        index.delete(["42"])
        index.commit()
        assert index.get("42") is None and index.count() == 1
    finally:
        client.indices.delete(index=index.index, ignore_unavailable=True)
