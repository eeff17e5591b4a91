"""The phrases of the word lists among a query's words, found through the index of phrase keys
by their words (`phrases._KEYS_BY_WORD`) exactly as a scan of every key finds them; and the
dictionaries behind every lemma read by pymorphy3's C extension: both set what a query seen
for the first time costs."""

from __future__ import annotations

import random
from itertools import permutations

from vitrina.search.phrases import _PHRASE_LENGTHS, phrase_matches, word_readings
from vitrina.search.word_lists import PHRASE_SYNONYMS


def scanned(words: tuple[str, ...]) -> list[tuple[int, int, tuple[tuple[str, ...], ...]]]:
    """The list phrases among `words` as a scan of every key finds them: longest first, not
    overlapping, the first key in the list's order winning a span."""
    found: list[tuple[int, int, tuple[tuple[str, ...], ...]]] = []
    taken: set[int] = set()
    for length in _PHRASE_LENGTHS:
        of_length = [
            (key, meanings) for key, meanings in PHRASE_SYNONYMS.items() if len(key) == length
        ]
        for start in range(len(words) - length + 1):
            if taken.intersection(range(start, start + length)):
                continue
            readings = [word_readings(w) for w in words[start : start + length]]
            for key, meanings in of_length:
                if any(
                    all(k in r for k, r in zip(order, readings, strict=True))
                    for order in permutations(key)
                ):
                    found.append((start, start + length, meanings))
                    taken.update(range(start, start + length))
                    break
    return sorted(found)


def listed(words: tuple[str, ...]) -> list[tuple[int, int, tuple[tuple[str, ...], ...]]]:
    """What `phrase_matches` finds of the list's phrases (not numbers with units, nor «X для
    Y» compounds: the scan above has neither)."""
    keys = set(PHRASE_SYNONYMS.values())
    return sorted(
        (m.start, m.end, m.meanings)
        for m in phrase_matches.__wrapped__(words)
        if m.meanings in keys and not m.as_typed
    )


def test_the_phrase_index_finds_what_a_scan_of_every_key_finds() -> None:
    """A cold query scanned every key of every length at every span (~4 ms of a new query's
    ~9, with ~1,000 phrases listed); the keys are now looked up by the span's first word.
    The same matches, on every key as listed, reversed, inside other words, and on words of
    two keys mixed (where the first key in the list's order must still win)."""
    keys = list(PHRASE_SYNONYMS)
    rnd = random.Random(7)
    cases: set[tuple[str, ...]] = set()
    for n, key in enumerate(keys):
        cases.update({key, tuple(reversed(key))})
        if n % 3 == 0:
            cases.add(("купить", *key, "недорого"))
    for _ in range(400):
        a, b = rnd.sample(keys, 2)
        mixed = list(a + b)
        cases.add(tuple(rnd.sample(mixed, min(len(mixed), rnd.randint(2, 5)))))
    found = 0
    for words in sorted(cases):
        expected = scanned(words)
        assert listed(words) == expected, words
        found += bool(expected)
    assert found > len(keys)  # the cases do hold phrases: the check compares something


def test_the_dictionaries_are_read_by_the_c_extension() -> None:
    """pymorphy3[fast]: its DAWG dictionaries read by DAWG2's C extension (a parse ~18 µs)
    rather than the pure-Python reader it falls back to without it (~92 µs), which made a
    query seen for the first time ~25 % slower. Fails when an install leaves the extra out."""
    import pymorphy3.dawg

    assert pymorphy3.dawg.EXTENSION_AVAILABLE


def test_a_diminutive_in_ik_is_read_as_its_noun_in_a_phrase() -> None:
    """A twenty-first blind review: «мячик для фитнеса» found no Фитбол, «пистолетик
    водяной» no water blaster — a phrase's word in -ик is its dictionary noun's too; -очка
    is not read so (палочка для ходьбы is a cane, not a Nordic walking палка)."""
    assert "мяч" in word_readings("мячик") and "пистолет" in word_readings("пистолетик")
    assert "палка" not in word_readings("палочка")
    meanings = {m for match in phrase_matches(("мячик", "для", "фитнеса")) for m in match.meanings}
    assert ("фитбол",) in meanings
    meanings = {m for match in phrase_matches(("палочка", "для", "ходьбы")) for m in match.meanings}
    assert ("трость",) in meanings


def test_x_for_photos_is_a_photo_compound() -> None:
    """«рамка для фото» ranked a mirror in its frame above the Фоторамка (a twenty-first
    blind review): X для фото is фото+X, as X для авто is авто+X."""
    (match,) = phrase_matches(("рамка", "для", "фото"))
    assert match.meanings == (("фоторамка",),)
