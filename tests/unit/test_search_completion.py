"""The query understanding's words a partly typed word begins (`search.completion`)."""

from __future__ import annotations

from vitrina.search.completion import (
    MAX_COMPLETIONS,
    MIN_VOCABULARY_PREFIX,
    _vocabulary,
    vocabulary_completions,
)
from vitrina.search.word_lists import BRANDS, SYNONYMS


def test_a_brand_begun_completes_to_its_shortest_spelling() -> None:
    # айфон and айфона mean the same (iphone): one search, for the shorter
    assert vocabulary_completions("айф") == ["айфон"]
    assert vocabulary_completions("сяом") == ["сяоми"]
    assert vocabulary_completions("лэпт") == ["лэптоп"]


def test_a_whole_word_completes_to_itself() -> None:
    assert vocabulary_completions("телек")[0] == "телек"


def test_too_short_a_start_or_no_word_completes_to_nothing() -> None:
    assert vocabulary_completions("ай") == []
    assert vocabulary_completions("qzxw") == []
    assert vocabulary_completions("") == []


def test_every_completion_begins_with_the_word_and_means_something_else() -> None:
    words, meanings = _vocabulary()
    meaning = dict(zip(words, meanings, strict=True))
    assert set(words) == set(BRANDS) | set(SYNONYMS)
    for start in sorted({word[:n] for word in words for n in (3, 4) if len(word) >= n}):
        found = vocabulary_completions(start)
        assert vocabulary_completions(start[: MIN_VOCABULARY_PREFIX - 1]) == []
        assert 1 <= len(found) <= MAX_COMPLETIONS, start
        assert all(word.startswith(start) for word in found), (start, found)
        assert len({meaning[word] for word in found}) == len(found), (start, found)
        assert [len(w) for w in found] == sorted(len(w) for w in found), (start, found)
