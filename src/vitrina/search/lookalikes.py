"""A word typed in two scripts whose letters look alike — нoутбук with a Latin o, sаmsung
with a Cyrillic а (a name copied from a page, a phone keyboard with both layouts, a Latin
capital H typed for Н) — read in one script, for both backends: in queries
(`query_plan.rewritten_words`) and in the indexed text (`one_script_text`, through the
token caches of `analysis` and `fields`).

Such a word is no index word in either script: it was found only fuzzily, if at all, and
ranked among products that merely share the other words (нoутбук леново: a Lenovo
monitor first on OpenSearch). A word is read in one script only when every letter of the
other script has a twin there, and either the twin is a word Vitrina knows (pymorphy3's
dictionary, the brand and synonym lists) or the other script's letters are scattered in the
word rather than one run at its edge: jblколонка, xboxа (a Russian case ending), abcсмарт
are a Latin name glued to Russian letters, which `model_codes` cuts apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from vitrina.search.analysis import is_dictionary_word, lemmas
from vitrina.search.transliteration import lookalike_twin
from vitrina.search.word_lists import BRANDS, SYNONYMS

# Latin letters (lower case, as normalize_text leaves them) that look like Cyrillic ones in
# either case: a c e o p x y, and the capitals B H K M T (в н к м т), which lower-casing
# turned into b h k m t.
_CYRILLIC_TWIN = str.maketrans("aceopxybhkmt", "асеорхувнкмт")
_LATIN = re.compile(r"[a-z]+")
_CYRILLIC = re.compile(r"[а-яё]+")
# A word of letters where the scripts meet: the only words `one_script` may change.
_MIXED_WORD = re.compile(r"[^\W\d_]*(?:[a-z][а-яё]|[а-яё][a-z])[^\W\d_]*")


def one_script_text(text: str) -> str:
    """A normalised text with each word typed in two scripts read in one (`one_script`):
    the indexed side of the rule, so a store's «Нoутбук» (a Latin o) is found by ноутбук."""
    if text.isascii():
        return text
    return _MIXED_WORD.sub(_one_script_match, text)


def _one_script_match(match: re.Match[str]) -> str:
    return one_script(match.group()) or match.group()


def one_script_words(words: Iterable[str]) -> tuple[str, ...]:
    """Each word, a mixed-script one in the script it was meant in (`one_script`)."""
    return tuple(one_script(word) or word for word in words)


@lru_cache(maxsize=65_536)  # query words repeat across customers
def one_script(word: str) -> str | None:
    """The word in one script if it mixes Latin and Cyrillic letters that look alike (see
    the module); None otherwise — a word of one script, a word with digits (a model code,
    `model_codes`' business), or a Latin name glued to a Russian word."""
    if word.isascii() or not word.isalpha():
        return None
    latin = sum(len(run) for run in _LATIN.findall(word))
    cyrillic = sum(len(run) for run in _CYRILLIC.findall(word))
    if not latin or latin + cyrillic != len(word):
        return None
    as_cyrillic = word.translate(_CYRILLIC_TWIN)
    if as_cyrillic.isalpha() and not _LATIN.search(as_cyrillic):
        if is_dictionary_word(as_cyrillic) or _listed(as_cyrillic):
            return as_cyrillic
        if latin < cyrillic and _scattered(word, _LATIN):
            return as_cyrillic
    as_latin = lookalike_twin(word)
    if as_latin is not None and cyrillic < latin and _scattered(word, _CYRILLIC):
        return as_latin
    return None


@lru_cache(maxsize=1)
def _list_words() -> frozenset[str]:
    """The words of the brand and synonym lists, both sides: a product word no dictionary
    has (саундбар, кофемашинка) is still a word Vitrina knows."""
    meanings = (
        word for alternatives in SYNONYMS.values() for a in alternatives for word in a.split()
    )
    return frozenset((*BRANDS, *SYNONYMS, *meanings))


def _listed(word: str) -> bool:
    """Whether the word, or one of its (guessed) dictionary forms, is in the word lists:
    caундбара (a Latin c and a) is саундбара, a form of the list's саундбар."""
    return word in _list_words() or any(form in _list_words() for form in lemmas(word))


def _scattered(word: str, minority: re.Pattern[str]) -> bool:
    """Whether the minority script's letters are more than one run at the word's edge: a
    single letter first (cмартфон), anywhere inside (нoутбук), or in several places — not a
    run that ends the word (xboxа: a case ending) or a longer one that starts it (abcсмарт)."""
    runs = [match.span() for match in minority.finditer(word)]
    if len(runs) != 1:
        return True
    start, end = runs[0]
    return end != len(word) and (start != 0 or end == 1)
