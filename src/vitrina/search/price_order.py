"""A price order said in words: «самый дешевый смартфон», «недорогие наушники», «фен
подешевле» ask for the cheapest first; «самый дорогой ноутбук», «часы подороже» for the
dearest. The words are in no product's text (they were optional words, so ignored), and
the shopper got the relevance order, a 44,000 ₽ phone before a 12,400 ₽ one.

Sorting every match by price is not the answer: «ноутбук» also matches backpacks «для
ноутбука», which are cheaper than any laptop. So the order applies to the products that
are what was asked — the hits within PRICE_ORDER_BAND of the best score, which for a
product word is its own kind (laptops score ~51-55 there, the backpacks ~5-6) — and the
others follow in relevance order. Pure functions, for both backends' `search`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from vitrina.domain.search_document import query_words
from vitrina.search.analysis import form_lemmas
from vitrina.search.base import SearchPage, SortOrder

CHEAP_LEMMAS = frozenset({"дешевый", "недорогой", "бюджетный", "недорого", "дешево"})
# «дорогой» alone is also «dear» (подарок дорогому человеку) and a form of «дорога»: only
# after самый, or as a comparative (подороже, дороже with no number: a number after it is
# a bound, `price_words`).
DEAR_COMPARATIVES = frozenset({"подороже", "дороже"})
DEAR_LEMMA = "дорогой"
SUPERLATIVES = frozenset({"самый", "самая", "самое", "самые", "самую", "самого", "самых", "самой"})
# The relevance hits whose order the price decides: a first page's worth many times over.
PRICE_ORDER_WINDOW = 100
# Of the best score: the hits that are what was asked (the same product word in the name).
PRICE_ORDER_BAND = 0.5

Search = Callable[[str, SortOrder, int, int], SearchPage]  # (query, sort, limit, offset)


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
        if CHEAP_LEMMAS.intersection(lemmas):
            found: SortOrder | None = "price_asc"
        elif word in DEAR_COMPARATIVES or (after_most and DEAR_LEMMA in lemmas):
            found = "price_desc"
        else:
            kept.append(word)
            continue
        if after_most:
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
    if offset + limit > PRICE_ORDER_WINDOW:
        return search(text, "relevance", limit, offset)
    page = search(text, "relevance", PRICE_ORDER_WINDOW, 0)
    if not page.hits:
        return page
    floor = page.hits[0].score * PRICE_ORDER_BAND
    band = [hit for hit in page.hits if hit.score >= floor]
    dear_first = order == "price_desc"
    band.sort(key=lambda hit: _price_key(hit.product, dear_first))
    hits = band + page.hits[len(band) :]
    return SearchPage(total=page.total, hits=hits[offset : offset + limit])


def _price_key(product: dict[str, object], dear_first: bool) -> tuple[bool, float]:
    """Cheapest (or dearest) first; a product without a price last either way."""
    price = product.get("price")
    amount = price.get("amount") if isinstance(price, dict) else None
    if not isinstance(amount, int | float):
        return True, 0.0
    return False, -float(amount) if dear_first else float(amount)
