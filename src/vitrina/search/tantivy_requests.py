"""The parts of an embedded-index request besides its text: the filters every hit must
match, and suggest-as-you-type (names only, no alternatives: suggestions must come back
within a keystroke). Moved out of `tantivy_query` and `embedded` as they were."""

from __future__ import annotations

from typing import Any

import orjson
import tantivy

from vitrina.domain.search_document import filter_key
from vitrina.search.base import SearchFilters
from vitrina.search.tantivy_query import TantivyQueries
from vitrina.search.transliteration import SOUND_BRAND_BOOST, brand_sound_pattern
from vitrina.search.typed_filters import SERVED_AFTER, last_word_patterns, words_to_complete


def filter_clauses(schema: Any, filters: SearchFilters | None) -> list[Any]:
    """The filters as tantivy clauses every hit must match: category and brand by their
    normalised keys, a price range, in stock."""
    if filters is None:
        return []
    out = []
    if filters.category:
        out.append(tantivy.Query.term_query(schema, "category_key", filter_key(filters.category)))
    if filters.brand:
        out.append(tantivy.Query.term_query(schema, "brand_key", filter_key(filters.brand)))
    if filters.price_min is not None or filters.price_max is not None:
        out.append(
            tantivy.Query.range_query(
                schema,
                "price",
                tantivy.FieldType.Float,
                lower_bound=float(filters.price_min if filters.price_min is not None else 0.0),
                upper_bound=float(filters.price_max if filters.price_max is not None else 1e15),
            )
        )
    if filters.in_stock:
        out.append(tantivy.Query.term_query(schema, "in_stock", True))
    return out


def suggestions(
    searcher: Any, schema: Any, queries: TantivyQueries, text: str, limit: int
) -> list[dict[str, str]]:
    """Products whose name has the earlier words and a word starting with the last, partly
    typed one: distinct names, best first, each with its product_id."""
    read = words_to_complete(text)
    if read is None:
        return []
    done, maybe, last = read
    should, must = tantivy.Occur.Should, tantivy.Occur.Must
    # Names only, no alternatives: suggestions must come back within a keystroke.
    clauses = [(must, tantivy.Query.boolean_query(queries.name_clauses(w))) for w in done]
    clauses += [(should, tantivy.Query.boolean_query(queries.name_clauses(w))) for w in maybe]
    # what a name says its product serves is completed only after для (фен для в → волос):
    # a second regex for every keystroke cost ~40 % of suggest's time
    fields = queries.name_fields if SERVED_AFTER in maybe else ("name",)
    typed = [
        (should, tantivy.Query.regex_query(schema, field, p))
        for p in last_word_patterns(last)
        for field in fields
    ] + queries.name_clauses(last)
    clauses.append((must, tantivy.Query.boolean_query(typed)))
    return _distinct_names(searcher, tantivy.Query.boolean_query(clauses), limit)


def one_slip_suggestions(
    searcher: Any, schema: Any, begun: str, limit: int
) -> list[dict[str, str]]:
    """Products whose name has a word that `begun`, typed with one slip (a letter wrong,
    missing, extra, or two swapped), begins: ноту → «Ноутбук …», кофимаш → «Кофемашина …».
    A fuzzy prefix over the names' terms, asked only when nothing else completes the word;
    a brand whose key begins with the word's sound first (мишл → «Шины Michelin …»: a second
    blind review; `transliteration.brand_sound_pattern`). A lone word: never one of what a
    name says its product serves, which suggestions complete only after для."""
    query = tantivy.Query.fuzzy_term_query(
        schema, "name", begun.lower(), distance=1, transposition_cost_one=True, prefix=True
    )
    sound = brand_sound_pattern(begun.lower(), begun=True)
    if sound is not None:
        by_sound = tantivy.Query.regex_query(schema, "brand_key", sound)
        query = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, query),
                (tantivy.Occur.Should, tantivy.Query.boost_query(by_sound, SOUND_BRAND_BOOST)),
            ]
        )
    return _distinct_names(searcher, query, limit)


def _distinct_names(searcher: Any, query: Any, limit: int) -> list[dict[str, str]]:
    result = searcher.search(query, limit=limit * 2)
    seen: dict[str, dict[str, str]] = {}
    for _score, address in result.hits:
        product = orjson.loads(bytes(searcher.doc(address)["stored"][0]))
        name = str(product.get("name") or "")
        if name and name not in seen:
            seen[name] = {"product_id": str(product["product_id"]), "name": name}
    return list(seen.values())[:limit]
