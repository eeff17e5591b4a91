"""The distributed search backend: OpenSearch (or Elasticsearch-compatible) over opensearch-py.

The same interface, the same indexed fields (`search.fields.index_fields`) and the same query
plan as the embedded index: every word (or one of its alternatives: synonyms, brands,
compounds — `query_understanding`) must match; when nothing does, any word may; when still
nothing, words a few edits away; compounds split or joined and words typed on the other
keyboard layout, as the index suggests (one probe request, only for a query nothing has
every word of: `search.opensearch_reading`). Stems come from the server's Russian analyzer;
lemmas are computed here with pymorphy3 and indexed into whitespace-analysed fields, so
кроссовок ↔ кроссовки matches on both deployments. Request bodies are built by pure functions (`index_body`, `bulk_lines`, and `query_body` in
`search.opensearch_query`) that unit tests check without a server.

Failures are typed for the indexer: a document the cluster refuses for good (a mapping
error, an immense term) → `RejectedDocuments` naming each product and the reason, after
every other document of the batch was written; a cluster that is away, overloaded (429) or
failing (5xx) → `UnavailableError`, retried by the worker with the same batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from opensearchpy import ConnectionError as OpenSearchConnectionError
from opensearchpy import ConnectionTimeout, OpenSearch, TransportError
from opensearchpy import NotFoundError as OpenSearchNotFound

from vitrina.domain.search_document import query_words
from vitrina.errors import ConfigError, UnavailableError, VitrinaError
from vitrina.search.backends import OpenSearchSettings
from vitrina.search.base import (
    THIN_STAGE,
    SearchFilters,
    SearchHit,
    SearchPage,
    SortOrder,
    distinct_names,
    topped_up,
)
from vitrina.search.errors import RejectedDocuments
from vitrina.search.fields import TEXT_FIELDS, index_fields
from vitrina.search.keyboard_layout import punctuation_keys_read
from vitrina.search.opensearch_query import query_body
from vitrina.search.opensearch_reading import Reading, probe_body, probe_counts, read_words
from vitrina.search.opensearch_requests import filter_clauses, suggest_body
from vitrina.search.price_order import in_price_order
from vitrina.search.query_plan import HEAD_MODE, rewritten_words
from vitrina.search.typed_filters import with_filters_from_words

log = logging.getLogger(__name__)

# The embedded index's plan: all words, then any word, then a few edits away.
MODES = ("and", HEAD_MODE, "or", "fuzzy")
# Bulk item statuses that mean "try again later", not "this document is wrong".
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def index_body(shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    """Settings + mappings: Russian stemming for text, lowercase keywords for filters."""
    text = {"type": "text", "analyzer": "ru_text"}
    return {
        "settings": {
            "number_of_shards": shards,
            "number_of_replicas": replicas,
            "analysis": {
                "char_filter": {"yo": {"type": "mapping", "mappings": ["ё => е", "Ё => Е"]}},
                "filter": {"ru_stemmer": {"type": "stemmer", "language": "russian"}},
                "normalizer": {
                    "key": {
                        "type": "custom",
                        "char_filter": ["yo"],
                        "filter": ["lowercase", "trim"],
                    }
                },
                "analyzer": {
                    "ru_text": {
                        "type": "custom",
                        "tokenizer": "standard",
                        "char_filter": ["yo"],
                        "filter": ["lowercase", "ru_stemmer"],
                    },
                    "ru_lemma": {
                        "type": "custom",
                        "tokenizer": "whitespace",
                        "filter": ["lowercase"],
                    },
                },
            },
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "product_id": {"type": "keyword"},
                **{name: text for name in TEXT_FIELDS},
                "name_served": text,
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
    """The OpenSearch source for one product: the shared index fields + the product itself."""
    return {**index_fields(product), "product": product}


def bulk_lines(
    index: str, upserts: list[dict[str, Any]], deletes: list[str]
) -> list[dict[str, Any]]:
    """Bulk actions keyed by product_id: deletes first, then (idempotent) full replacements."""
    lines: list[dict[str, Any]] = []
    for product_id in deletes:
        lines.append({"delete": {"_index": index, "_id": str(product_id)}})
    for product in upserts:
        lines.append({"index": {"_index": index, "_id": str(product["product_id"])}})
        lines.append(index_document(product))
    return lines


def page_from_response(response: dict[str, Any]) -> SearchPage:
    hits = response.get("hits") or {}
    total = hits.get("total") or 0
    total = total.get("value", 0) if isinstance(total, dict) else int(total)
    return SearchPage(
        total=int(total),
        hits=[
            SearchHit(str(h["_id"]), float(h.get("_score") or 0.0), h["_source"]["product"])
            for h in hits.get("hits", [])
        ],
    )


def bulk_failures(response: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(refused for good, refused for now) — product_id → reason — from a bulk response."""
    permanent: dict[str, str] = {}
    transient: dict[str, str] = {}
    for item in response.get("items", []) if response.get("errors") else []:
        ((action, result),) = item.items()
        error, status = result.get("error"), int(result.get("status") or 0)
        if not error or (action == "delete" and status == 404):
            continue
        reason = (
            f"{error.get('type')}: {error.get('reason')}" if isinstance(error, dict) else str(error)
        )
        (transient if status in TRANSIENT_STATUSES else permanent)[str(result.get("_id"))] = (
            f"opensearch refused to {action} it (HTTP {status}) — {reason}"[:1000]
        )
    return permanent, transient


class OpenSearchIndex:
    """SearchBackend over an OpenSearch index (created with `index_body` on first write)."""

    def __init__(
        self, client: Any, index: str, *, readonly: bool = False, shards: int = 1, replicas: int = 0
    ) -> None:
        self.client = client
        self.index = index
        self.readonly = readonly
        self.shards, self.replicas = shards, replicas
        self._ensured = False

    @classmethod
    def from_settings(cls, backend: OpenSearchSettings, readonly: bool = False) -> OpenSearchIndex:
        auth = None
        if backend.username:
            if backend.password is None:
                raise ConfigError(
                    "search.backend.password is not set",
                    hint="set VITRINA__SEARCH__BACKEND__PASSWORD",
                )
            auth = (backend.username, backend.password.get_secret_value())
        client = OpenSearch(
            hosts=[backend.url],
            http_auth=auth,
            verify_certs=backend.verify_certs,
            ca_certs=str(backend.ca_certs) if backend.ca_certs else None,
            timeout=backend.timeout_s,
            max_retries=2,
            retry_on_timeout=True,
        )
        return cls(
            client,
            backend.index,
            readonly=readonly,
            shards=backend.shards,
            replicas=backend.replicas,
        )

    def _call(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OpenSearchNotFound:
            raise
        except (OpenSearchConnectionError, ConnectionTimeout) as exc:
            if self.readonly:  # a customer's search (503): the address stays in the log
                log.warning("opensearch %s: the cluster does not answer (%s)", what, exc)
                raise UnavailableError(
                    "search is unavailable: the OpenSearch cluster does not answer",
                    hint="retry in a few seconds",
                ) from None
            raise UnavailableError(
                f"opensearch {what}: the cluster does not answer ({exc})",
                hint="check search.backend.url and that the cluster is up; the batch is retried",
            ) from None
        except TransportError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else 0
            if status in TRANSIENT_STATUSES:
                raise UnavailableError(
                    f"opensearch {what} failed (HTTP {status}): {exc}",
                    hint="the cluster is busy or failing; the batch is retried",
                ) from None
            raise VitrinaError(
                f"opensearch {what} was refused (HTTP {status}): {exc}",
                hint="a bug or a mismatched index; see the cluster log",
            ) from None

    def ensure_index(self) -> None:
        if self._ensured or self.readonly:
            return
        if not self._call("exists", self.client.indices.exists, index=self.index):
            self._call(
                "create index",
                self.client.indices.create,
                index=self.index,
                body=index_body(self.shards, self.replicas),
            )
        else:  # an index made by an older version: its mapping gains the fields it lacks
            properties = index_body()["mappings"]["properties"]
            self._call(
                "update mapping",
                self.client.indices.put_mapping,
                index=self.index,
                body={"properties": {"name_served": properties["name_served"]}},
            )
        self._ensured = True

    def drop(self) -> None:
        """Delete the index, if there is one; the next write creates it with `index_body`
        (`vitrina index rebuild`). A cluster away is an UnavailableError, as for a write."""
        self._call(
            "delete index", self.client.indices.delete, index=self.index, ignore_unavailable=True
        )
        self._ensured = False

    def _bulk(self, lines: list[dict[str, Any]]) -> None:
        if self.readonly:
            raise ConfigError(
                "the search index was opened read-only",
                hint="open it with readonly=False (only the indexer writes)",
            )
        if not lines:
            return
        self.ensure_index()
        permanent, transient = bulk_failures(self._call("bulk", self.client.bulk, body=lines))
        if transient:
            pid, reason = next(iter(transient.items()))
            raise UnavailableError(
                f"opensearch could not write {len(transient)} document(s) "
                f"now, e.g. {pid}: {reason}",
                hint="the cluster is busy; the batch is retried",
            )
        if permanent:
            raise RejectedDocuments(permanent)

    def upsert(
        self, products: list[dict[str, Any]], sources: Sequence[bytes | None] | None = None
    ) -> None:
        """`sources` are not used: the product is part of each document's _source, which the
        client encodes with the bulk request."""
        self._bulk(bulk_lines(self.index, products, []))

    def delete(self, product_ids: list[str]) -> None:
        self._bulk(bulk_lines(self.index, [], product_ids))

    def commit(self) -> None:
        """Bulk writes are already durable (translog); a refresh makes them searchable."""
        self.ensure_index()
        self._call("refresh", self.client.indices.refresh, index=self.index)

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        sort: SortOrder = "relevance",
        limit: int = 10,
        offset: int = 0,
        *,
        all_words: bool = False,
    ) -> SearchPage:
        """One page of results (`all_words`: only products with every word as read, never
        any word's or a typo's)."""
        query = punctuation_keys_read(query)  # ',byn → бинт: a wrong layout's word whole
        query, filters = with_filters_from_words(query, filters)  # до 15000, в наличии: filters
        search = partial(self.search, all_words=True) if all_words else self.search
        ordered = in_price_order(search, query, filters, sort, limit, offset)
        if ordered is not None:  # самый дешевый смартфон: the phones by price
            return ordered
        words = list(rewritten_words(query_words(query)))  # sound bar → soundbar
        page = self._page(query_body(query, filters, sort, limit, offset, "and"))
        thin = 0 < page.total < THIN_STAGE
        if thin and not all_words and len(words) > 1 and sort == "relevance":
            return self._topped_up(query, filters, limit, offset, page)
        if page.total or not words:
            return page
        # Nothing has every word: ask the index how to read them (compounds, keyboard
        # layout: one probe, only here, so a query that finds something costs one request as
        # before), then all words again if that changed them, any word, a few edits away.
        reading = self._reading(words, filters)
        modes: tuple[str, ...] = MODES if reading and reading.rereads(words) else MODES[1:]
        if all_words:
            modes = tuple(m for m in modes if m == "and")
        elif len(reading.words if reading else words) == 1:
            modes = tuple(m for m in modes if m not in ("or", HEAD_MODE))  # they are "and"
        for mode in modes:
            page = self._page(query_body(query, filters, sort, limit, offset, mode, reading))
            if page.total:
                break
        return page

    def _topped_up(
        self,
        query: str,
        filters: SearchFilters | None,
        limit: int,
        offset: int,
        page: SearchPage,
    ) -> SearchPage:
        """A thin "and" stage's products (`page`, when it holds them all), then the head
        stage's or any word's (`THIN_STAGE`, as the embedded index does)."""
        thin = page
        if len(page.hits) < page.total:  # the page began past one of them (offset)
            thin = self._page(query_body(query, filters, "relevance", THIN_STAGE, 0, "and"))
        for mode in (HEAD_MODE, "or"):
            body = query_body(query, filters, "relevance", offset + limit + THIN_STAGE, 0, mode)
            more = self._page(body)
            if more.total:
                return topped_up(thin, more, limit, offset)
        return SearchPage(thin.total, thin.hits[offset : offset + limit])

    def _reading(self, words: list[str], filters: SearchFilters | None) -> Reading | None:
        """The words as the index suggests reading them, from one probe's doc counts. One
        word that found nothing without filters matches nothing: not asked again."""
        unfiltered_one = len(words) == 1 and not filter_clauses(filters)
        matched_nothing = frozenset(words) if unfiltered_one else frozenset()
        body = probe_body(words, matched_nothing)
        counts = probe_counts(self._search_request(body)) if body is not None else {}
        return read_words(words, counts, matched_nothing)

    def _page(self, body: dict[str, Any] | None) -> SearchPage:
        return (
            SearchPage(total=0) if body is None else page_from_response(self._search_request(body))
        )

    def _search_request(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response: dict[str, Any] = self._call(
                "search", self.client.search, index=self.index, body=body
            )
        except OpenSearchNotFound:
            raise UnavailableError(
                f"no search index {self.index!r}",
                hint="start the indexer: `vitrina run indexer`",
            ) from None
        return response

    def suggest(self, text: str, limit: int = 8) -> list[dict[str, str]]:
        """Distinct product names completing `text`, best first (the caller re-checks bans)."""
        body = suggest_body(text, limit)
        if body is None:
            return []
        try:
            page = page_from_response(
                self._call("suggest", self.client.search, index=self.index, body=body)
            )
        except OpenSearchNotFound:
            return []
        return distinct_names(page.hits)[:limit]

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
