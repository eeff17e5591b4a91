"""The search fast path accepts only parameters on which FastAPI would read the same values."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.test_search_page_cache import QueryLog, product

from vitrina.api.deps import AppState
from vitrina.api.fast_search import CSP, parse_search, percent_encoded, query_pairs
from vitrina.search.base import SearchFilters
from vitrina.search.embedded import EmbeddedSearch
from vitrina.services.client_api import create_app
from vitrina.services.recs_view import LocalView
from vitrina.settings import load_settings


def parsed(params: dict[str, str] | list[tuple[str, str]], header: str | None = None):  # type: ignore[no-untyped-def]
    return parse_search(urlencode(params).encode(), header)


# Query strings as they reach the server: the characters that matter to the parse (&, =, +,
# %, hex digits) often, escapes valid and cut short, any other byte sometimes.
_QUERY_BYTES = st.lists(
    st.sampled_from(
        [b"&", b"=", b"+", b"%", b"q", b"0", b"D0", b"BF", b"e2", b"%D0%BF", b"%d0%bf", b"%C3"]
    )
    | st.binary(min_size=1, max_size=3),
    max_size=30,
).map(b"".join)


@given(_QUERY_BYTES)
def test_query_pairs_are_what_starlette_reads(query_string: bytes) -> None:
    """The fast parse against the one Starlette's QueryParams make (latin-1, then
    parse_qsl keeping blanks), on the bytes as sent and as `answer` percent-encodes them."""
    for sent in (query_string, percent_encoded(query_string)):
        assert query_pairs(sent) == parse_qsl(sent.decode("latin-1"), keep_blank_values=True)


def test_query_pairs_decode_escapes_as_unquote_does() -> None:
    assert query_pairs(b"q=%D0%BF%D0%B0%D0%BB+x&in_stock=&brand&%3D=%2B%zz%D0") == [
        ("q", "пал x"),
        ("in_stock", ""),
        ("brand", ""),
        ("=", "+%zz\ufffd"),
    ]


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


def test_a_plain_search_is_answered_before_the_middleware_stack(tmp_path: Path) -> None:
    """The client API's app answers a plain-form search itself: Starlette builds its
    middleware stack on the first request that reaches it, and a fast-path search does not
    (19 % of a worker's main thread went to that stack). The answer still carries the
    security headers every response has; a search the fast path refuses goes through it."""
    index = EmbeddedSearch(tmp_path / "ix")
    index.upsert([product("1", "Чайник стеклянный")])
    index.commit()
    settings = load_settings(data_dir=tmp_path / "data")
    state = AppState(settings, LocalView(settings), QueryLog(), "token", search_backend=index)  # type: ignore[arg-type]
    app = create_app(settings, state)

    async def get(query: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(f"/api/v1/search?{query}")

    fast = asyncio.run(get("q=чайник"))
    assert fast.status_code == 200 and fast.json()["total"] == 1
    assert fast.headers["x-content-type-options"] == "nosniff"
    assert fast.headers["content-security-policy"] == CSP
    assert app.middleware_stack is None  # never entered
    routed = asyncio.run(get("q=чайник&limit=1000"))  # out of range: the route's 422
    assert routed.status_code == 422 and routed.headers["referrer-policy"] == "no-referrer"
    assert app.middleware_stack is not None
    index.close()
