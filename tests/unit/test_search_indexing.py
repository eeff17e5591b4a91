"""The fast indexing path gives the same index as the plain definitions it replaced.

`index_fields` lemmatises whitespace tokens through a bounded cache, normalises each field
once, and the stem analyzer no longer lowercases text that is already lower case; `upsert`
deletes only products that may have a document. Each is checked against the plain
definition (hypothesis over any text) or against the index's visible behaviour.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import tantivy
from hypothesis import given, settings
from hypothesis import strategies as st

from vitrina.domain import search_document
from vitrina.domain.search_document import (
    decimals,
    lacking_glued,
    normalize_text,
    query_words,
    specification_text,
    specifications_text,
    text_words,
)
from vitrina.search import analysis
from vitrina.search.analysis import (
    form_lemma_text,
    lemma_text,
    lemmas,
    raw_stem_and_lemma_text,
    stem_analyzer,
    stem_and_lemma_text,
    stem_text,
    stems,
    whole_part,
)
from vitrina.search.embedded import EmbeddedSearch
from vitrina.search.fields import (
    BODY_FIELDS,
    TEXT_FIELDS,
    device_kinds,
    index_fields,
    purpose_apart,
    served_apart,
)
from vitrina.search.lookalikes import one_script_text
from vitrina.search.model_codes import may_be_one_word
from vitrina.search.query_understanding import compound_kinds

TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЁЩΣς ,.—-_\t\n015")),
    ),
    max_size=60,
)


def plain_lemma_text(text: str) -> str:
    """The definition before the token cache: every word of the text (a decimal after its
    whole part), each of its lemmas."""
    words = (part for word in text_words(text) for part in whole_part(word))
    return " ".join(form for word in words for form in lemmas(word))


def plain_stem_text(normalized: str) -> str:
    """The ru_stem analyzer's tokens of the whole text, each decimal one word after its whole
    part (the analyzer splits at the point)."""
    text = one_script_text(normalized)  # a word typed in two scripts is read in one
    analyse = stem_analyzer().analyze
    terms, at = [], 0
    for decimal in decimals(text):
        terms += [*analyse(text[at : decimal.start()]), *whole_part(decimal[0])]
        at = decimal.end()
    return " ".join(t for t in [*terms, *analyse(text[at:])] if t)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_lemma_text_equals_the_per_word_definition(text: str) -> None:
    assert lemma_text(text) == plain_lemma_text(text)
    assert lemma_text(text) == plain_lemma_text(text)  # the second time from the cache


# Names that say what they serve (Футляр для очков жесткий, для сухих и ломких волос)
PURPOSES = st.lists(
    st.sampled_from(
        [
            "для",
            "очков",
            "и",
            "жесткий",
            "сухих",
            "волос",
            "Футляр",
            "iPhone",
            "15",
            "наушников",
            "AirPods",
        ]
    ),
    max_size=8,
).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*BODY_FIELDS, "name"]), st.one_of(TEXT, PURPOSES)))
def test_index_fields_equal_the_field_by_field_definition(texts: dict[str, str]) -> None:
    product: dict[str, Any] = {"product_id": "1", **texts}
    if "tags" in texts:
        product["tags"] = texts["tags"].split(",")
    if "specifications" in texts:
        product["specifications"] = {"a": texts["specifications"]}
    fields = index_fields(product)
    assert index_fields(product) == fields  # the second time from the short-field cache
    document = search_document.search_document(product)  # as index_fields reads it
    named, own = document["name"], document["brand"]
    # the Russian words that say what it serves (для очков) go to name_served
    kept, served = served_apart(search_document.lacking_glued(purpose_apart(named, own)[0]))
    raw = {
        # the Latin words a purpose preposition names (для iPhone) go with the description
        "name": kept,
        "brand": product.get("brand") or "",
        "category": product.get("category") or "",
        "description": " ".join(  # and what kind of device it is (iPhone: смартфон)
            filter(
                None,
                (
                    product.get("description"),
                    purpose_apart(named, own)[1],
                    device_kinds(purpose_apart(named, own)[1]),
                ),
            )
        ),
        "tags": " ".join(product.get("tags") or []),
        "specifications": " ".join(  # key and value; the key alone for a yes, none for a no
            filter(None, (specification_text(k, v) for k, v in product["specifications"].items()))
        )
        if "specifications" in product
        else "",
    }

    # a word typed in two scripts (a Latin a in аа) is read in one, as the index reads it
    def read(text: str) -> str:
        return plain_lemma_text(one_script_text(normalize_text(text)))

    assert fields["name_lemma"] == read(raw["name"])
    # and a compound of the name goes by its kinds too, as a body word (посудомойка: мойка;
    # hypothesis found one, failing the test since a22a13b)
    kinds = " ".join(
        dict.fromkeys(k for w in fields["name_lemma"].split() for k in compound_kinds(w))
    )
    body = read(" ".join(raw[n] for n in BODY_FIELDS))
    assert fields["body_lemma"] == " ".join(filter(None, (body, kinds, read(served))))
    assert fields["name_served"] == one_script_text(normalize_text(served))
    assert fields["category_key"] == normalize_text(raw["category"]).strip()
    assert fields["brand_key"] == normalize_text(raw["brand"]).strip()
    # each field's text as the index reads it: in one script (hypothesis found a brand «KА»
    # with a Latin K, which the fields read as «ка» and this definition did not)
    assert all(fields[n] == one_script_text(normalize_text(raw[n])) for n in raw)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_stem_analyzer_without_lowercase_gives_the_same_tokens(text: str) -> None:
    with_lowercase = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("russian"))
        .build()
    )
    # Only characters Python's Unicode database has: tantivy (Rust) knows newer ones, and
    # lowercases an upper case letter Python does not know is one (U+16EA0, Unicode 16;
    # hypothesis found it). Both the index and the queries pass through normalize_text
    # first, so they read such a letter alike either way.
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cn")
    normalized = normalize_text(text)
    assert stem_analyzer().analyze(normalized) == with_lowercase.analyze(normalized)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_stem_text_split_at_spaces_gives_the_stem_analyzers_tokens(text: str) -> None:
    """Schema v3 indexes stem_text with the whitespace tokenizer: the same tokens (so terms
    and field lengths) as v2's ru_stem analyzer over the normalised text, but for a decimal,
    one word after its whole part (`plain_stem_text`)."""
    normalized = normalize_text(text)
    spaces = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()
    expected = plain_stem_text(normalized).split()
    assert spaces.analyze(stem_text(normalized)) == expected
    assert spaces.analyze(stem_text(normalized)) == expected  # cached
    if not decimals(normalized):
        assert expected == stem_analyzer().analyze(normalized)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from([*BODY_FIELDS, "name"]), TEXT))
def test_stemmed_index_fields_hold_the_stem_text_of_each_field(texts: dict[str, str]) -> None:
    product: dict[str, Any] = {"product_id": "1", **texts}
    if "tags" in texts:
        product["tags"] = texts["tags"].split(",")
    if "specifications" in texts:
        product["specifications"] = {"a": texts["specifications"]}
    plain, stemmed = index_fields(product), index_fields(product, stemmed=True)
    for name in TEXT_FIELDS:
        assert stemmed[name] == stem_text(plain[name])
    assert {k: v for k, v in stemmed.items() if k not in TEXT_FIELDS} == {
        k: v for k, v in plain.items() if k not in TEXT_FIELDS
    }


def test_the_token_cache_is_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(analysis, "LEMMA_CACHE_WORDS", 3)
    analysis._LEMMA_STRINGS.clear()
    for word in ("кроссовки", "гантели", "часы", "клавиатура", "ноутбуки"):
        lemma_text(word)
    assert len(analysis._LEMMA_STRINGS) <= 3
    assert lemma_text("кроссовки") == plain_lemma_text("кроссовки")
    analysis._STEM_STRINGS.clear()
    for word in ("кроссовки", "гантели", "часы", "клавиатура", "ноутбуки"):
        stem_text(word)
    assert len(analysis._STEM_STRINGS) <= 3
    assert stem_text("кроссовки") == " ".join(stem_analyzer().analyze("кроссовки"))


def doc(pid: str, name: str) -> dict[str, Any]:
    return {"product_id": pid, "name": name, "price": {"amount": 1.0}, "stock": {"available": 1}}


def test_upserts_in_several_calls_before_one_commit_keep_the_last(tmp_path: Path) -> None:
    idx = EmbeddedSearch(tmp_path / "ix")
    idx.upsert([doc("1", "Кеды первые"), doc("2", "Часы")])
    idx.upsert([doc("1", "Кеды вторые")])
    idx.upsert([doc("3", "Гантели"), doc("3", "Гантели разборные")])
    idx.commit()
    assert idx.count() == 3
    assert idx.get("1")["name"] == "Кеды вторые"
    assert idx.get("3")["name"] == "Гантели разборные"
    idx.close()


def test_a_reopened_writer_replaces_committed_documents(tmp_path: Path) -> None:
    first = EmbeddedSearch(tmp_path / "ix")
    first.upsert([doc(str(i), f"Товар {i}") for i in range(50)])
    first.commit()
    first.close()
    del first
    second = EmbeddedSearch(tmp_path / "ix")
    second.upsert([doc("7", "Товар семь обновлён"), doc("100", "Новый")])
    second.commit()
    assert second.count() == 51
    assert second.get("7")["name"] == "Товар семь обновлён"
    assert [h.product_id for h in second.search("обновлен").hits] == ["7"]
    second.close()


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_stem_and_lemma_strings_are_the_terms_joined_by_single_spaces(text: str) -> None:
    """The token caches keep each token's terms with a trailing space and the texts are
    their concatenation less the last space: exactly the terms joined by single spaces."""
    normalized = normalize_text(text)
    stems = plain_stem_text(normalized)
    assert stem_text(normalized) == stems
    assert stem_and_lemma_text(normalized) == (stems, plain_lemma_text(normalized))
    assert stem_and_lemma_text(normalized) == (stems, plain_lemma_text(normalized))  # cached


SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.sampled_from([0.0, -0.0, 1.0, 1.5]),
    st.sampled_from(["1", "да", "Нет", "IP68", " ", ""]),
    TEXT,
)


def plain_specifications_text(specs: dict[Any, Any]) -> str:
    return " ".join(filter(None, (specification_text(k, v) for k, v in specs.items())))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["Вес", "Цвет", 1, True]), SCALAR), max_size=4))
def test_specifications_text_equals_the_pair_by_pair_definition(sets: list[Any]) -> None:
    """Cached or not, in any order: 1, 1.0, True and -0.0 are equal keys of a dict yet
    read differently (Вес 1, Вес 1.0, Вес, Вес -0.0)."""
    for specs in sets + sets[::-1]:
        assert specifications_text(specs) == plain_specifications_text(specs)


def test_equal_specifications_are_worked_out_once(monkeypatch: Any) -> None:
    calls: list[Any] = []

    def counted(key: Any, value: Any) -> str:
        calls.append(key)
        return specification_text(key, value)

    monkeypatch.setattr(search_document, "specification_text", counted)
    search_document._SPECIFICATION_TEXTS.clear()
    first = {"Материал": "Лён", "Подсветка": "нет", "Размер": "42"}
    second = dict(first)  # equal, another object (as each decoded product's is)
    assert specifications_text(first) == specifications_text(second) == "Материал Лён Размер 42"
    assert len(calls) == 3
    numbers = {"Вес": 1}  # not kept (1 == True == 1.0): worked out each time, still right
    assert specifications_text(numbers) == specifications_text(numbers) == "Вес 1"
    assert specifications_text({"Вес": True}) == "Вес"
    assert len(calls) == 6
    assert specifications_text({"Вес": [1, 2]}) == "Вес [1, 2]"  # unhashable: not kept


def test_the_specifications_cache_is_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(search_document, "SPECIFICATIONS_CACHE", 3)
    search_document._SPECIFICATION_TEXTS.clear()
    for size in range(5):
        specifications_text({"Размер": str(size)})
    assert len(search_document._SPECIFICATION_TEXTS) <= 3
    assert specifications_text({"Размер": "0"}) == "Размер 0"


RAW_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        # NFKC splits (¨ ´ ½ ﬁ), combining marks, final sigma, no-break and odd spaces
        st.sampled_from(list("абвЁЩΣςσ¨´½ﬁＡ\u0301\u0308\u00a0\u2002\u3000\x1c\x85 \t\n05,.")),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(RAW_TEXT)
def test_raw_tokens_give_the_normalised_texts_stems_and_lemmas(text: str) -> None:
    expected = stem_and_lemma_text(normalize_text(text))
    assert raw_stem_and_lemma_text(text) == expected
    assert raw_stem_and_lemma_text(text) == expected  # the second time from the caches


def test_normalising_never_crosses_whitespace() -> None:
    """Why a text's tokens may be normalised one by one (`raw_stem_and_lemma_text`): for
    every whitespace character and every assigned character on either side, normalising the
    whole equals normalising each piece, and whitespace stays whitespace."""
    chars = [
        chr(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) not in ("Cn", "Cs", "Co")
    ]
    spaces = [c for c in chars if c.isspace()]
    words = [c for c in chars if not c.isspace()]
    pieces = list(map(normalize_text, words))
    for space in spaces:
        assert normalize_text(space) and normalize_text(space).isspace()
        assert normalize_text(space.join(words)) == normalize_text(space).join(pieces)
        # final sigma: lower() looks past case-ignorable characters, never past whitespace
        assert normalize_text(f"аΣ{space}б") == f"аς{normalize_text(space)}б"


def test_a_decimal_is_one_word_indexed_after_its_whole_part() -> None:
    """Probe round 37: 0.5 was the words 0 and 5, so «вода 5 литров» matched a 0.5 l
    bottle. A decimal (a comma typed as a point) is one word; the index holds its whole
    part before it (a 15.6" laptop is still a 15-inch one), a query looks it up as typed."""
    assert query_words("вода 0,5 л") == ["вода", "0.5", "л"]
    assert query_words('объём 1.5. ноутбук 15,6"') == ["объем", "1.5", "ноутбук", "15.6"]
    # not a decimal: three digits after the point (thousands), or a dotted run (a date)
    assert query_words("5.000 руб 12.05.2024 v1.2") == [
        "5",
        "000",
        "руб",
        "12",
        "05",
        "2024",
        "v1",
        "2",
    ]
    assert raw_stem_and_lemma_text("Кабель 1,5 м") == ("кабел 1 1.5 м", "кабель 1 1.5 м")
    assert stems("2,5") == ("2.5",) and form_lemma_text("2,5") == "2.5"
    assert not may_be_one_word("2.5", "ч") and may_be_one_word("саунд", "бар")


def test_what_a_title_says_a_product_lacks_is_glued_to_bez() -> None:
    """Хлебцы без глютена lack глютен: the word after без is indexed glued to it, so the
    product is no match for «глютен» and is one for «без глютена» (probe round 39)."""
    assert lacking_glued("Хлебцы без глютена, 100 г") == "Хлебцы без безглютена, 100 г"
    assert lacking_glued("БЕЗ САХАРА") == "БЕЗ безСАХАРА"
    assert lacking_glued("безопасный замок, без 5 добавок") == "безопасный замок, без 5 добавок"
    fields = index_fields({"product_id": "1", "name": "Майонез без яиц", "price": {"amount": 1}})
    assert "яиц" not in fields["name"].split() and "безяиц" in fields["name"].split()


def test_a_token_is_looked_up_as_written_and_the_caches_are_bounded(monkeypatch: Any) -> None:
    analysis._RAW_STEMS.clear()
    assert raw_stem_and_lemma_text("Ноутбук «Lenovo»") == ("ноутбук lenovo", "ноутбук lenovo")
    assert set(analysis._RAW_STEMS) == {"Ноутбук", "«Lenovo»"}
    monkeypatch.setattr(analysis, "RAW_TOKEN_CACHE", 3)
    for word in ("Кроссовки", "Гантели", "Часы", "Клавиатура", "Ноутбуки"):
        raw_stem_and_lemma_text(word)
    assert len(analysis._RAW_STEMS) <= 3 and len(analysis._RAW_LEMMAS) <= 3
    assert raw_stem_and_lemma_text("Кроссовки") == stem_and_lemma_text("кроссовки")


@pytest.mark.parametrize(
    ("name", "brand", "kept", "moved"),
    [
        ("Чехол для наушников AirPods Pro 2", "Deppa", "Чехол для наушников", "AirPods Pro 2"),
        ("Фильтр для пылесоса Dyson V8", "Filtero", "Фильтр для пылесоса", "Dyson V8"),
        ("Чехол для iPhone 15", "Deppa", "Чехол для", "iPhone 15"),
        # the product's own brand stays, and so do the Latin words after other nouns
        ("Насадки для щетки Oral-B EB20", "Oral-B", "Насадки для щетки Oral-B EB20", ""),
        ("Средство для мытья посуды Fairy", "P&G", "Средство для мытья посуды Fairy", ""),
        ("Корм для собак Purina Pro Plan", "Purina", "Корм для собак Purina Pro Plan", ""),
    ],
)
def test_a_device_named_after_its_noun_is_what_an_accessory_is_for(
    name: str, brand: str, kept: str, moved: str
) -> None:
    """A fourteenth blind review: «airpods» and «айрподс» ranked «Чехол для наушников AirPods
    Pro 2» above the AirPods; only «для iPhone», right after для, was read so."""
    assert purpose_apart(name, brand) == (kept, moved)


@pytest.mark.parametrize(
    ("name", "kept", "served"),
    [
        ("Футляр для очков жесткий", "Футляр для жесткий", "очков"),
        ("Шампунь для сухих и поврежденных волос", "Шампунь для", "сухих и поврежденных волос"),
        ("Средство для мытья посуды Fairy Лимон", "Средство для Fairy Лимон", "мытья посуды"),
        ("Держатель для телефона в машину", "Держатель для в машину", "телефона"),
        ("Кроссовки беговые Nike", "Кроссовки беговые Nike", ""),  # serves nothing
        ("Чехол для iPhone 15", "Чехол для iPhone 15", ""),  # Latin: purpose_apart's
        ("Для дома", "Для", "дома"),
    ],
)
def test_what_a_name_says_its_product_serves_is_apart(name: str, kept: str, served: str) -> None:
    assert served_apart(name) == (kept, served)
