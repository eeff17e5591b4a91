"""The parts of an OpenSearch request besides its text: the filters every hit must match,
and suggest-as-you-type (names only, no alternatives). Moved out of `opensearch_query` as
they were; pure functions unit tests check without a server."""

from __future__ import annotations

from typing import Any

from vitrina.domain.search_document import filter_key
from vitrina.search.base import SearchFilters
from vitrina.search.transliteration import is_cyrillic, transliterate
from vitrina.search.typed_filters import SERVED_AFTER, words_to_complete


def filter_clauses(filters: SearchFilters | None) -> list[dict[str, Any]]:
    """The filters as query-DSL clauses every hit must match: category and brand by their
    normalised keys, a price range, in stock."""
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


# A name's words: those it says its product serves too (`fields.served_apart`)
NAME_FIELDS = ("name", "name_served")


def _name_match(word: str) -> dict[str, Any]:
    return {"multi_match": {"query": word, "fields": list(NAME_FIELDS), "type": "most_fields"}}


def suggest_body(text: str, limit: int = 8) -> dict[str, Any] | None:
    """Completions as the customer types: names with the earlier words and a word starting
    with the last, partly typed one (its Latin spelling too: самсу → samsung)."""
    read = words_to_complete(text)
    if read is None:
        return None
    done, maybe, last = read
    fields = NAME_FIELDS if SERVED_AFTER in maybe else NAME_FIELDS[:1]  # as the embedded
    typed: list[dict[str, Any]] = [
        {"prefix": {field: {"value": p}}}
        for p in dict.fromkeys([last, *([transliterate(last)] if is_cyrillic(last) else [])])
        for field in fields
    ]
    typed.append(_name_match(last))  # a whole word typed: its stem, not a prefix
    must: list[dict[str, Any]] = [_name_match(w) for w in done]
    must.append({"bool": {"should": typed, "minimum_should_match": 1}})
    should: list[dict[str, Any]] = [_name_match(w) for w in maybe]
    # Twice the limit: several products share a name; distinct names are kept.
    return {
        "query": {"bool": {"must": must, "should": should}},
        "size": limit * 2,
        "_source": ["product"],
    }
