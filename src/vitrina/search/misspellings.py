"""Typos: how far a misspelt word may be from the index's word, and which dictionary word
(a brand spelling or a synonym key of `word_lists`) a misspelt query word is.

Pure functions over words, used by `query_understanding` (what a word may mean) and by both
backends' query builders (the fuzzy stage's edit distance, swapped neighbours).
"""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from vitrina.search.transliteration import is_cyrillic
from vitrina.search.word_lists import BRANDS, SYNONYMS

# 5 characters: fuzzy matching of shorter stems (кед, чай) pulls in unrelated words (both
# backends leave them out of the fuzzy fallback).
FUZZY_MIN_CHARS = 5


def fuzzy_distance(stem: str) -> int:
    """Edits a misspelt stem may be away from the index's word: 0 (too short), 1 or 2."""
    if len(stem) >= 6:
        return 2
    return 1 if len(stem) >= 5 else 0


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


# Spellings long enough to be guessed from a typo.
_SPELLINGS = [
    spelling for spelling in dict.fromkeys((*BRANDS, *SYNONYMS)) if _allowed_edits(spelling)
]


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
    close = process.extract(
        word,
        _SPELLINGS,
        scorer=OSA.distance,
        processor=None,
        score_cutoff=max(edits, 2 if dropped else 0),
        limit=None,
    )
    best = min(
        (
            (distance, spelling)
            for spelling, distance, _ in close
            if distance <= _allowed_edits(spelling)
            and (distance <= edits or len(spelling) - len(word) == distance)
        ),
        default=None,
    )
    return best[1] if best else None


def misspelt_brand(word: str) -> str | None:
    """The brand a Cyrillic spelling an edit or two from a known one means (сенхайзер)."""
    spelling = misspelt_word(word)
    return BRANDS.get(spelling) if spelling else None


# Swapped neighbours are looked for in words this long at most: a longer stem's fuzzy match
# already allows two edits, and each swap is one more term to look up.
MAX_SWAPPED_CHARS = 7


def swapped_neighbours(word: str) -> list[str]:
    """The word with two adjacent letters swapped back, each way (роамн → роман, фне → фен):
    the commonest typo on a phone. The stemmer cuts a misspelt word elsewhere (роамн stays
    роамн, роман is рома: two edits apart), and stems under five letters get no fuzzy
    match at all, so short words with a swap found nothing."""
    if not 3 <= len(word) <= MAX_SWAPPED_CHARS or not word.isalpha():
        return []
    return list(
        dict.fromkeys(
            word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            for i in range(len(word) - 1)
            if word[i] != word[i + 1]
        )
    )
