"""The embedded index's query cache: a query is built once, keeping only terms the index has.

Regression tests for the speed fix of issue 15: pruning must never change what is found or
how it ranks, and a term that arrives in a later commit must be found by a query that was
cached before it existed (in the writer and in a read-only reader).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tantivy
from tests.conftest import wait_for

from vitrina.domain.generator import generate_catalog
from vitrina.search.analysis import lemmas
from vitrina.search.base import SearchFilters
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


def _stage_by_stage(index: EmbeddedSearch, text: str, filters: SearchFilters) -> list[Any]:
    """The search as the stages were run before their shortcuts: every stage's whole query
    built (`assemble`, no "all words" stop) and run until one finds something."""
    from vitrina.domain.search_document import query_words
    from vitrina.search.base import THIN_STAGE
    from vitrina.search.query_plan import assemble, plan_query, rewritten_words
    from vitrina.search.tantivy_query import _TantivyClauses
    from vitrina.search.tantivy_reading import read_words
    from vitrina.search.tantivy_requests import filter_clauses

    searcher = index._searcher()
    words = rewritten_words(tuple(query_words(text)))
    if len(words) > 1:
        words = read_words(searcher, words)
    modes = ["and", "or", "fuzzy"] if len(words) > 1 else ["and", "fuzzy"]
    thin: list[Any] = []  # a thin "and" stage's products, topped up by the next stage's
    for mode in modes:
        query = assemble(plan_query(words, mode), _TantivyClauses(index._queries, mode))
        if query is None:
            continue
        full = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, query)]
            + [(tantivy.Occur.Must, f) for f in filter_clauses(index.schema, filters)]
        )
        result = searcher.search(full, limit=10 + THIN_STAGE, count=True)
        found = [(round(score, 4), address.doc) for score, address in result.hits]
        if thin:
            if mode == "fuzzy":
                return thin
            if result.count:
                docs = {doc for _, doc in thin}
                return [*thin, *(hit for hit in found if hit[1] not in docs)][:10]
            continue
        if mode == "and" and 0 < result.count < THIN_STAGE and len(words) > 1:
            thin = found
            continue
        if result.count:
            return found[:10]
    return thin


def _gibberish(rng: Any, n_words: int) -> str:
    letters = "абвгдежзиклмнопрстуфхцчшщэюя"
    return " ".join(
        "".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(n_words)
    )


def test_the_stage_shortcuts_find_and_rank_exactly_as_every_stage_in_full(
    tmp_path: Path,
) -> None:
    """ "All words" stops at a needed word the index lacks, and the fuzzy stage is skipped
    when "any word" already asked its clauses: neither may change a result — typed words,
    misspelt ones, gibberish and their mixes, with and without filters."""
    import random

    index = EmbeddedSearch(tmp_path / "ix")
    index.upsert(list(generate_catalog(2000, seed=3)))
    # phrases whose words no product has, found by a meaning in "all words"
    index.upsert([product("s1", "Саундбар Samsung HW-T420"), product("s2", "Фен Polaris")])
    index.commit()
    rng = random.Random(11)
    typed = [
        "звуковая панель",
        "звуковая панель samsung",
        "сушилка для волос",
        "чайник электрический",
        "наушнкии беспроводные",
        "кросовки найк мужские",
        "ноутбк леново",
        "умные часы самсунг",
        "мышь для ноутбука",
        "звуковая панель",
        "пылесос робот без мешка",
        "электровелосипед",
        "гантели 10 кг",
    ]
    texts = typed + [_gibberish(rng, rng.randint(1, 10)) for _ in range(40)]
    texts += [f"{t} {_gibberish(rng, rng.randint(1, 2))}" for t in typed]
    texts += [f"{_gibberish(rng, 1)} {t}" for t in typed]
    searcher = index._searcher()
    compared = found = 0
    for text in texts:
        for filters in (SearchFilters(), SearchFilters(in_stock=True, price_max=5000)):
            page = index.search(text, filters, limit=10)
            expected = _stage_by_stage(index, text, filters)
            addresses = {
                searcher.doc(a)["product_id"][0]: a.doc
                for _, a in searcher.search(tantivy.Query.all_query(), limit=3000).hits
            }
            got = [(round(h.score, 4), addresses[h.product_id]) for h in page.hits]
            assert got == expected, (text, filters)
            compared += 1
            found += bool(expected)
    assert compared == 2 * len(texts) and found > len(typed)  # both kinds were compared
    index.close()


def test_a_query_of_words_the_index_lacks_is_built_once_per_word(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work, not time: a query of 8 words no product has builds one word's clauses in "all
    words" (was: all 8, each with its ~80 alternatives probed) and each word's fuzzy clause
    once, in "any word" (was: again in the fuzzy stage, which then ran the same clauses)."""
    import random

    from vitrina.search.tantivy_query import TantivyQueries

    index = EmbeddedSearch(tmp_path / "ix")
    index.upsert(list(generate_catalog(500, seed=3)))
    index.commit()
    text = _gibberish(random.Random(5), 8)
    built: list[tuple[str, bool]] = []
    fuzzy: list[str] = []
    real_matching, real_fuzzy = TantivyQueries.matching_clauses, TantivyQueries.fuzzy_clause

    def matching(self: TantivyQueries, word: str, either: bool = False) -> Any:
        built.append((word, either))
        return real_matching(self, word, either)

    monkeypatch.setattr(TantivyQueries, "matching_clauses", matching)
    monkeypatch.setattr(
        TantivyQueries, "fuzzy_clause", lambda self, w: fuzzy.append(w) or real_fuzzy(self, w)
    )
    assert index.search(text).total == 0
    assert [either for _, either in built].count(False) == 1  # "all words" stopped at once
    assert [either for _, either in built].count(True) == 8  # "any word": every word
    assert sorted(fuzzy) == sorted(text.split())  # once each: no fuzzy stage after it
    index.close()


def _generated_index(tmp_path: Path) -> EmbeddedSearch:
    index = EmbeddedSearch(tmp_path / "ix")
    index.upsert(list(generate_catalog(2000, seed=3)))
    index.commit()
    return index


def _finds_as_every_clause(searcher: Any, every: list[Any], kept: Any, label: str) -> int:
    """Asserts the kept clauses find and rank what every clause does; how many they find."""
    full = searcher.search(tantivy.Query.boolean_query(every), limit=50, count=True)
    pruned = searcher.search(kept, limit=50, count=True)
    assert pruned.count == full.count, label
    assert [(round(s, 4), a.doc) for s, a in pruned.hits] == [
        (round(s, 4), a.doc) for s, a in full.hits
    ], label
    return int(full.count)


def test_a_typo_stage_keeps_only_the_clauses_that_match_and_finds_and_ranks_as_all_of_them(
    tmp_path: Path,
) -> None:
    """The fuzzy clause keeps only its clauses that match a product (a union of fuzzy
    clauses cost tantivy ~3× running each alone): the same products, the same scores as
    every clause; and for a word no product is near, no clause at all — an empty query, not
    27 fuzzy automata run over every field's terms for nothing."""
    index = _generated_index(tmp_path)
    queries = index._queries
    searcher = index._searcher()
    for word in ("наушнеки", "клавиатрура", "кофемашына", "самсунк", "пылесоз", "велосепед"):
        every = queries.typo_clauses(word)
        kept = queries.fuzzy_clause(word)
        assert 0 < repr(kept).count("FuzzyTermQuery") < sum("Fuzzy" in repr(c) for _, c in every)
        assert _finds_as_every_clause(searcher, every, kept, word) > 0
    assert len(queries.typo_clauses("канструто")) > 10
    assert repr(queries.fuzzy_clause("канструто")) == repr(tantivy.Query.empty_query())
    assert index.search("канструто").total == 0
    index.close()


def test_a_typo_of_a_word_committed_later_is_found_by_a_reader(tmp_path: Path) -> None:
    """The typo stage's clauses are kept as the index was when the query was built: a
    reader that searched «кафеварка» before any coffee maker was indexed finds the one
    committed after (the built query is tagged with its generation, not kept forever)."""
    index = EmbeddedSearch(tmp_path / "ix")
    index.upsert([product("1", "Чайник заварочный стеклянный", category="Посуда")])
    index.commit()
    reader = EmbeddedSearch(tmp_path / "ix", readonly=True)
    assert reader.search("кафеварка").total == 0
    index.upsert([product("2", "Кофеварка капельная Polaris")])
    index.commit()
    assert [h.product_id for h in index.search("кафеварка").hits] == ["2"]
    wait_for(
        lambda: [h.product_id for h in reader.search("кафеварка").hits] == ["2"],
        timeout=10,
        message="the reader to find by a typo the product committed after its search",
    )
    index.close()


def test_a_joined_pair_keeps_only_the_clauses_that_match_and_finds_as_all_of_them(
    tmp_path: Path,
) -> None:
    """Two adjacent words joined (ксиа оми ~ xiaomi) are looked for a few edits from a
    name or brand in every "any word" search of 2+ words; the union of a pair's clauses
    cost 0.5–4 ms at 100k products and most pairs match nothing. Kept: those that match,
    finding what all of them find; a pair nothing is near asks nothing."""
    index = _generated_index(tmp_path)
    queries = index._queries
    searcher = index._searcher()
    found = [
        _finds_as_every_clause(
            searcher, queries.name_fuzzy_clauses(joined), queries.name_fuzzy_clause(joined), joined
        )
        for joined in ("ксиаоми", "филипс", "марщалл", "самсунггалакси", "делонги")
    ]
    assert sum(count > 0 for count in found) == 3  # pairs that match were compared too
    assert queries.name_fuzzy_clauses("наушникиэйр")
    assert repr(queries.name_fuzzy_clause("наушникиэйр")) == repr(tantivy.Query.empty_query())
    index.close()
