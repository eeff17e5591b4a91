"""The embedded search backend: a tantivy index on the local disk with Russian morphology.

One writer (the indexer) and any number of readers in other processes (the client API, the
CLI): tantivy's on-disk commits are atomic, readers reload their searcher to see them.
Queries are built from words, never parsed as query syntax, so `"`, `:`, `(` or `AND` in a
customer's text can not make a search fail.

An empty query (after cleaning) matches every product, ordered by the requested sort: it is
how the catalogue is browsed by category/brand/price filters alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import orjson
import tantivy

from vitrina.domain.search_document import (
    clean_query,
    query_words,
)
from vitrina.errors import ConfigError, UnavailableError
from vitrina.search.analysis import register_analyzers
from vitrina.search.base import (
    THIN_STAGE,
    SearchFilters,
    SearchHit,
    SearchPage,
    SortOrder,
    check_request,
    topped_up,
)
from vitrina.search.fields import index_fields
from vitrina.search.keyboard_layout import punctuation_keys_read
from vitrina.search.price_order import in_price_order
from vitrina.search.query_plan import HEAD_MODE
from vitrina.search.schema import (
    KNOWN_VERSIONS,
    SCHEMA_VERSION,
    build_schema,
    has_served,
    prestemmed,
)
from vitrina.search.stale_cache import STALE_S, GenerationCache, Generations
from vitrina.search.tantivy_query import Analysis, TantivyQueries
from vitrina.search.tantivy_requests import filter_clauses, one_slip_suggestions, suggestions
from vitrina.search.typed_filters import with_filters_from_words

MARKER = "vitrina-search-schema"
Matching = Literal["and", "or", "and_then_or"]
# Each mode is tried only when the previous one found nothing: all words, any word, then
# one edit away from any word's stem.
MATCHING_MODES: dict[str, list[str]] = {
    "and": ["and"],
    "or": ["or"],
    "and_then_or": ["and", HEAD_MODE, "or", "fuzzy"],
}

# 4096 distinct (words, mode) pairs: the head of a shop's query distribution. A cached query
# is a tree of a few hundred tantivy term queries (alternatives × fields), ~50 KB at most.
QUERY_CACHE_SIZE = 4096
# 256 result pages of at most 20 hits (~25 MB of product dicts at most): a shop's head queries
# answered without running them, as Solr's queryResultCache does. In a reader, a page (and a
# built query) outlives the commit that superseded its generation by at most STALE_S
# (search/stale_cache.py), and only while all its products are still indexed and it found
# something; the writer empties both at its own commit. Bans are not the
# index's business: callers re-check them on every hit of every page, cached or not.
PAGE_CACHE_SIZE = 256
PAGE_CACHE_MAX_LIMIT = 20

# 32 MB: the writer's budget before it flushes a segment (pages are taken as documents
# arrive). It matters only for a bulk build with one commit (the indexer commits every 5,000
# products, a few MB): a segment is written by the indexing thread while the Python thread
# goes on building documents, and the commit writes only the rest. 100k products flush at
# ~55k (2 segments, not merged: LogMergePolicy merges 8); at 256 MB they were one segment
# written after the last document, 3-5 µs of the build's wall time per product with the
# feeding thread idle. At 16 MB segments of ~8k documents were merged again (more CPU).
WRITER_HEAP_BYTES = 32_000_000

# 1 indexing thread: one Python thread feeds the writer, building a document in ~30 µs of CPU
# that tantivy indexes in ~20 (schema v3), so one thread keeps up. Tantivy's default (one
# per core) split each commit into a segment per thread (a term dictionary each, more
# merges): replaying 100k products with the indexer's commit per 5,000 cost ~89 µs of CPU
# per product with two threads, ~74 with one, and no faster (ABBA, 3 rounds at load 8-22);
# a bulk build with one commit showed no clear difference. tantivy-py holds the GIL in
# add_document, so a second feeding thread would not help either.
WRITER_THREADS = 1

# 0.1 s: a reader checks for new commits at most 10 times a second; freshness target is 2 s.
RELOAD_INTERVAL_S = 0.1

# Stored products of one searcher snapshot, parsed once: a result list is mostly products
# other searches showed already (the client API's Zipf mix over 100k products loaded 51,680
# documents for 5,710 distinct ones), and loading one (`Searcher.doc`, a docstore block
# decompressed, then the JSON parsed) cost ~20 µs, ~200 µs of a 10-hit page not cached.
# Bounded by the stored JSON's bytes, not a count (a description may hold 20,000
# characters): 8 MB, ~6,500 generated products, ~20 MB as dicts. Emptied with its snapshot.
DOC_CACHE_BYTES = 8_000_000


class _Snapshot:
    """One tantivy searcher (an immutable view of the committed segments) and the stored
    products read through it, by document address (segment ordinal, document id): an
    address means the same document only within one snapshot."""

    __slots__ = ("docs", "searcher", "stored_bytes")

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.docs: dict[tuple[int, int], dict[str, Any]] = {}
        self.stored_bytes = 0

    def product(self, address: Any) -> dict[str, Any]:
        """The stored product at `address`; shared: callers must not change it (cached pages
        share theirs the same way)."""
        key = (address.segment_ord, address.doc)
        product = self.docs.get(key)
        if product is None:
            stored = bytes(self.searcher.doc(address)["stored"][0])
            product = orjson.loads(stored)
            if self.stored_bytes + len(stored) > DOC_CACHE_BYTES:
                self.docs.clear()  # a new working set: cheaper than an LRU on every hit
                self.stored_bytes = 0
            self.docs[key] = product
            self.stored_bytes += len(stored)
        return product


@dataclass(slots=True)
class _CachedPage:
    page: SearchPage
    alive_in: int = -1  # the latest generation in which every hit was seen still indexed


def _may_top_up(words: Sequence[str], modes: Sequence[str], sort: SortOrder) -> bool:
    """Whether a thin "and" stage is topped up by the next (`THIN_STAGE`): a query of more
    than one word, by relevance (in price order the next stage's products would interleave),
    when the next stages are asked at all (not `all_words`)."""
    return len(words) > 1 and len(modes) > 1 and sort == "relevance"


class EmbeddedSearch:
    """SearchBackend over tantivy. `readonly` opens without taking the writer lock."""

    def __init__(
        self,
        path: Path,
        *,
        readonly: bool = False,
        analysis: Analysis = "stem+lemma",
        matching: Matching = "and_then_or",
        writer_heap_bytes: int = WRITER_HEAP_BYTES,
        understanding: bool = True,
        clock: Callable[[], float] = time.monotonic,
        stale_s: float = STALE_S,
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.analysis = analysis
        self.matching = matching
        self._writer: Any = None
        self._uncommitted: set[str] = set()  # product_ids added since the last commit
        self._clock = clock
        self._last_reload = clock()
        self._snapshot: _Snapshot | None = None  # what searches read; replaced on a commit
        # Index generations this reader noticed; cached pages and queries are tagged with one.
        self._generations = Generations(stale_s, clock)
        self._pages: GenerationCache[_CachedPage] = GenerationCache(PAGE_CACHE_SIZE)
        self._meta_version: tuple[int, int, int] | None = self._meta_json_version()
        marker = self.path / MARKER
        if readonly:
            if not (self.path / "meta.json").is_file():
                raise UnavailableError(
                    f"no search index at {self.path.absolute()}",
                    # the data dir is relative (.vitrina): from another folder, no index
                    hint="start the indexer: `vitrina run indexer` (or `vitrina up`); or "
                    "run this from the folder `vitrina up` was started in (or set "
                    "VITRINA__DATA_DIR)",
                )
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            if not (self.path / "meta.json").is_file():
                marker.write_text(SCHEMA_VERSION)
        # An index written before the marker existed has version 1's schema.
        version = marker.read_text().strip() if marker.is_file() else "1"
        if version not in KNOWN_VERSIONS:
            raise ConfigError(
                f"search index {self.path} has schema version {version!r}, which this "
                f"version of vitrina does not know ({', '.join(KNOWN_VERSIONS)})",
                hint="delete the directory and replay filtered-products "
                "(reset the indexer's consumer group), or upgrade vitrina",
            )
        self.schema_version = version
        self.schema = build_schema(version)
        self._prestemmed = prestemmed(version)
        try:
            self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        except (OSError, ValueError) as exc:
            raise UnavailableError(
                f"cannot open search index {self.path}: {exc}",
                hint="check the path and its permissions",
            ) from None
        register_analyzers(self.index)
        self._has_served = has_served(version)
        self._queries = TantivyQueries(
            self.index, self.schema, analysis, understanding, served=self._has_served
        )
        # Building a query (stems, lemmas, alternatives: ~140 term queries per word) cost more
        # than running it: built once per distinct query, keeping only the terms the index
        # has (most compound/transliterated alternatives are absent), so tagged with the
        # generation it was built against, like a page.
        self._queries_built: GenerationCache[Any] = GenerationCache(QUERY_CACHE_SIZE)
        if not readonly:
            try:
                self._writer = self.index.writer(
                    heap_size=writer_heap_bytes, num_threads=WRITER_THREADS
                )
            except ValueError as exc:
                raise UnavailableError(
                    f"search index {self.path} is locked: {exc}",
                    hint="another indexer is running; stop it first",
                ) from None
        self.index.reload()

    # -- writes -------------------------------------------------------------------------
    def _require_writer(self) -> Any:
        if self._writer is None:
            raise ConfigError(
                "the search index was opened read-only",
                hint="open it with readonly=False (only the indexer writes)",
            )
        return self._writer

    def _document(self, product: dict[str, Any], source: bytes | None = None) -> Any:
        # The same indexed fields as the OpenSearch backend (search/fields.py).
        fields = index_fields(product, stemmed=self._prestemmed, served=self._has_served)
        if not fields["name_served"]:  # most names; an index before v4 has no such field
            del fields["name_served"]
        fields["stored"] = orjson.dumps(product) if source is None else source
        return tantivy.Document.from_dict(fields, self.schema)

    def _indexed_ids(self, product_ids: list[str]) -> set[str]:
        """Which of these products may already have a document: added since the last commit,
        or found in the committed index (one term-set query for the whole batch)."""
        present = self._uncommitted.intersection(product_ids)
        searcher = self.index.searcher()
        if searcher.num_docs:
            query = tantivy.Query.term_set_query(self.schema, "product_id", product_ids)
            result: Any = searcher.search(query, limit=len(product_ids), count=True)
            if result.count > len(result.hits):  # an id with two documents: take them all
                result = searcher.search(query, limit=result.count)
            present.update(searcher.doc(address)["product_id"][0] for _, address in result.hits)
        return present

    def upsert(
        self, products: list[dict[str, Any]], sources: Sequence[bytes | None] | None = None
    ) -> None:
        """Replace each product's document (the last copy of a product_id in `products`
        wins). `sources`, when given, are the products' JSON as received, one per product
        (the indexer has each record's bytes; None: not at hand): stored as they are, not
        encoded again (orjson took ~6 µs of a product's ~35 of build CPU; Cyrillic text
        encodes slowly).

        A delete-by-term costs far more than the add (tantivy applies it to every
        segment it writes: 8k → 13k docs/s without them), so it is issued only for products
        that may have a document already.

        Every document is built before the first is handed over, then all are added at
        once: tantivy's indexing threads, woken by the first, find the rest queued. Handed
        over one by one as built, each add woke a parked thread (a futex syscall, ~13 % of
        the calling thread's time). A delete applies to documents added before it, so the
        deletes go first."""
        writer = self._require_writer()
        raws = [None] * len(products) if sources is None else sources
        pairs = zip(products, raws, strict=True)
        latest = {str(product["product_id"]): (product, raw) for product, raw in pairs}
        documents = [self._document(product, raw) for product, raw in latest.values()]
        present = self._indexed_ids(list(latest)) if latest else set()
        for product_id in present:
            writer.delete_documents_by_term("product_id", product_id)
        for document in documents:
            writer.add_document(document)
        self._uncommitted.update(latest)

    def delete(self, product_ids: list[str]) -> None:
        writer = self._require_writer()
        for product_id in product_ids:
            writer.delete_documents_by_term("product_id", str(product_id))

    def commit(self) -> None:
        self._require_writer().commit()
        self.index.reload()
        self._snapshot = None
        self._uncommitted.clear()  # committed: the reloaded searcher finds them now
        self._last_reload = self._clock()
        self._queries_built.clear()  # the writer's own reads see its commit at once
        self._pages.clear()

    # -- reads --------------------------------------------------------------------------
    def _searcher(self) -> Any:
        return self._current().searcher

    def _current(self) -> _Snapshot:
        """The snapshot searches read. A reader takes a new one when it notices a commit
        (a new meta.json: `_notice_commit`), at most every RELOAD_INTERVAL_S; between
        commits it keeps the same searcher, and so the products it has parsed."""
        now = self._clock()
        if self.readonly and now - self._last_reload >= RELOAD_INTERVAL_S:
            self._last_reload = now
            if self._notice_commit():  # before the reload: never miss a commit
                self.index.reload()
                self._snapshot = None
        snapshot = self._snapshot
        if snapshot is None:
            snapshot = self._snapshot = _Snapshot(self.index.searcher())
        return snapshot

    def _meta_json_version(self) -> tuple[int, int, int] | None:
        try:
            st = (self.path / "meta.json").stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _notice_commit(self) -> bool:
        """A commit (a new meta.json, written by rename) starts a new generation: pages and
        queries cached against older ones are served for at most STALE_S more (a built
        query leaves out terms the index did not have; a page misses new products). True
        when there was one."""
        version = self._meta_json_version()
        if version == self._meta_version:
            return False
        self._meta_version = version
        self._generations.advance()
        return True

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
        """One page of results. Pages may be shared between callers (the page cache): read
        them, never change them. A price or «в наличии» typed in the query (до 15000) is a
        filter (search/typed_filters.py). `all_words`: only the products with every word
        (as search reads them), never any word's or a typo's when none has."""
        if self._queries.understanding:  # ',byn → бинт: a wrong layout's word whole
            query = punctuation_keys_read(query)
        query, filters = with_filters_from_words(query, filters)
        check_request(filters, sort, limit, offset)
        search = partial(self.search, all_words=True) if all_words else self.search
        ordered = in_price_order(search, query, filters, sort, limit, offset)
        if ordered is not None:  # самый дешевый смартфон: the phones by price
            return ordered
        searcher = self._searcher()  # a commit landed: reload, start a new generation
        oldest = self._generations.oldest_servable()
        key = (query, filters, sort, limit, offset, all_words)
        cached = self._pages.get(key, oldest) if limit <= PAGE_CACHE_MAX_LIMIT else None
        if cached is not None and self._still_servable(cached[0], cached[1], searcher):
            return cached[0].page
        modes = ["and"] if all_words else MATCHING_MODES[self.matching]
        page, generation = self._run_search(query, filters, sort, limit, offset, oldest, modes)
        if not page.hits and generation < self._generations.current:
            # Found nothing with an older query: the commits since may have brought the terms
            # (a new product's new word), so ask again with queries of the current generation.
            page, generation = self._run_search(
                query, filters, sort, limit, offset, self._generations.current, modes
            )
        if limit <= PAGE_CACHE_MAX_LIMIT:
            self._pages.put(key, _CachedPage(page, generation), generation)
        return page

    def _still_servable(self, cached: _CachedPage, generation: int, searcher: Any) -> bool:
        """A page of an older generation (within STALE_S) is served only if it found
        something and every product on it is still in the index: deletes (bans, withdrawals)
        take effect as soon as their commit is noticed; only new matches may lag."""
        current = self._generations.current
        if generation == current or cached.alive_in == current:
            return True
        if not cached.page.hits:
            return False
        ids = {hit.product_id for hit in cached.page.hits}
        # Term queries, not a term-set query: ~25 µs for 10 ids against ~200 (100k products).
        should = tantivy.Occur.Should
        query = tantivy.Query.boolean_query(
            [(should, tantivy.Query.term_query(self.schema, "product_id", pid)) for pid in ids]
        )
        if searcher.search(query, limit=1, count=True).count < len(ids):
            return False
        cached.alive_in = current
        return True

    def _text_query(self, words: tuple[str, ...], mode: str) -> Any:
        """The built query for these words (cached; None when no word has terms)."""
        return self._built_query(words, mode, self._generations.oldest_servable())[0][0]

    def _built_query(
        self, words: tuple[str, ...], mode: str, oldest: int
    ) -> tuple[tuple[Any, bool], int]:
        """The query (and whether it covers the fuzzy stage's, `TantivyQueries.stage_query`)
        and the generation it was built against (cached while servable)."""
        key = (words, mode)
        cached = self._queries_built.get(key, oldest)
        if cached is not None:
            return cached
        generation = self._generations.current  # before building: never tag it too new
        built = self._queries.stage_query(words, mode)
        self._queries_built.put(key, built, generation)
        return built, generation

    def _run_search(
        self,
        query: str,
        filters: SearchFilters | None,
        sort: SortOrder,
        limit: int,
        offset: int,
        oldest: int,
        modes: list[str],
    ) -> tuple[SearchPage, int]:
        """The page, and the oldest generation it depends on (its searcher's or a cached
        query's), which is how long it may be cached. `modes`: the matching stages, each
        tried only when the one before found nothing."""
        generation = self._generations.current  # before the searcher: never tag it too new
        words = query_words(query)
        if not words and clean_query(query):
            return SearchPage(total=0), generation  # only symbols/emoji: nothing to look for
        filter_queries = filter_clauses(self.schema, filters)
        # Taken again after `generation` (search() took one to notice commits): with threads
        # sharing this reader, a snapshot taken before it could be older than its tag.
        snapshot = self._current()
        searcher = snapshot.searcher
        if not words:
            modes = ["all"]
        elif len(words) == 1:
            modes = [m for m in modes if m not in ("or", HEAD_MODE)]  # of one word: "and"
        result: Any = None
        covered = False  # the stage before found nothing and asked all this one would
        thin: SearchPage | None = None  # the "and" stage's few products, to be topped up
        for mode in modes:
            if mode == "fuzzy" and (covered or thin is not None):
                break
            if mode == "all":
                text = tantivy.Query.all_query()
            else:
                (text, covers_fuzzy), built = self._built_query(tuple(words), mode, oldest)
                generation = min(generation, built)
                covered = covers_fuzzy
            if text is None:
                continue
            full = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, text)] + [(tantivy.Occur.Must, f) for f in filter_queries]
            )
            if thin is not None:  # the next stage's first products, below the thin stage's
                more = searcher.search(full, limit=offset + limit + THIN_STAGE, count=True)
                if more.count:
                    page = topped_up(thin, self._page(snapshot, more, sort), limit, offset)
                    return page, generation
                continue
            kwargs: dict[str, Any] = {"limit": limit, "offset": offset, "count": True}
            if sort != "relevance":
                kwargs["order_by_field"] = "price"
                kwargs["order"] = tantivy.Order.Asc if sort == "price_asc" else tantivy.Order.Desc
            result = searcher.search(full, **kwargs)
            if not result.count:
                continue
            if mode == "and" and result.count < THIN_STAGE and _may_top_up(words, modes, sort):
                # all the thin stage's products: on this page already, unless it began past one
                whole = len(result.hits) == result.count
                first = result if whole else searcher.search(full, limit=THIN_STAGE, count=True)
                thin = self._page(snapshot, first, sort)
                continue
            break
        if thin is not None:  # no later stage found more
            return SearchPage(thin.total, thin.hits[offset : offset + limit]), generation
        if result is None:
            return SearchPage(total=0), generation
        return self._page(snapshot, result, sort), generation

    @staticmethod
    def _page(snapshot: Any, result: Any, sort: SortOrder) -> SearchPage:
        hits = []
        for key, address in result.hits:
            product = snapshot.product(address)
            score = float(key) if sort == "relevance" else 0.0
            hits.append(SearchHit(str(product["product_id"]), score, product))
        return SearchPage(total=int(result.count or 0), hits=hits)

    def suggest(self, text: str, limit: int = 8) -> list[dict[str, str]]:
        """Completions as the customer types: products whose name has the earlier words and a
        word starting with the last, partly typed one (`ноутб` → «Ноутбук Lenovo B43»).

        Distinct names, best first, each with its product_id (the caller re-checks bans).
        """
        return suggestions(self._searcher(), self.schema, self._queries, text, limit)

    def suggest_one_slip(self, begun: str, limit: int = 8) -> list[dict[str, str]]:
        """Names with a word that `begun` begins with one slip (`one_slip_suggestions`)."""
        return one_slip_suggestions(self._searcher(), self.schema, begun, limit)

    def get(self, product_id: str) -> dict[str, Any] | None:
        searcher = self._searcher()
        result = searcher.search(
            tantivy.Query.term_query(self.schema, "product_id", str(product_id)), limit=1
        )
        if not result.hits:
            return None
        return orjson.loads(bytes(searcher.doc(result.hits[0][1])["stored"][0]))

    def count(self) -> int:
        return int(self._searcher().num_docs)

    def product_ids(self) -> set[str]:
        """Every indexed product_id (tests and `index equals the allowed state` checks)."""
        searcher = self._searcher()
        total = searcher.num_docs
        if not total:
            return set()
        result = searcher.search(tantivy.Query.all_query(), limit=total)
        return {searcher.doc(addr)["product_id"][0] for _, addr in result.hits}

    def close(self) -> None:
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None
