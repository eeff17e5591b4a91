"""Phrases of the word lists among a query's words (плюшевый мишка → мягкая игрушка), in any
word order, and a number with its unit in the neighbouring unit (1 см → 10 мм): the query
plan (`query_plan`) looks for each phrase's meanings as well."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import permutations

from vitrina.search.analysis import is_common_noun_lemma, lemmas
from vitrina.search.number_units import unit_readings
from vitrina.search.query_understanding import SYNONYM_WEIGHT, diminutive_bases
from vitrina.search.word_lists import PHRASE_SYNONYMS


@dataclass(frozen=True)
class PhraseMatch:
    """Query words `start:end` are a phrase of `PHRASE_SYNONYMS`: also look for any of
    `meanings` (each a phrase whose words must all match)."""

    start: int
    end: int
    meanings: tuple[tuple[str, ...], ...]
    # The meaning is what was typed, the phrase Vitrina's reading of it (a number said in
    # words, read as its digits): the meaning's words weigh as typed, not as a synonym's,
    # and they, not the digits, are the words "as typed" that still count.
    as_typed: bool = False

    @property
    def weight(self) -> float:
        """What the words of a meaning weigh."""
        return 1.0 if self.as_typed else SYNONYM_WEIGHT


_PHRASE_LENGTHS = sorted({len(key) for key in PHRASE_SYNONYMS}, reverse=True)


def _keys_by_word() -> dict[tuple[int, str], tuple[tuple[str, ...], ...]]:
    """(length, word) → the phrase keys of that length with that word, in the order of
    `PHRASE_SYNONYMS` (the first key that matches a span wins)."""
    keys: dict[tuple[int, str], list[tuple[str, ...]]] = {}
    for key in PHRASE_SYNONYMS:
        for word in dict.fromkeys(key):
            keys.setdefault((len(key), word), []).append(key)
    return {found: tuple(listed) for found, listed in keys.items()}


# A span's first word must be one of a key's words: only those keys are tried (a cold query
# tried every key of every length at every span, ~4 ms of a new query's ~9 with ~1,000
# phrases listed).
_KEYS_BY_WORD = _keys_by_word()
_KEY_ORDER = {key: order for order, key in enumerate(PHRASE_SYNONYMS)}

# «X для Y» where Y is what a compound's prefix stands for: the product is often named as
# one word, the prefix glued to X (шампунь для авто → Автошампунь, кресло для машины →
# Автокресло, насос для велосипеда → Велонасос). A second blind review: «шампунь для авто»
# ranked the Автошампунь 7th, below every hair shampoo.
PURPOSE_PREFIXES = {
    "авто": "авто",
    "автомобиль": "авто",
    "машина": "авто",
    "велосипед": "вело",
    "велик": "вело",
    "мотоцикл": "мото",
    "аквариум": "аква",
    # рамка для фото → Фоторамка (a twenty-first blind review; альбом, бумага, принтер, фон
    # для фото were list entries, each фото+X)
    "фото": "фото",
    "фотография": "фото",
}


def _purpose_compounds(words: tuple[str, ...], taken: set[int]) -> list[PhraseMatch]:
    """Each «X для Y» whose Y stands for a compound's prefix, with the compound as its
    meaning (X's dictionary form glued to the prefix)."""
    found = []
    for at in range(1, len(words) - 1):
        if words[at] != "для" or taken.intersection(range(at - 1, at + 2)):
            continue
        before, after = words[at - 1], words[at + 1]
        prefix = next(
            (PURPOSE_PREFIXES[r] for r in (after, *lemmas(after)) if r in PURPOSE_PREFIXES), None
        )
        if prefix is None or not before.isalpha() or before.isascii():
            continue
        base = (*lemmas(before), before)[0]
        found.append(PhraseMatch(at - 1, at + 2, ((prefix + base,),)))
        taken.update(range(at - 1, at + 2))
    return found


def _is_phrase(readings: list[frozenset[str]], key: tuple[str, ...]) -> bool:
    """Whether the words are the key's lemmas in some order (`readings`: each word as typed
    and its dictionary lemmas)."""
    return any(
        all(lemma in reading for lemma, reading in zip(order, readings, strict=True))
        for order in permutations(key)
    )


@lru_cache(maxsize=65_536)  # each word of a query is read once per span length
def word_readings(word: str) -> frozenset[str]:
    """A query word as a phrase key may have it: as typed, its lemmas, and for a noun in
    -ик/-чик the dictionary noun it is a diminutive of (мячик для фитнеса: мяч для фитнеса
    → фитбол; a twenty-first blind review's мячик, пистолетик found nothing). Not -очка
    and the like: палочка для ходьбы is a cane, no палка for Nordic walking."""
    forms = lemmas(word)
    bases = (
        base
        for form in forms
        if form.endswith("ик")
        for base in diminutive_bases(form, rare=False)
        if is_common_noun_lemma(base)
    )
    return frozenset({word, *forms, *bases})


def _phrase_at(words: tuple[str, ...]) -> tuple[tuple[str, ...], ...] | None:
    """The meanings of the first key of `PHRASE_SYNONYMS` the words are, if any."""
    readings = [word_readings(word) for word in words]
    found = {key for first in readings[0] for key in _KEYS_BY_WORD.get((len(words), first), ())}
    for key in sorted(found, key=_KEY_ORDER.__getitem__):
        if _is_phrase(readings, key):
            return PHRASE_SYNONYMS[key]
    return None


@lru_cache(maxsize=65_536)  # query word tuples repeat across customers
def phrase_matches(words: tuple[str, ...]) -> tuple[PhraseMatch, ...]:
    """The phrases of `PHRASE_SYNONYMS` among adjacent query words, in any word order
    (плюшевый мишка, мишка плюшевый), longest first, not overlapping; then each number with
    its unit, whose meaning is the same quantity in the neighbouring unit (коврик 1 см: 10
    мм, as the specifications write a mat's thickness)."""
    found: list[PhraseMatch] = []
    taken: set[int] = set()
    for start, end, meanings in unit_readings(words):
        found.append(PhraseMatch(start, end, meanings))
        taken.update(range(start, end))
    for length in _PHRASE_LENGTHS:
        for start in range(len(words) - length + 1):
            span = range(start, start + length)
            if taken.intersection(span):
                continue
            listed = _phrase_at(words[start : start + length])
            if listed is not None:
                found.append(PhraseMatch(start, start + length, listed))
                taken.update(span)
    found += _purpose_compounds(words, taken)
    return tuple(sorted(found, key=lambda match: match.start))
