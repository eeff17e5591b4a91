"""Prices typed the short way, and counted things that are no price (search/price_words.py)."""

from __future__ import annotations

import pytest

from vitrina.search.price_words import price_from_words


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
