"""The embedded index's result-page cache: a repeated search is not run again; the writer
empties it at its commit, and a read-only reader serves a page for at most STALE_S after the
commit that superseded it was noticed (so pages stay cached under a commit every 0.1 s), but
not once one of its products left the index, nor a page that found nothing; the API hides a
banned product from a cached page at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from tests.conftest import wait_for

from vitrina.api.deps import AppState
from vitrina.api.fast_search import SearchRequest, search_response
from vitrina.contracts.codec import encode
from vitrina.contracts.models import Ban
from vitrina.search.base import SearchFilters
from vitrina.search.embedded import PAGE_CACHE_MAX_LIMIT, RELOAD_INTERVAL_S, EmbeddedSearch
from vitrina.search.stale_cache import STALE_S
from vitrina.services.recs_view import LocalView
from vitrina.settings import load_settings


def product(
    pid: str, name: str, available: int = 3, category: str = "Бытовая техника"
) -> dict[str, Any]:
    return {
        "product_id": pid,
        "name": name,
        "description": "",
        "category": category,
        "brand": "Polaris",
        "price": {"amount": 1000.0, "currency": "RUB"},
        "stock": {"available": available, "reserved": 0},
    }


def ids(index: EmbeddedSearch, query: str, **filters: Any) -> set[str]:
    return {h.product_id for h in index.search(query, SearchFilters(**filters)).hits}


def test_a_repeated_search_is_answered_from_the_cache(tmp_path: Path) -> None:
    index = EmbeddedSearch(tmp_path / "ix")
    index.upsert([product("1", "Чайник стеклянный"), product("2", "Чайник металлический")])
    index.commit()
    first = index.search("чайник", SearchFilters(in_stock=True))
    assert index.search("чайник", SearchFilters(in_stock=True)) is first
    assert index.search("чайник", SearchFilters()) is not first  # other filters: other page
    big = PAGE_CACHE_MAX_LIMIT + 1  # large pages are not kept
    assert index.search("чайник", limit=big) is not index.search("чайник", limit=big)
    index.close()


def test_the_writer_empties_its_cache_at_commit_and_a_reader_follows(tmp_path: Path) -> None:
    index = EmbeddedSearch(tmp_path / "ix")
    index.upsert([product("1", "Чайник стеклянный"), product("2", "Чайник металлический")])
    index.commit()
    reader = EmbeddedSearch(tmp_path / "ix", readonly=True)
    for idx in (index, reader):  # cached before the changes
        assert ids(idx, "чайник") == {"1", "2"} and ids(idx, "чайник", in_stock=True) == {"1", "2"}
    index.delete(["1"])  # withdrawn (banned after publication)
    index.upsert([product("2", "Чайник металлический", available=0)])  # sold out
    index.commit()
    assert ids(index, "чайник") == {"2"} and ids(index, "чайник", in_stock=True) == set()
    wait_for(
        lambda: ids(reader, "чайник") == {"2"} and not ids(reader, "чайник", in_stock=True),
        timeout=10,
        message="the reader's cached pages to follow the commit",
    )
    index.close()


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_a_reader_serves_a_page_for_at_most_stale_s_after_a_commit(tmp_path: Path) -> None:
    writer = EmbeddedSearch(tmp_path / "ix")
    writer.upsert([product("1", "Чайник стеклянный", category="Посуда")])  # no appliance
    writer.commit()
    clock = Clock()
    reader = EmbeddedSearch(tmp_path / "ix", readonly=True, clock=clock)
    page = reader.search("чайник")
    empty = reader.search("электрочайник")  # its built query has no term of the index
    assert [h.product_id for h in page.hits] == ["1"] and empty.total == 0
    writer.upsert([product("2", "Чайник металлический"), product("3", "Электрочайник Polaris")])
    writer.commit()
    clock.advance(RELOAD_INTERVAL_S)  # the reader reloads and notices the commit now
    assert reader.search("чайник") is page
    # A search that found nothing is asked again at once, with a query of the new generation:
    # it finds what the writer finds (the compound first, then the teapot its чайник part
    # names), not what the old generation's query happens to match of the new products.
    fresh = [h.product_id for h in writer.search("электрочайник").hits]
    assert fresh[0] == "3"
    assert [h.product_id for h in reader.search("электрочайник").hits] == fresh
    clock.advance(STALE_S / 2)  # still within the window
    assert reader.search("чайник") is page
    assert reader.search("чайник", SearchFilters(in_stock=True)).total == 2  # not cached: new
    clock.advance(STALE_S / 2)  # STALE_S after the commit was noticed: computed again
    assert {h.product_id for h in reader.search("чайник").hits} == {"1", "2", "3"}
    assert empty.total == 0  # pages handed out are never changed
    writer.close()


def test_a_deleted_product_leaves_a_readers_cached_page_once_the_commit_is_noticed(
    tmp_path: Path,
) -> None:
    writer = EmbeddedSearch(tmp_path / "ix")
    writer.upsert([product("1", "Чайник стеклянный"), product("2", "Чайник металлический")])
    writer.commit()
    clock = Clock()
    reader = EmbeddedSearch(tmp_path / "ix", readonly=True, clock=clock)
    page = reader.search("чайник")
    writer.upsert([product("3", "Утюг Polaris")])  # a commit that leaves the page as it is
    writer.commit()
    clock.advance(RELOAD_INTERVAL_S)
    assert reader.search("чайник") is page  # still served: its products are all indexed
    writer.delete(["1"])  # banned: the filter's tombstone reaches the indexer
    writer.commit()
    clock.advance(RELOAD_INTERVAL_S)  # noticed now, well within STALE_S
    assert {h.product_id for h in reader.search("чайник").hits} == {"2"}
    writer.close()


def test_a_page_computed_after_the_commit_is_not_cut_short_by_it(tmp_path: Path) -> None:
    writer = EmbeddedSearch(tmp_path / "ix")
    writer.upsert([product("1", "Чайник стеклянный")])
    writer.commit()
    clock = Clock()
    reader = EmbeddedSearch(tmp_path / "ix", readonly=True, clock=clock)
    reader.search("чайник")
    writer.upsert([product("2", "Чайник металлический")])
    writer.commit()
    clock.advance(RELOAD_INTERVAL_S)
    old = reader.search("чайник")  # the old page, kept
    fresh = reader.search("металлический")  # query and page built in the new generation
    assert old.total == 1 and fresh.total == 1
    # A page built with a query cached in the old generation expires with that query: the
    # query may lack terms the commit added.
    reused = reader.search("чайник", limit=5)
    clock.advance(STALE_S)  # the old generation expired, the new one is current
    assert reader.search("металлический") is fresh
    assert reader.search("чайник", limit=5) is not reused
    assert reader.search("чайник").total == 2
    writer.close()


class QueryLog:
    """Keeps what the API would log (the query log is not what is tested here)."""

    def __init__(self) -> None:
        self.records: list[tuple[Any, ...]] = []

    def log_query(self, *record: Any) -> None:
        self.records.append(record)


def test_a_banned_product_leaves_a_cached_page_at_once(tmp_path: Path) -> None:
    writer = EmbeddedSearch(tmp_path / "ix")
    writer.upsert([product("1", "Чайник стеклянный"), product("2", "Чайник металлический")])
    writer.commit()
    clock = Clock()
    reader = EmbeddedSearch(tmp_path / "ix", readonly=True, clock=clock)
    settings = load_settings(data_dir=tmp_path / "data")
    view = LocalView(settings)  # not started: the test folds the ban record itself
    app = AppState(settings, view, QueryLog(), "token", search_backend=reader)  # type: ignore[arg-type]
    request = SearchRequest("чайник", SearchFilters(), "relevance", 10, 0, "Dana")

    def shown() -> set[str]:
        return {item["product_id"] for item in orjson.loads(search_response(app, request))["items"]}

    assert shown() == {"1", "2"}
    page = reader.search("чайник")
    ban = Ban(product_id="1", reason="t", banned_by="test", banned_at=datetime.now(UTC))
    view.apply(settings.topics.banned_products, b"1", encode("ban", ban))
    # The index has not dropped it yet (the filter's tombstone is on its way): the page is
    # served from the cache with it, and the API leaves it out.
    assert reader.search("чайник") is page and "1" in {h.product_id for h in page.hits}
    assert shown() == {"2"}
    assert orjson.loads(search_response(app, request))["total"] == 1
    view.apply(settings.topics.banned_products, b"1", None)  # unbanned
    assert shown() == {"1", "2"}
    writer.close()
