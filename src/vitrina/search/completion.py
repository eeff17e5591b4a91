"""Suggest-as-you-type that understands what search understands.

A backend's `suggest` completes the last, partly typed word against the words of product
names (`ноутб` → «Ноутбук …»): fast, but blind to everything search reads into a query. A
shopper typing «айф», «мышку», «телек», «наушнеки» or «смартфон сямс» got no suggestion at
all, though search finds iPhones, mice, televisions, headphones and Samsung phones for the
same words finished. When the names complete nothing, `suggestions` asks search itself:

1. the last word completed to a word of the query understanding's vocabulary (a Cyrillic
   brand or product word, a synonym, a clipped or English word: `word_lists.BRANDS` and
   `SYNONYMS`), at most MAX_COMPLETIONS of them with distinct meanings, shortest first
   (айф → айфон, сяом → сяоми, смартфон сямс → смартфон сямсунг), in a text of at most
   MAX_SEARCHED_WORDS words; only a completion some product has (`_sold`): after earlier
   words, the first that none has ends this step, as its search would have found only the
   earlier words' products;
2. the earlier words searched as search reads them, and of what they find, the names with
   a word the last one begins (`typed_filters.last_word_patterns`, as the names' completion
   reads it): мышка беспр → «Мышь беспроводная …», айфон чех → «Чехол для iPhone …»,
   наушнеки бесп → «Наушники беспроводные …»; when no name has such a word, a word it
   begins with one slip (мышка беспрво);
3. then the text itself, when its last word has MIN_TYPED_LAST letters or more. Searched
   whole (every word, else any word, else a few edits away): a single word in another case
   (мышку), with a typo (наушнеки), on the wrong keyboard layout (yfeib); two words whose
   last looks finished (`_finished`: колонка переносная → «Портативная колонка …»,
   смарт-часы → «Умные часы …», электро-щётка → «Электрическая зубная щётка …»). Any
   other text only for the products with every word as search reads them (`all_words`:
   детская коляска прогулоч → «Коляска прогулочная …», хочу купить недорогой ноутбук для
   учебы → «Ноутбук …»): one cheap stage, where "any word" would score thousands of
   products. A text of more than MAX_SEARCHED_WORDS words goes straight to this step.

A text that says a price order, its last word finished (дешевые наушники, самый дорогой
велосипед), is searched first: the names' completion knows no order, search lists the
cheapest (or dearest) of what was asked first.

A text that leaves a word out (не, кроме, исключая after a word of the product: телевизор
не samsung, смартфон кроме самсун) skips the names' completion, which would read the word
as one a name must have, and suggests what search finds for it, without the names that
have a word the one being typed begins (`_names_without`).

The first that finds products gives their names, best first. Only an empty completion
pays for a search, so the common keystroke costs what it did. `benchmarks/search.py`
measures both ways over every prefix of the judged queries.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

from rapidfuzz.distance import OSA

from vitrina.domain.search_document import query_words
from vitrina.search.analysis import is_dictionary_word
from vitrina.search.base import SearchBackend, distinct_names
from vitrina.search.keyboard_layout import keyboard_twin
from vitrina.search.price_order import price_order
from vitrina.search.query_roles import EXCLUDING_WORDS, LIST_WORDS, query_roles
from vitrina.search.typed_filters import last_word_patterns, words_to_complete
from vitrina.search.word_lists import BRANDS, SYNONYMS

# A vocabulary word is offered for a last word of at least this many letters: «ай» begins
# too many words to guess which; «айф» begins only айфон's spellings.
MIN_VOCABULARY_PREFIX = 3
# Searches for vocabulary completions per keystroke, at most (each a few ms at 100k).
MAX_COMPLETIONS = 2
# Steps 1 and 2 run for a text of at most this many words: a longer one is a sentence being
# typed, where search of the earlier words costs most (a word's alternatives in every
# field, its typos: up to ~20 ms at 100k products against ~1 ms for the names'
# completion). It is searched for products with all its words only (step 3).
MAX_SEARCHED_WORDS = 3
# Products the earlier words find, looked through for names the last word completes: a
# page of search's best (the names completing it, if any, are among them for a word that
# narrows the kind, as a brand or a type does).
HEAD_HITS = 50
# A word as typed is searched only when it is the whole text, of this many letters or more.
# A shorter one is most likely a word begun (ghb, «при» on the wrong layout, found any
# product that says при), and search's reading of a fragment is noise. Searched after
# earlier words, a text's "any word" stage scored thousands of products at 100k: the
# suggest p99 went from 1.3 to 10.8 ms, over its 10 ms target; one word alone, 5.6 ms.
MIN_TYPED_LAST = 4
# A word begun after earlier words, of this many letters or more, completes a name's word
# it begins with one slip (`_begun_with_a_typo`) when none begins with it as typed: shorter,
# one slip reaches too many words (бесп → бедп, весп, …).
MIN_FUZZY_LAST = 5
# A text whose last word looks finished (`_finished`) and whose earlier words' hits complete
# nothing is searched whole, every stage, when it has at most this many words (the suggest
# p99 at 100k: 7.0 ms before this step, 8.0 with it, benchmarks/search.py); a longer one
# only for all its words. Every stage for three-word texts took p99 to 8.7 ms against 7.8.
MAX_WHOLE_WORDS = 2
# The stems of the words that may say a price order (`price_order.CHEAP_LEMMAS`, its slips,
# дорогой and its comparatives: недорогой, подороже, бюджетный, дешовый).
_MAY_ORDER_BY_PRICE = re.compile(r"д[еи]ш[ео]в|дорог|дорож|бюджет")


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every word the understanding reads (sorted), and the meaning of each, as a key."""
    meanings = {word: str(BRANDS[word]) for word in BRANDS}
    meanings.update({word: " ".join(SYNONYMS[word]) for word in SYNONYMS if word not in meanings})
    words = tuple(sorted(meanings))
    return words, tuple(meanings[word] for word in words)


def vocabulary_completions(last: str) -> list[str]:
    """Words of the vocabulary that `last` begins (itself included), one per meaning,
    shortest first, at most MAX_COMPLETIONS."""
    if len(last) < MIN_VOCABULARY_PREFIX:
        return []
    words, meanings = _vocabulary()
    found: dict[str, str] = {}
    for i in range(bisect_left(words, last), len(words)):
        if not words[i].startswith(last):
            break
        known = found.get(meanings[i])
        if known is None or len(words[i]) < len(known):
            found[meanings[i]] = words[i]
    return sorted(found.values(), key=lambda word: (len(word), word))[:MAX_COMPLETIONS]


def _names(
    backend: SearchBackend, text: str, limit: int, all_words: bool = False
) -> list[dict[str, str]]:
    return distinct_names(backend.search(text, limit=limit, all_words=all_words).hits)


def suggestions(backend: SearchBackend, text: str, limit: int) -> list[dict[str, str]]:
    """Distinct product names for what is typed so far, best first, each with its
    product_id (the caller re-checks bans): the backend's name completion, or search's
    reading of the text when that completes nothing. A backend with no completion of its
    own gives its search results' names."""
    complete = getattr(backend, "suggest", None)
    if complete is None:
        return _names(backend, text, limit)[:limit]
    words = query_words(text)
    asked = _asked_in_price_order(words)
    # дешевые наушники, самый дорогой велосипед: the names' completion knows no price order;
    # search lists the cheapest (or dearest) of what was asked first. Searched as the last
    # step would search the text (every stage for two words, all words for a longer one),
    # and then not again there.
    ordered = bool(asked) and _finished(words[-1])  # order words alone ask for no kind
    if ordered:
        found = _names(backend, text, limit, all_words=len(asked or ()) > MAX_WHOLE_WORDS)
        if found:
            return found[:limit]
    left_out = _left_out(words)
    # The names' completion reads every earlier word as one a name must have: «телевизор не
    # samsung» listed Samsung televisions. A text that leaves a word out goes to search.
    found = [] if left_out else complete(text, limit)
    if not found and len(words) == 1 and (twin := keyboard_twin(words[0])) is not None:
        # begun on the other keyboard layout (vsi → мыш, cvfh → смар, ыфьы → sams): search
        # reads a whole word so, not a begun one (a blind review: each completed nothing)
        found = complete(twin, limit)
    if found:
        return found
    read = words_to_complete(text)
    if read is None:
        return []
    needed, maybe, last = read
    earlier = len(needed) + len(maybe)
    if len(words) - 1 in left_out:  # телевизор не sams: what is left out, being typed
        return _names_without(backend, [*words[:-1], last], limit, earlier >= MAX_SEARCHED_WORDS)
    if earlier >= MAX_SEARCHED_WORDS:  # a sentence being typed: its words, all of them
        if len(last) < MIN_TYPED_LAST or ordered:
            return []
        return _names(backend, text, limit, all_words=True)[:limit]
    # The words before the last as `words_to_complete` split them (a comma or a slash parts
    # words too: split at spaces, «мышка,беспр» had no earlier words, and the search for
    # them browsed the whole catalogue); prices and «в наличии» stay for search to read.
    head = " ".join(words[:-1])
    completions = vocabulary_completions(last)
    lacked = False  # a completion no product has: its search would find the head's products
    for word in completions:
        if not _sold(backend, word):
            lacked = True
            if earlier:
                break
            continue
        found = _names(backend, f"{head} {word}".strip(), limit)
        if found:
            return found[:limit]
    if earlier:
        found = _completed_after(backend, head, last, limit, or_best=lacked)
        if found:
            return found
    if len(last) < MIN_TYPED_LAST:
        return []
    if last in completions or ordered:  # the text, or its words, were searched above
        return []
    # Every stage of search for one word, or two whose last looks finished; for any other
    # text only the products with every word (no "any word" over thousands of products).
    whole = not earlier or (earlier < MAX_WHOLE_WORDS and _finished(last))
    found = _names(backend, text, limit, all_words=not whole)[:limit]
    if found or earlier:
        return found
    return _retyped(backend, last, limit)


def _sold(backend: SearchBackend, word: str) -> bool:
    """Whether a product has the vocabulary word, or a meaning of it, as search reads it
    (every word, no typo: one cheap stage, its page cached). A completion no product has
    (хай → хайнц, бор → борсетка in a shop that sells neither) was searched with every
    stage: its typo stage scored the catalogue for words a few edits from a word spelt
    right (кетчуп хайнц → jackets, молоко → speakers), and after earlier words its "any
    word" stage found only theirs; 10–25 ms at 100k products, the slowest suggestions'
    common case. Not searched, the earlier words' products are looked through as below
    (`_completed_after`, which then gives their best when none completes the word)."""
    return bool(_names(backend, word, 1, all_words=True))


def _retyped(backend: SearchBackend, last: str, limit: int) -> list[dict[str, str]]:
    """A lone word begun that nothing completes, nor search finds, read as begun with one
    slip where the backend can look for that (ноту → ноутбук, кофимаш → кофемашина; a
    blind review: each completed nothing)."""
    one_slip = getattr(backend, "suggest_one_slip", None)
    return list(one_slip(last, limit)) if one_slip is not None else []


def _finished(last: str) -> bool:
    """Whether the last word looks typed to its end: a dictionary word or a word of the
    vocabulary, of MIN_TYPED_LAST letters or more. Then the whole text is searched as
    typed: search reads it whole (колонка переносная → портативная колонка), though no
    name among the earlier words' hits has a word it begins."""
    return len(last) >= MIN_TYPED_LAST and (is_dictionary_word(last) or last in _vocabulary_set())


@lru_cache(maxsize=1)
def _vocabulary_set() -> frozenset[str]:
    return frozenset(_vocabulary()[0])


def _asked_in_price_order(words: list[str]) -> list[str] | None:
    """The words besides those asking for the cheapest or the dearest first, or None when
    none does (`price_order`); read only for a text with a word that may (~40 µs a text
    otherwise, on every keystroke)."""
    text = " ".join(words)
    ordered = price_order(text) if _MAY_ORDER_BY_PRICE.search(text) else None
    return None if ordered is None else query_words(ordered[0])


def _left_out(words: list[str]) -> frozenset[int]:
    """Positions of the words a product must not be: after не, кроме, исключая that follow
    a word of the product (`query_roles`), a list after them included (кроме сони и jbl).
    Not after без: a name says what its product lacks (Хлебцы без глютена …)."""
    if EXCLUDING_WORDS.isdisjoint(words[:-1]):  # most texts: not worth reading their roles
        return frozenset()
    absent = query_roles(words).absent
    out = set()
    for i in absent:
        opener = i - 1
        while opener >= 0 and (opener in absent or words[opener] in LIST_WORDS):
            opener -= 1
        if opener >= 0 and words[opener] in EXCLUDING_WORDS:
            out.add(i)
    return frozenset(out)


def _begun_by(last: str) -> re.Pattern[str]:
    """A name's word that the partly typed `last` begins (`last_word_patterns`)."""
    return re.compile("|".join(f"(?:{p})" for p in last_word_patterns(last)))


def _names_without(
    backend: SearchBackend, words: list[str], limit: int, all_words: bool
) -> list[dict[str, str]]:
    """Names among what search finds for the words, which leaves out what the last one
    reads as once whole (смартфон кроме самсунга, сыр кроме моцареллы) or completed to a
    vocabulary word (смартфон не айф → айфон: iPhones), with no word the partly typed
    last word begins (смартфон кроме самсун: Samsung)."""
    *earlier, last = words
    begun = _begun_by(last)
    for word in dict.fromkeys([*vocabulary_completions(last), last]):  # each searched once
        found = [
            named
            for named in _names(backend, " ".join([*earlier, word]), HEAD_HITS, all_words)
            if not any(map(begun.fullmatch, query_words(named["name"])))
        ]
        if found:
            return found[:limit]
    return []


def _completed_after(
    backend: SearchBackend, head: str, last: str, limit: int, or_best: bool = False
) -> list[dict[str, str]]:
    """Names among what search finds for the earlier words (`head`) with a word that the
    partly typed `last` begins; when none has, with one that `last` begins with one slip
    (of MIN_FUZZY_LAST letters or more: мышка беспрво → «Мышь беспроводная …»); when none
    has either and `or_best`, the best of them (колонка для тел, тел → телек, a word no
    product has: portable speakers, as the completion's "any word" stage found them)."""
    completes = _begun_by(last)
    named = [(found, query_words(found["name"])) for found in _names(backend, head, HEAD_HITS)]
    exact = [found for found, words in named if any(map(completes.fullmatch, words))]
    if exact:
        return exact[:limit]
    if len(last) >= MIN_FUZZY_LAST:
        slipped = [f for f, words in named if any(_begun_with_a_typo(last, w) for w in words)]
        if slipped:
            return slipped[:limit]
    return [found for found, _ in named][:limit] if or_best else []


def _begun_with_a_typo(last: str, word: str) -> bool:
    """Whether `word` begins with `last` typed with one slip: a letter wrong, missing,
    doubled or two swapped (беспрво, бепро, беспрро → беспроводная)."""
    return any(
        OSA.distance(last, word[:length], score_cutoff=1) <= 1
        for length in (len(last) - 1, len(last), len(last) + 1)
        if length <= len(word)
    )
