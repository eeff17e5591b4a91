"""The embedded index's result-page cache: a repeated search is not run again, and a commit
(in the writer, or seen by a read-only reader) empties it, so a withdrawn or changed product
never outlives the reload interval in a cached page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import wait_for

from vitrina.search.base import SearchFilters
from vitrina.search.embedded import PAGE_CACHE_MAX_LIMIT, EmbeddedSearch


def product(pid: str, name: str, available: int = 3) -> dict[str, Any]:
    return {
        "product_id": pid,
        "name": name,
        "description": "",
        "category": "Бытовая техника",
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


def test_a_commit_empties_the_cache_in_the_writer_and_the_reader(tmp_path: Path) -> None:
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
