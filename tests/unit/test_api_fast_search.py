"""The search fast path accepts only parameters on which FastAPI would read the same values."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from vitrina.api.fast_search import parse_search
from vitrina.search.base import SearchFilters


def parsed(params: dict[str, str] | list[tuple[str, str]], header: str | None = None):  # type: ignore[no-untyped-def]
    return parse_search(urlencode(params).encode(), header)


def test_plain_parameters_are_read_as_fastapi_reads_them() -> None:
    request = parsed(
        {
            "q": "умные часы",
            "category": "Электроника",
            "brand": "",
            "price_min": "10",
            "price_max": "80000.5",
            "in_stock": "true",
            "sort": "price_desc",
            "limit": "20",
            "offset": "40",
            "user": "Charlie",
        }
    )
    assert request is not None
    assert request.q == "умные часы" and request.sort == "price_desc"
    assert request.filters == SearchFilters(
        category="Электроника", brand=None, price_min=10.0, price_max=80000.5, in_stock=True
    )
    assert (request.limit, request.offset, request.user) == (20, 40, "Charlie")


def test_defaults_and_the_user_header() -> None:
    request = parse_search(b"", "Eva")
    assert request is not None
    assert (request.q, request.sort, request.limit, request.offset) == ("", "relevance", 10, 0)
    assert request.filters == SearchFilters() and request.user == "Eva"
    assert parse_search(b"in_stock=0", None).filters.in_stock is False  # type: ignore[union-attr]
    assert parse_search(b"user=", None).user == "anonymous"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "params",
    [
        [("q", "a"), ("q", "b")],  # repeated: FastAPI's rule decides
        {"unknown": "1"},
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "010"},
        {"limit": "ten"},
        {"offset": "10001"},
        {"offset": "-1"},
        {"price_max": "1e3"},
        {"price_max": " 5"},
        {"price_min": "-1"},
        {"price_max": "10000000000000"},  # over 1e12
        {"price_max": "nan"},
        {"in_stock": "True"},
        {"in_stock": "yes"},
        {"sort": "name"},
        {"q": "я" * 10_001},
        {"category": "x" * 201},
        {"user": "u" * 101},
    ],
)
def test_anything_else_goes_to_the_fastapi_route(
    params: dict[str, str] | list[tuple[str, str]],
) -> None:
    assert parsed(params) is None


def test_a_long_user_header_goes_to_the_fastapi_route() -> None:
    assert parse_search(b"q=x", "u" * 101) is None


def test_the_client_api_serves_searches_through_the_fast_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vitrina.api.fast_search import FastSearch
    from vitrina.services.client_api import create_app
    from vitrina.settings import load_settings

    app = create_app(load_settings(data_dir=tmp_path))
    assert [m.cls for m in app.user_middleware][-1] is FastSearch  # innermost: after metrics
