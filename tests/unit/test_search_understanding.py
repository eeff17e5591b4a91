"""Query understanding (pure): synonyms, diminutives, brands, compounds, typo distance."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vitrina.search.query_understanding import (
    alternatives,
    fuzzy_distance,
    misspelt_brand,
    misspelt_meanings,
    transliterate,
    transliterate_english,
)


def _words(word: str, lemmas: list[str]) -> dict[str, str]:
    return {a.word: a.kind for a in alternatives(word, lemmas)}


def test_the_issue_examples() -> None:
    assert _words("велосипед", ["велосипед"])["электровелосипед"] == "compound"
    assert _words("лэптоп", ["лэптоп"])["ноутбук"] == "synonym"
    assert "ложка" in _words("ложечка", ["ложечка"])
    assert _words("мышку", ["мышка"])["мышь"] == "synonym"
    assert _words("самсунг", ["самсунг"])["samsung"] == "brand"
    assert _words("айфон", ["айфон"])["iphone"] == "brand"


def test_diminutives_in_ik_and_chik_and_their_synonyms() -> None:
    """Found by the probe queries (written without reading the word lists)."""
    assert _words("кедики", ["кедик"])["кед"] == "diminutive"
    assert _words("телевизорчик", ["телевизорчик"])["телевизор"] == "diminutive"
    assert _words("ноутик", ["ноутик"])["ноутбук"] == "synonym"  # ноутик → ноут → ноутбук
    assert "бл" not in _words("блик", ["блик"])  # a two-letter base is no word


def test_compounds_of_a_diminutive_base() -> None:
    assert _words("самокатик", ["самокатик"])["электросамокат"] == "compound"


def test_a_brand_spelt_one_letter_off_is_still_the_brand() -> None:
    assert _words("сенхайзер", ["сенхайзер"])["sennheiser"] == "brand"  # сеннхайзер
    assert misspelt_brand("филлипс") == "philips"
    assert misspelt_brand("сумка") is None  # too short to guess
    assert misspelt_brand("sennheiser") is None  # Latin words need no dictionary
    assert _words("делонги", ["делонг"])["de'longhi"] == "brand"  # as the index splits it


def test_a_dictionary_word_two_letters_off_means_what_the_word_means() -> None:
    """For the fuzzy stage: a typo on a colloquial form is 3 edits from the index's stem."""
    assert {a.word for a in misspelt_meanings("микраволнофка")} == {"микроволновый", "печь"}
    assert {a.word for a in misspelt_meanings("сковаротка")} == {"сковорода"}
    assert misspelt_meanings("телевизор") == []
    assert misspelt_meanings("сковородка") == []  # the word itself is no typo


def test_english_style_transliteration() -> None:
    assert transliterate_english("клинмастер") == "clinmaster"  # 2 edits from cleanmaster
    assert transliterate_english("кейс") == "keys"
    assert transliterate_english("глория") == "gloria"  # Gloria Jeans
    assert _words("глория", ["глория"])["gloria"] == "brand"


def test_transliteration_and_typo_distance() -> None:
    assert transliterate("хонор") == "honor"
    assert transliterate("nike") == "nike"
    assert fuzzy_distance("кед") == 0
    assert fuzzy_distance("чайнк") == 1
    assert fuzzy_distance("кафемошин") == 2


@given(st.text(max_size=30), st.lists(st.text(max_size=30), max_size=3))
def test_alternatives_never_repeat_the_word_and_weigh_at_most_one(
    word: str, lemmas: list[str]
) -> None:
    alts = alternatives(word, lemmas)
    assert len({a.word for a in alts}) == len(alts)
    for alt in alts:
        assert alt.word not in {word, *lemmas}
        assert 0 < alt.weight <= 1.0
