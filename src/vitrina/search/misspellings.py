"""Typos: how far a misspelt word may be from the index's word, and which dictionary word
(a brand spelling or a synonym key of `word_lists`) a misspelt query word is.

Pure functions over words, used by `query_understanding` (what a word may mean) and by both
backends' query builders (the fuzzy stage's edit distance, swapped neighbours).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from itertools import combinations

from rapidfuzz import process
from rapidfuzz.distance import OSA

from vitrina.search.analysis import (
    is_dictionary_noun,
    is_dictionary_word,
    is_typed_form,
    lemmas,
    stems,
)
from vitrina.search.keyboard_layout import neighbour_key_slips
from vitrina.search.transliteration import is_cyrillic
from vitrina.search.word_lists import BRANDS, COLOURS, ENGLISH_WORDS, SYNONYMS, TASK_WORDS

# 5 characters: fuzzy matching of shorter stems (кед, чай) pulls in unrelated words (both
# backends leave them out of the fuzzy fallback).
FUZZY_MIN_CHARS = 5


# The field the fuzzy stage also looks in with the word as typed, not its stem: the names'
# lemmas (a typo can change where the stemmer cuts a word, not its dictionary form)
LEMMA_FUZZY_FIELD = "name_lemma"
# A whole word is longer than its stem, so it gets one edit, never the two
# `fuzzy_distance` may give its stem: two edits of a six-letter word reach other words
# (стенли → стекло, томаты → томатный), and a two-edit automaton over the names' lemmas
# costs a query of made-up words more. A typo that moved the stemmer's cut is mostly one.


def lemma_fuzzy_distance(word: str) -> int:
    """Edits the word as typed may be from a name's lemma: 0 (too short) or 1."""
    return 1 if len(word) >= FUZZY_MIN_CHARS else 0


# The endings of a diminutive's lemma (сметанка, кастрюлька, творожок, носик, колечко)
_DIMINUTIVE_LEMMA_ENDINGS = ("ка", "ки", "ко", "ок", "ек", "ик")


@lru_cache(maxsize=65_536)
def _is_plain_noun(word: str) -> bool:
    """A dictionary noun none of whose lemmas may be a diminutive (огород, not сметанку)."""
    return is_dictionary_noun(word) and not any(
        lemma.endswith(_DIMINUTIVE_LEMMA_ENDINGS) for lemma in lemmas(word)
    )


def fuzzy_distance(stem: str, word: str = "") -> int:
    """Edits a misspelt stem may be away from the index's word: 0 (too short), 1 or 2. One
    at most when the `word` typed is a noun the dictionary knows: a thing the catalogue
    lacks is read as itself, not two edits into another (огород → пород, of «для собак
    средних пород»: a blind review's garden queries listed dog food). A verb keeps two: they
    reach its action's noun (перевезти ~ перевозка), as nothing else does; so does a noun
    in -ка, -ок, -ик … (сметанку ~ сметан, печеньки ~ печен): a diminutive's base is
    two edits away."""
    if len(stem) >= 6:
        return 1 if word and _is_plain_noun(word) else 2
    return 1 if len(stem) >= 5 else 0


# A brand is a short word more often than a product is (Bosch, Sony, Tefal): a spelling one
# letter under FUZZY_MIN_CHARS gets one edit in the brand field alone, whose words are few
# (bosh → bosch, тефль → tefl → tefal). Not a Russian word the dictionary knows: лето is a
# season, not leto a letter from lego.
BRAND_FUZZY_CHARS = FUZZY_MIN_CHARS - 1


def brand_fuzzy_stems(word: str, spellings: Iterable[str]) -> list[str]:
    """The stems of `spellings` (the query `word` and its Latin spellings) that get the
    brand field's one edit, each once: those of BRAND_FUZZY_CHARS letters, unless `word`
    is a Russian word the dictionary knows."""
    if is_cyrillic(word) and is_dictionary_word(word):
        return []
    found = (stem for spelling in spellings for stem in stems(spelling))
    return list(dict.fromkeys(stem for stem in found if len(stem) == BRAND_FUZZY_CHARS))


# A brand of two words or with a sign (De'Longhi, Gloria Jeans, Happy Baby) typed as one
# word with a slip (delongi, gloriajens, hapybaby): the stems of its parts are each several
# edits away, but the whole brand, as its filter key holds it (de'longhi, gloria jeans), is
# two. Only Latin spellings this long: a shorter one is two edits from too many brands.
WHOLE_BRAND_MIN_CHARS = 7


def whole_brand_spellings(spellings: Iterable[str]) -> list[str]:
    """The Latin `spellings` of a query word looked for two edits from a whole brand key."""
    return list(
        dict.fromkeys(
            s for s in spellings if len(s) >= WHOLE_BRAND_MIN_CHARS and s.isascii() and s.isalpha()
        )
    )


# The shortest word of a brand of two words (ralf, happy, baby): a glued word is cut into
# two parts at least this long.
MIN_BRAND_PART_CHARS = 3


def brand_cuts(word: str) -> list[str]:
    """A word typed in Latin letters (seven or more) cut in two at every place that leaves
    parts of MIN_BRAND_PART_CHARS or more (gloriajins → … gloria jins …), each looked for
    two edits from a whole brand key: a brand of two words typed glued with two slips
    (gloriajins, hapybabi) is three edits from its key, the space one of them, and two from
    the cut at its space. Only a word typed in Latin: a Cyrillic word's transliterations
    would add a dozen clauses to every Russian typo. The brand key field holds a term per
    brand, so each costs little."""
    if not whole_brand_spellings([word]):
        return []
    return [
        f"{word[:i]} {word[i:]}"
        for i in range(MIN_BRAND_PART_CHARS, len(word) - MIN_BRAND_PART_CHARS + 1)
    ]


# A dictionary word (a brand spelling or a synonym key) typed with a letter or two wrong:
# one edit for words of 6+ letters, two for 9+ (сенхайзер → сеннхайзер, микраволнофка →
# микроволновка). rapidfuzz compares the word with every spelling in one C call (~5 µs a
# word; the hand-written symmetric-deletion lookup it replaced took 10-35 µs and gave the
# same answers: tests/unit/test_search_understanding.py compares them).
MISSPELT_MIN_CHARS = 6  # shorter spellings are one edit from too many words
MISSPELT_TWO_EDITS_CHARS = 9
MISSPELT_WEIGHT = 0.9
# Two letters missing (a length difference of two at distance two) are allowed from words
# of 7 letters: the spelling they come from then has 9+, where two edits are allowed anyway.
MIN_TWO_DROPPED_CHARS = 7


def _allowed_edits(word: str) -> int:
    if len(word) >= MISSPELT_TWO_EDITS_CHARS:
        return 2
    return 1 if len(word) >= MISSPELT_MIN_CHARS else 0


# Spellings long enough to be guessed from a typo; not the task verbs, which are words of
# the dictionary an edit from others (считать шаги was read as читать: books).
_SPELLINGS = [
    spelling
    for spelling in dict.fromkeys((*BRANDS, *SYNONYMS))
    if _allowed_edits(spelling) and spelling not in TASK_WORDS
]


def _nearest(word: str, spellings: list[str], edits: int) -> list[tuple[int, str]]:
    """The spellings within `edits` of `word` (optimal string alignment: a swap of adjacent
    letters is one edit), as (distance, spelling), nearest first, then alphabetically."""
    close = process.extract(
        word, spellings, scorer=OSA.distance, processor=None, score_cutoff=edits, limit=None
    )
    return sorted((distance, spelling) for spelling, distance, _ in close)


@lru_cache(maxsize=65_536)  # a query's words repeat across customers
def misspelt_word(word: str, max_edits: int = 2) -> str | None:
    """The dictionary word (a key of BRANDS or SYNONYMS) a Cyrillic `word` is a typo of:
    the nearest by edit distance with adjacent swaps (optimal string alignment), then the
    first alphabetically. Query words get one edit, and two only in the fuzzy stage, when
    nothing else matched."""
    edits = min(_allowed_edits(word), max_edits)
    if not edits or not is_cyrillic(word) or word in BRANDS or word in SYNONYMS:
        return None
    # two letters dropped from a long spelling (сенхайзр ← сеннхайзер): two edits for a
    # word under MISSPELT_TWO_EDITS_CHARS, in the fuzzy stage only
    dropped = max_edits >= 2 and len(word) >= MIN_TWO_DROPPED_CHARS
    return next(
        (
            spelling
            for distance, spelling in _nearest(word, _SPELLINGS, max(edits, 2 if dropped else 0))
            if distance <= _allowed_edits(spelling)
            and (distance <= edits or len(spelling) - len(word) == distance)
        ),
        None,
    )


# An English product word typed in Latin with a slip (mause, wacth, headphnes): one edit
# from five letters, two from nine, to one of ENGLISH_WORDS' Latin words (blind probe round
# 45: «gaming mause» found nothing, «smart wacth» ranked a smart bulb first). Latin words
# are five letters from the start: the English words are shorter than the Russian ones.
MISSPELT_ENGLISH_MIN_CHARS = 5
LATIN_BRANDS = frozenset(BRANDS.values())
_ENGLISH_SPELLINGS = [
    word for word in ENGLISH_WORDS if word.isascii() and len(word) >= MISSPELT_ENGLISH_MIN_CHARS
]


@lru_cache(maxsize=65_536)
def misspelt_english(word: str) -> str | None:
    """The English product word (a Latin key of ENGLISH_WORDS) a Latin `word` is a typo of,
    when one is nearest (optimal string alignment); None for a brand or a known word."""
    if len(word) < MISSPELT_ENGLISH_MIN_CHARS or not (word.isascii() and word.isalpha()):
        return None
    if word in ENGLISH_WORDS or word in LATIN_BRANDS:
        return None
    edits = 2 if len(word) >= MISSPELT_TWO_EDITS_CHARS else 1
    nearest = _nearest(word, _ENGLISH_SPELLINGS, edits)
    if not nearest or (len(nearest) > 1 and nearest[1][0] == nearest[0][0]):
        return None  # none, or two as near: no guess
    return nearest[0][1]


_HARD_ENDINGS = ("ый", "ой", "ая", "ое", "ые", "ого", "ую", "ым", "ых", "ом", "ыми")
_SOFT_ENDINGS = ("ий", "ей", "яя", "ее", "ие", "его", "юю", "им", "их", "ем", "ими")
# Every case form of every colour → its lemma (серых → серый).
_COLOUR_FORMS = {
    colour[:-2] + ending: colour
    for colour in COLOURS
    for ending in (_SOFT_ENDINGS if colour.endswith("ий") else _HARD_ENDINGS)
}
MIN_COLOUR_TYPO_CHARS = 4  # срые → серые; three letters are one edit from too much
COLOUR_TWO_EDITS_CHARS = 6  # чорнвй → черный: two edits from six letters


@lru_cache(maxsize=65_536)
def misspelt_colour(word: str, adjective: bool = False) -> str | None:
    """The colour (a lemma of COLOURS) a typo is, when one colour is nearer than every
    other (сирые → серый: one edit, синие two; чорнвй → черный): colours are an edit or
    two apart, so the fuzzy stage, which allows two edits for any stem, found the wrong one
    or ran too late (a word that matches ends the search before it). A word the dictionary
    lacks gets up to two edits; a dictionary word one, and only when it reads as an
    adjective (`adjective`: сирые is сирый, and белье, one edit from белые, stays linen)."""
    word = word.replace("ё", "е")
    if len(word) < MIN_COLOUR_TYPO_CHARS or word in _COLOUR_FORMS or not is_cyrillic(word):
        return None
    if is_dictionary_word(word):
        if not adjective:
            return None
        edits = 1
    else:
        edits = 2 if len(word) >= COLOUR_TWO_EDITS_CHARS else 1
    close = process.extract(
        word,
        list(_COLOUR_FORMS),
        scorer=OSA.distance,
        processor=None,
        score_cutoff=edits,
        limit=None,
    )
    if not close:
        return None
    best = min(distance for _, distance, _ in close)
    colours = {_COLOUR_FORMS[form] for form, distance, _ in close if distance == best}
    return colours.pop() if len(colours) == 1 else None


def misspelt_brand(word: str) -> str | None:
    """The brand a Cyrillic spelling an edit or two from a known one means (сенхайзер)."""
    spelling = misspelt_word(word)
    return BRANDS.get(spelling) if spelling else None


# Swapped neighbours are looked for in words this long at most: a longer stem's fuzzy match
# already allows two edits, and each swap is one more term to look up.
MAX_SWAPPED_CHARS = 7
MIN_SWAPPED_STEM = 3  # a shorter stem (до, на) is a function word's
MIN_SLIPPED_CHARS = 4  # a key off in three letters makes another word too often


def swapped_neighbours(word: str) -> list[str]:
    """The word with two adjacent letters swapped back, each way (роамн → роман, фне → фен):
    the commonest typo on a phone. The stemmer cuts a misspelt word elsewhere (роамн stays
    роамн, роман is рома: two edits apart), and stems under five letters get no fuzzy
    match at all, so short words with a swap found nothing. A swap the stemmer cuts to
    under three letters is left out: дома → доам, stemmed до, found «(до 5 кг)»."""
    if not 3 <= len(word) <= MAX_SWAPPED_CHARS or not word.isalpha():
        return []
    swaps = (
        word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        for i in range(len(word) - 1)
        if word[i] != word[i + 1]
    )
    return list(
        dict.fromkeys(s for s in swaps if all(len(stem) >= MIN_SWAPPED_STEM for stem in stems(s)))
    )


# Unstressed о and а sound alike, and so do е and и: a word is typed as heard (термас,
# плайка, утиплитель, пенапласт: a ninth blind review's typos). One vowel turned, or two in
# a word of MIN_TWO_HEARD_CHARS letters (малако); not in shorter words, where a turned
# vowel makes another word too often (лего ~ лига).
_HEARD_VOWELS = {"а": "о", "о": "а", "е": "и", "и": "е"}
MIN_HEARD_CHARS = 5
MIN_TWO_HEARD_CHARS = 6
# газанакасилка → газонокосилка: a long word with three а/о as heard (a nineteenth blind review)
MIN_THREE_HEARD_CHARS = 10


def vowels_as_heard(word: str) -> tuple[str, ...]:
    """The dictionary words a Cyrillic word the dictionary lacks is with the fewest of its
    unstressed-sounding vowels turned (а ↔ о, е ↔ и), when they are forms of one word (a
    noun's, when there are several: the query names a thing); () otherwise. Only a noun's
    or an adjective's form a product is typed in (`is_typed_form`): котаньи, Kotanyi typed
    in Cyrillic, is no катаньи (a rare form of катание: roller skates, an eleventh blind
    review)."""
    if len(word) < MIN_HEARD_CHARS:
        return ()
    vowels = [i for i, letter in enumerate(word) if letter in _HEARD_VOWELS]
    long = len(word) >= MIN_THREE_HEARD_CHARS
    most = sum(len(word) >= chars for chars in (MIN_TWO_HEARD_CHARS, MIN_THREE_HEARD_CHARS)) + 1
    for turned in range(1, most + 1):
        found = []
        for places in combinations(vowels, turned):
            letters = list(word)
            for i in places:
                letters[i] = _HEARD_VOWELS[letters[i]]
            spelling = "".join(letters)
            # in a long word, a soft sign left out as well (халадилник → холодильник)
            for spelt in (spelling, *(_soft_signs_back(spelling) if long else ())):
                if is_dictionary_word(spelt) and is_typed_form(spelt):
                    found.append(spelt)
                    break
        if found:
            return forms_of_one_word(found)
    return ()


# A soft sign left out between two consonants, after one that takes it (холодильник typed
# холодилник): put back at one place at a time.
_SOFT_SIGN_AFTER = frozenset("лнтдсзрмв")
_CONSONANTS = frozenset("бвгджзйклмнпрстфхцчшщ")


def _soft_signs_back(word: str) -> list[str]:
    """The word with a ь put back at each place it may have been left out."""
    return [
        word[: i + 1] + "ь" + word[i + 1 :]
        for i in range(1, len(word) - 1)
        if word[i] in _SOFT_SIGN_AFTER and word[i + 1] in _CONSONANTS
    ]


def forms_of_one_word(spellings: list[str]) -> tuple[str, ...]:
    """The `spellings` when they are forms of one word (сумка, сумку); of several words, the
    nouns among them when those are (мыщь: мышь, not мыль of мылить — a query names a
    thing); () otherwise."""
    meant = {lemma for spelling in spellings for lemma in lemmas(spelling)[:1]}
    if len(meant) > 1:
        spellings = [spelling for spelling in spellings if is_dictionary_noun(spelling)]
        meant = {lemma for spelling in spellings for lemma in lemmas(spelling)[:1]}
    return tuple(spellings) if len(meant) == 1 else ()


# Russian says a word's last consonant voiceless (утюг as утюк, творог as творок, хлеб as
# хлеп), and shoppers write it as they hear it (a third blind review: утюк found a duck call)
_VOICE_PAIRS = {"к": "г", "т": "д", "п": "б", "с": "з", "ф": "в", "ш": "ж"}
_VOICE_TWINS = {**_VOICE_PAIRS, **{b: a for a, b in _VOICE_PAIRS.items()}}


def voice_twin(word: str) -> str | None:
    """The word with its last consonant's voice turned (утюк → утюг); None when it ends in
    no such consonant, or is under three letters."""
    twin = _VOICE_TWINS.get(word[-1:])
    return word[:-1] + twin if twin is not None and len(word) >= 3 else None


@lru_cache(maxsize=65_536)
def swapped_dictionary_words(word: str) -> tuple[str, ...]:
    """The dictionary words a Cyrillic word the dictionary lacks is with its last consonant's
    voice turned (утюк → утюг), or else with two neighbours swapped back (кдеы → кеды): so
    "all words" looks for them. Before, swaps were tried
    only in the fuzzy stage, where the colour beside them (кдеы пума черные) was fuzzy
    too, and серые two edits from черные ranked a grey pair first."""
    if not is_cyrillic(word) or is_dictionary_word(word):
        return ()
    voiced = voice_twin(word)
    if voiced is not None and is_dictionary_word(voiced):  # утюк → утюг
        return (voiced,)
    swapped = tuple(twin for twin in swapped_neighbours(word) if is_dictionary_word(twin))
    if swapped:
        return swapped
    heard = vowels_as_heard(word)  # термас → термос, утиплитель → утеплитель
    if heard or not MIN_SLIPPED_CHARS <= len(word) <= MAX_SWAPPED_CHARS:
        return heard
    # чвсы → часы: a key beside the right one, where no swap gives a word; only when the
    # words that come of it are one word's forms (умные чвсы: blind probe round 46 ranked smart bulbs first: stems
    # under five letters get no fuzzy match)
    # сумкв: сумка, сумку; мыщь: мышь or мыль (мылить's) — the noun
    return forms_of_one_word(
        sorted({twin for twin in neighbour_key_slips(word) if is_dictionary_word(twin)})
    )
