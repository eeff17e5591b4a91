"""How a shopper who knows the product types its model name or code, and the index does not
have it that way: glued to the next word (abc5g for ABC 5G, a31pro for A31 Pro, booklight2
for BookLight 2), split by a space (м 89 for M89, pulse one for PulseOne) or with a digit
too many (а311 for A31); and, in the fuzzy stage, two halves of a name joined (эйр бит
for AirBeat). Pure functions over words; each backend asks its index whether the
reading they offer is there (`tantivy_reading`, `opensearch_reading`) and uses it only for a
word the index lacks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

from vitrina.domain.search_document import is_decimal
from vitrina.search.misspellings import (
    FUZZY_MIN_CHARS,
)
from vitrina.search.query_roles import LEAVING_OUT_WORDS
from vitrina.search.transliteration import (
    english_sound_spelling,
    english_spellings,
    is_cyrillic,
    model_code_twin,
    transliterate,
)

# A letter↔digit boundary inside a word: where a code meets a word or a number.
_BOUNDARY = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
_CODE = re.compile(r"([a-z]+)(\d{3,})")
# A Latin↔Cyrillic boundary inside a word: a brand or model glued to a Russian word
# (jblколонка, iphoneчехол, ноутбукasus).
_SCRIPT_BOUNDARY = re.compile(r"(?<=[a-z\d])(?=[а-яё])|(?<=[а-яё])(?=[a-z\d])")
# A glued "word" longer than this is no model name (a held key, pasted text).
MAX_CODE_CHARS = 20


# A Latin word typed alone (buds, mach) may be glued to its number in a title (Galaxy
# Buds2, Gillette Mach3), one word in the index the letters alone never find (blind probe
# round 44: «галакси бадс 2 про»). It is also looked for glued to digits.
GLUED_DIGITS_PATTERN = "[0-9]+"
MIN_GLUED_NAME_CHARS = 3


def bare_latin_words(words: Sequence[str]) -> tuple[int, ...]:
    """The positions of Latin words of letters alone (3 to MAX_CODE_CHARS), which a title
    may have glued to a number (`GLUED_DIGITS_PATTERN`)."""
    return tuple(
        i
        for i, word in enumerate(words)
        if MIN_GLUED_NAME_CHARS <= len(word) <= MAX_CODE_CHARS and word.isascii() and word.isalpha()
    )


# A model code typed short, its letters and number without the suffix the title has glued
# on (df333 for DF333DWYE, a168 for A168WA-1, hd9200 for HD9200/90: a third blind review):
# a code that ends in its number may go on in letters or digits.
CODE_SUFFIX_PATTERN = "[a-z0-9]+"
MIN_CUT_CODE_CHARS = 4


def cut_codes(words: Sequence[str]) -> tuple[int, ...]:
    """The positions of Latin model codes (letters, then digits last; 4 to MAX_CODE_CHARS)
    that a title may continue (`CODE_SUFFIX_PATTERN`)."""
    return tuple(
        i
        for i, word in enumerate(words)
        if MIN_CUT_CODE_CHARS <= len(word) <= MAX_CODE_CHARS
        and word.isascii()
        and word.isalnum()
        and word[0].isalpha()
        and word[-1].isdecimal()
    )


def latin_code(word: str) -> str:
    """The word in Latin letters if it is a code typed with Cyrillic look-alikes (а31 →
    a31), else the word."""
    return model_code_twin(word) or word


@lru_cache(maxsize=65_536)  # query words repeat across customers
def code_cuts(word: str) -> tuple[tuple[str, str], ...]:
    """Two-part readings of a Latin word of letters and digits at each letter↔digit
    boundary, the longest first part first (a31pro → a31 + pro, a + 31pro; abc5g → abc5 + g,
    abc + 5g): a model name glued to its number or to the next word."""
    word = latin_code(word)
    if not word.isalnum() or len(word) > MAX_CODE_CHARS:
        return ()
    boundary = _BOUNDARY
    if not word.isascii():  # jblколонка → jbl + колонка: the scripts meet, cut there
        if not any("a" <= ch <= "z" for ch in word):
            return ()
        boundary = _SCRIPT_BOUNDARY
    cuts = [m.start() for m in boundary.finditer(word)]
    return tuple((word[:cut], word[cut:]) for cut in reversed(cuts))


def split_code(first: str, second: str) -> bool:
    """One letter and a number: a model code split by a space or a hyphen (м 89, c-21).
    Both halves are in any large index (c of USB-C, 21 of 21 скорость), so such a pair is
    joined whenever the index has the join, not only when a half is unknown."""
    return len(first) == 1 and first.isalpha() and second.isdecimal()


def joinable(first: str, second: str) -> bool:
    """Whether two adjacent typed words may be one name split by a space, other than a
    Cyrillic compound (which `joined_compounds` reads already): two Latin words (pulse
    one), one letter and a number (м 89, a model code), or a Latin word of three letters or
    more and a number (mach 3: Gillette Mach3, blind probe round 54; xl 42 is two sizes)."""
    word = first.isascii() and first.isalpha() and len(first) >= MIN_GLUED_NAME_CHARS
    return latin_pair(first, second) or split_code(first, second) or (word and second.isdecimal())


def may_be_one_word(first: str, second: str) -> bool:
    """Whether two adjacent typed words may be one word split by a space: a compound (its
    second word Cyrillic: саунд бар) or `joinable`; never a decimal and the word after it
    (2.5 ч is a number and its unit: joined, 2.5ч read as the words 2 and 5ч), nor a word
    that says the next ones are left out (смартфон не abc was read as смартфонне, whose stem
    is смартфон's, and abc was then no longer left out: blind probe round 49). Other
    function words may be a part (галакси а 55 → a55, масло под солнечное)."""
    if first in LEAVING_OUT_WORDS or second in LEAVING_OUT_WORDS:
        return False
    return not is_decimal(first) and (is_cyrillic(second) or joinable(first, second))


def latin_pair(first: str, second: str) -> bool:
    """Two Latin words, which the index may have as one (air pods → AirPods, play station
    → PlayStation: blind probe round 54): joined where it has the whole, though each half
    is a word of other names (Nike Air, Ariel Pods)."""
    return first.isascii() and first.isalpha() and second.isascii() and second.isalpha()


def joined_spellings(joined: str) -> tuple[str, ...]:
    """The ways two words joined may be in the index: as typed, and a code typed with
    Cyrillic look-alikes in Latin letters (м89 → m89). A Cyrillic name's Latin spellings are
    not asked: эйр бит → эйрбит → airbit is AirBeat only fuzzily (see the search docs)."""
    return tuple(dict.fromkeys((joined, latin_code(joined))))


@lru_cache(maxsize=65_536)
def codes_without_a_digit(word: str) -> tuple[str, ...]:
    """A model code with three digits or more, each digit left out in turn, a doubled
    digit's first (a311 → a31, a11): a digit typed twice or one too many. Letters then
    digits only; two digits are left as typed (s17 → s1, s7 would be other products more
    often than this one)."""
    match = _CODE.fullmatch(latin_code(word))
    if match is None:
        return ()
    letters, digits = match.groups()
    doubled = [i for i in range(1, len(digits)) if digits[i] == digits[i - 1]]
    order = [*doubled, *(i for i in range(len(digits)) if i not in doubled)]
    return tuple(dict.fromkeys(letters + digits[:i] + digits[i + 1 :] for i in order))


def adjacent_words_joined(words: Sequence[str], optional: Sequence[bool]) -> tuple[str, ...]:
    """For "any word" and the fuzzy stage (a name split by a space beside a word that
    matches: мышка рапид фаер, probe round 23): two adjacent words joined where
    one of them is too short for a fuzzy match of its own, a name split by a space (эйр бит
    → эйрбит → airbit, two edits from AirBeat; клин мастер → clinmaster). Optional words
    (для, про …) are not joined, nor words with digits (codes are `joinable`'s), nor a join
    longer than a name (MAX_CODE_CHARS). Two long halves each get their own fuzzy look."""
    found = [
        first + second
        for (first, opt_a), (second, opt_b) in pairwise(zip(words, optional, strict=True))
        if not (opt_a or opt_b)
        and first.isalpha()
        and second.isalpha()
        and min(len(first), len(second)) < FUZZY_MIN_CHARS  # a half no fuzzy match finds
        and FUZZY_MIN_CHARS <= len(first) + len(second) <= MAX_CODE_CHARS
    ]
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=65_536)
def name_spellings(joined: str) -> tuple[str, ...]:
    """How a joined pair may be spelt in a name or brand: a Latin pair as typed, a Cyrillic
    one letter by letter and English-style (эйрбит → eyrbit, airbit). The fuzzy stage looks
    for these in name and brand only — a joined pair is a name — with none of a typed word's
    other readings (misspellings of dictionary words, swapped letters): those cost ~4 % of
    all query building when every pair had them."""
    if not is_cyrillic(joined):
        return (joined,)
    # not as typed: a Cyrillic compound the index has is joined exactly (joined_compounds)
    sounds = english_sound_spelling(joined)  # рапид фаер → rapidfire, пульс ван → pulsone
    spellings = (transliterate(joined), *english_spellings(joined), *([sounds] if sounds else []))
    return tuple(dict.fromkeys(spellings))
