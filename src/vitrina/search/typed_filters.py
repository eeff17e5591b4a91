"""Filters typed into the query: a price («планшет до 15000», search/price_words.py) and stock
(«ноутбук в наличии», «есть в наличии»). Both are conditions on the product, not words to
match: no product's text holds «наличии», so «в наличии» alone found nothing and «ноутбук в
наличии» listed the notebooks out of stock as well. Pure functions over the query, for both
backends, which read what is found as the filters of `SearchFilters`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Any

from vitrina.domain.search_document import query_words
from vitrina.search.base import SearchFilters, SortOrder
from vitrina.search.lookalikes import one_script_words
from vitrina.search.price_order import price_order
from vitrina.search.price_words import with_price_from_words
from vitrina.search.query_roles import is_optional_word
from vitrina.search.query_understanding import COMPOUND_PREFIXES, MIN_COMPOUND_PART
from vitrina.search.transliteration import is_cyrillic, transliterate

# «в наличии» and the ways it is typed (наличие: a frequent misspelling), with the words
# people put before it. Longest first: «есть в наличии» is taken whole.
STOCK_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {
            (*lead, *phrase)
            for lead in ((), ("есть",), ("только",), ("сейчас",), ("имеется",))
            for phrase in (("в", "наличии"), ("в", "наличие"), ("наличии",), ("наличие",))
        },
        key=len,
        reverse=True,
    )
)

_STOCK_WORDS = frozenset(phrase[-1] for phrase in STOCK_PHRASES)
# Distinct (query, filters) whose reading is kept: every search reads its query before its
# page cache is looked up, and reading a price took ~20-35 µs (0.3-0.5 µs kept).
QUERY_CACHE = 8192


def stock_from_words(query: str) -> str | None:
    """The query without its «в наличии» words, or None when it has none (then it is
    searched exactly as typed). A query of them only leaves no words: every product in
    stock, as an empty query lists every product."""
    words = query_words(query)
    if _STOCK_WORDS.isdisjoint(words):  # nearly every query: no phrase to look for
        return None
    kept: list[str] = []
    found = False
    i = 0
    while i < len(words):
        phrase = next((p for p in STOCK_PHRASES if tuple(words[i : i + len(p)]) == p), None)
        if phrase is None:
            kept.append(words[i])
            i += 1
            continue
        found = True
        i += len(phrase)
    return " ".join(kept) if found else None


@lru_cache(maxsize=QUERY_CACHE)
def with_filters_from_words(
    query: str, filters: SearchFilters | None
) -> tuple[str, SearchFilters | None]:
    """The query to search and the filters with what it typed added: a price bound (the
    narrower of it and the caller's) and «in stock». A stock word that contradicts the
    caller (in_stock=False) is left as typed, as a contradicting price is. «в наличии» is
    taken out first: read first, «до 5000 в наличии» had its «в» taken for volts (230 В)."""
    text = stock_from_words(query)
    if text is not None and not (filters is not None and filters.in_stock is False):
        query, filters = text, replace(filters or SearchFilters(), in_stock=True)
    return with_price_from_words(query, filters)


@lru_cache(maxsize=QUERY_CACHE)
def understood(
    query: str, filters: SearchFilters | None = None, sort: SortOrder = "relevance"
) -> dict[str, Any] | None:
    """What the query typed besides words, as the search reads it beside the caller's
    `filters` and `sort`: {"q": the words looked for, and the price_min, price_max,
    in_stock or sort the words set} — None when they set none (a plain query, or a typed
    bound that contradicts the caller's, which is then searched as words). A price order
    said in words counts only with sort=relevance. For the answer to show the shopper how
    the query was read."""
    text, read = with_filters_from_words(query, filters)
    given = (filters or SearchFilters()).as_dict()
    found: dict[str, Any] = {
        name: value
        for name, value in (read or SearchFilters()).as_dict().items()
        if given.get(name) != value
    }
    ordered = price_order(text) if sort == "relevance" else None
    if ordered is not None:
        text, found["sort"] = ordered
    return {"q": text, **found} if found else None


@lru_cache(maxsize=QUERY_CACHE)
def words_to_complete(text: str) -> tuple[tuple[str, ...], tuple[str, ...], str] | None:
    """Suggest-as-you-type's reading of `text`: (the earlier words a name must have, those
    it may have, the last, partly typed word), or None when nothing is typed. A price, «в
    наличии» and a price order are no name's words (наушники до 5000 беспр, самый дешевый
    смар), nor need a name have a function or intent word (купить ноутб, фен для в: «для»
    only ranks): each such earlier word made every name fail, and nothing was suggested."""
    words = one_script_words(query_words(text))  # нoутб (a Latin o) completes as ноутб
    if not words:
        return None
    *done, last = words
    earlier, _ = with_filters_from_words(" ".join(done), None)
    ordered = price_order(earlier)
    kept = query_words(ordered[0] if ordered is not None else earlier)
    needed = tuple(word for word in kept if not is_optional_word(word))
    return needed, tuple(word for word in kept if is_optional_word(word)), last


# The word after which suggestions also complete what a name says its product serves
# (`fields.served_apart`: Фен для волос, волос indexed apart from the name)
SERVED_AFTER = "для"


def last_word_patterns(last: str) -> list[str]:
    """Regular expressions a name's word matches when it completes the partly typed `last`:
    as typed; in Latin for a Cyrillic one (самсу → samsung); after a compound's first part
    (чайн → электрочайник)."""
    patterns = [re.escape(last) + ".*"]
    if is_cyrillic(last):
        patterns.append(re.escape(transliterate(last)) + ".*")
        if len(last) >= MIN_COMPOUND_PART:
            patterns[0] = f"({'|'.join(COMPOUND_PREFIXES)})?{patterns[0]}"
    return patterns
