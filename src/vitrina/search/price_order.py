"""A price order said in words: «самый дешевый смартфон», «недорогие наушники», «фен
подешевле» ask for the cheapest first; «самый дорогой ноутбук», «часы подороже» for the
dearest. The words are in no product's text (they were optional words, so ignored), and
the shopper got the relevance order, a 44,000 ₽ phone before a 12,400 ₽ one.

Sorting every match by price is not the answer: «ноутбук» also matches backpacks «для
ноутбука», which are cheaper than any laptop. So the order applies to the products that
are what was asked, and the others follow in relevance order. What was asked: the hits
within PRICE_ORDER_BAND of the best score, which for a product word is its own kind
(laptops score ~51-55 there, the backpacks ~5-6), or whose name has every word asked for
(a long name scores lower); of those, the ones with the most of the words asked in their
text (when nothing has them all, «монитор 27 дюймов» ranks 24" monitors within a tenth of
the 27" ones). Pure functions, for both backends' `search`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from vitrina.domain.search_document import normalize_text, query_words, specifications_text
from vitrina.search.analysis import form_lemmas, stem_text, stems
from vitrina.search.base import SearchFilters, SearchHit, SearchPage, SortOrder
from vitrina.search.price_words import NEGATION
from vitrina.search.query_roles import FUNCTION_WORDS

CHEAP_LEMMAS = frozenset({"дешевый", "недорогой", "бюджетный", "недорого", "дешево", "дешевенький"})
# дешовый, дишевые, дешовенький: the slips of дешёвый people type (ё as о, е as и)
CHEAP_SLIPS = re.compile(r"д[еи]ш[ео]в\w*")
# «дорогой» alone is also «dear» (подарок дорогому человеку) and a form of «дорога»: only
# after самый, or as a comparative (подороже, дороже with no number: a number after it is
# a bound, `price_words`).
DEAR_COMPARATIVES = frozenset({"подороже", "дороже"})
DEAR_LEMMA = "дорогой"
SUPERLATIVES = frozenset({"самый", "самая", "самое", "самые", "самую", "самого", "самых", "самой"})
# The relevance hits whose order the price decides: a first page's worth many times over.
PRICE_ORDER_WINDOW = 100
# Of the best score: the hits that are what was asked (the same product word in the name);
# a hit whose name has every word asked for is too, whatever its score.
PRICE_ORDER_BAND = 0.5

Search = Callable[[str, SortOrder, int, int], SearchPage]  # (query, sort, limit, offset)
# A backend's search: (query, filters, sort, limit, offset)
BackendSearch = Callable[[str, SearchFilters | None, SortOrder, int, int], SearchPage]


@lru_cache(maxsize=8192)
def price_order(query: str) -> tuple[str, SortOrder] | None:
    """(the query without its price-order words, the order they ask for), or None when
    it has none. «самый» goes with the word after it."""
    words = query_words(query)
    kept: list[str] = []
    order: SortOrder | None = None
    for word in words:
        lemmas = form_lemmas(word) if word.isalpha() else ()
        after_most = bool(kept) and kept[-1] in SUPERLATIVES
        after_not = bool(kept) and kept[-1] == NEGATION
        if CHEAP_LEMMAS.intersection(lemmas) or CHEAP_SLIPS.fullmatch(word):
            found: SortOrder | None = "price_asc"
        elif after_not and (DEAR_LEMMA in lemmas or word == "дорого"):
            found = "price_asc"  # не дорогие наушники: недорогие typed apart
        elif word in DEAR_COMPARATIVES or (after_most and DEAR_LEMMA in lemmas):
            found = "price_desc"
        else:
            kept.append(word)
            continue
        if after_most or after_not:
            kept.pop()
        order = order or found
    return None if order is None else (" ".join(kept), order)


def ordered_by_price(
    search: Search, text: str, order: SortOrder, limit: int, offset: int
) -> SearchPage:
    """The page of `text` with the hits that are what was asked in price `order`
    (the module's docstring); a query of the order words only lists every product by
    price. Pages past the window are the relevance order's, which continues it."""
    if not query_words(text):
        return search(text, order, limit, offset)
    if offset >= PRICE_ORDER_WINDOW:
        return search(text, "relevance", limit, offset)
    page = search(text, "relevance", PRICE_ORDER_WINDOW, 0)
    if not page.hits:
        return page
    hits = _in_order(page.hits, text, order)[offset : offset + limit]
    if offset + limit > PRICE_ORDER_WINDOW < page.total:  # a page across the window's end
        hits += search(
            text, "relevance", offset + limit - PRICE_ORDER_WINDOW, PRICE_ORDER_WINDOW
        ).hits
    return SearchPage(total=page.total, hits=hits)


def _in_order(found: list[SearchHit], text: str, order: SortOrder) -> list[SearchHit]:
    """The hits that are what `text` asks for in price `order`, then the others as found."""
    floor = found[0].score * PRICE_ORDER_BAND
    wanted = _asked_stems(text)
    near = [hit.score >= floor or _names_it(hit.product, wanted) for hit in found]
    # Of those, the ones with the most of the words asked: when nothing has them all ("any
    # word" ranks), 24" monitors score within a tenth of the 27" ones for «монитор 27
    # дюймов», and a price order over both listed the cheaper 24" first.
    has = [
        len(wanted & _text_stems(hit.product)) if of_it else -1
        for hit, of_it in zip(found, near, strict=True)
    ]
    most = max(has)
    asked = [count == most for count in has]
    band = [hit for hit, of_it in zip(found, asked, strict=True) if of_it]
    rest = [hit for hit, of_it in zip(found, asked, strict=True) if not of_it]
    dear_first = order == "price_desc"
    band.sort(key=lambda hit: _price_key(hit.product, dear_first))
    return band + rest


def _asked_stems(text: str) -> frozenset[str]:
    """The stems of the words `text` asks for (all but the function words): клавиатура →
    {клавиатур}."""
    words = (w for w in query_words(text) if w not in FUNCTION_WORDS)
    return frozenset(stem for word in words for stem in stems(word))


def _text_stems(product: dict[str, Any]) -> set[str]:
    """The stems of a product's searchable text: name, brand, description, tags and the
    specifications as the index holds them (`specifications_text`)."""
    tags = product.get("tags")
    specs = product.get("specifications")
    parts = [
        *(str(product.get(field) or "") for field in ("name", "brand", "description")),
        *(t for t in (tags if isinstance(tags, list) else []) if isinstance(t, str)),
        specifications_text(specs) if isinstance(specs, dict) else "",
    ]
    return set(stem_text(normalize_text(" ".join(parts))).split())


def _names_it(product: dict[str, object], wanted: frozenset[str]) -> bool:
    """Whether the product's name has every stem asked for: a long name (a keyboard called
    by a whole sentence) scores under the band by BM25's length norm, but is one."""
    name = product.get("name")
    if not wanted or not isinstance(name, str):
        return False
    return wanted <= set(stem_text(normalize_text(name)).split())


def _price_key(product: dict[str, object], dear_first: bool) -> tuple[bool, float]:
    """Cheapest (or dearest) first; a product without a price last either way."""
    price = product.get("price")
    amount = price.get("amount") if isinstance(price, dict) else None
    if not isinstance(amount, int | float):
        return True, 0.0
    return False, -float(amount) if dear_first else float(amount)


def in_price_order(
    search: BackendSearch,
    query: str,
    filters: SearchFilters | None,
    sort: SortOrder,
    limit: int,
    offset: int,
) -> SearchPage | None:
    """The page of a query that says a price order, searched with `search` (a backend's
    own, which then finds no order words left); None for any other query, or when the
    caller chose a sort."""
    ordered = price_order(query) if sort == "relevance" else None
    if ordered is None:
        return None
    text, order = ordered
    return ordered_by_price(
        lambda words, by, n, skip: search(words, filters, by, n, skip), text, order, limit, offset
    )
