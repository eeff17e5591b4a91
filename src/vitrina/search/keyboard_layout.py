"""A query typed with the wrong keyboard layout switched on: the same keys on the other one."""

from __future__ import annotations

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
