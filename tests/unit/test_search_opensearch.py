"""The OpenSearch backend's pure parts: the mapping, the bulk body, the query DSL and how a
bulk response's failures are typed. The same backend against a real OpenSearch node is
tests/backends/test_search_backends.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from vitrina.errors import BadRequestError
from vitrina.search.base import SearchFilters
from vitrina.search.fields import index_fields
from vitrina.search.opensearch import (
    bulk_failures,
    bulk_lines,
    index_body,
    index_document,
    query_body,
)

PRODUCT = {
    "product_id": "42",
    "name": "Кроссовки беговые Nike",
    "description": "Лёгкие",
    "price": {"amount": 4999.0, "currency": "RUB"},
    "category": "Обувь",
    "brand": "Nike",
    "stock": {"available": 3, "reserved": 0},
    "tags": ["бег"],
    "specifications": {"Размер": "42", "Вес": 300},
}


def test_mapping_has_russian_analysis_and_exact_filter_keys() -> None:
    body = index_body()
    analysis = body["settings"]["analysis"]
    assert {"type": "stemmer", "language": "russian"} in analysis["filter"].values()
    props = body["mappings"]["properties"]
    assert props["name"]["analyzer"] == "ru_text"
    assert props["category_key"] == {"type": "keyword", "normalizer": "key"}
    assert props["price"]["type"] == "double" and props["in_stock"]["type"] == "boolean"
    assert props["product"]["enabled"] is False
    assert set(index_document(PRODUCT)) == set(props)  # dynamic: strict would refuse extras


def test_document_is_the_shared_index_fields_plus_the_product() -> None:
    doc = index_document(PRODUCT)
    assert {k: v for k, v in doc.items() if k != "product"} == index_fields(PRODUCT)
    assert "кроссовок" in doc["name_lemma"].split()
    assert doc["category_key"] == "обувь" and doc["brand_key"] == "nike"
    assert doc["in_stock"] is True and doc["price"] == 4999.0
    assert doc["specifications"] == "размер 42 вес 300" and doc["product"] == PRODUCT


def test_bulk_body_is_keyed_by_product_id() -> None:
    lines = bulk_lines("ix", [PRODUCT], ["7"])
    assert lines[0] == {"delete": {"_index": "ix", "_id": "7"}}
    assert lines[1] == {"index": {"_index": "ix", "_id": "42"}}
    assert lines[2]["product_id"] == "42"


def test_query_dsl_filters_sort_paging_and_modes() -> None:
    body = query_body(
        "кроссовок",
        SearchFilters(category="Обувь", brand="NIKE", price_min=100, in_stock=True),
        "price_desc",
        5,
        10,
    )
    assert body is not None
    filters = body["query"]["bool"]["filter"]
    assert {"term": {"category_key": "обувь"}} in filters
    assert {"term": {"brand_key": "nike"}} in filters
    assert {"range": {"price": {"gte": 100.0}}} in filters
    assert {"term": {"in_stock": True}} in filters
    assert body["sort"][0] == {"price": {"order": "desc"}}
    assert (body["from"], body["size"]) == (10, 5)
    text = body["query"]["bool"]["must"][0]
    assert len(text["bool"]["must"]) == 1  # "and": every word must match
    word = text["bool"]["must"][0]["bool"]["should"]
    assert word[1]["multi_match"]["query"] == "кроссовок"  # the lemma of the query word
    two = query_body("самсунг телевизор", mode="or")
    assert two is not None and two["query"]["bool"]["must"][0]["bool"]["minimum_should_match"]
    brand = str(two)
    assert "samsung" in brand  # query understanding: a Cyrillic brand's Latin name
    fuzzy = query_body("клавиатурв", mode="fuzzy")
    assert fuzzy is not None and "fuzziness" in str(fuzzy)


def test_hostile_queries_build_clean_bodies() -> None:
    assert query_body("")["query"]["bool"]["must"] == [{"match_all": {}}]  # type: ignore[index]
    assert query_body("😀 ?!") is None  # text with nothing searchable: empty result
    body = query_body('name:"(x AND' + "я" * 10_000)
    assert body is not None

    def queries(node: object) -> list[str]:
        if isinstance(node, dict):
            found = [node["query"]] if isinstance(node.get("query"), str) else []
            return found + [q for v in node.values() for q in queries(v)]
        return [q for v in node for q in queries(v)] if isinstance(node, list) else []

    texts = queries(body)
    assert texts and not any(set(t) & set(':"()') for t in texts)  # syntax never reaches it
    assert len(str(body)) < 20_000  # a 10 KB query is cut, not sent whole
    with pytest.raises(BadRequestError):
        query_body("x", sort="cheap")  # type: ignore[arg-type]


def test_bulk_failures_are_typed_by_status() -> None:
    response = {
        "errors": True,
        "items": [
            {"index": {"_id": "1", "status": 201}},
            {
                "index": {
                    "_id": "2",
                    "status": 400,
                    "error": {
                        "type": "illegal_argument_exception",
                        "reason": "immense term in field=brand_key",
                    },
                }
            },
            {"index": {"_id": "3", "status": 429, "error": {"type": "rejected_execution"}}},
            {"delete": {"_id": "4", "status": 404, "error": {"type": "not_found"}}},
        ],
    }
    permanent, transient = bulk_failures(response)
    assert list(permanent) == ["2"] and "immense term" in permanent["2"]
    assert list(transient) == ["3"]
    assert bulk_failures({"errors": False, "items": response["items"]}) == ({}, {})


def test_suggest_body_prefixes_the_last_word_only() -> None:
    from vitrina.search.opensearch import suggest_body

    body = suggest_body("умные самсу")
    assert body is not None
    must = body["query"]["bool"]["must"]
    # a name's words, and those it says its product serves (fields.served_apart)
    assert must[0]["multi_match"]["query"] == "умные"
    assert must[0]["multi_match"]["fields"] == ["name", "name_served"]
    prefixes = [
        (field, prefix["value"])
        for c in must[1]["bool"]["should"]
        if "prefix" in c
        for field, prefix in c["prefix"].items()
    ]
    assert prefixes == [("name", "самсу"), ("name", "samsu")]
    after_for = suggest_body("фен для в")  # what a name says its product serves, after для
    assert after_for is not None
    fields = [
        field
        for c in after_for["query"]["bool"]["must"][-1]["bool"]["should"]
        if "prefix" in c
        for field in c["prefix"]
    ]
    assert fields == ["name", "name_served", "name", "name_served"]  # в, and its Latin v
    assert suggest_body("  ") is None


def test_backends_are_chosen_by_type(tmp_path: object) -> None:
    from vitrina.search.backends import SEARCH_BACKENDS, open_backend
    from vitrina.search.opensearch import OpenSearchIndex
    from vitrina.settings import load_settings

    settings = load_settings(
        data_dir=str(tmp_path),
        search={
            "backend": {
                "type": "opensearch",
                "url": "http://127.0.0.1:9",
                "index": "ix",
                "shards": 3,
                "replicas": 1,
            }
        },
    )
    backend = open_backend(settings, readonly=True)  # builds the client; connects on first use
    assert isinstance(backend, OpenSearchIndex)
    assert (backend.index, backend.shards, backend.replicas) == ("ix", 3, 1)
    assert set(SEARCH_BACKENDS) == {"embedded", "opensearch"}


def test_the_start_log_names_opensearch_without_its_credentials(tmp_path: Path) -> None:
    from vitrina.search.backends import describe_backend
    from vitrina.settings import load_settings

    remote = load_settings(
        data_dir=tmp_path,
        search={"backend": {"type": "opensearch", "url": "https://ops:s3cret@os.example:9200/"}},
    )
    assert describe_backend(remote) == "OpenSearch https://os.example:9200 index vitrina-products"
    local = load_settings(data_dir=tmp_path)
    assert describe_backend(local) == f"the embedded index {tmp_path / 'search-index'}"
