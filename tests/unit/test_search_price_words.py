"""Prices typed the short way, counted things that are no price, «не дороже», and «в наличии»
(search/price_words.py, search/typed_filters.py)."""

from __future__ import annotations

import pytest

from vitrina.search.base import SearchFilters
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
