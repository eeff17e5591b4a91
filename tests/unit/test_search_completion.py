"""The query understanding's words a partly typed word begins (`search.completion`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vitrina.domain.search_document import query_words
from vitrina.search.base import SearchHit, SearchPage
from vitrina.search.completion import (
    MAX_COMPLETIONS,
    MIN_VOCABULARY_PREFIX,
    _begun_with_a_typo,
    _finished,
    _left_out,
    _vocabulary,
    suggestions,
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


def test_a_word_looks_finished_when_the_dictionary_or_the_vocabulary_has_it() -> None:
    for word in ("часы", "переносная", "щетка", "леново", "лэптоп"):
        assert _finished(word), word
    for word in ("перено", "ноутб", "смар", "кол", "час"):
        assert not _finished(word), word


def test_a_word_begun_with_one_slip_completes_the_word_and_two_slips_do_not() -> None:
    for typed in ("беспрво", "бепров", "беспрро", "бесппов", "беспр"):
        assert _begun_with_a_typo(typed, "беспроводные"), typed
    for typed in ("бкспрво", "бесрпво", "наушн"):
        assert not _begun_with_a_typo(typed, "беспроводные"), typed
    assert not _begun_with_a_typo("беспроводныеее", "беспроводные")


class _NothingFound:
    """A backend whose names complete nothing and whose search finds nothing; it records
    what it was asked to search. `sells_every_word`: a single word, searched for products
    with every word, finds one (a shop that has what each vocabulary word means)."""

    def __init__(self, sells_every_word: bool = False) -> None:
        self.sells_every_word = sells_every_word
        self.searched: list[str] = []
        self.all_words: dict[str, bool] = {}  # each text: whether only all its words
        self.asked: list[tuple[str, bool]] = []

    def suggest(self, text: str, limit: int) -> list[dict[str, str]]:
        return []

    def search(self, text: str, limit: int = 10, *, all_words: bool = False) -> SearchPage:
        self.searched.append(" ".join(text.split()))
        self.all_words[self.searched[-1]] = all_words
        self.asked.append((self.searched[-1], all_words))
        if self.sells_every_word and all_words and len(text.split()) == 1:
            return SearchPage(total=1, hits=[SearchHit("1", 1.0, {"name": text.title()})])
        return SearchPage(total=0)


def test_a_text_is_searched_once_per_keystroke_when_it_ends_in_a_vocabulary_word() -> None:
    """A finished vocabulary word is its own completion: the text was searched whole by the
    vocabulary step, and the whole-text step asked the same again (on OpenSearch, a full
    search each: ~17 ms)."""
    for typed in (
        "леново",
        "планшет леново",
        "смартфон самсунг",
        "смартфон кроме самсунг",
        "дешевые наушники",  # searched first for its price order
    ):
        backend = _NothingFound(sells_every_word=True)
        assert suggestions(backend, typed, 5) == []  # type: ignore[arg-type]
        assert (typed, False) in backend.asked, (typed, backend.asked)
        assert len(backend.asked) == len(set(backend.asked)), (typed, backend.asked)


def test_a_longer_text_is_searched_for_all_its_words_and_only_for_them() -> None:
    """Three words or more, or two whose last is not finished: before, nothing was
    suggested when the earlier words' hits completed nothing (and a text of four words or
    more was never searched). Now the text is searched, for products with every word only:
    "any word" scored thousands of products at 100k."""
    for typed, earlier in (
        ("детская коляска прогулоч", "детская коляска"),
        ("хочу купить недорогой ноутбук для учебы", None),
        ("ноутбук игровой мощн", "ноутбук игровой"),
        ("рис длиннозер", "рис"),
    ):
        backend = _NothingFound()
        assert suggestions(backend, typed, 5) == []  # type: ignore[arg-type]
        assert backend.all_words.get(typed) is True, (typed, backend.all_words)
        if earlier is None:  # a sentence: only this one search
            assert backend.searched == [typed]
        else:
            assert backend.all_words[earlier] is False, backend.all_words
    # One word, or two whose last looks finished, are still searched with every stage;
    # a last word under MIN_TYPED_LAST letters is not searched whole at all.
    for typed in ("мышку", "колонка переносная"):
        backend = _NothingFound()
        suggestions(backend, typed, 5)  # type: ignore[arg-type]
        assert backend.all_words.get(typed) is False, (typed, backend.all_words)
    for typed in ("детская коляска про", "хочу купить недорогой ноу"):
        backend = _NothingFound()
        suggestions(backend, typed, 5)  # type: ignore[arg-type]
        assert typed not in backend.searched, (typed, backend.searched)


def test_the_words_a_product_must_not_be_are_those_after_ne_or_krome() -> None:
    """не, кроме, исключая after a word of the product leave out what follows (a list
    too); без does not: a name says what its product lacks (Хлебцы без глютена)."""
    cases = {
        "телевизор не sams": {2},
        "наушники кроме сони и jb": {2, 4},
        "смартфон исключая айф": {2},
        "хлебцы без глю": set(),
        "не дорогой ноут": set(),  # no product word before не
        "книга не отпускай": set(),  # a title's verb
        "ноутбук lenovo": set(),
    }
    for text, positions in cases.items():
        assert _left_out(query_words(text)) == positions, text


def test_a_completion_no_product_has_is_not_searched(tmp_path: Path) -> None:
    """A vocabulary completion no product has (кетчуп хай → хайнц, хайер in a shop that
    sells neither) was searched with every stage: its typo stage found Gloria Jeans jeans,
    and after a brand its "any word" stage found only the brand's products, whatever the
    kind being typed (нордвей вело → велобег: yoga mats; бош коф → кофта: kettles). Now
    such a completion is not searched: the brand's products with a word the last one
    begins are (bicycles, coffee machines), or, when none has, the earlier words' best."""
    from vitrina.domain.generator import generate_catalog
    from vitrina.search.embedded import EmbeddedSearch

    index = EmbeddedSearch(tmp_path / "ix")
    index.upsert(list(generate_catalog(2000, seed=3)))
    index.commit()
    searched: list[str] = []
    real = index.search

    def search(text: str, *args: Any, **kwargs: Any) -> Any:
        searched.append(text)
        return real(text, *args, **kwargs)

    index.search = search  # type: ignore[method-assign]
    assert suggestions(index, "кетчуп хай", 5) == []
    assert not any(text.startswith("кетчуп х") for text in searched), searched
    for typed, kind in (
        ("нордвей вело", "Велосипед горный Nordway"),
        ("бош коф", "Кофемашина Bosch"),
        ("шаоми роз", "Умная розетка Xiaomi"),
        ("колонка для тел", "Портативная колонка"),  # телек, тележка: none sold
    ):
        names = [found["name"] for found in suggestions(index, typed, 5)]
        assert names and all(name.startswith(kind) for name in names), (typed, names)
    index.close()
