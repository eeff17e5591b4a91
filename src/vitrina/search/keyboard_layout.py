"""A query typed with the wrong keyboard layout switched on: the same keys on the other one."""

from __future__ import annotations

import re

from vitrina.search.analysis import is_dictionary_word

# The Russian ЙЦУКЕН keys under the Latin QWERTY ones: a query typed with the wrong layout
# switched on (yjen,er is ноутбук, ыфьыгтп is samsung).
_LATIN_KEYS = "`qwertyuiop[]asdfghjkl;'zxcvbnm,."
_RUSSIAN_KEYS = "ёйцукенгшщзхъфывапролджэячсмитьбю"
_TO_RUSSIAN = str.maketrans(_LATIN_KEYS, _RUSSIAN_KEYS)
_TO_LATIN = str.maketrans(_RUSSIAN_KEYS, _LATIN_KEYS)
# Latin keys of Russian letters that `query_words` drops as punctuation, splitting the word.
SPLITTING_KEYS = "бюжэхъё"
# Latin fragments this short (the l of l;bycs, д|жинсы) count as unknown when joining a
# split back: sizes (S, XL) and initials (the l of L'Oréal) are in the index.
SHORT_LATIN_FRAGMENT = 2


def keyboard_twin(word: str) -> str | None:
    """The word as the same keys give it on the other layout (yjen → ноут, ыфьыгтп →
    samsung), for a word of one alphabet only; None for anything else."""
    if word.isascii() and word.isalpha():
        return word.translate(_TO_RUSSIAN)
    if all(ch in _RUSSIAN_KEYS for ch in word) and word.translate(_TO_LATIN).isalpha():
        return word.translate(_TO_LATIN)
    return None


# The ЙЦУКЕН letter rows, each offset half a key right of the one above: a key's neighbours
# are the keys beside it and the two it touches above and below.
_RUSSIAN_ROWS = ("йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")


def _neighbours() -> dict[str, str]:
    found: dict[str, str] = {}
    for r, row in enumerate(_RUSSIAN_ROWS):
        for i, key in enumerate(row):
            near = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            if r > 0:  # the row above is half a key left: its keys i and i + 1
                above = _RUSSIAN_ROWS[r - 1]
                near += [above[j] for j in (i, i + 1) if j < len(above)]
            if r + 1 < len(_RUSSIAN_ROWS):  # the row below is half a key right: i - 1 and i
                below = _RUSSIAN_ROWS[r + 1]
                near += [below[j] for j in (i - 1, i) if 0 <= j < len(below)]
            found[key] = "".join(near)
    return found


NEIGHBOUR_KEYS = _neighbours()


def neighbour_key_slips(word: str) -> list[str]:
    """The word with one letter put back to each key next to it (чвсы → часы, the а key
    beside в; умнве → умные): a finger that landed a key off."""
    return [
        word[:i] + near + word[i + 1 :]
        for i, ch in enumerate(word)
        for near in NEIGHBOUR_KEYS.get(ch, "")
    ]


# The Latin layout's keys of Russian letters that are punctuation there (х ъ ж э б ю ё).
_PUNCTUATION_KEYS = frozenset("[];',.`")
_TOKEN = re.compile(r"\S+")


def punctuation_keys_read(query: str) -> str:
    """The query with each Latin word typed on the wrong layout, punctuation keys included,
    as the Russian word it is (',byn → бинт, 'gbkznjh → эпилятор): splitting the query at
    those keys lost a word's first or last letter, which no later reading puts back (a
    sixth blind review). Only where the whole word is a dictionary word that way (not
    [kt,jgtxrf: хлебопечка is in no dictionary); a trailing comma or full stop may be the
    sentence's."""
    if _PUNCTUATION_KEYS.isdisjoint(query):
        return query

    def read(found: re.Match[str]) -> str:
        typed = found.group(0)
        for word in (typed.lower(), typed.lower().rstrip(",.")):
            if (
                word.isascii()
                and not _PUNCTUATION_KEYS.isdisjoint(word)
                and all(ch.isalpha() or ch in _PUNCTUATION_KEYS for ch in word)
                and (russian := word.translate(_TO_RUSSIAN)).isalpha()
                and is_dictionary_word(russian)
            ):
                return russian
        return typed

    return _TOKEN.sub(read, query)
