"""Prices typed the short way, counted things that are no price, «не дороже», «в наличии», and
a price order said in words (search/price_words.py, search/typed_filters.py,
search/price_order.py)."""

from __future__ import annotations

import pytest

from vitrina.search.base import SearchFilters, SearchHit, SearchPage
from vitrina.search.price_order import PRICE_ORDER_WINDOW, ordered_by_price, price_order
from vitrina.search.price_words import price_from_words
from vitrina.search.typed_filters import stock_from_words, with_filters_from_words


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("наушники до 5к", ("наушники", None, 5000.0)),
        ("наушники до 5тыс", ("наушники", None, 5000.0)),
        ("принтер до 5000р", ("принтер", None, 5000.0)),
        ("наушники до 5 000", ("наушники", None, 5000.0)),
        ("наушники до 5 000 рублей", ("наушники", None, 5000.0)),
        ("телевизор 4к до 40к", ("телевизор 4к", None, 40000.0)),  # 4к before no bound
        ("планшет до 15000 самсунг", ("планшет самсунг", None, 15000.0)),
        ("часы до 5000 с пульсометром", ("часы с пульсометром", None, 5000.0)),
    ],
)
def test_a_price_typed_the_short_way_is_a_price(
    query: str, expected: tuple[str, float | None, float | None]
) -> None:
    """5к, 5000р and 5 000 are how shoppers type prices; each was searched as words."""
    assert price_from_words(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ноутбук <50000", ("ноутбук", None, 50000.0)),
        ("ноутбук ≤ 50 000", ("ноутбук", None, 50000.0)),
        ("смартфон >=20000", ("смартфон", 20000.0, None)),
        ("ноутбук за 50000", ("ноутбук", None, 50000.0)),
        ("ноутбук за 50к", ("ноутбук", None, 50000.0)),
        ("ноутбук 50000-100000", ("ноутбук", 50000.0, 100000.0)),
        ("ноутбук 50 000 – 100 000", ("ноутбук", 50000.0, 100000.0)),
        ("ноутбук 50-100к", ("ноутбук", 50000.0, 100000.0)),
        ("смартфон 10-20 тыс.", ("смартфон", 10000.0, 20000.0)),
        ("наушники 2000-5000р", ("наушники", 2000.0, 5000.0)),
        ("ноутбук от 50 до 100 тысяч", ("ноутбук", 50000.0, 100000.0)),
        ("дешевле 0", ("", None, 0.0)),  # was words: fuzzy matches, not «nothing that cheap»
        ("ручка дешевле 50", ("ручка", None, 50.0)),
        ("дороже 10 рублей", ("", 10.0, None)),
    ],
)
def test_a_bound_typed_as_a_sign_a_range_or_za_is_a_price(
    query: str, expected: tuple[str, float | None, float | None]
) -> None:
    """Each was searched as words: the sign and the hyphen were dropped, so «ноутбук
    <50000» looked for a product with 50000 in its text; «за 50000» is what the shopper
    means to pay; «от 50 до 100 тысяч» put the floor at 50 ₽ (below MIN_PRICE: no floor)."""
    assert price_from_words(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "rtx 3060-3070",  # model numbers, not round hundreds
        "монитор 24-27 дюймов",
        "кабель 1000-2000 мм",  # round, but a length
        "лего 1000-2000 деталей",
        "платье 42-44",
        "коляска 3-в-1",
        "ноутбук за 5 минут",
        "книга за 2 года",
    ],
)
def test_a_range_or_za_that_is_no_price_stays_words(query: str) -> None:
    assert price_from_words(query) is None


@pytest.mark.parametrize(
    "query",
    [
        "фонарик до 1000 люмен",
        "палатка до 400 мест",
        "книга до 300 страниц",
        "конструктор от 1000 деталей",
        "фильтр до 200 литров",
        "ноутбук до 16 гб",
    ],
)
def test_a_counted_thing_after_the_number_is_no_price(query: str) -> None:
    """«фонарик до 1000 люмен» was read as a price ceiling of 1000 and «люмен» searched
    alone: a noun in the genitive plural after the number (мест, страниц, деталей) — or a
    listed unit — is what the number counts."""
    assert price_from_words(query) is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ноутбук не дороже 50000", ("ноутбук", None, 50000.0)),
        ("ноутбук не дешевле 50к руб", ("ноутбук", 50000.0, None)),
        ("не дороже 3000", ("", None, 3000.0)),
    ],
)
def test_not_before_a_comparative_turns_the_bound_round(
    query: str, expected: tuple[str, float | None, float | None]
) -> None:
    """«не дороже 50000» is at most 50000: read as «дороже 50000», it was a floor, and the
    notebooks listed were exactly the ones the customer had ruled out."""
    assert price_from_words(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("наушники до 5 к", ("наушники", None, 5000.0)),
        ("наушники до 5 тр", ("наушники", None, 5000.0)),
        ("джинсы до 3 тыщ", ("джинсы", None, 3000.0)),
        ("джинсы до 3тыщ", ("джинсы", None, 3000.0)),
        ("куртка до 5 тысяч рублей", ("куртка", None, 5000.0)),  # was 5 and 1000 рублей
        ("планшет меньше 20000", ("планшет", None, 20000.0)),
        ("ноутбук в пределах 80000", ("ноутбук", None, 80000.0)),
        ("велосипед больше 20000", ("велосипед", 20000.0, None)),
        ("наушники не больше 5000", ("наушники", None, 5000.0)),
        ("кроссовки не меньше 3000", ("кроссовки", 3000.0, None)),
    ],
)
def test_probe_round_31_bounds_are_prices(
    query: str, expected: tuple[str, float | None, float | None]
) -> None:
    """Probe round 31: each was searched as words (the bound lost), or, for «до 5 тысяч
    рублей», read as «до 5» and «1000 рублей»: тысяч was taken for a number said in words,
    before the digits could join it."""
    assert price_from_words(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("смартфон около 20000", ("смартфон", 16000.0, 24000.0)),
        ("смартфон примерно за 20к", ("смартфон", 16000.0, 24000.0)),
        ("наушники в районе 5000", ("наушники", 4000.0, 6000.0)),
        ("ноутбук порядка 80 тысяч", ("ноутбук", 64000.0, 96000.0)),
        ("рюкзак приблизительно за 3000 р", ("рюкзак", 2400.0, 3600.0)),
    ],
)
def test_a_price_said_roughly_is_a_band_around_it(
    query: str, expected: tuple[str, float | None, float | None]
) -> None:
    """Probe round 34: около, примерно, в районе, порядка and a price were words, found in
    no product; now a band of 20 % either side (`price_words.APPROXIMATE_SHARE`)."""
    assert price_from_words(query) == expected


@pytest.mark.parametrize(
    "query",
    ["гантели около 10 кг", "конструктор порядка 1000 деталей", "около дома", "в районе метро"],
)
def test_a_rough_number_of_something_else_is_no_price(query: str) -> None:
    assert price_from_words(query) is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("наушники до 5000 рублй", ("наушники", None, 5000.0)),  # a slip of рублей
        ("наушники до 5000 рубей", ("наушники", None, 5000.0)),
        ("наушники дешевле 5тр", ("наушники", None, 5000.0)),  # тр glued on
        ("до 3000 рубашка", ("рубашка", None, 3000.0)),  # a word, not a slip
        ("наушники до 4999,99", ("наушники", None, 4999.0)),  # kopecks: 99 was a word
        ("наушники от 1999.9 до 4999,99 руб", ("наушники", 1999.0, 4999.0)),
        ("смартфон 6,1 дюйма до 30000", ("смартфон 6.1 дюйма", None, 30000.0)),  # a size
    ],
)
def test_a_slip_of_rublei_or_a_glued_tr_is_still_a_price(
    query: str, expected: tuple[str, float | None, float | None]
) -> None:
    """pymorphy3 guessed рублй a counted noun, so the number counted it and was no price;
    5тр was no short form; kopecks after a bound were split off at the comma and searched
    as a word (the bound keeps whole roubles)."""
    assert price_from_words(query) == expected


def test_a_bound_phrase_before_no_number_stays_as_typed() -> None:
    """«в районе метро» is no bound: with a price elsewhere in the query its words stay."""
    assert price_from_words("кроссовки в районе метро до 5000") == (
        "кроссовки в районе метро",
        None,
        5000.0,
    )


@pytest.mark.parametrize(
    "query",
    [
        "телевизор больше 50 дюймов",
        "смартфон больше 128 гб",
        "пылесос мощностью больше 1500 вт",
        "книга меньше 300 страниц",
        "коврик в пределах разумного",
    ],
)
def test_a_comparison_of_a_size_is_no_price(query: str) -> None:
    """больше, меньше and в пределах bound a price only when no unit or counted noun
    follows the number."""
    assert price_from_words(query) is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ноутбук в наличии", "ноутбук"),
        ("есть в наличии ноутбук lenovo", "ноутбук lenovo"),
        ("в наличие", ""),
        ("ноутбук", None),
        ("наличные", None),  # paying in cash is no stock word
    ],
)
def test_in_stock_typed_in_the_query_is_found(query: str, expected: str | None) -> None:
    assert stock_from_words(query) == expected


def test_in_stock_typed_in_the_query_is_a_filter_unless_the_caller_said_otherwise() -> None:
    text, filters = with_filters_from_words("ноутбук в наличии до 50000", None)
    assert (text, filters) == ("ноутбук", SearchFilters(price_max=50000.0, in_stock=True))
    text, filters = with_filters_from_words("ноутбук в наличии", SearchFilters(in_stock=False))
    assert (text, filters) == ("ноутбук в наличии", SearchFilters(in_stock=False))


@pytest.mark.parametrize("query", ["ноутбук до 50000 в наличии", "ноутбук до 50к в наличии"])
def test_a_price_before_v_nalichii_is_still_a_price(query: str) -> None:
    """«в» after the number was read as its unit (230 В: volts), so the price was lost and
    «до 50000» searched as words; «в наличии» is now taken out before the price is read."""
    text, filters = with_filters_from_words(query, None)
    assert (text, filters) == ("ноутбук", SearchFilters(price_max=50000.0, in_stock=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("самый дешевый смартфон", ("смартфон", "price_asc")),
        ("недорогие наушники", ("наушники", "price_asc")),
        ("бюджетный смартфон", ("смартфон", "price_asc")),
        ("коврик для йоги недорого", ("коврик для йоги", "price_asc")),
        ("фен подешевле", ("фен", "price_asc")),
        ("самая дорогая кофемашина", ("кофемашина", "price_desc")),
        ("часы подороже", ("часы", "price_desc")),
        ("самые дешевые", ("", "price_asc")),
        ("наушники дешевле", ("наушники", "price_asc")),  # no number: no bound, an order
        ("наушники не дорогие", ("наушники", "price_asc")),  # недорогие typed apart
        ("ноутбук не дорого", ("ноутбук", "price_asc")),
        ("самый дешовый смартфон", ("смартфон", "price_asc")),  # ё typed as о
        ("дишевые наушники", ("наушники", "price_asc")),
        ("дешевенькие кеды", ("кеды", "price_asc")),
    ],
)
def test_a_price_order_said_in_words_is_read(query: str, expected: tuple[str, str]) -> None:
    assert price_order(query) == expected


@pytest.mark.parametrize(
    "query",
    ["дорогой ноутбук", "подарок дорогому человеку", "самый лучший ноутбук", "дорога", "наушники"],
)
def test_dear_alone_is_no_price_order(query: str) -> None:
    """«дорогой» alone is also «dear» and a form of «дорога»: only самый дорогой, подороже
    and дороже (with no number) ask for the dearest first."""
    assert price_order(query) is None


def _page(*prices: tuple[str, float, float]) -> SearchPage:
    return SearchPage(
        total=len(prices),
        hits=[SearchHit(i, score, {"price": {"amount": p}}) for i, score, p in prices],
    )


def test_ordered_by_price_orders_the_band_of_the_best_score_and_pages_join_up() -> None:
    """Laptops score ~50, a backpack «для ноутбука» ~5: the laptops by price, the backpack
    after them however cheap; a page past the window is the relevance order's."""
    found = _page(
        ("a", 54.0, 90_000), ("b", 51.0, 60_000), ("c", 50.0, 75_000), ("bag", 5.0, 1_500)
    )
    asked: list[tuple[str, str, int, int]] = []

    def search(text: str, sort: str, limit: int, offset: int) -> SearchPage:
        asked.append((text, sort, limit, offset))
        return found

    page = ordered_by_price(search, "ноутбук", "price_asc", 10, 0)
    assert [h.product_id for h in page.hits] == ["b", "c", "a", "bag"]
    assert page.total == 4
    dear = ordered_by_price(search, "ноутбук", "price_desc", 2, 1)
    assert [h.product_id for h in dear.hits] == ["c", "b"]
    ordered_by_price(search, "ноутбук", "price_asc", 10, PRICE_ORDER_WINDOW)
    assert asked[-1] == ("ноутбук", "relevance", 10, PRICE_ORDER_WINDOW)
    ordered_by_price(search, "", "price_asc", 10, 0)  # the order words only: every product
    assert asked[-1] == ("", "price_asc", 10, 0)


def test_a_hit_named_what_was_asked_is_ordered_whatever_its_score() -> None:
    """A keyboard named by a whole sentence scores under half the best (BM25's length
    norm), but its name says клавиатура: it is ordered with the others; a backpack «для
    ноутбука» in the description only is not."""
    found = SearchPage(
        total=4,
        hits=[
            SearchHit("a", 46.6, {"name": "Механическая клавиатура Z3", "price": {"amount": 6769}}),
            SearchHit("b", 38.1, {"name": "Клавиатура распродана", "price": {"amount": 19539}}),
            SearchHit("c", 17.7, {"name": "<b>x</b> y z клавиатура", "price": {"amount": 4409}}),
            SearchHit("d", 5.0, {"name": "Рюкзак городской", "price": {"amount": 1500}}),
        ],
    )
    page = ordered_by_price(lambda *_: found, "клавиатура", "price_asc", 10, 0)
    assert [h.product_id for h in page.hits] == ["c", "a", "b", "d"]


def test_the_order_keeps_to_the_hits_with_the_most_of_the_words_asked() -> None:
    """Probe round 35: nothing has «монитор 27 дюймов» all, so "any word" ranks, and the
    24" monitors score within a tenth of the 27" ones: a price order over both listed the
    cheaper 24" first. The hits with the most of the words asked (монитор, 27) come first,
    by price; the others after them."""

    def monitor(pid: str, score: float, inches: str, price: float) -> SearchHit:
        product = {
            "name": f"Монитор {pid}",
            "specifications": {"Диагональ": inches},
            "price": {"amount": price},
        }
        return SearchHit(pid, score, product)

    found = SearchPage(
        total=3,
        hits=[
            monitor("a", 59.6, '27"', 40_000),
            monitor("b", 56.0, '27"', 30_000),
            monitor("c", 53.9, '24"', 16_000),
        ],
    )
    page = ordered_by_price(lambda *_: found, "монитор 27 дюймов", "price_asc", 10, 0)
    assert [h.product_id for h in page.hits] == ["b", "a", "c"]


def test_pages_of_a_price_order_join_up_across_the_windows_end() -> None:
    """The web page asks 12 at a time: the page at offset 96 runs past the window of 100.
    It was the relevance order's whole, which repeats some of the window's hits and skips
    others; now it ends the window's order and goes on with the relevance order's."""
    found = [
        SearchHit(f"p{i}", 100.0 - i * 0.1, {"name": "Ноутбук", "price": {"amount": 1000 - i}})
        for i in range(130)
    ]

    def search(text: str, sort: str, limit: int, offset: int) -> SearchPage:
        assert sort == "relevance"
        return SearchPage(total=len(found), hits=found[offset : offset + limit])

    shown = [
        hit.product_id
        for offset in range(0, 132, 12)
        for hit in ordered_by_price(search, "ноутбук", "price_asc", 12, offset).hits
    ]
    assert sorted(shown) == sorted(h.product_id for h in found)  # each once
    assert shown[:100] == [f"p{i}" for i in range(99, -1, -1)]  # the window by price
    assert shown[100:] == [f"p{i}" for i in range(100, 130)]  # then as found
