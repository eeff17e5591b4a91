"""The embedded index's query cache: a query is built once, keeping only terms the index has.

Regression tests for the speed fix of issue 15: pruning must never change what is found or
how it ranks, and a term that arrives in a later commit must be found by a query that was
cached before it existed (in the writer and in a read-only reader).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tantivy
from tests.conftest import wait_for

from vitrina.domain.generator import generate_catalog
from vitrina.search.analysis import lemmas
from vitrina.search.embedded import EmbeddedSearch
from vitrina.search.query_understanding import alternatives


def product(pid: str, name: str, category: str = "Бытовая техника") -> dict[str, Any]:
    return {
        "product_id": pid,
        "name": name,
        "description": "",
        "category": category,
        "brand": "Polaris",
        "price": {"amount": 1000.0, "currency": "RUB"},
        "stock": {"available": 3, "reserved": 0},
    }


def test_a_cached_query_finds_a_compound_committed_later(tmp_path: Path) -> None:
    index = EmbeddedSearch(tmp_path / "ix")
    # a glass teapot is tableware: электро- is read as электрический or the appliances'
    # category (техника), neither of which it has
    index.upsert([product("1", "Чайник заварочный стеклянный", category="Посуда")])
    index.commit()
    reader = EmbeddedSearch(tmp_path / "ix", readonly=True)
    for idx in (index, reader):  # cached while «электрочайник» is not in the index
        assert [h.product_id for h in idx.search("чайник").hits] == ["1"]
        assert idx.search("электрочайник").total == 0
    index.upsert([product("2", "Электрочайник Polaris 1.7 л")])
    index.commit()
    assert {h.product_id for h in index.search("чайник").hits} == {"1", "2"}
    assert index.search("электрочайник").total == 1
    wait_for(
        lambda: {h.product_id for h in reader.search("чайник").hits} == {"1", "2"},
        timeout=10,
        message="the reader to find the compound committed after caching",
    )
    index.close()


def test_all_words_still_means_all_when_a_word_is_not_in_the_index(tmp_path: Path) -> None:
    index = EmbeddedSearch(tmp_path / "ix", matching="and")
    index.upsert([product("1", "Чайник заварочный")])
    index.commit()
    assert index.search("чайник стеклянный").total == 0  # «стеклянный» is in no product
    index.close()


def unpruned_query(index: EmbeddedSearch, words: list[str], mode: str) -> Any:
    """The query as it was built before pruning: every alternative's every term."""
    clauses = []
    for word in words:
        terms = index._queries.term_clauses(word)
        for alt in alternatives(word, lemmas(word)):
            terms += index._queries.term_clauses(alt.word, alt.weight)
        clauses.append(tantivy.Query.boolean_query(terms))
    occur = tantivy.Occur.Must if mode == "and" else tantivy.Occur.Should
    return tantivy.Query.boolean_query([(occur, c) for c in clauses])


def test_pruned_queries_find_and_rank_exactly_as_the_full_ones(tmp_path: Path) -> None:
    index = EmbeddedSearch(tmp_path / "ix")
    index.upsert(list(generate_catalog(2000, seed=3)))
    index.commit()
    searcher = index._searcher()
    for text in (
        "клавиатура",
        "умные часы",
        "наушники беспроводные",
        "велосипед",
        "самсунг",
        "лэптоп",
        "пылесос робот",
        "чайник",
        "мышка",
        "кроссовки",
    ):
        words = text.split()
        for mode in ("and", "or"):
            full = searcher.search(unpruned_query(index, words, mode), limit=20, count=True)
            pruned = searcher.search(index._text_query(tuple(words), mode), limit=20, count=True)
            assert pruned.count == full.count, (text, mode)
            assert [(round(s, 4), a.doc) for s, a in pruned.hits] == [
                (round(s, 4), a.doc) for s, a in full.hits
            ], (text, mode)
    index.close()
