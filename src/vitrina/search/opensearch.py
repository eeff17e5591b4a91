"""The distributed search backend: OpenSearch (or Elasticsearch-compatible) over opensearch-py.

The same interface and the same documents as the embedded index. Stems come from the
server's Russian analyzer; lemmas are computed here with pymorphy3 (as for the embedded
index) and indexed into whitespace-analysed fields, so кроссовок ↔ кроссовки matches on both
deployments. Request bodies are built by pure functions (`index_body`, `bulk_lines`,
`query_body`) that the unit tests check without a server.

Differences from the embedded backend: one request per search — documents matching every
word rank first (boosted AND clauses) and documents matching some words (fuzzy) follow,
instead of trying the looser match only when the strict one finds nothing.
"""

from __future__ import annotations

from typing import Any

from opensearchpy import NotFoundError as OpenSearchNotFound
from opensearchpy import OpenSearch, TransportError

from vitrina.domain.search_document import (
    clean_query,
    filter_key,
    normalize_text,
    query_words,
    search_document,
)
from vitrina.errors import ConfigError, UnavailableError
from vitrina.search.analysis import lemma_text
from vitrina.search.base import SearchFilters, SearchHit, SearchPage, SortOrder, check_request
from vitrina.settings import OpenSearchBackend as OpenSearchSettings

# Same field weights as the embedded index (see embedded.BOOSTS).
BOOSTS: dict[str, float] = {"name": 4.0, "brand": 2.0, "category": 2.0, "tags": 1.5,
                            "description": 1.0, "specifications": 0.5}
TEXT_FIELDS = tuple(BOOSTS)


def index_body(shards: int = 3, replicas: int = 1) -> dict[str, Any]:
    """Settings + mappings: Russian stemming for text, lowercase keywords for filters."""
    text = {"type": "text", "analyzer": "ru_text"}
    return {
        "settings": {
            "number_of_shards": shards,
            "number_of_replicas": replicas,
            "analysis": {
                "char_filter": {"yo": {"type": "mapping", "mappings": ["ё => е", "Ё => Е"]}},
                "filter": {"ru_stemmer": {"type": "stemmer", "language": "russian"}},
                "normalizer": {"key": {"type": "custom", "char_filter": ["yo"],
                                       "filter": ["lowercase", "trim"]}},
                "analyzer": {
                    "ru_text": {"type": "custom", "tokenizer": "standard", "char_filter": ["yo"],
                                "filter": ["lowercase", "ru_stemmer"]},
                    "ru_lemma": {"type": "custom", "tokenizer": "whitespace",
                                 "filter": ["lowercase"]},
                },
            },
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "product_id": {"type": "keyword"},
                **{name: text for name in TEXT_FIELDS},
                "name_lemma": {"type": "text", "analyzer": "ru_lemma"},
                "body_lemma": {"type": "text", "analyzer": "ru_lemma"},
                "category_key": {"type": "keyword", "normalizer": "key"},
                "brand_key": {"type": "keyword", "normalizer": "key"},
                "price": {"type": "double"},
                "in_stock": {"type": "boolean"},
                # The product as the store sent it: returned, never indexed.
                "product": {"type": "object", "enabled": False},
            },
        },
    }


def index_document(product: dict[str, Any]) -> dict[str, Any]:
    """The OpenSearch source for one product (the same search_document as the embedded index)."""
    doc = search_document(product)
    source: dict[str, Any] = {name: normalize_text(doc[name]) for name in TEXT_FIELDS}
    source.update({
        "product_id": doc["product_id"],
        "name_lemma": lemma_text(doc["name"]),
        "body_lemma": lemma_text(" ".join(
            doc[n] for n in ("brand", "category", "tags", "description", "specifications"))),
        "category_key": filter_key(doc["category"]),
        "brand_key": filter_key(doc["brand"]),
        "price": doc["price"],
        "in_stock": doc["in_stock"],
        "product": product,
    })
    return source


def bulk_lines(index: str, upserts: list[dict[str, Any]],
               deletes: list[str]) -> list[dict[str, Any]]:
    """Bulk actions keyed by product_id: deletes first, then (idempotent) full replacements."""
    lines: list[dict[str, Any]] = []
    for product_id in deletes:
        lines.append({"delete": {"_index": index, "_id": str(product_id)}})
    for product in upserts:
        lines.append({"index": {"_index": index, "_id": str(product["product_id"])}})
        lines.append(index_document(product))
    return lines


def filter_clauses(filters: SearchFilters | None) -> list[dict[str, Any]]:
    if filters is None:
        return []
    out: list[dict[str, Any]] = []
    if filters.category:
        out.append({"term": {"category_key": filter_key(filters.category)}})
    if filters.brand:
        out.append({"term": {"brand_key": filter_key(filters.brand)}})
    price: dict[str, float] = {}
    if filters.price_min is not None:
        price["gte"] = float(filters.price_min)
    if filters.price_max is not None:
        price["lte"] = float(filters.price_max)
    if price:
        out.append({"range": {"price": price}})
    if filters.in_stock:
        out.append({"term": {"in_stock": True}})
    return out


def query_body(query: str, filters: SearchFilters | None = None, sort: SortOrder = "relevance",
               limit: int = 10, offset: int = 0) -> dict[str, Any] | None:
    """The search request body; None when the query has text but nothing searchable in it."""
    check_request(filters, sort, limit, offset)
    words = query_words(query)
    if not words and clean_query(query):
        return None
    text = " ".join(words)
    stem_fields = [f"{name}^{boost:g}" for name, boost in BOOSTS.items()]
    lemma = " ".join(lemma_text(w) for w in words)
    if words:
        must: dict[str, Any] = {"bool": {"should": [
            {"multi_match": {"query": text, "fields": stem_fields, "type": "cross_fields",
                             "operator": "and", "boost": 3}},
            {"multi_match": {"query": lemma, "fields": ["name_lemma^4", "body_lemma"],
                             "type": "cross_fields", "operator": "and", "boost": 3}},
            {"multi_match": {"query": text, "fields": stem_fields, "type": "best_fields",
                             "fuzziness": "AUTO", "prefix_length": 2}},
        ], "minimum_should_match": 1}}
    else:
        must = {"match_all": {}}
    body: dict[str, Any] = {
        "query": {"bool": {"must": [must], "filter": filter_clauses(filters)}},
        "from": offset, "size": limit, "track_total_hits": True,
        "_source": ["product"],
    }
    if sort != "relevance":
        body["sort"] = [{"price": {"order": "asc" if sort == "price_asc" else "desc"}},
                        {"product_id": {"order": "asc"}}]
    return body


def page_from_response(response: dict[str, Any]) -> SearchPage:
    hits = response.get("hits") or {}
    total = hits.get("total") or 0
    total = total.get("value", 0) if isinstance(total, dict) else int(total)
    return SearchPage(total=int(total), hits=[
        SearchHit(str(h["_id"]), float(h.get("_score") or 0.0), h["_source"]["product"])
        for h in hits.get("hits", [])])


class OpenSearchIndex:
    """SearchBackend over an OpenSearch index (created with `index_body` on first write)."""

    def __init__(self, client: Any, index: str, *, readonly: bool = False) -> None:
        self.client = client
        self.index = index
        self.readonly = readonly
        self._ensured = False

    @classmethod
    def from_settings(cls, backend: OpenSearchSettings, readonly: bool = False) -> OpenSearchIndex:
        auth = None
        if backend.username:
            if backend.password is None:
                raise ConfigError("search.backend.password is not set",
                                  hint="set VITRINA__SEARCH__BACKEND__PASSWORD")
            auth = (backend.username, backend.password.get_secret_value())
        client = OpenSearch(hosts=[backend.url], http_auth=auth,
                            verify_certs=backend.verify_certs,
                            ca_certs=str(backend.ca_certs) if backend.ca_certs else None,
                            timeout=30, max_retries=3, retry_on_timeout=True)
        return cls(client, backend.index, readonly=readonly)

    def _call(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OpenSearchNotFound:
            raise
        except TransportError as exc:
            raise UnavailableError(
                f"opensearch {what} failed: {exc}",
                hint="check search.backend.url and that the cluster is up") from None
        except ConnectionError as exc:  # pragma: no cover - depends on the network
            raise UnavailableError(f"opensearch {what}: {exc}",
                                   hint="check search.backend.url") from None

    def ensure_index(self) -> None:
        if self._ensured or self.readonly:
            return
        if not self._call("exists", self.client.indices.exists, index=self.index):
            self._call("create index", self.client.indices.create, index=self.index,
                       body=index_body())
        self._ensured = True

    def _bulk(self, lines: list[dict[str, Any]]) -> None:
        if self.readonly:
            raise ConfigError("the search index was opened read-only",
                              hint="open it with readonly=False (only the indexer writes)")
        if not lines:
            return
        self.ensure_index()
        response = self._call("bulk", self.client.bulk, body=lines)
        if response.get("errors"):
            for item in response.get("items", []):
                (action, result), = item.items()
                if result.get("error") and not (action == "delete"
                                                and result.get("status") == 404):
                    raise UnavailableError(
                        f"opensearch bulk {action} of {result.get('_id')} failed: "
                        f"{result['error']}", hint="the batch is retried; see the cluster log")

    def upsert(self, products: list[dict[str, Any]]) -> None:
        self._bulk(bulk_lines(self.index, products, []))

    def delete(self, product_ids: list[str]) -> None:
        self._bulk(bulk_lines(self.index, [], product_ids))

    def commit(self) -> None:
        """Bulk writes are already durable (translog); a refresh makes them searchable."""
        self.ensure_index()
        self._call("refresh", self.client.indices.refresh, index=self.index)

    def search(self, query: str, filters: SearchFilters | None = None,
               sort: SortOrder = "relevance", limit: int = 10, offset: int = 0) -> SearchPage:
        body = query_body(query, filters, sort, limit, offset)
        if body is None:
            return SearchPage(total=0)
        try:
            return page_from_response(self._call("search", self.client.search,
                                                 index=self.index, body=body))
        except OpenSearchNotFound:
            raise UnavailableError(f"no search index {self.index!r}",
                                   hint="start the indexer: `vitrina run indexer`") from None

    def get(self, product_id: str) -> dict[str, Any] | None:
        try:
            response = self._call("get", self.client.get, index=self.index, id=str(product_id))
        except OpenSearchNotFound:
            return None
        return response["_source"]["product"]

    def count(self) -> int:
        try:
            return int(self._call("count", self.client.count, index=self.index)["count"])
        except OpenSearchNotFound:
            return 0

    def close(self) -> None:
        self.client.close()
