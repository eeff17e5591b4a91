"""One search suite, two backends: the embedded tantivy index and a real OpenSearch 2.19 node.

Both index the judged catalogue through the same `SearchBackend` interface; every test runs
on each. Relevance prints MRR / recall@10 per backend (`pytest -s`); filters, paging and
sorting are checked hit by hit and against each other (a filter-only browse must count the
same products on both); a banned product (a delete, as the indexer does on a tombstone)
disappears; hostile text never fails. The OpenSearch-only tests type its bulk failures.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.unit.test_search_relevance import (
    JUDGED,
    NEW_KINDS,
    catalogs,
    judged_scores,
    marketplace_products,
)

from vitrina.cluster.opensearch import OpenSearchNode
from vitrina.domain.generator import generate_catalog
from vitrina.domain.search_document import in_stock, price_of
from vitrina.errors import UnavailableError
from vitrina.search.base import SearchBackend, SearchFilters, distinct_names
from vitrina.search.completion import suggestions
from vitrina.search.embedded import EmbeddedSearch
from vitrina.search.errors import RejectedDocuments
from vitrina.search.price_order import price_order
from vitrina.search.word_lists import BRANDS

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BACKENDS = ("embedded", "opensearch")
# Measured (2170 judged queries, `pytest -s` prints them): MRR 0.9942 embedded, 0.9937 here,
# recall@10 0.991 / 0.991 (2026-12-05; 1904 of them, before the marketplace catalogue:
# 0.9969 / 0.9963). Each probe round's before and after, on both
# backends, is in docs/recommendations-and-search.md; both read a query through the same
# plan (search/query_plan.py). Floors a little under.
FLOORS = {"embedded": (0.95, 0.9), "opensearch": (0.99, 0.98)}
HOSTILE = [
    '"',
    "name:(x AND",
    "*",
    "?",
    "\\",
    "a" * 5000,
    "😀" * 300,
    "\x00\x07",
    "DROP TABLE",
    '{"query": 1}',
    "кроссовки~2^9",
    "/regex.*/",
    "<script>",
    "   ",
    "-",
    "||",
    "&&",
]


def _open(kind: str, name: str, tmp: Path, request: pytest.FixtureRequest) -> SearchBackend:
    if kind == "embedded":
        return EmbeddedSearch(tmp / name)
    from opensearchpy import OpenSearch

    from vitrina.search.opensearch import OpenSearchIndex

    node: OpenSearchNode = request.getfixturevalue("opensearch")
    return OpenSearchIndex(
        OpenSearch(hosts=[node.url], timeout=60), f"vitrina-test-{name}-{uuid.uuid4().hex[:6]}"
    )


def _build(index: SearchBackend, products: list[dict[str, Any]]) -> SearchBackend:
    for start in range(0, len(products), 500):
        index.upsert(products[start : start + 500])
    index.commit()
    return index


@pytest.fixture(scope="module")
def judged() -> dict[str, Any]:
    return json.loads(JUDGED.read_text("utf-8"))


@pytest.fixture(scope="module")
def catalog(judged: dict[str, Any]) -> list[dict[str, Any]]:
    return list(generate_catalog(judged["catalog"]["n"], seed=judged["catalog"]["seed"]))


@pytest.fixture(scope="module", params=BACKENDS)
def indexes(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    catalog: list[dict[str, Any]],
) -> Iterator[dict[str, Any]]:
    """{"kind", and (index, products) of each judged catalogue: "generated", "marketplace",
    "grocery", "seed" (when the seed catalogues are here)} of one backend."""
    kind, tmp = request.param, tmp_path_factory.mktemp(f"search-{request.param}")
    every = catalogs(catalog)
    out: dict[str, Any] = {
        name: (_build(_open(kind, name, tmp, request), products), products)
        for name, products in every.items()
    }
    yield {"kind": kind, **out}
    for index, _ in out.values():
        index.close()


def assert_first_named(
    indexes: dict[str, Any], catalogue: str, query: str, name_prefix: str | tuple[str, ...]
) -> None:
    """The query's first hit on the catalogue's index is named `name_prefix`… (or one of
    them); the seed catalogues' cases are skipped where they are not here."""
    if catalogue not in indexes:
        pytest.skip("the seed catalogues are not here")
    hits = indexes[catalogue][0].search(query, limit=3).hits
    assert hits and hits[0].product["name"].startswith(name_prefix), (
        indexes["kind"],
        query,
        [h.product["name"] for h in hits],
    )


# 2,828 queries, each up to four stages on OpenSearch: 161 s in CI, past the default 300 s
# on a machine busy with other work (a rehearsal beside a unit run)
@pytest.mark.timeout(900)
def test_relevance_on_the_judged_set(indexes: dict[str, Any], judged: dict[str, Any]) -> None:
    scores = judged_scores({k: v for k, v in indexes.items() if k != "kind"}, judged)
    kind = indexes["kind"]
    print(
        f"\n{kind}: MRR {scores['mrr']} recall@10 {scores['recall_at_10']} over "
        f"{scores['queries']} queries; by kind {scores['by_kind']}; "
        f"not first: {scores['not_first'][:12]}"
    )
    mrr_floor, recall_floor = FLOORS[kind]
    assert scores["mrr"] >= mrr_floor, scores
    assert scores["recall_at_10"] >= recall_floor, scores
    for query_kind in (*NEW_KINDS, "layout"):  # issue 16's floor on each kind, both backends
        if query_kind in scores["by_kind"]:
            assert scores["by_kind"][query_kind]["mrr"] >= 0.9, (query_kind, scores)


@pytest.mark.parametrize(
    ("query", "name_prefix"),
    [
        ("фитнесбраслет", "Фитнес-браслет"),  # one word where names hyphenate: split in two
        ("фитнесбраслет samsung", "Фитнес-браслет Samsung"),  # split, with another word
        ("саунд бар", "Саундбар"),  # two words where names have one: joined
        ("сковаротка", "Сковорода"),  # two letters off сковородка (→ сковорода)
        ("микраволнофка", "Микроволновая печь"),  # two letters off микроволновка
        ("электрощетка", "Электрическая зубная щётка"),  # a prefix as its adjective
        ("yjen,er", "Ноутбук"),  # ноутбук on the Latin layout, split at the б key
        ("yjen,er ktyjdj", "Ноутбук Lenovo"),  # the same and леново, a brand's Cyrillic name
        ("cvfhnajy", "Смартфон"),  # смартфон on the Latin layout
        ("нордвей велосипед", "Велосипед горный Nordway"),  # any word: нордвей ~ nordway
        ("остин футболка", "Футболка хлопковая O'stin"),
        ("звуковая панель", "Саундбар"),  # a phrase synonym (word_lists.PHRASE_SYNONYMS)
        ("мишка плюшевый", "Мягкая игрушка"),  # the same, in either word order
        ("плюшевый мишка", "Мягкая игрушка"),
        ("аудиоколонка", "Портативная колонка"),  # no name has аудио: the prefix's base
        ("аквадатчик", "Датчик протечки"),
        ("l;bycs", "Джинсы"),  # джинсы on the Latin layout; l alone is a word (L'Oréal)
        ("дачик пратечки", "Датчик протечки"),  # a fuzzy word counts in "any word"
        ("мышь для ноутбука", "Мышь беспроводная"),  # what it is for weighs less
        ("рюкзак для ноутбука", "Рюкзак городской"),
        ("наушники к смартфону", "Наушники беспроводные"),
        ("фен для волос", "Фен для волос"),  # the whole phrase in a name still ranks first
        ("что подарить ребенку энциклопедию", "Детская энциклопедия"),  # intent words
        ("купить кроссовки для бега недорого", "Кроссовки беговые"),
        # probe round 8
        ("sound bar", "Саундбар"),  # two words that together are a dictionary word
        ("laptop", "Ноутбук"),  # an English product word (word_lists.ENGLISH_WORDS)
        ("смарт вотч", "Умные часы"),  # its Cyrillic spelling
        ("сотовый реалми", "Смартфон Realme"),
        ("яндекс станция", "Умная колонка Яндекс"),  # a phrase's word still counts
        ("роамн эксом", "Роман Эксмо"),  # swapped neighbours swapped back
        ("фне для волсо", "Фен для волос"),  # a 3-letter word too
        # probe round 9
        ("мтб", "Велосипед горный"),  # an English abbreviation typed in Cyrillic
        ("гарнитура блютуз", "Наушники беспроводные"),  # a synonym, a Latin word in Cyrillic
        # probe round 10
        ("экран для компьютера", "Монитор"),  # a product type's other name
        ("ветровка", "Куртка демисезонная"),
        ("джинсы бефри", "Джинсы прямые Befree"),  # unstressed е typed for и (бифри)
        # probe round 11
        ("робопылесос", "Пылесос робот"),  # a compound's longest ending a name has
        ("радиомышь", "Мышь беспроводная"),
        ("стереонаушники", "Наушники беспроводные"),
        ("кедды найк", "Кеды Nike"),  # a doubled letter typed once
        ("t-shirt", "Футболка хлопковая"),  # an English product word, t and shirt joined
        ("smart plug", "Умная розетка"),
        ("конверсы", "Кеды"),  # a trade name for the kind of goods
        # probe round 12
        ("смартфон tecno a31pro", "Смартфон Tecno A31 Pro"),  # a code glued to Pro: cut
        ("ноутбук дел м 89", "Ноутбук Dell M89"),  # a code split by a space: joined
        ("наушники jbl c-21", "Наушники беспроводные JBL C21"),  # both halves are words
        ("смартфон текно а311", "Смартфон Tecno A31 Pro"),  # a digit too many dropped
        # probe round 13
        ("саундбр сонни", "Саундбар Sony"),  # a short brand with a letter doubled
        ("смартфн хонр", "Смартфон Honor"),  # … with a vowel dropped
        ("электрочйник бошь", "Электрочайник Bosch"),  # … with a soft sign added
        ("фэн браунн", "Фен для волос Braun"),  # э typed for е
        ("jblколонка", "Портативная колонка JBL"),  # Latin glued to a Russian word
        ("садинструменты", "Набор садовых инструментов"),  # сад- is садовый
        # probe round 14
        ("электрокофемашина", "Кофемашина"),  # электро- as an appliance's category too
        ("маечка", "Футболка хлопковая"),  # -ечка after a vowel is -йка: майка
        # probe round 15
        ("электрощеточка", "Электрическая зубная щётка"),  # a diminutive inside a compound
        ("джейбиэль саундбар", "Саундбар JBL"),  # a brand spelt by its letters' names
        ("делонджи кофемашина", "Кофемашина De'Longhi"),  # дж typed for g
        ("кофеварочная машина", "Кофемашина"),  # an adjective in -очный is its noun in -ка
        ("наушнеки сенхайзр", "Наушники беспроводные Sennheiser"),  # two letters dropped
        # probe round 16 (round 11's miss): a compound read as a phrase of the word lists
        ("садинвентарь", "Набор садовых инструментов"),
        # probe round 17
        ("смартбраслеты самсунг", "Фитнес-браслет Samsung"),  # a trade name, any case
        # probe round 18
        ("noutbuk asus", "Ноутбук ASUS"),  # a Russian word typed in Latin letters
        ("pylesos robot", "Пылесос робот"),
        ("сковорода антипригарнаятефаль", "Сковорода антипригарная Tefal"),  # no space
        ("маунтинбайк", "Велосипед горный"),  # an English loan word as heard
        # probe round 22
        ("коляска хепи бейби", "Коляска прогулочная Happy Baby"),  # a double typed once
        ("галакси таб самсунг", "Планшет Samsung"),  # tab: the tablet lines' word
        # probe round 24: a phrase and a clipped word of the word lists
        ("колонка для телевизора", "Саундбар"),
        ("художка эксмо", "Роман Эксмо"),
    ],
)
def test_how_people_type_finds_the_product_on_both_backends(
    indexes: dict[str, Any], query: str, name_prefix: str
) -> None:
    hits = indexes["generated"][0].search(query, limit=3).hits
    names = [h.product["name"] for h in hits]
    assert names and names[0].startswith(name_prefix), (indexes["kind"], query, names)


@pytest.mark.parametrize(
    ("query", "name_prefix"),
    [
        ("электрокнига", "Электронная книга"),  # электро- as электронный too
        ("нова х11", "Смартфон Nova X11"),  # a model code with a Cyrillic look-alike
        ("смартфон альфа", "Смартфон Alpha"),  # ф spelt ph (alpha)
        ("гопро", "Экшн-камера"),  # a trade name for the kind of goods
        ("киндл", "Электронная книга"),
        ("смартфон на снапдрагоне", "Смартфон Alpha"),  # a Latin name with a case ending
        # probe round 12
        ("телефон abc5g", "Смартфон ABC 5G"),  # a glued code cut where the index has parts
        ("электронная книга booklight2", "Электронная книга BookLight 2"),
        ("часы pulse one", "Умные часы PulseOne"),  # a name split by a space joined
        ("эйр бит про", "Наушники AirBeat Pro"),  # halves joined in the fuzzy stage
        ("клин мастер", "Робот-пылесос CleanMaster X5"),
        # probe round 14 (round 8's miss): электро- as the appliances' category, техника
        ("электрокофеварка", "Кофеварка AromaBrew"),
        # probe round 16
        ("люксор пылесос", "Робот-пылесос CleanMaster"),  # кс for x, ю for u: Luxor
        ("смартфон авс", "Смартфон ABC"),  # an abbreviation in look-alike letters
        ("смартфоон новва", "Смартфон Nova X11"),  # a doubled letter, then spelt in Latin
        ("смартфон с 5 джи", "Смартфон ABC 5G"),  # a letter said by its name after a number
        ("смратфон альфа12", "Смартфон Alpha 12"),  # смартфон itself, not only телефон
        ("фитнесчасы xyz", "Умные часы XYZ"),  # in "any word", a split's parts count each
        ("букридер", "Электронная книга"),  # an English product word in Cyrillic
        ("coffee maker", "Кофеварка AromaBrew"),
        # probe round 17
        ("смартфон эй би си", "Смартфон ABC"),  # letters said one by one: abc
        ("эйбиси 5джи", "Смартфон ABC 5G"),  # glued, and a letter glued to its number
        ("фитнесбраслетик", "Фитнес-браслет FitGo"),  # a compound's diminutive, cut
        ("робопылесос", "Робот-пылесос CleanMaster"),  # робо- is робот
        ("лампочка которую можно включать с телефона", "Умная лампочка"),  # a clause
        # probe round 18
        ("нова икс 11", "Смартфон Nova X11"),  # a letter said by its name, then a number
        # probe round 21: a unit's Latin spelling, glued (120Hz) or apart (5000 mAh); a
        # diagonal in см as inches; a compound prefix typed after its word
        ("телефон амолед 120 гц", "Смартфон Nova X11"),
        ("смартфон 5000 мач", "Смартфон Nova X11"),
        ("телевизор 140 см", "4K Телевизор VisionPro 55"),
        ("самокат электро глайд", "Электросамокат Glide"),
        # probe round 22: English -ire and a as Russian writes them; a vowel said as itself
        # ending letters' names; a screen's см under 50 as its inches; ушки
        ("игровая мышь рэпидфаир", "Игровая мышь RapidFire"),
        ("фитнес-трекер эм эн о", "Фитнес-трекер MNO"),
        ("электронная книга 15 см", "Электронная книга BookLight"),
        ("ушки пульс про", "Наушники Pulse Pro"),
        # probe round 23: a name said as two words beside a word that matches, joined in
        # "any word" too (as heard: -аер is -ire, эир is air, a final ван is one)
        ("мышка рапид фаер", "Игровая мышь RapidFire"),
        ("ридер бук лайт", "Электронная книга BookLight"),
        ("эир бит наушники", "Наушники AirBeat Pro"),
        ("часы пульс ван", "Умные часы PulseOne"),
        # probe round 24: уан is one too, ибук an e-book, гигов ГБ (the seed's 256GB)
        ("пульс уан часы", "Умные часы PulseOne"),
        ("ибук", "Электронная книга"),
        ("телефон 256 гигов", "Смартфон Alpha 12"),
        ("смарт часы пульсван", "Умные часы PulseOne"),  # a glued name's English sounds
    ],
)
def test_how_people_type_finds_the_seed_product_on_both_backends(
    indexes: dict[str, Any], query: str, name_prefix: str
) -> None:
    if "seed" not in indexes:
        pytest.skip("the seed catalogues are not here")
    hits = indexes["seed"][0].search(query, limit=3).hits
    names = [h.product["name"] for h in hits]
    assert names and names[0].startswith(name_prefix), (indexes["kind"], query, names)


@pytest.mark.parametrize(
    ("query", "name_prefix", "spec", "value"),
    [
        ("джынсы прямые сирые", "Джинсы прямые", "Цвет", "серый"),  # the nearest colour, жи
        ("фен для волос чорнвй", "Фен для волос", "Цвет", "чёрный"),
        ("кдеы пума черные", "Кеды Puma", "Цвет", "чёрный"),  # a swap put right early
        ("палатка всесезонка", "Палатка туристическая", "Сезонность", "всесезонная"),
        ("постельное белье полуторка", "Постельное бельё", "Размер", "1.5-спальное"),
        ("бт мышь", "Мышь беспроводная", "Подключение", "Bluetooth"),
        ("ноутбук на райзене", "Ноутбук", "Процессор", "AMD Ryzen"),  # a case ending
    ],
)
def test_what_a_slip_or_a_shops_word_means_ranks_first_on_both_backends(
    indexes: dict[str, Any], query: str, name_prefix: str, spec: str, value: str
) -> None:
    """Probe round 24: a colour's typo is the nearest colour (серые, not синие), a swap the
    dictionary word it undoes, a noun in -ка its adjective, бт Bluetooth, a Latin name's
    Russian case ending dropped: the first three are all of the kind asked for."""
    hits = indexes["generated"][0].search(query, limit=3).hits
    assert len(hits) == 3, (indexes["kind"], query)
    for hit in hits:
        product = hit.product
        assert product["name"].startswith(name_prefix), (indexes["kind"], query, product)
        assert product["specifications"][spec].startswith(value), (indexes["kind"], query, product)


def test_a_noun_after_dlya_finds_its_adjective_on_both_backends(indexes: dict[str, Any]) -> None:
    """мышь для игр: all three gaming mice, RapidFire too, whose text says игровая, not игры
    (round 16's open miss, found in round 17: игры is also игровой)."""
    if "seed" not in indexes:
        pytest.skip("the seed catalogues are not here")
    hits = indexes["seed"][0].search("мышь для игр", limit=3).hits
    names = [h.product["name"] for h in hits]
    assert sorted(names) == ["Игровая мышь RapidFire", *["Игровая мышь VWX"] * 2], names


def test_a_one_letter_part_joins_its_word_on_both_backends(indexes: dict[str, Any]) -> None:
    """e-book is ebook (электронная книга): all three e-readers, not only the one whose
    name has book in it (BookLight) — probe round 15."""
    if "seed" not in indexes:
        pytest.skip("the seed catalogues are not here")
    hits = indexes["seed"][0].search("e-book", limit=3).hits
    names = [h.product["name"] for h in hits]
    assert len(names) == 3 and all(n.startswith("Электронная книга") for n in names), names


@pytest.mark.parametrize(
    ("query", "name_prefix", "line"),
    [
        ("смартфон самсунг лайт", "Смартфон Samsung", " Lite"),  # not light
        ("кеды пума макс", "Кеды Puma", " Max"),  # not maks
        ("наушники jbl плюс", "Наушники беспроводные JBL", " Plus"),  # not plyus
    ],
)
def test_a_cyrillic_model_line_suffix_finds_that_line_on_both_backends(
    indexes: dict[str, Any], query: str, name_prefix: str, line: str
) -> None:
    """Probe round 14: лайт, макс, плюс are the names' Lite, Max, Plus."""
    names = [h.product["name"] for h in indexes["generated"][0].search(query, limit=2).hits]
    assert len(names) == 2, (indexes["kind"], query, names)
    assert all(n.startswith(name_prefix) and n.endswith(line) for n in names), names


@pytest.mark.parametrize(
    ("query", "key", "value"),
    [
        ("гантели 20кг", "Вес", "2×20 кг"),  # a number glued to its unit: two words
        ("смартфон 512гб", "Память", "512 ГБ"),
        ("рюкзак 20л", "Объём", "20 л"),
        ("двухместная палатка", "Вместимость", "2 места"),  # a numeral prefix as its digit
        ("мышка блютуз", "Подключение", "Bluetooth"),  # a Latin word typed in Cyrillic
        ("датчик протечки зигби", "Протокол", "Zigbee"),
        # probe round 10: a material's adjective means its noun
        ("шерстяная куртка", "Материал", "шерсть"),
        ("льняные джинсы", "Материал", "лён"),
        ("кожаные кроссовки", "Материал верха", "натуральная кожа"),
        # a yes/no specification indexes its key for a yes, nothing for a no; без excludes
        ("робот пылесос с влажной уборкой", "Влажная уборка", "да"),
        ("клавиатура без подсветки", "Подсветка", "нет"),
        ("рюкзак с отделением для ноутбука", "Отделение для ноутбука", '15.6"'),
        ("наушники 40 часов", "Время работы", "40 ч"),  # a spelt-out unit abbreviated
        ("вай фай лампа", "Протокол", "Wi-Fi"),  # Wi-Fi typed in Cyrillic
        ("розетка вайфай", "Протокол", "Wi-Fi"),  # the phrase as one word (round 11)
        ("wifi розетка", "Протокол", "Wi-Fi"),
        ("чайник 1,5 квт", "Мощность", "1500 Вт"),  # kilowatts as the catalogue's watts (13)
        ("чайник 2квт", "Мощность", "2000 Вт"),
        # probe round 14
        ("палатка на четверых", "Вместимость", "4 места"),  # a collective numeral: places
        ("полуторное постельное белье", "Размер", "1.5-спальное"),  # one and a half: 1.5
        ("чорные кросовки", "Цвет", "чёрный"),  # ё typed as о after ч
        ("моющий робот пылесос", "Влажная уборка", "да"),  # washing: wet cleaning
        # probe round 19
        ("палатка 4х местная", "Вместимость", "4 места"),  # a number's case ending dropped
        ("палатка 2-х местная", "Вместимость", "2 места"),
        # probe round 20: a quantity in the neighbouring unit (the catalogue's)
        ("коврик для йоги 1 см", "Толщина", "10 мм"),
        ("робот пылесос 2,5 часа работы", "Время работы", "150 мин"),
    ],
)
def test_the_number_or_attribute_asked_for_ranks_first_on_both_backends(
    indexes: dict[str, Any], query: str, key: str, value: str
) -> None:
    """Probe rounds 9 and 10: the right product is the one whose specifications say what
    was typed, not any of its kind."""
    hits = indexes["generated"][0].search(query, limit=3).hits
    specs = [h.product.get("specifications", {}).get(key) for h in hits]
    assert specs and all(v == value for v in specs), (indexes["kind"], query, specs)


@pytest.mark.parametrize(
    ("query", "key", "value"),
    [
        # probe round 19: a size said without a number is optional, саб is a сабвуфер
        ("игрушка мягкая большая 60см", "Высота", "60 см"),
        ("саундбар с беспроводным сабом", "Сабвуфер", "беспроводной"),
        ("палатка 4х местная", "Вместимость", "4 места"),
        ("коврик для йоги 1 см", "Толщина", "10 мм"),  # probe round 20: 1 см is 10 мм
        ("монитор 81 см", "Диагональ", '32"'),  # probe round 21: a diagonal in см is inches
        ("коляска тросточка", "Складывание", "трость"),  # тросточка: a diminutive of трость
        ("зубная щетка юсб си", "Зарядка", "USB-C"),  # си after a Latin word is the letter c
    ],
)
def test_every_product_that_fits_fills_the_first_page_on_both_backends(
    indexes: dict[str, Any], catalog: list[dict[str, Any]], query: str, key: str, value: str
) -> None:
    """Probe round 19: recall, not only the first hit — the top 10 are the products whose
    specifications say what was typed, as many as the catalogue has of that type."""
    hits = indexes["generated"][0].search(query, limit=10).hits
    kind = hits[0].product["name"].split()[0] if hits else ""
    fitting = [
        p
        for p in catalog
        if p["name"].startswith(kind) and p.get("specifications", {}).get(key) == value
    ]
    specs = [h.product.get("specifications", {}).get(key) for h in hits]
    n = min(len(fitting), 10)
    assert len(hits) >= n and all(v == value for v in specs[:n]), (indexes["kind"], query, specs)


@pytest.mark.parametrize(
    ("query", "low", "high"),
    [
        ("планшет до 15000", None, 15000),
        ("кеды дешевле 5 тысяч", None, 5000),
        ("монитор от 50000 рублей", 50000, None),
    ],
)
def test_a_price_typed_in_the_query_filters_on_both_backends(
    indexes: dict[str, Any], catalog: list[dict[str, Any]], query: str, low: Any, high: Any
) -> None:
    """Probe round 17: «до 15000» is a price bound, not a number to match; every hit is of
    the type asked for and within the bound, and every product that fits is found."""
    page = indexes["generated"][0].search(query, limit=100)
    kind = query.split()[0]
    prices = [price_of(h.product) for h in page.hits]
    assert prices and all(h.product["name"].lower().startswith(kind) for h in page.hits), query
    assert all((low is None or p >= low) and (high is None or p <= high) for p in prices)
    fitting = [
        p
        for p in catalog
        if p["name"].lower().startswith(kind)
        and (low is None or p["price"]["amount"] >= low)
        and (high is None or p["price"]["amount"] <= high)
    ]
    assert page.total == len(fitting), (indexes["kind"], query, page.total, len(fitting))


@pytest.mark.parametrize(
    ("query", "low", "high"),
    [("до 1000 рублей", None, 1000), ("дешевле 2 тысяч", None, 2000), ("от 90000", 90000, None)],
)
def test_a_price_alone_lists_every_product_within_it_on_both_backends(
    indexes: dict[str, Any], catalog: list[dict[str, Any]], query: str, low: Any, high: Any
) -> None:
    """«до 1000 рублей» typed alone: every product within the bound, as an empty query lists
    every product. It was searched as words and found nothing (no product's text holds the
    number)."""
    page = indexes["generated"][0].search(query, limit=100)
    prices = [price_of(h.product) for h in page.hits]
    assert all((low is None or p >= low) and (high is None or p <= high) for p in prices)
    fitting = [
        p
        for p in catalog
        if (low is None or p["price"]["amount"] >= low)
        and (high is None or p["price"]["amount"] <= high)
    ]
    assert fitting, query  # the catalogue has some, so an empty page would be a miss
    assert page.total == len(fitting), (indexes["kind"], query, page.total, len(fitting))


def test_not_dearer_than_and_in_stock_typed_in_the_query_filter_on_both_backends(
    indexes: dict[str, Any], catalog: list[dict[str, Any]]
) -> None:
    """«ноутбук не дороже 90000» listed the notebooks from 90000 up (read as «дороже»), and
    «в наличии» was words no product has: every hit must be a notebook within the bound
    and in stock, every such notebook found, first (a backpack's description mentions its
    notebook pocket: it may follow)."""
    page = indexes["generated"][0].search("ноутбук в наличии не дороже 90000", limit=100)
    assert all(
        h.product["price"]["amount"] <= 90000 and h.product["stock"]["available"] > 0
        for h in page.hits
    ), indexes["kind"]
    fitting = {
        p["product_id"]
        for p in catalog
        if p["name"].lower().startswith("ноутбук")
        and p["price"]["amount"] <= 90000
        and p["stock"]["available"] > 0
    }
    first = {h.product_id for h in page.hits[: len(fitting)]}
    assert fitting and first == fitting, (indexes["kind"], len(fitting), len(first & fitting))


@pytest.mark.parametrize("query", ["зарядка для телефона", "что-нибудь для кухни"])
def test_a_function_word_alone_finds_nothing_in_any_word_or_fuzzy(
    indexes: dict[str, Any], query: str
) -> None:
    """«для» is in many names (Фен для волос) and every generated description: alone it
    found hair dryers for «зарядка для телефона». Now it only adds to what else matched."""
    hits = indexes["generated"][0].search(query, limit=10).hits
    names = [h.product["name"] for h in hits]
    assert not any(" для " in name for name in names), (indexes["kind"], query, names)


def test_a_cyrillic_brand_ranks_above_fuzzy_near_misses_of_other_brands(
    indexes: dict[str, Any],
) -> None:
    """лориаль is L'Oréal a letter off; its Latin spelling lorial is two edits from
    Gloria, which it found as often as L'Oréal on the embedded index."""
    hits = indexes["generated"][0].search("лориаль", limit=10).hits
    brands = [h.product["brand"] for h in hits]
    assert brands and set(brands) == {"L'Oréal"}, (indexes["kind"], brands)


@pytest.mark.parametrize(
    ("query", "brand", "name_prefix"),
    [
        ("bosh", "Bosch", ""),  # a letter dropped from a Latin brand of five
        ("тефль", "Tefal", ""),  # тефаль with а dropped: tefl
        ("сковорода тефль", "Tefal", "Сковорода"),  # in "any word", beside a word that matches
    ],
)
def test_a_short_brand_a_letter_off_is_found_on_both_backends(
    indexes: dict[str, Any], query: str, brand: str, name_prefix: str
) -> None:
    """Probe round 25: a brand whose spelling comes to four letters (bosh, тефль → tefl)
    got no fuzzy match at all, as no stem under five letters does; in the brand field, a
    few hundred words, one edit is safe."""
    hits = indexes["generated"][0].search(query, limit=3).hits
    assert hits, (indexes["kind"], query)
    assert hits[0].product["brand"] == brand, (indexes["kind"], query, hits[0].product)
    assert hits[0].product["name"].startswith(name_prefix), (indexes["kind"], query)


@pytest.mark.parametrize(
    ("query", "brand"),
    [
        ("gloriajeans", "Gloria Jeans"),
        ("happybaby", "Happy Baby"),
        ("ralfringer", "Ralf Ringer"),
        ("naturasiberica", "Natura Siberica"),
        ("ральфрингер", "Ralf Ringer"),  # said in Russian, glued: ralfringer
        ("хэппибэби", "Happy Baby"),
    ],
)
def test_a_two_word_brand_typed_as_one_word_is_found_on_both_backends(
    indexes: dict[str, Any], query: str, brand: str
) -> None:
    """A brand of two words typed without the space (as in a hashtag or an address): only
    Cyrillic words were looked for as two parts, so these found nothing on either backend;
    said in Russian and glued, they are cut in their Latin spelling."""
    hits = indexes["generated"][0].search(query, limit=3).hits
    assert hits, (indexes["kind"], query)
    assert all(h.product["brand"] == brand for h in hits), (indexes["kind"], query, hits)


def test_a_split_compound_keeps_the_filters(indexes: dict[str, Any]) -> None:
    """Whether фитнес and браслет are words of the index is asked of the whole index (as
    doc_freq is); the customer's filters still hold for every hit."""
    index = indexes["generated"][0]
    page = index.search("фитнесбраслет", SearchFilters(brand="Samsung"), limit=5)
    assert page.hits and all(h.product["brand"] == "Samsung" for h in page.hits)
    assert all(h.product["name"].startswith("Фитнес-браслет") for h in page.hits)
    assert not index.search("фитнесбраслет", SearchFilters(brand="нет такого")).hits


def test_an_english_name_typed_in_cyrillic_is_found(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """клинмастер → clinmaster (к as c), two edits from CleanMaster; letter by letter it
    would be klinmaster, three."""
    cleaner = {**catalog[0], "product_id": "990002", "name": "Робот-пылесос CleanMaster X5"}
    index = _build(_open(indexes["kind"], "english", tmp_path, request), [*catalog[:50], cleaner])
    try:
        hits = index.search("клинмастер", limit=3).hits
        assert hits and hits[0].product_id == "990002", [h.product["name"] for h in hits]
    finally:
        index.close()


def test_a_brand_typed_as_it_sounds_is_found_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """A second blind review: мишлен, хагис found nothing on either backend (two or three
    edits from every Latin spelling of their letters); both run the same regular
    expression over the brand key (`transliteration.brand_sound_pattern`), and over the
    name's terms for a model line (гелакси, вижн про)."""
    tyre = {**catalog[0], "product_id": "990003", "name": "Шины Michelin X-Ice North 4"}
    tyre["brand"] = "Michelin"
    nappy = {**catalog[1], "product_id": "990004", "name": "Подгузники Huggies Elite Soft 5"}
    nappy["brand"] = "Huggies"
    other = {**catalog[2], "product_id": "990005", "name": "Подгузники Merries M 64 шт"}
    other["brand"] = "Merries"
    # a model line is a name's word, not the brand: stop 60's review (гелакси, вижн про)
    galaxy = {**catalog[3], "product_id": "990006", "name": "Смартфон Samsung Galaxy S24"}
    vision = {**catalog[4], "product_id": "990007", "name": "Очки Apple Vision Pro"}
    products = [*catalog[:50], tyre, nappy, other, galaxy, vision]
    index = _build(_open(indexes["kind"], "sound", tmp_path, request), products)
    try:
        for query, wanted in (
            ("мишлен", "990003"),
            ("подгузники хагис", "990004"),
            ("гелакси", "990006"),
            ("вижн про", "990007"),
        ):
            hits = index.search(query, limit=3).hits
            assert hits and hits[0].product_id == wanted, (query, [h.product["name"] for h in hits])
    finally:
        index.close()


@contextmanager
def _made_index(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    kind: str,
    name: str,
    rows: tuple[tuple[str, str, str, str], ...],
    descriptions: dict[str, str] | None = None,
) -> Iterator[Any]:
    """A fresh index of `kind`, closed after the block: 50 generated products and `rows`
    (id, name, category, brand) made from the first, with no description but the one
    `descriptions` gives."""
    made = [
        {**catalog[0], "product_id": pid, "name": title, "category": category, "brand": brand}
        for pid, title, category, brand in rows
    ]
    for product in made:
        product["description"] = (descriptions or {}).get(product["product_id"], "")
    index = _build(_open(kind, name, tmp_path, request), [*catalog[:50], *made])
    try:
        yield index
    finally:
        index.close()


def _firsts_are(index: Any, cases: tuple[tuple[str, str], ...]) -> None:
    """Each query's first hit is the product id given with it."""
    for query, first in cases:
        hits = index.search(query, limit=3).hits
        assert hits and hits[0].product_id == first, (query, [h.product["name"] for h in hits])


def test_a_device_ranks_above_what_is_made_for_it_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """Stop 60's blind review: «iphone» ranked a case and a screen glass above the phones.
    The Latin words after для/к/под name the device a product is for; they are indexed with
    the description (`fields.purpose_apart`), so the case is still found by them."""
    rows = (
        ("990010", "Чехол для iPhone 15 силиконовый", "Аксессуары", "Apple"),
        ("990011", "Защитное стекло для iPhone 14", "Аксессуары", "Red Line"),
        ("990012", "Смартфон Apple iPhone 15 128GB черный", "Смартфоны", "Apple"),
        ("990013", "Apple iPhone 14 Pro 256 ГБ", "Смартфоны", "Apple"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "device", rows) as index:
        hits = index.search("iphone", limit=4).hits
        assert {h.product_id for h in hits[:2]} == {"990012", "990013"}, [
            h.product["name"] for h in hits
        ]
        _firsts_are(index, (("чехол iphone 15", "990010"),))


def test_what_the_query_names_ranks_above_what_only_its_other_words_match_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """A third blind review: «рулетка для собак» ranked dog food above the leash and
    «тапки домашние» cat food «для домашних кошек» above the slippers. The head stage
    (`query_plan.HEAD_MODE`) needs the nouns that name the product, on both backends."""
    rows = (
        ("990020", "Поводок-рулетка Flexi New Classic 5 м", "Амуниция", "Flexi"),
        ("990021", "Шлепанцы Adilette Aqua adidas", "Обувь", "adidas"),
        (
            "990022",
            "Корм для собак Pedigree для взрослых собак 13 кг",
            "Корм для собак",
            "Pedigree",
        ),
        ("990023", "Корм Royal Canin Indoor для домашних кошек 400 г", "Корм для кошек", "RC"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "heads", rows) as index:
        _firsts_are(index, (("рулетка для собак", "990020"), ("тапки домашние", "990021")))


def test_a_model_code_typed_short_is_found_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """A third blind review: «df333» and «a168» found nothing, while DF333DWYE and
    A168WA-1 did: shoppers type a code without the suffix of its kit or colour."""
    rows = (
        ("990030", "Дрель-шуруповерт аккумуляторная Makita DF333DWYE 12 В", "Дрели", "Makita"),
        ("990031", "Часы наручные Casio Vintage A168WA-1", "Часы", "Casio"),
        ("990032", "Дрель ударная Makita HP1630 710 Вт", "Дрели", "Makita"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "codes", rows) as index:
        _firsts_are(
            index, (("df333", "990030"), ("a168", "990031"), ("шуруповерт df333", "990030"))
        )


def test_what_a_product_is_for_finds_its_compound_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """A second blind review: «шампунь для авто» ranked the Автошампунь 7th, below every
    hair shampoo. «X для Y», Y what a compound's prefix stands for, also means the compound
    (`phrases.PURPOSE_PREFIXES`)."""
    rows = (
        ("990040", "Автошампунь Grass Active Foam 1 л", "Автохимия", "Grass"),
        ("990041", "Шампунь Schauma 7 трав для нормальных и жирных волос", "Волосы", "Schauma"),
        ("990042", "Шампунь Pantene Pro-V Интенсивное восстановление", "Волосы", "Pantene"),
        ("990043", "Автокресло Britax Romer King II 9-18 кг", "Автокресла", "Britax"),
        ("990044", "Кресло компьютерное Бюрократ CH-868N черное", "Кресла", "Бюрократ"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "purpose", rows) as index:
        _firsts_are(
            index,
            (
                ("шампунь для авто", "990040"),
                ("кресло для машины", "990043"),
                ("шампунь для волос", "990041"),  # a purpose no prefix stands for
            ),
        )


def test_what_a_name_says_its_product_serves_ranks_below_what_it_is_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """A fourth blind review: «очки» ranked «Футляр для очков» above the glasses, «телефон» a
    phone holder above the phone. The Russian words after для that say what the product
    serves are indexed apart from the name (`fields.served_apart`): weighing less there,
    and as a name's words for the Y of «X для Y»."""
    rows = (
        ("990050", "Футляр для очков жесткий", "Аксессуары", "Ecco"),
        ("990051", "Очки солнцезащитные Ray-Ban Aviator Classic RB3025", "Аксессуары", "Ray-Ban"),
        ("990052", "Держатель для телефона в машину", "Электроника", "Baseus"),
        ("990053", "Кнопочный телефон Nokia 105 Dual SIM черный", "Электроника", "Nokia"),
        ("990054", "Крем для рук Neutrogena Норвежская формула 50 мл", "Уход", "Neutrogena"),
        ("990055", "Крем для тела Nivea Soft 200 мл", "Уход", "Nivea"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "served", rows) as index:
        _firsts_are(
            index,
            (
                ("очки", "990051"),
                ("телефон", "990053"),
                ("футляр для очков", "990050"),
                ("держатель для телефона", "990052"),
                ("крем для рук", "990054"),
                ("крем для тела", "990055"),
            ),
        )


def test_a_device_named_after_для_is_found_by_its_kind_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """The fourth blind review: «стекло для телефона» found only a film whose description
    said смартфон; the glasses said «для iPhone 13/14» and «для Samsung Galaxy S23», and
    nothing said an iPhone is a телефон (`word_lists.DEVICE_KINDS`)."""
    rows = (
        ("990070", "Защитное стекло для iPhone 13/14 полноэкранное", "Аксессуары", "Red Line"),
        ("990071", "Чехол для Samsung Galaxy S24 силиконовый", "Аксессуары", "Samsung"),
        ("990072", "Стекло закаленное для стола 60х90", "Мебель", "Hoff"),
        ("990073", "Смартфон Apple iPhone 15 128GB черный", "Смартфоны", "Apple"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "kinds", rows) as index:
        _firsts_are(
            index,
            (
                ("стекло для телефона", "990070"),
                ("чехол для смартфона", "990071"),
                ("телефон", "990073"),
                ("стекло для стола", "990072"),
            ),
        )


def test_an_opensearch_index_of_an_older_version_gains_the_served_field(
    request: pytest.FixtureRequest, catalog: list[dict[str, Any]]
) -> None:
    """An index an older version made has a strict mapping without `name_served`: a
    document with it was refused (HTTP 400). Opening the index adds the field."""
    from opensearchpy import OpenSearch

    from vitrina.search.opensearch import OpenSearchIndex, index_body

    node: OpenSearchNode = request.getfixturevalue("opensearch")
    client = OpenSearch(hosts=[node.url], timeout=60)
    name = f"vitrina-test-older-{uuid.uuid4().hex[:6]}"
    older = index_body()
    del older["mappings"]["properties"]["name_served"]
    client.indices.create(index=name, body=older)
    index = OpenSearchIndex(client, name)
    try:
        case = {**catalog[0], "product_id": "990060", "name": "Футляр для очков жесткий"}
        _build(index, [case])
        assert [h.product_id for h in index.search("футляр для очков").hits] == ["990060"]
        mapping = client.indices.get_mapping(index=name)[name]["mappings"]["properties"]
        assert mapping["name_served"]["analyzer"] == "ru_text"
    finally:
        index.drop()
        index.close()


def test_a_long_query_is_answered_not_refused(indexes: dict[str, Any]) -> None:
    """Ten words with all their alternatives passed Lucene's 1024 term queries a search:
    OpenSearch refused them (HTTP 500). The least-weighted alternatives are left out now."""
    index = indexes["generated"][0]
    for query in (
        "робот пылесос с влажной уборкой для дома и квартиры xiaomi",
        "умные часы детские с gps трекером и сим картой",
        "dusrul cfluhr cdpjhq azdpqy ualtaf uocrdk sckhmk iqlvzn",  # each read on the other layout
    ):
        page = index.search(query, limit=3)
        assert page.total >= 0, query
    hits = index.search("робот пылесос с влажной уборкой для дома и квартиры", limit=1).hits
    assert hits and "ылесос" in hits[0].product["name"], hits


def test_filters_hold_for_every_hit(indexes: dict[str, Any], catalog: list[dict[str, Any]]) -> None:
    index = indexes["generated"][0]
    category, brand = catalog[0]["category"], catalog[0]["brand"]
    cases = [
        SearchFilters(category=category),
        SearchFilters(brand=brand.upper()),
        SearchFilters(price_min=1000, price_max=5000),
        SearchFilters(in_stock=True),
        SearchFilters(category=category, in_stock=True, price_max=20000),
    ]
    for filters in cases:
        page = index.search("", filters, limit=200)
        expected = [p for p in catalog if _matches(p, filters)]
        assert page.total == len(expected), filters  # browse counts agree with the catalogue
        for hit in page.hits:
            assert _matches(hit.product, filters), (filters, hit.product_id)


def _matches(product: dict[str, Any], f: SearchFilters) -> bool:
    price = price_of(product)
    return (
        (f.category is None or product["category"].lower() == f.category.lower())
        and (f.brand is None or (product.get("brand") or "").lower() == f.brand.lower())
        and (f.price_min is None or price >= f.price_min)
        and (f.price_max is None or price <= f.price_max)
        and (not f.in_stock or in_stock(product))
    )


def test_sorting_and_paging(indexes: dict[str, Any], catalog: list[dict[str, Any]]) -> None:
    index = indexes["generated"][0]
    category = catalog[0]["category"]
    for sort, ordered in (
        ("price_asc", sorted),
        ("price_desc", lambda xs: sorted(xs, reverse=True)),
    ):
        whole = index.search("", SearchFilters(category=category), sort=sort, limit=60)
        prices = [price_of(h.product) for h in whole.hits]
        assert prices == ordered(prices) and len(prices) == min(60, whole.total)
        pages = [
            index.search("", SearchFilters(category=category), sort=sort, limit=20, offset=o).hits
            for o in (0, 20, 40)
        ]
        paged = [price_of(h.product) for page in pages for h in page]
        assert paged == prices  # pages are consecutive slices of one order
        ids = [h.product_id for page in pages for h in page]
        assert len(ids) == len(set(ids))
    text = index.search("наушники", limit=5)
    deeper = index.search("наушники", limit=5, offset=5)
    assert text.total == deeper.total > 5
    assert not {h.product_id for h in text.hits} & {h.product_id for h in deeper.hits}


def test_suggest_completes_the_last_word(
    indexes: dict[str, Any], catalog: list[dict[str, Any]]
) -> None:
    index: Any = indexes["generated"][0]
    name = next(p["name"] for p in catalog if len(p["name"].split()[0]) >= 6)
    first = name.split()[0]
    found = index.suggest(first[:4].lower(), limit=8)
    assert found and all(first[:4].lower() in s["name"].lower() for s in found), found
    assert len({s["name"] for s in found}) == len(found) <= 8  # distinct names
    assert index.suggest("😀") == [] and index.suggest("") == []


def test_suggest_reads_a_prefix_typed_in_two_scripts_in_one(indexes: dict[str, Any]) -> None:
    """нoутб with a Latin o: completed as ноутб, as a search reads нoутбук (round 26)."""
    found = indexes["generated"][0].suggest("нoутб", limit=5)
    assert found and all(s["name"].startswith("Ноутбук") for s in found), found


@pytest.mark.parametrize(
    ("typed", "name_prefix"),
    [
        ("самый дешевый смар", "Смартфон"),  # a price order
        ("наушники до 5000 беспр", "Наушники беспроводные"),  # a price
        ("в наличии ноут", "Ноутбук"),  # «в наличии»
        ("купить ноутб", "Ноутбук"),  # an intent word
        ("фен для в", "Фен для волос"),  # «для» in the name still ranks
    ],
)
def test_suggest_needs_no_name_to_have_a_price_an_order_or_an_intent_word(
    indexes: dict[str, Any], typed: str, name_prefix: str
) -> None:
    """Each earlier word had to be in the name, so a price, «в наличии», a price order or
    купить typed before the last word left nothing to suggest
    (`typed_filters.words_to_complete`)."""
    found = indexes["generated"][0].suggest(typed, limit=5)
    assert found and all(s["name"].startswith(name_prefix) for s in found), (
        indexes["kind"],
        typed,
        found,
    )


@pytest.mark.parametrize(
    ("typed", "name_start"),
    [
        ("мышку", "Мышь"),  # a word in another case
        ("лэпт", "Ноутбук"),  # a synonym begun (лэптоп)
        ("сяом", ("Смартфон Xiaomi", "Планшет Xiaomi")),  # a Cyrillic brand begun (сяоми)
        ("наушнеки", "Наушники"),  # a typo
        ("смартфон сямс", "Смартфон Samsung"),  # a brand begun after a product word
        ("yfeib", "Наушники"),  # наушн on the wrong keyboard layout
        ("мышка беспр", "Мышь беспроводная"),  # a synonym, then a word begun
        ("наушнеки бесп", "Наушники беспроводные"),  # a typo, then a word begun
        ("мышка,беспр", "Мышь беспроводная"),  # words apart by a comma, not a space
        ("мышка беспрво", "Мышь беспроводная"),  # a word begun, two letters swapped
        ("наушники бепров", "Наушники беспроводные"),  # a word begun, a letter missing
        ("колонка переносная", "Портативная колонка"),  # two whole words, one a synonym
        ("смарт-часы", "Умные часы"),  # two whole words, a synonym pair
        ("кроссы для бега", "Кроссовки беговые"),  # three words, all of them read
        ("энциклопедия для ребенка", "Детская энциклопедия"),
        ("какой монитор лучше для работы", "Монитор"),  # a sentence: its every word
        ("нужен недорогой фен белого цвета", "Фен для волос"),
    ],
)
def test_suggestions_complete_what_search_understands(
    indexes: dict[str, Any], typed: str, name_start: str | tuple[str, ...]
) -> None:
    """The names complete none of these (the backend's own `suggest` is empty), and every
    one is a word search reads: suggestions ask search (`search.completion`). Before,
    nothing was suggested for any of them."""
    index = indexes["generated"][0]
    assert index.suggest(typed, limit=5) == [], typed
    found = suggestions(index, typed, 5)
    assert found and all(s["name"].startswith(name_start) for s in found), (
        indexes["kind"],
        typed,
        found,
    )
    assert len({s["name"] for s in found}) == len(found) <= 5


@pytest.mark.parametrize(
    ("typed", "left_out"),
    [
        ("ноутбук не lenovo", "Lenovo"),
        ("ноутбук не leno", "Lenovo"),  # being typed
        ("смартфон кроме самсун", "Samsung"),  # in Cyrillic, being typed
        ("наушники беспроводные не sony", "Sony"),  # a longer text
    ],
)
def test_suggestions_leave_out_what_the_text_leaves_out(
    indexes: dict[str, Any], typed: str, left_out: str
) -> None:
    """The names' completion read every earlier word as one a name must have, and the
    last as one it begins: «ноутбук не lenovo» listed Lenovo laptops only. Now a text
    that leaves a word out is read by search, and a word being typed there leaves out the
    names with a word it begins."""
    found = suggestions(indexes["generated"][0], typed, 5)
    assert found and not any(left_out in s["name"] for s in found), (
        indexes["kind"],
        typed,
        found,
    )


@pytest.mark.parametrize(
    "typed", ["дешевые наушники", "самый дорогой велосипед", "бюджетный монитор"]
)
def test_suggestions_for_a_price_order_are_in_that_order(
    indexes: dict[str, Any], typed: str
) -> None:
    """The names' completion knows no price order: «дешевые наушники» listed headphones in
    the names' order. A text that says one, its last word finished, lists search's names,
    the cheapest (or dearest) of what was asked first."""
    index = indexes["generated"][0]
    found = suggestions(index, typed, 5)
    page = index.search(typed, limit=5)
    assert found and found == distinct_names(page.hits)[:5], (indexes["kind"], typed, found)
    prices = [price_of(h.product) for h in page.hits]
    assert prices == sorted(prices, reverse="дорог" in typed), (indexes["kind"], typed, prices)


def test_a_search_for_all_words_never_falls_back_to_any_word(indexes: dict[str, Any]) -> None:
    """`all_words` (what suggestions ask of a longer text): only the products with every
    word as search reads it; the default goes on to any word, then typos."""
    index = indexes["generated"][0]
    assert index.search("ноутбук гантели", limit=5).total > 0  # any word
    assert index.search("ноутбук гантели", limit=5, all_words=True).total == 0
    both = index.search("мышка беспроводная", limit=5, all_words=True)
    assert both.total > 0 and all(h.product["name"].startswith("Мышь") for h in both.hits)
    assert [h.product_id for h in both.hits] == [
        h.product_id for h in index.search("мышка беспроводная", limit=5).hits
    ]


def test_suggestions_are_the_names_completion_when_it_finds_any(
    indexes: dict[str, Any],
) -> None:
    """A completion that finds names is served as it is (no search is asked); a short
    fragment search would read as noise is not searched (ghb: «при» on the wrong layout)."""
    index = indexes["generated"][0]
    assert suggestions(index, "ноутб", 5) == index.suggest("ноутб", limit=5) != []
    assert suggestions(index, "ghb", 5) == []
    assert suggestions(index, "", 5) == suggestions(index, "😀", 5) == []


def test_hostile_queries_never_fail(indexes: dict[str, Any]) -> None:
    index = indexes["generated"][0]
    # and as typed so far: suggestions search some of them (a slip, two whole words)
    typed = [*HOSTILE, "мышка " + "а" * 190, "колонка DROP", "наушники name:(x", "фен \\"]
    for query in HOSTILE:
        page = index.search(query, limit=5)
        assert page.total >= 0 and len(page.hits) <= 5, query
    for query in typed:
        found = suggestions(index, query[:200], 5)
        assert len(found) <= 5 and all(s["name"] for s in found), query


def test_banned_product_is_withdrawn(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    kind = indexes["kind"]
    index = _build(_open(kind, "ban", tmp_path, request), catalog[:50])
    try:
        target = catalog[7]
        first_word = target["name"].split()[0]
        assert target["product_id"] in {
            h.product_id for h in index.search(target["name"], limit=50).hits
        }
        index.delete([target["product_id"]])  # what the indexer does on a tombstone
        index.commit()
        assert target["product_id"] not in {
            h.product_id for h in index.search(first_word, limit=50).hits
        }
        assert index.get(target["product_id"]) is None
        assert index.count() == 49
        index.upsert([target])  # unbanned: republished
        index.commit()
        assert index.get(target["product_id"]) == target
    finally:
        index.close()


# -- OpenSearch only: typed bulk failures ------------------------------------------------------


def test_a_document_opensearch_refuses_is_named_and_the_rest_is_written(
    opensearch: OpenSearchNode,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    catalog: list[dict[str, Any]],
) -> None:
    index: Any = _open("opensearch", "reject", tmp_path, request)
    try:
        # A brand of one 40 KB token: Lucene refuses terms over 32 KB in a keyword field.
        bad = {**catalog[0], "product_id": "990001", "brand": "Б" * 20_000}
        with pytest.raises(RejectedDocuments) as err:
            index.upsert([catalog[1], bad, catalog[2]])
        assert list(err.value.reasons) == ["990001"]
        assert (
            "immense term" in err.value.reasons["990001"]
            or "HTTP 400" in (err.value.reasons["990001"])
        )
        index.commit()
        assert index.count() == 2  # the good documents of the batch are in
    finally:
        index.close()


def test_an_unreachable_cluster_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    from opensearchpy import OpenSearch
    from tests.conftest import free_port

    from vitrina.search.opensearch import OpenSearchIndex

    index = OpenSearchIndex(
        OpenSearch(hosts=[f"http://127.0.0.1:{free_port()}"], timeout=2, max_retries=0), "nowhere"
    )
    with pytest.raises(UnavailableError, match="does not answer"):
        index.upsert([{"product_id": "1", "name": "x"}])
    with pytest.raises(UnavailableError):
        index.search("x")
    # A customer's search (the API opens the index read-only) gets a 503 naming no internal
    # address, and no hint about batches (the indexer's): a blind review saw both.
    reader = OpenSearchIndex(
        OpenSearch(hosts=[f"http://127.0.0.1:{free_port()}"], timeout=2, max_retries=0),
        "nowhere",
        readonly=True,
    )
    with pytest.raises(UnavailableError) as caught:
        reader.search("x")
    assert "127.0.0.1" not in caught.value.message and "batch" not in str(caught.value.hint)


@pytest.mark.parametrize(
    ("query", "brand", "name_prefix"),
    [
        ("нoутбук леново", "Lenovo", "Ноутбук"),  # a Latin o: a Lenovo monitor first
        ("нoутбук асус", "ASUS", "Ноутбук"),
        ("cкoвoрoдa тефаль", "Tefal", "Сковорода"),  # c o o o a: a Tefal pan third
        ("Hаушники sony", "Sony", "Наушники"),  # a Latin capital H
    ],
)
def test_a_word_typed_in_two_scripts_is_read_in_one_on_both_backends(
    indexes: dict[str, Any], query: str, brand: str, name_prefix: str
) -> None:
    """Probe round 26: a Russian word with Latin letters that look like its own (copied
    from a page, a keyboard with both layouts) is no index word in either script; it was
    found only fuzzily, and ranked below products that share just the brand."""
    hits = indexes["generated"][0].search(query, limit=3).hits
    assert hits, (indexes["kind"], query)
    assert hits[0].product["brand"] == brand, (indexes["kind"], query, hits[0].product)
    assert hits[0].product["name"].startswith(name_prefix), (indexes["kind"], query)


@pytest.mark.parametrize(
    ("query", "kind", "below"),
    [
        # no Samsung phone under 30000 here; Samsung watches and bracelets are (1–29k)
        ("смартфон самсунг до 30000", "Смартфон", 30000.0),
        ("наушники samsung", "Наушники", None),  # Samsung makes no headphones here
        ("ноутбук хонор", "Ноутбук", None),
        ("футболка найк", "Футболка", None),
    ],
)
def test_a_product_word_outranks_a_maker_that_makes_no_such_product_on_both_backends(
    indexes: dict[str, Any], query: str, kind: str, below: float | None
) -> None:
    """Probe round 28: nothing has every word, so "any word" ranks; the maker's name is in
    its products' name, brand, tags and description at once, and its watches scored 57–60
    against 48–50 for the phones asked for. Every product of the kind asked for now comes
    first (the maker's other products still follow)."""
    index, catalog = indexes["generated"]
    wanted = [
        p
        for p in catalog
        if p["name"].startswith(kind) and (below is None or p["price"]["amount"] <= below)
    ]
    maker = query.split()[1]
    assert not [p for p in wanted if p["brand"].lower() == BRANDS.get(maker, maker)]
    hits = index.search(query, limit=len(wanted) + 5).hits
    names = [h.product["name"] for h in hits]
    assert all(n.startswith(kind) for n in names[: len(wanted)]), (indexes["kind"], names)
    assert not all(n.startswith(kind) for n in names), (indexes["kind"], names)  # others follow


@pytest.mark.parametrize(
    ("query", "brand"),
    [
        ("delongi", "De'Longhi"),  # the embedded index's last miss of round 25
        ("gloriajens", "Gloria Jeans"),
        ("hapybaby", "Happy Baby"),
        ("naturasiberca", "Natura Siberica"),
        ("ralfringr", "Ralf Ringer"),
        ("футболка gloriajens", "Gloria Jeans"),  # beside a product word
        ("gloriajins", "Gloria Jeans"),  # two slips: three edits from the key, nothing found
        ("hapybabi", "Happy Baby"),
    ],
)
def test_a_brand_of_two_words_typed_as_one_with_a_slip_is_found_on_both_backends(
    indexes: dict[str, Any], query: str, brand: str
) -> None:
    """Probe round 29: each part's stem is several edits from the word typed, so no fuzzy
    clause matched (embedded: none of these; OpenSearch: only delongi, whose brand field
    keeps de'longhi whole); the whole brand key is two edits away. With two slips (round 29's
    gloriajins, hapybabi) it is three, the space one of them: the word cut at the space is
    two (2026-12-05)."""
    hits = indexes["generated"][0].search(query, limit=3).hits
    assert hits and hits[0].product["brand"] == brand, (indexes["kind"], query, hits[:1])


@pytest.mark.parametrize(
    ("query", "brand", "kind"),
    [
        ("найковские кеды", "Nike", "Кеды"),  # nothing found before
        ("пумовские кеды", "Puma", "Кеды"),
        ("асусовский ноутбук", "ASUS", "Ноутбук"),  # eighth before
        ("икеевское постельное белье", "IKEA", "Постельное"),
        ("тефалевская сковорода", "Tefal", "Сковорода"),
        ("кетлеровские гантели", "Kettler", "Гантели"),  # a brand the lists lack
        ("сберовская колонка", "Sber", "Умная колонка"),
    ],
)
def test_an_adjective_made_of_a_brand_finds_the_brand_on_both_backends(
    indexes: dict[str, Any], query: str, brand: str, kind: str
) -> None:
    """Probe round 30 (MRR 0.641 on both before): no index has найковские; the words beside
    it ranked other makers' shoes first, or nothing at all (сберовская колонка)."""
    hits = indexes["generated"][0].search(query, limit=3).hits
    assert hits, (indexes["kind"], query)
    top = hits[0].product
    assert top["brand"] == brand and top["name"].startswith(kind), (indexes["kind"], query, top)


@pytest.mark.parametrize(
    ("query", "kind", "dear_first"),
    [
        ("самый дешевый смартфон", "Смартфон", False),
        ("недорогой ноутбук", "Ноутбук", False),  # backpacks «для ноутбука» are cheaper
        ("самый дорогой ноутбук", "Ноутбук", True),
        ("фен подешевле", "Фен для волос", False),
    ],
)
def test_a_price_order_said_in_words_orders_what_was_asked_by_price_on_both_backends(
    indexes: dict[str, Any], catalog: list[dict[str, Any]], query: str, kind: str, dear_first: bool
) -> None:
    """Probe round 32 (MRR 0.194 embedded, 0.198 OpenSearch before): the order words were
    optional words, so the shopper got the relevance order. Now the products of the kind
    asked for come by price, the others after them, and the pages join up."""
    index = indexes["generated"][0]
    of_kind = sorted(
        (p for p in catalog if p["name"].startswith(kind)),
        key=lambda p: p["price"]["amount"],
        reverse=dear_first,
    )
    first, second = index.search(query, limit=10), index.search(query, limit=10, offset=10)
    shown = [h.product for h in first.hits + second.hits]
    assert [p["product_id"] for p in shown] == [p["product_id"] for p in of_kind[:20]], (
        indexes["kind"],
        query,
        [(p["name"], p["price"]["amount"]) for p in shown],
    )
    ordered = price_order(query)
    assert ordered is not None
    assert first.total == second.total == index.search(ordered[0], limit=1).total  # all found


@pytest.mark.parametrize(
    "query",
    [
        "фитнес браслет без зарядки",
        "фитнес браслет без зарядки с amoled",
        "фитнес браслет без зарядки xiaomi",  # the maker after what lacks: not left out
        "фитнесбраслет без зарядки",
    ],
)
def test_a_phrase_before_bez_keeps_the_right_words_out_on_both_backends(
    indexes: dict[str, Any], catalog: list[dict[str, Any]], query: str
) -> None:
    """A phrase of the word lists (фитнес браслет) folds into one clause, and the words
    after «без» were then left out by their indexes as typed, one or more slots too far:
    OpenSearch failed with an IndexError (probe round 33), and «… без зарядки с amoled»
    left out «с» and needed «зарядки», so "all words" found nothing and "any word" listed
    every bracelet."""
    index = indexes["generated"][0]
    wanted = {
        p["product_id"]
        for p in catalog
        if p["name"].startswith("Фитнес-браслет")
        and ("amoled" not in query or p["specifications"]["Экран"].startswith("AMOLED"))
        and ("xiaomi" not in query or p["brand"] == "Xiaomi")
    }
    hits = index.search(query, limit=100).hits
    assert wanted and {h.product_id for h in hits} == wanted, (indexes["kind"], query, len(hits))


def test_a_name_with_unseen_characters_inside_its_words_is_found_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """A name copied from a page carries characters no one sees inside its words: soft
    hyphens (typeset text), a zero-width space or joiner, a stress mark on a vowel. They
    were word breaks (нау + шни + ки), so «наушники» did not find the product; a query
    pasted with one was cut the same way. A name with a Latin look-alike letter (Hаушники)
    is indexed as the queries read it (`lookalikes`)."""
    kind = indexes["kind"]
    base = next(p for p in catalog if p["name"].startswith("Наушники беспроводные"))
    spellings = {
        "Unseen1": "Нау\u00adшни\u00adки",  # soft hyphens
        "Unseen2": "Наушни\u200bки",  # zero-width space
        "Unseen3": "Нау\u0301шники",  # a stress mark
        "Unseen4": "Науш\u200dники\u2060",  # zero-width joiner, word joiner
        "Unseen5": "Hаушники",  # a Latin H: not unseen, but no index word either
    }
    products = [
        {
            **base,
            "product_id": f"unseen-{i}",
            "brand": brand,
            "name": base["name"].replace("Наушники", spelt),
            "description": "Подходит для дома и поездок.",  # the word only in the name
            "tags": [],
        }
        for i, (brand, spelt) in enumerate(spellings.items())
    ]
    index = _build(_open(kind, "unseen", tmp_path, request), [*catalog[:50], *products])
    try:
        for product in products:
            only_it = SearchFilters(brand=product["brand"])
            hits = index.search("наушники", only_it, limit=3).hits
            assert [h.product_id for h in hits] == [product["product_id"]], (kind, product)
        # Unfiltered: each is an index word of the first stage, not only a fuzzy match
        # (a fuzzy stage runs only when the words themselves find nothing).
        found = {h.product_id for h in index.search("наушники", limit=50).hits}
        assert {p["product_id"] for p in products} <= found, (kind, found)
        hits = index.search("нау\u00adшни\u00adки unseen3", limit=3).hits
        assert hits and hits[0].product_id == "unseen-2", (kind, hits)
    finally:
        index.close()


def test_a_title_that_says_its_number_in_words_is_found_beside_the_digits_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """A number said in words beside what it counts is read as digits (round 27): «пятьдесят
    оттенков серого» → 50 оттенков серого. A book that says it in words was then lost
    whenever another product had the digits and the other words: "all words" found that
    one and stopped. The words as typed are now the digits' meaning, weighed as typed."""
    kind = indexes["kind"]
    base = next(p for p in catalog if p["name"].startswith("Роман"))
    furniture = {"category": "Дом и сад", "brand": "Hoff", "tags": ["мебель"]}
    products = [
        {**base, "product_id": "title-1", "name": "Пятьдесят оттенков серого"},
        {**base, "product_id": "title-2", "name": "Двенадцать стульев"},
        {
            **base,
            **furniture,
            "product_id": "decoy-1",
            "name": "Набор из 50 оттенков лака",
            "description": "Палитра: 50 оттенков серого и других цветов.",
        },
        {
            **base,
            **furniture,
            "product_id": "decoy-2",
            "name": "Набор стульев 12 шт",
            "description": "Комплект: 12 стульев для кухни.",
        },
    ]
    index = _build(_open(kind, "titles", tmp_path, request), [*catalog[:50], *products])
    try:
        hits = index.search("пятьдесят оттенков серого", limit=3).hits
        assert hits and hits[0].product_id == "title-1", (kind, hits)
        hits = index.search("книга двенадцать стульев", limit=3).hits
        assert hits and hits[0].product_id == "title-2", (kind, hits)
        # both readings of «двенадцать стульев»: the chairs, and the book
        found = {h.product_id for h in index.search("двенадцать стульев", limit=5).hits}
        assert {"title-2", "decoy-2"} <= found, (kind, found)
    finally:
        index.close()


def test_a_number_said_in_words_is_the_number_on_both_backends(indexes: dict[str, Any]) -> None:
    """Probe round 27: a size, a unit or a price said in words was a word no product has,
    so the number that decides which product is meant was lost — кеды сорок второго
    размера listed size 36 first, смартфон до двадцати тысяч phones at 40–90 thousand."""
    index = indexes["generated"][0]
    kind = indexes["kind"]
    hits = index.search("кеды сорок второго размера", limit=5).hits
    assert hits and all(h.product["specifications"]["Размер"] == "42" for h in hits), (kind, hits)
    hits = index.search("гантели двадцать килограмм", limit=5).hits
    assert hits and all(h.product["specifications"]["Вес"] == "2×20 кг" for h in hits), kind
    page = index.search("смартфон до двадцати тысяч", limit=10)
    assert page.hits and all(h.product["price"]["amount"] <= 20_000 for h in page.hits), kind
    assert all(h.product["name"].startswith("Смартфон") for h in page.hits), kind


def test_a_brand_typed_in_two_scripts_is_still_its_own_filter_key_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """A filter matches a product's own brand as sent: the filter key is `filter_key` of the
    value, so the indexed key must not be read in one script (`lookalikes`) when the text
    fields are — a store's «Sаmsung» (a Cyrillic а) filtered by «Sаmsung» found nothing."""
    kind = indexes["kind"]
    product = {**catalog[0], "product_id": "mixed-brand", "brand": "Sаmsung"}
    index = _build(_open(kind, "mixed-brand", tmp_path, request), [*catalog[:20], product])
    try:
        hits = index.search("", SearchFilters(brand="Sаmsung"), limit=5).hits
        assert [h.product_id for h in hits] == ["mixed-brand"], (kind, hits)
    finally:
        index.close()


@pytest.fixture(scope="module")
def titled(
    indexes: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
    catalog: list[dict[str, Any]],
    request: pytest.FixtureRequest,
) -> Iterator[SearchBackend]:
    """The marketplace titles among the generated catalogue, whose кеды, ноутбуки and
    колонки compete with them, in one index of `indexes`' backend."""
    kind = indexes["kind"]
    index = _open(kind, "titled", tmp_path_factory.mktemp(f"titled-{kind}"), request)
    yield _build(index, [*catalog, *marketplace_products()])
    index.close()


@pytest.mark.parametrize(
    ("query", "name_prefix"),
    [
        ("плейстейшен", "Игровая консоль Sony PlayStation"),  # nothing found before
        ("плейстейшн 5", "Игровая консоль Sony PlayStation"),  # the blender (5) first
        ("мультиквик", "Блендер погружной Braun MultiQuick"),  # nothing
        ("перфект кейр", "Утюг с парогенератором Philips PerfectCare"),  # nothing
        ("кеды конверс", "Кеды Converse"),  # read as any кеды: other makers' first
        ("конверсы", "Кеды Converse"),
        ("приставка сони", "Игровая консоль Sony PlayStation"),  # not in the first ten
    ],
)
def test_a_model_line_typed_in_cyrillic_finds_it_among_marketplace_titles_on_both_backends(
    titled: SearchBackend, indexes: dict[str, Any], query: str, name_prefix: str
) -> None:
    """Probe round 36 (80 products titled as marketplaces title them, 132 queries; the model
    lines typed as said, 46: MRR 0.793 before): English sounds Russian writes otherwise
    (-ейшен is -ation, кв is qu, a silent final e dropped: конверс is Converse, пульс
    Pulse), and a console is a приставка as often as a консоль. Not here: «ноутбук леново
    айдиапад» (a leading ай is i: idiapad, an edit from IdeaPad) is first on the embedded
    index but seventh on OpenSearch, under the short generated names' exact matches."""
    hits = titled.search(query, limit=3).hits
    assert hits and hits[0].product["name"].startswith(name_prefix), (
        indexes["kind"],
        query,
        [h.product["name"] for h in hits],
    )


def _assert_top_five_named(index: SearchBackend, query: str, name_prefix: str) -> None:
    hits = index.search(query, limit=5).hits
    assert hits and all(h.product["name"].startswith(name_prefix) for h in hits), [
        h.product["name"] for h in hits
    ]


def _assert_first(index: SearchBackend, kind: str, query: str, product_id: str) -> None:
    hits = index.search(query, limit=3).hits
    assert hits and hits[0].product_id == product_id, (
        kind,
        query,
        [(h.product_id, h.product["name"]) for h in hits],
    )


@pytest.mark.parametrize(
    ("query", "product_id"),
    [
        ("вода 5 литров", "m081"),  # the 0.5 l bottles first (the embedded index)
        ("гантель 5 кг", "m086"),  # the 0.5 kg dumbbell first
        ("кабель type-c 5 м", "m084"),  # the 0.5 m cable first
        ("кабель usb c 1.5 метра", "m083"),  # the 5 m cable first (OpenSearch)
        ("повербанк 22.5w", "m074"),  # 22.5W read as 22 and 5w: eighth (OpenSearch)
        ("ноутбук хонор 15 дюймов", "m090"),  # 15.6": its whole part still finds it
    ],
)
def test_a_whole_number_is_not_a_decimals_fraction_on_both_backends(
    titled: SearchBackend, indexes: dict[str, Any], query: str, product_id: str
) -> None:
    """Probe round 37: both indexes split 0.5 at the point, so a 5 typed matched the
    fraction of 0.5 л and «вода 5 литров» listed a 0.5 l bottle first. A decimal is one
    word now (2,5 and 2.5 alike), indexed after its whole part."""
    _assert_first(titled, indexes["kind"], query, product_id)


@pytest.mark.parametrize(
    ("query", "product_id"),
    [
        ("картошка", "g055"),  # Картофель мытый: nothing found
        ("энергетик", "g030"),  # Энергетический напиток Red Bull: nothing
        ("гречневая крупа", "g014"),  # Гречка ядрица: nothing
        ("мусорные пакеты", "g075"),  # Мешки для мусора: the freezer bags first
        ("детская каша хайнц", "g060"),  # Каша Heinz: children's wipes first
        ("бритва джилет мак 3", "g068"),  # Бритвенные станки Gillette Mach3: nothing
    ],
)
def test_everyday_names_of_groceries_find_them_on_both_backends(
    indexes: dict[str, Any], query: str, product_id: str
) -> None:
    """Probe round 38 (80 groceries and household goods, 163 queries: MRR 0.953 on both
    before): the everyday name of a product the titles call otherwise (картошка is
    картофель, энергетик an энергетический напиток, мусорные пакеты are мешки для мусора)
    and makers whose Cyrillic spelling is far from their letters (хайнц, джилет)."""
    _assert_first(indexes["grocery"][0], indexes["kind"], query, product_id)


@pytest.mark.parametrize(
    ("query", "product_id"),
    [
        ("хлебцы без глютена", "g081"),  # «Хлебцы … без глютена»: left out (had глютена)
        ("майонез без яиц", "g082"),  # the same: nothing found
        ("жвачка без сахара", "g080"),  # and жвачка, a жевательная резинка
        ("десяток яиц", "g011"),  # the eggs, not the mayonnaise «без яиц» first
        ("молоко без лактозы", "g002"),  # «Молоко безлактозное»: second
        ("без лактозы", "g002"),  # nothing: «без Y» alone looked for Y
    ],
)
def test_what_a_title_says_a_product_lacks_is_not_what_it_has_on_both_backends(
    indexes: dict[str, Any], query: str, product_id: str
) -> None:
    """Probe round 39: «без Y» in a query leaves out what has Y, and that left out the
    products whose titles say they lack it (Хлебцы без глютена); the same titles were found
    for Y (десяток яиц listed «Майонез постный без яиц» first). A title's «без Y» is indexed
    as one word with без (`search_document.lacking_glued`), and a query's «без Y» also
    looks for a name's adjective of lacking Y (безлактозное); alone, it looks for those."""
    grocery = indexes["grocery"][0]
    _assert_first(grocery, indexes["kind"], query, product_id)
    assert "g081" not in {h.product_id for h in grocery.search("глютен", limit=10).hits}
    # «без сахара» alone: the sugar-free gum and cola, not the sugar (as before)
    assert {h.product_id for h in grocery.search("без сахара", limit=10).hits} == {"g080", "g083"}


@pytest.mark.parametrize(
    ("catalogue", "query", "product_id"),
    [
        ("marketplace", "водичка 5 литров", "m081"),  # -ичка read as -ка: водка; 2nd
        ("grocery", "пельмешки", "g044"),  # пельмешек: no base; nothing
        ("grocery", "ультра пастеризованное молоко", "g001"),  # 21 letters, no stem: 5th
        ("grocery", "без лактозное молоко", "g002"),  # «без» Y: nothing on OpenSearch
        ("marketplace", "плойка", "m013"),  # Стайлер Dyson Airwrap: nothing
        ("marketplace", "маршрутизатор", "m076"),  # Роутер Wi-Fi Keenetic: nothing
        ("grocery", "куриная грудка", "g047"),  # Куриное филе: 2nd, after eggs
        ("marketplace", "зимняя куртка женская", "m037"),  # Пуховик женский: 3rd
    ],
)
def test_what_a_blind_author_typed_finds_it_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, product_id: str
) -> None:
    """Probe round 40: 140 queries written by an author who had read only the catalogues
    (MRR 0.953 embedded, 0.938 OpenSearch before). A diminutive in -ичка of an -а noun
    (водичка) and in -ешек (пельмешек); a Cyrillic word of 20+ letters (the stemmer's limit
    was 40 bytes); a prefix typed apart before a word the index also has alone (ультра);
    без typed apart from its adjective; other names of a product (плойка, маршрутизатор,
    грудка, зимняя куртка)."""
    _assert_first(indexes[catalogue][0], indexes["kind"], query, product_id)


@pytest.mark.parametrize(
    ("catalogue", "query", "product_id"),
    [
        ("grocery", "смтана", "g004"),  # stem смтан, two edits from the index's смета
        ("marketplace", "пауэрбанк", "m074"),  # Внешний аккумулятор … Power Bank: nothing
        ("marketplace", "повербанк", "m074"),  # the same
        ("marketplace", "нужен подарок маме духи", "m049"),  # Парфюмерная вода: nothing
    ],
)
def test_what_a_second_blind_author_typed_finds_it_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, product_id: str
) -> None:
    """Probe round 41 (150 queries by another author who read only the catalogues, typing
    as on a phone and by voice; MRR 0.961 embedded before): a typo that moves where the
    stemmer cuts the word is looked up fuzzily in the names' lemmas too (сметана is one
    edit from смтана); a power bank and perfume by their everyday names."""
    _assert_first(indexes[catalogue][0], indexes["kind"], query, product_id)


@pytest.mark.parametrize(
    ("catalogue", "query", "product_ids"),
    [
        ("marketplace", "шурик", {"m060"}),  # nothing
        ("marketplace", "плойка 5", {"m009"}),  # the Dyson styler, then 5 l and 5 kg
        ("marketplace", "ксерокс", {"m077"}),  # nothing
        ("grocery", "черняшка", {"g012"}),  # nothing
        ("grocery", "чаек", {"g034", "g035"}),  # -аек: nothing
        ("grocery", "кофеек", {"g032", "g033"}),  # -еек: nothing
        ("grocery", "курочка", {"g047"}),  # nothing
        ("grocery", "хлорка", {"g072", "g073"}),  # nothing
        ("grocery", "prostokvashino", {"g000", "g003", "g004", "g005"}),  # nothing
        ("grocery", "бондюэль", {"g052"}),  # nothing
        ("marketplace", "зарядка 65w", {"m073"}),  # 65w read as 65 w: the 65" TV first
        ("marketplace", "телевизор 55 дюймов", {"m017"}),  # the 65" TV («65 дюймов») first
        ("grocery", "гречкаядреца", {"g014"}),  # glued, and a typo: nothing
        ("grocery", "сырмацарела", {"g009"}),  # the same
        ("marketplace", "зубнаяпста", {"m047"}),  # the same
        ("marketplace", "фитнесбраслед", {"m031"}),  # the same
    ],
)
def test_what_a_fourth_blind_author_typed_finds_it_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, product_ids: set[str]
) -> None:
    """Probe round 43 (160 queries over the marketplace and grocery catalogues by an author
    who read only them; MRR 0.885 embedded before): what shoppers call things at home
    (шурик, черняшка, кофеек, чаек), a Russian brand in Latin letters, a glued number and
    Latin unit as typed (65w), an inch said in words where titles write the mark (55"), and
    two words glued with a typo in one (гречкаядреца)."""
    hits = indexes[catalogue][0].search(query, limit=3).hits
    assert hits and hits[0].product_id in product_ids, (
        indexes["kind"],
        query,
        [(h.product_id, h.product["name"]) for h in hits],
    )


@pytest.mark.parametrize(
    ("catalogue", "query", "product_id", "within"),
    [
        # 12/512GB: a laptop «8/512 ГБ», a 128GB phone first
        ("marketplace", "смартфон на 512", "m005", 1),
        # 8/256GB among the titles with 256 (S24, iPhone, Redmi, a Lenovo laptop), not
        # after them all
        ("marketplace", "галакси 256", "m003", 4),
        ("marketplace", "buds", "m007", 1),  # Galaxy Buds2 Pro: nothing
        ("grocery", "mach", "g068", 1),  # Gillette Mach3: nothing
    ],
)
def test_a_word_finds_a_title_that_glues_it_to_more_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, product_id: str, within: int
) -> None:
    """Probe round 44: a whole number typed with no unit (смартфон на 512) is also a name's
    word of that number glued to letters (12/512GB, one word in the index), and a Latin
    word a name's word of it glued to digits (buds → Buds2), which the word alone never
    matched; such a match weighs as a rare name word does."""
    hits = indexes[catalogue][0].search(query, limit=5).hits
    assert product_id in [h.product_id for h in hits[:within]], (
        indexes["kind"],
        query,
        [(h.product_id, h.product["name"]) for h in hits],
    )


@pytest.mark.parametrize(
    ("catalogue", "query", "name_prefix"),
    [
        ("seed", "gaming mause", "Игровая мышь"),  # nothing
        ("seed", "smart wacth", "Умные часы"),  # smart bulbs first
        ("grocery", "milk простоквашино", "Молоко Простоквашино"),  # its curd, cream first
        ("marketplace", "плейстешн 5", "Игровая консоль Sony PlayStation"),  # 5th
        ("generated", "postelnoe belyo", "Постельное"),  # nothing
        ("generated", "наушн. беспров. sony", "Наушники беспроводные Sony"),  # soundbars
        ("marketplace", "пылес", "Пылесос"),  # nothing
    ],
)
def test_what_a_sixth_blind_author_typed_in_latin_finds_it_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, name_prefix: str
) -> None:
    """Probe round 45 (160 queries in English, on the wrong layout, transliterated, short;
    MRR 0.963 on both before): the English names of the grocery and marketplace product
    types (milk), an English product word typed with a slip (mause: a tie-breaker only, so
    a brand a letter off still wins), -ешн without its й, ya/yo/yu after a consonant
    typed for ья/ьё/ью (belyo), and a word cut short (наушн.) as a name word's start."""
    assert_first_named(indexes, catalogue, query, name_prefix)


@pytest.mark.parametrize(
    ("query", "name_prefix"),
    [
        ("умнве чвсы", "Умные часы"),  # smart bulbs first
        ("экшенпро", "Экшн-камера ActionPro"),  # nothing
    ],
)
def test_what_a_seventh_blind_author_typed_finds_it_on_both_backends(
    indexes: dict[str, Any], query: str, name_prefix: str
) -> None:
    """Probe round 46 (the issue's four kinds made hard, over the generated and seed
    catalogues; before 0.956 on both): a letter a key off in a short word (чвсы: no fuzzy
    match under five letters) and English -ction said -кшн."""
    if "seed" not in indexes:
        pytest.skip("the seed catalogues are not here")
    hits = indexes["seed"][0].search(query, limit=3).hits
    assert hits and hits[0].product["name"].startswith(name_prefix), (
        indexes["kind"],
        query,
        [h.product["name"] for h in hits],
    )


@pytest.mark.parametrize(
    ("catalogue", "query", "name_prefix"),
    [
        ("generated", "велосипед торнео си шестьдесят пять", "Велосипед горный Torneo C65"),  # 8th
        ("generated", "наушники джей би эл ти пять макс", "Наушники беспроводные JBL T5"),  # 6th
        ("generated", "саундбар сони эр семьдесят", "Саундбар Sony R70"),  # 3rd
        (
            "marketplace",
            "гантель разборная два с половиной килограмма",
            "Гантель разборная Starfit DB-713, 2.5",
        ),  # 3rd
        ("marketplace", "эл джи олед", "Телевизор LG OLED"),  # a Nintendo Switch OLED first
        ("marketplace", "а есть у вас подгузники для новорожденных", "Подгузники Huggies"),  # 4th
        ("marketplace", "электро чайник", "Чайник электрический"),  # an e-book first
        ("grocery", "пиво балтика семь", "Пиво Балтика 7"),  # tied with Балтика 0
        # round 48: a volume in the smaller unit is the title's decimal of the larger
        ("marketplace", "вода шишкин лес 500 мл", "Вода питьевая Шишкин лес негазированная, 0.5"),
    ],
)
def test_what_an_eighth_blind_author_said_aloud_finds_it_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, name_prefix: str
) -> None:
    """Probe round 47 (160 queries as a phone's speech recogniser writes them; MRR 0.950
    embedded, 0.953 OpenSearch before): a model code said as a letter's name and a number
    in words (си шестьдесят пять → C65), after a brand's letters too (джей би эл ти пять →
    JBL T5); a number and a half (два с половиной → 2.5); a number said last after a name
    (балтика семь → Балтика 7); LG said by its letters; a request's words (а есть у вас) as
    optional; a prefix typed apart that no name has as a word read as the compound
    (электро чайник → электрический чайник). Round 48 (the same words typed with other
    characters; 0.997 on both before): 500 мл is also the titles' 0.5 л (the 5 л first)."""
    assert_first_named(indexes, catalogue, query, name_prefix)


@pytest.mark.parametrize(
    ("catalogue", "query", "left_out"),
    [
        ("marketplace", "смартфон кроме самсунга", "Samsung"),  # the Samsungs first
        ("marketplace", "наушники не apple", "Apple"),  # the AirPods first
        ("marketplace", "ноутбук не макбук", "MacBook"),
        ("marketplace", "кофемашина не капсульная", "капсульная"),
        ("generated", "наушники беспроводные не sony", "Sony"),  # only Sony's in the ten
        ("seed", "смартфон не abc", "ABC"),  # смартфонне: не joined to the word before
    ],
)
def test_what_a_query_says_is_not_wanted_is_left_out_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, left_out: str
) -> None:
    """Probe round 49 (160 queries with logic words; exclusion MRR 0.225 on both before):
    after a word of the product, не, кроме and исключая leave out what follows, as без
    does, in its brand's Latin spellings too (самсунга → Samsung); не is never joined to a
    neighbour as a compound's part."""
    if catalogue not in indexes:
        pytest.skip("the seed catalogues are not here")
    hits = indexes[catalogue][0].search(query, limit=10).hits
    assert hits, (indexes["kind"], query)
    assert all(left_out.lower() not in h.product["name"].lower() for h in hits), (
        indexes["kind"],
        query,
        [h.product["name"] for h in hits],
    )


def test_what_a_product_lacks_is_also_an_adjective_in_ne_on_both_backends(
    indexes: dict[str, Any],
) -> None:
    """вода без газа: the title says негазированная (a sparkling water ranked first)."""
    hits = indexes["grocery"][0].search("вода без газа", limit=3).hits
    assert hits and "негазированная" in hits[0].product["name"], (
        indexes["kind"],
        [h.product["name"] for h in hits],
    )


@pytest.mark.parametrize(
    ("catalogue", "query", "name_prefix"),
    [
        ("generated", "набор лего", "Конструктор LEGO"),  # sets of garden tools
        ("grocery", "корм для котов", "Корм для кошек"),  # dog food first
        ("seed", "подарок геймеру", "Игровая"),  # nothing
    ],
)
def test_what_an_eleventh_blind_author_narrowed_finds_it_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, name_prefix: str
) -> None:
    """Probe round 50 (who it is for, size, pack, property; 0.972 on both before): a pack's
    noun (набор) does not weigh a maker down as a product word does; кот → кошка, геймер →
    игровой."""
    assert_first_named(indexes, catalogue, query, name_prefix)


@pytest.mark.parametrize(
    ("catalogue", "query", "name_prefix"),
    [
        ("grocery", "балтика семерка", "Пиво Балтика 7"),  # tied with Балтика 0
        ("marketplace", "пс5", "Игровая консоль Sony PlayStation 5"),  # nothing
        ("marketplace", "зу 65вт type-c", "Зарядное устройство Anker"),  # 5th, after cables
        ("grocery", "редбул", "Энергетический напиток Red Bull"),  # nothing
        ("generated", "кпб", "Постельное бельё"),  # nothing
        ("grocery", "пакеты для мусора", "Мешки для мусора"),  # freezer bags first
        ("marketplace", "штука которая сама моет пол", "Робот-пылесос"),  # nothing
    ],
)
def test_what_a_twelfth_blind_author_called_it_finds_it_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, name_prefix: str
) -> None:
    """Probe round 51 (the shopper's own words; 0.869 on both before): a number said as its
    noun (семерка), type-c as usb-c, the abbreviations, slang and nicknames of the word
    lists (кпб, зу, пс5, бт, редбул), a phrase's words apart (пакеты для мусора), and what
    works by itself (сама) as a robot or automatic, «штука» only adding."""
    assert_first_named(indexes, catalogue, query, name_prefix)


@pytest.mark.parametrize(
    ("catalogue", "query", "name_prefix"),
    [
        ("marketplace", "чем гладить рубашки", "Утюг"),  # nothing
        ("marketplace", "чтобы сушить волосы быстро", "Фен"),  # nothing
        ("generated", "что-нибудь почитать в дороге", "Книга"),  # nothing (probe round 17)
        ("marketplace", "варить кофе дома", "Капсульная кофемашина"),  # nappies first
    ],
)
def test_a_task_said_instead_of_its_tool_finds_it_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, name_prefix: str
) -> None:
    """Probe round 52 (tests/fixtures/task-queries.json): a task's verb is its tool's word
    (`word_lists.TASK_WORDS`), варить кофе a coffee maker; and дома no longer finds «до 5
    кг» through a swap (доам) the stemmer cuts to до."""
    assert_first_named(indexes, catalogue, query, name_prefix)


@pytest.mark.parametrize(
    ("catalogue", "query", "name_prefix"),
    [
        ("generated", "смартфон кроме самсунга и сяоми", "Смартфон"),  # Xiaomi's first
        ("grocery", "хлебцы без глютена доктор корнер", "Хлебцы хрустящие Dr. Korner"),  # none
        ("grocery", "borjomi пол-литра", "Вода минеральная Боржоми"),  # nothing
        ("grocery", "творожок пятипроцентный", "Творог Простоквашино 5%"),  # nothing
        ("marketplace", "гантел 500 грамм", "Гантель Bradex 0.5"),  # a bicycle «500» first
        ("seed", "умная лампочка кроме брайтхом", "Умная лампа Lightify"),  # BrightHome first
    ],
)
def test_what_a_fourteenth_blind_author_combined_finds_it_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, name_prefix: str
) -> None:
    """Probe round 53 (two or three difficulties in each query; 0.936 embedded before): a
    list of what is left out, без's genitive scope, a left-out brand in the other script,
    пол-литра, грамм, пятипроцентный."""
    assert_first_named(indexes, catalogue, query, name_prefix)
    if "кроме" in query:
        hits = indexes[catalogue][0].search(query, limit=10).hits
        left_out = ("Samsung", "Xiaomi", "BrightHome")
        assert not any(b in h.product["name"] for h in hits for b in left_out), hits


@pytest.mark.parametrize(
    ("catalogue", "query", "name_prefix"),
    [
        ("marketplace", "air pods", "Наушники беспроводные Apple AirPods"),  # 4th
        ("grocery", "mach 3", "Бритвенные станки Gillette Mach3"),  # 4th
        ("marketplace", "yandex stanciya", "Умная колонка Яндекс Станция"),  # nothing
        ("grocery", "borjomi", "Вода минеральная Боржоми"),  # nothing
        ("grocery", "творожок", "Творог"),  # nothing
        ("grocery", "энергонапиток", "Энергетический напиток"),  # 2nd
        ("marketplace", "левайс", "Джинсы мужские Levi's"),  # nothing
        ("marketplace", "лего техник", "Конструктор LEGO Technic"),  # 2nd (probe round 40)
    ],
)
def test_what_a_fifteenth_blind_author_typed_finds_it_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, name_prefix: str
) -> None:
    """Probe round 54 (the issue's four kinds, hard, marketplace and grocery; 0.915 embedded,
    0.922 OpenSearch before): Latin words joined where the index has them as one, a Latin
    word and a number (mach 3), x/ci/j of Russian names in Latin (yandex stanciya, borjomi),
    -ожок, энерго-, and the word lists' левайс, техник."""
    assert_first_named(indexes, catalogue, query, name_prefix)


@pytest.mark.parametrize(
    ("catalogue", "query", "name_prefixes"),
    [
        ("generated", "кухонная техника", ("Кофемашина", "Микроволновая печь", "Электрочайник")),
        ("generated", "аудиотехника", ("Портативная колонка", "Наушники", "Саундбар")),
        ("grocery", "крупы", ("Гречка", "Рис", "Овсяные хлопья")),  # nothing
        ("grocery", "горячие напитки", ("Кофе", "Чай", "Какао")),  # nothing
        ("grocery", "полуфабрикаты", ("Пельмени",)),  # nothing
        ("marketplace", "верхняя одежда", ("Пуховик",)),  # 3rd
        ("marketplace", "товары для животных", ("Корм", "Наполнитель")),  # 4th
        ("marketplace", "всё от сони", ("Наушники Sony", "Игровая консоль Sony")),  # 2nd
        ("seed", "электротранспорт", ("Электросамокат",)),  # nothing
    ],
)
def test_what_a_sixteenth_blind_author_browsed_finds_it_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, name_prefixes: tuple[str, ...]
) -> None:
    """Probe round 55 (browsing by a class or a maker; 0.771 embedded, 0.775 OpenSearch
    before): a class word or phrase finds the kinds of product it covers (CLASS_WORDS,
    CLASS_PHRASES), «всё» and «товары» are no words a product must have."""
    assert_first_named(indexes, catalogue, query, name_prefixes)


@pytest.mark.parametrize(
    ("catalogue", "query", "name_prefixes"),
    [
        ("marketplace", "электроинструмент", ("Дрель", "Перфоратор")),
        ("marketplace", "мелкая бытовая техника", ("Блендер", "Утюг", "Чайник", "Миксер")),
        ("grocery", "бакалея", ("Сахар", "Гречка", "Соль", "Мука", "Рис", "Макароны")),
    ],
)
def test_a_class_the_word_lists_name_finds_its_kinds_on_both_backends(
    indexes: dict[str, Any], catalogue: str, query: str, name_prefixes: tuple[str, ...]
) -> None:
    """Class words beyond round 55's queries (the same taxonomy: CLASS_WORDS, CLASS_PHRASES),
    each with products of its kinds in the catalogue."""
    assert_first_named(indexes, catalogue, query, name_prefixes)


def test_a_brand_typed_a_letter_off_outranks_an_english_word_as_near(
    indexes: dict[str, Any],
) -> None:
    """kettlr is one edit from the brand Kettler and from kettle: «полатка kettlr» (round
    42) lists Kettler tents; with the English word weighed as a brand's typo is, kettles
    came first (212 against 88), so an English typo only breaks ties."""
    hits = indexes["generated"][0].search("полатка kettlr", limit=5).hits
    assert hits and all(
        h.product["name"].startswith("Палатка") and h.product["brand"] == "Kettler" for h in hits
    ), [h.product["name"] for h in hits]


def test_what_s_means_before_a_genitive_is_where_from_on_both_backends(
    indexes: dict[str, Any],
) -> None:
    """«розетка с управлением с телефона» listed phones first (round 41): с before a
    genitive says where from, which weighs as Y of «X для Y»; before an instrumental (с
    управлением, с грилем) it stays what the product has."""
    _assert_top_five_named(
        indexes["generated"][0], "розетка с управлением с телефона", "Умная розетка"
    )


def test_a_latin_reading_that_matches_only_as_cyrillic_leaves_the_word_fuzzy(
    indexes: dict[str, Any],
) -> None:
    """«дачик протечьки» (two typos): OpenSearch's probe counted протечьки's Latin reading
    (protechka) by its alternatives, the Cyrillic протечка among them, while the query
    sends the Latin word alone, which matches nothing; so протечьки lost its fuzzy look
    and the garden sets (tagged дача, for дачик) ranked first. The embedded index looks
    fuzzily already."""
    _assert_top_five_named(indexes["generated"][0], "дачик протечьки", "Датчик протечки")


def test_a_russian_word_that_is_a_model_name_finds_the_name_on_both_backends(
    indexes: dict[str, Any],
) -> None:
    """Probe round 36, on the seed catalogues: пульс is a Russian word, and Pulse said
    without its silent e; «пульс про» found nothing (про is a function word)."""
    if "seed" not in indexes:
        pytest.skip("the seed catalogues are not here")
    hits = indexes["seed"][0].search("пульс про", limit=3).hits
    assert hits and hits[0].product["name"] == "Наушники Pulse Pro", (indexes["kind"], hits[:1])


def test_a_fifth_review_s_misreadings_are_gone_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """A fifth blind review: огород, which its catalogue never said, was read two edits
    into пород (a dog food's «для собак средних пород»); вискас listed Fiskars' garden tools
    above Whiskas (a leading в is the English w); «вскопать огород» needed a spade."""
    rows = (
        ("990080", "Корм сухой Purina Pro Plan", "Корма", "Purina"),
        ("990081", "Корм влажный для кошек Whiskas паштет", "Корма", "Whiskas"),
        ("990082", "Лопата штыковая Fiskars Solid", "Сад", "Fiskars"),
        ("990083", "Грабли веерные Fiskars Solid", "Сад", "Fiskars"),
    )
    dog_food = {"990080": "Полнорационный сухой корм для взрослых собак средних пород."}
    with _made_index(request, tmp_path, catalog, indexes["kind"], "fifth", rows, dog_food) as index:
        assert "990080" not in [h.product_id for h in index.search("огород", limit=10).hits]
        _firsts_are(index, (("вискас", "990081"), ("вскопать огород", "990082")))


def test_a_thin_all_words_stage_is_topped_up_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """A sixth blind review: «новогодняя елка» listed only the tinsel whose description
    says «украшения елки», none of the trees (`base.THIN_STAGE`)."""
    rows = (
        ("990090", "Мишура новогодняя 2 м", "Праздник", "Snowmen"),
        ("990091", "Елка искусственная Royal Christmas 180 см", "Праздник", "Royal"),
        ("990092", "Елка искусственная заснеженная 150 см", "Праздник", "Snowmen"),
    )
    tinsel = {"990090": "Для украшения елки и комнаты."}
    with _made_index(request, tmp_path, catalog, indexes["kind"], "thin", rows, tinsel) as index:
        page = index.search("новогодняя елка", limit=10)
        found = [h.product_id for h in page.hits]
        assert found[0] == "990090" and {"990091", "990092"} <= set(found), found
        assert [h.product_id for h in index.search("новогодняя елка", all_words=True).hits] == [
            "990090"
        ]


def test_a_wrong_layout_s_word_with_punctuation_keys_is_found_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """A sixth blind review: 'gbkznjh and ,byn found nothing (эпилятор, бинт: the keys of
    э and б are punctuation on the Latin layout, and a first letter was lost)."""
    rows = (
        ("990095", "Эпилятор Braun Silk-epil 9", "Красота", "Braun"),
        ("990096", "Бинт марлевый стерильный 7 м", "Аптека", "Фармация"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "layout", rows) as index:
        _firsts_are(index, (("'gbkznjh", "990095"), (",byn", "990096")))


def test_a_ninth_review_s_misreadings_are_gone_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """Stop 65 (a ninth blind review, and the general lexicon): a word typed as heard
    (термас: a balaclava «термо» first), a compound's tail that is no word (утплитель:
    «Защита тела»), a dictionary word read as a typo of a listed one (шлейка: slippers),
    «дома» (insulation «Дом» first) and a shelf's slang (люстра)."""
    rows = (
        ("990100", "Термос Stanley Classic 1 л", "Туризм", "Stanley"),
        ("990101", "Подшлемник-балаклава Dragonfly термо", "Мото", "Dragonfly"),
        ("990102", "Утеплитель Rockwool Лайт Баттс 50 мм", "Стройка", "Rockwool"),
        ("990103", "Защита тела «черепаха» Fox Titan Sport", "Мото", "Fox"),
        ("990104", "Шлейка для собак Trixie M", "Зоотовары", "Trixie"),
        ("990105", "Шлепанцы мужские Adidas Adilette", "Обувь", "Adidas"),
        ("990106", "Утеплитель Knauf ТеплоKnauf Дом 50 мм", "Стройка", "Knauf"),
        ("990107", "Машинка для стрижки Philips HC3505", "Красота", "Philips"),
        ("990108", "Светильник потолочный Citilux 5 ламп", "Свет", "Citilux"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "ninth", rows) as index:
        _firsts_are(
            index,
            (
                ("термас", "990100"),
                ("утплитель", "990102"),
                ("шлейка", "990104"),
                ("подстричь мужа дома", "990107"),
                ("люстра", "990108"),
            ),
        )
        assert "990105" not in [h.product_id for h in index.search("шлейка", limit=10).hits]
        assert "990103" not in [h.product_id for h in index.search("утплитель", limit=10).hits]


def test_a_thirteenth_review_s_misreadings_are_gone_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """Stop 66 (the second general lexicon and a thirteenth blind review): a slip making a
    listed word searched only for what it lists (спининг: a reel, no rod), -ька of a noun in
    -ь (дрельку: insoles), a Russian word typed in Latin (spalnik), a faucet called a кран
    and a shelf's trade name (пассатижи)."""
    rows = (
        ("990200", "Спиннинг Shimano FX XT 270 ML, 2,7 м", "Рыбалка", "Shimano"),
        ("990201", "Катушка спиннинговая Daiwa Ninja LT 3000-C", "Рыбалка", "Daiwa"),
        ("990202", "Дрель ударная сетевая Интерскол ДУ-13/780ЭР", "Инструменты", "Интерскол"),
        ("990203", "Стельки ортопедические каркасные Trives СТ-119", "Здоровье", "Trives"),
        ("990204", "Спальный мешок Quechua Arpenaz 10°", "Туризм", "Quechua"),
        ("990205", "Смеситель для кухни Grohe Eurosmart с высоким изливом", "Сантехника", "Grohe"),
        ("990206", "Плоскогубцы комбинированные Stayer 200 мм", "Инструменты", "Stayer"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "thirteenth", rows) as index:
        _firsts_are(
            index,
            (
                ("спининг", "990200"),
                ("дрельку", "990202"),
                ("spalnik", "990204"),
                ("кран для кухни", "990205"),
                ("пассатижи", "990206"),
            ),
        )


def test_a_slip_in_a_long_word_is_no_compound_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """Stop 67: a word the index lacks was read as a compound by its ending even when it is
    one slip from a name's word (a sixteenth blind review: гипсакартон ranked «Колпаки
    картонные» first, on картон, and the plasterboard sixth). A compound the index lacks is
    still read by its ending (робопылесос: the vacuum cleaners)."""
    rows = (
        ("990300", "Гипсокартон Knauf ГКЛ 12,5x1200x2500 мм", "Стройматериалы", "Knauf"),
        ("990301", "Колпаки праздничные картонные, 10 шт", "Праздник", "Веселая затея"),
        ("990302", "Коробка картонная для переезда 60x40x40", "Упаковка", "Noname"),
        ("990303", "Электросамокат Ninebot KickScooter E22", "Самокаты", "Ninebot"),
        ("990304", "Самокат трюковый Tech Team Duke", "Самокаты", "Tech Team"),
    )
    with _made_index(
        request, tmp_path, catalog, indexes["kind"], "slip-or-compound", rows
    ) as index:
        _firsts_are(
            index,
            (
                ("гипсакартон", "990300"),
                ("элекстросамокат", "990303"),
                ("картон", "990302"),
            ),
        )
        assert "990301" not in [h.product_id for h in index.search("гипсакартон", limit=10).hits]


def test_a_brand_s_own_spelling_outranks_its_stem_s_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """Stop 67: a name the dictionary lacks is also spelt without what the stemmer reads as
    a case ending (на райзене → ryzen), and that spelling weighed as much as the word's own:
    нокиан (Nokian Tyres) ranked the Nokia phone first (a sixteenth blind review)."""
    rows = (
        ("990310", "Кнопочный телефон Nokia 105 Dual SIM, черный", "Телефоны", "Nokia"),
        ("990311", "Шины зимние Nokian Tyres Hakkapeliitta 10 205/55 R16", "Шины", "Nokian Tyres"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "declined-name", rows) as index:
        _firsts_are(index, (("нокиан", "990311"), ("нокия", "990310")))


def test_a_fourth_lexicon_and_a_phrase_meaning_after_dlya_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """Stop 67: the fourth general lexicon (how shoppers say what stores title otherwise:
    минимойка, слайсер, мастерок, кошачий туалет); and a listed phrase after для weighs as
    the words after для do: «наполнитль для кошачего туалета» is litter, and the meaning
    of кошачий туалет (a tray) outranked it once the phrase was listed."""
    rows = (
        (
            "990320",
            "Мойка высокого давления Karcher K 3 Power Control",
            "Садовая техника",
            "Karcher",
        ),
        ("990321", "Ломтерезка электрическая Ritmix SL-1812", "Техника для кухни", "Ritmix"),
        ("990322", "Кельма штукатурная 180 мм, нержавеющая сталь", "Инструменты", "Зубр"),
        ("990323", "Лоток для кошек с рамкой Moderna Trendy, 50 см", "Зоотовары", "Moderna"),
        (
            "990324",
            "Наполнитель для кошачьего туалета комкующийся Pi-Pi-Bent, 5 кг",
            "Зоотовары",
            "Pi-Pi-Bent",
        ),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "fourth-lexicon", rows) as index:
        _firsts_are(
            index,
            (
                ("минимойка", "990320"),
                ("слайсер", "990321"),
                ("мастерок", "990322"),
                ("кошачий туалет", "990323"),
                ("наполнитль для кошачего туалета", "990324"),
            ),
        )


def test_a_consonant_typed_as_heard_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """Stop 67: тетрать (тетрадь typed as heard) matched the brand Tetra exactly, so the
    fuzzy stage that finds the exercise book never ran."""
    rows = (
        ("990330", "Тетрадь Hatber 96 листов, А5, клетка", "Канцелярия", "Hatber"),
        ("990331", "Корм для рыб Tetra Min хлопья, 100 мл", "Зоотовары", "Tetra"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "as-heard", rows) as index:
        _firsts_are(index, (("тетрать", "990330"), ("тетрадь", "990330")))


def test_a_fifth_lexicon_of_products_described_by_what_they_do_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """Stop 67: the fifth general lexicon, what a shopper who does not know a product's
    name says it does (измерить кислород, вытащить гвоздь, ламинировать); its verbs are
    tasks (`TASK_WORDS`), no typo targets: listed among the synonyms, надуть (→ насос)
    made «надеть» a slip of it and ranked a pump above the dress."""
    rows = (
        ("990340", "Пульсоксиметр напалечный Armed YX301", "Медтовары", "Armed"),
        ("990341", "Гвоздодер-монтировка Stayer 600 мм", "Инструменты", "Stayer"),
        ("990342", "Ламинатор пакетный Гелеос ЛМ A4", "Офис", "Гелеос"),
        ("990343", "Насос автомобильный электрический Berkut R15", "Автотовары", "Berkut"),
        ("990344", "Платье вечернее длинное с пайетками", "Одежда", "Zarina"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "fifth-lexicon", rows) as index:
        _firsts_are(
            index,
            (
                ("измерить кислород", "990340"),
                ("вытащить гвоздь", "990341"),
                ("ламинировать", "990342"),
                ("надуть колесо", "990343"),
                ("надеть платье", "990344"),
            ),
        )


def test_the_eighteenth_and_nineteenth_blind_reviews_misses_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """Stop 69: rules that mended misses of two blind reviews, read alike by both backends —
    an agent noun the dictionary lacks after a noun is the compound's kind (омыватель:
    стеклоомывателя), a long noun's unlisted adjective (силикагель: силикагелевый), a
    swapped slip of a brand's spelling (афйон: iPhone), a prefix's purpose noun (автоорганайзер:
    в багажник автомобиля), three а/о as heard (газанакасилка), English th said з (лезерман)."""
    rows = (
        ("990350", "Жидкость стеклоомывателя зимняя Sintec -25, 5 л", "Автохимия", "Sintec"),
        ("990351", "Наполнитель силикагелевый N1 Crystal, 5 л", "Наполнители", "N1"),
        ("990352", "Смартфон Apple iPhone 15 128 ГБ, черный", "Смартфоны", "Apple"),
        ("990353", "Органайзер в багажник автомобиля складной", "Автоаксессуары", "Autoprofi"),
        ("990354", "Газонокосилка электрическая Huter ELM-1400", "Сад", "Huter"),
        ("990355", "Мультитул Leatherman Wave Plus", "Туризм", "Leatherman"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "reviews-18-19", rows) as index:
        _firsts_are(
            index,
            (
                ("омыватель", "990350"),
                ("силикагель", "990351"),
                ("афйон", "990352"),
                ("автоорганайзер", "990353"),
                ("газанакасилка", "990354"),
                ("лезерман", "990355"),
            ),
        )


def test_the_twenty_fourth_to_twenty_sixth_blind_reviews_rules_on_both_backends(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    catalog: list[dict[str, Any]],
    indexes: dict[str, Any],
) -> None:
    """Stop 72: rules that mended misses of three blind reviews, read alike by both
    backends — a combining form typed apart joined to the compound the index has (изо
    лента: PTFE tape first; свето фильтр: a light bulb), a plural-only noun's diminutive
    (саночки: a fish keepnet first), a Russian word typed in Latin letters with a slip
    looked for in the typo stage too (kastrulya → каструля, one edit from кастрюля)."""
    rows = (
        ("990360", "Изолента ПВХ 19 мм x 20 м, синяя", "Электромонтаж", "Rexant"),
        ("990361", "Лента ФУМ для герметизации резьбы, 19 мм", "Сантехника", "Unipak"),
        ("990362", "Светофильтр ультрафиолетовый Hoya UV, 58 мм", "Фото", "Hoya"),
        ("990363", "Лампа светодиодная Philips E27, теплый свет", "Свет", "Philips"),
        ("990364", "Санки детские Nika Kids со спинкой", "Зимний спорт", "Nika"),
        ("990365", "Садок рыболовный прорезиненный Mikado, 2,5 м", "Рыбалка", "Mikado"),
        ("990366", "Кастрюля эмалированная с крышкой Appetite, 3 л", "Посуда", "Appetite"),
    )
    with _made_index(request, tmp_path, catalog, indexes["kind"], "reviews-24-26", rows) as index:
        _firsts_are(
            index,
            (
                ("изо лента", "990360"),
                ("свето фильтр 58 мм", "990362"),
                ("саночки", "990364"),
                ("kastrulya", "990366"),
            ),
        )
