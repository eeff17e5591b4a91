"""Hostile input: hand-picked nasty requests, then a schemathesis run over the OpenAPI spec.

Both go over a real uvicorn server with the real broker and the real index. The rule: any
request a client can send gets a 2xx or a 4xx with the one error shape, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from tests.integration.test_client_api import (
    ADMIN,
    HOSTILE_NAME,
    ApiServer,
    api_settings,
    catalogue,
    seed_index,
)

from vitrina.settings import Settings

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture(scope="module")
def fuzz_url(broker_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = api_settings(broker_settings, tmp_path_factory.mktemp("fuzz"))
    seed_index(settings, catalogue(150))
    with ApiServer(settings) as server:
        yield server.url


@pytest.fixture(scope="module")
def http(fuzz_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzz_url, timeout=30) as client:
        yield client


def assert_clean(response: httpx.Response, allowed: tuple[int, ...] = (200,)) -> dict[str, Any]:
    assert response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    if response.status_code >= 400:
        error = body["error"]
        assert error["status"] == response.status_code and error["message"]
    else:
        assert response.status_code in allowed, response.text
    return body


SYNTAX = [
    '"',
    "'",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "^",
    "~",
    "*",
    "?",
    "\\",
    "/",
    "AND",
    "OR NOT",
    "+-",
    "title:",
    "*:*",
    "\x00",
    "\u202e",
    "🙂",
    "%",
    "&&",
    "||",
]


def test_query_syntax_characters_never_break_search(http: httpx.Client) -> None:
    for text in [*SYNTAX, " ".join(SYNTAX), "клавиатура)" * 3, "name:<script>", "   "]:
        body = assert_clean(http.get("/api/v1/search", params={"q": text}))
        assert isinstance(body["items"], list)


def test_ten_kilobyte_query(http: httpx.Client) -> None:
    body = assert_clean(http.get("/api/v1/search", params={"q": "клавиатура " * 900}))
    assert body["total"] >= 1
    too_long = http.get("/api/v1/search", params={"q": "я" * 10_001})
    assert too_long.status_code == 422 and too_long.json()["error"]["field"] == "q"


def test_html_in_names_is_returned_as_data(http: httpx.Client) -> None:
    body = assert_clean(http.get("/api/v1/search", params={"q": "клавиатура", "limit": 100}))
    names = [item["name"] for item in body["items"]]
    assert any(name.startswith(HOSTILE_NAME) for name in names), "JSON carries it verbatim"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "ten"},
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"price_min": "cheap"},
        {"price_min": -5},
        {"in_stock": "maybe"},
        {"sort": "random"},
        {"price_min": "nan"},
        {"price_max": "1e400"},
        {"category": "x" * 201},
    ],
)
def test_wrong_types_are_422(http: httpx.Client, params: dict[str, Any]) -> None:
    response = http.get("/api/v1/search", params={"q": "x", **params})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] in params


def test_a_price_that_is_no_number_says_so(http: httpx.Client) -> None:
    """nan and inf parse as floats: the answer named the range (less than or equal to
    1e12), which nan is not out of — it is not a finite number."""
    for value in ("nan", "inf", "-inf"):
        response = http.get("/api/v1/search", params={"q": "x", "price_min": value})
        assert response.status_code == 422, response.text
        assert "finite number" in response.json()["error"]["message"], response.text


def test_impossible_price_range_is_400(http: httpx.Client) -> None:
    response = http.get("/api/v1/search", params={"price_min": 100, "price_max": 1})
    assert response.status_code == 400 and "price_min" in response.json()["error"]["message"]


def test_unknown_users_and_products(http: httpx.Client) -> None:
    for user in ("nobody", "<script>", "Ёжик", "a" * 100, "...", "%00", "a b?c#d"):
        response = http.get(f"/api/v1/recommendations/{quote(user, safe='')}")
        assert response.status_code == 200, (user, response.text)
        assert response.json()["source"] in {"popular", "top-in-stock", "none"}
    assert http.get("/api/v1/recommendations/" + "a" * 101).status_code == 422
    assert http.get("/api/v1/products/" + "9" * 65).status_code == 422
    assert http.get("/api/v1/products/00000").status_code == 404
    assert http.get("/api/v1/nope").status_code == 404


def test_a_user_id_with_a_control_character_is_422_wherever_it_is_given(
    http: httpx.Client,
) -> None:
    """Seen: a user id with a newline or an escape was accepted, logged to client-queries
    and stored in the lake. Every door the client API has for one answers 422 naming it:
    the recommendations path, the search's `user` parameter (the fast path and FastAPI's
    give one answer) and X-User-Id header, an event's user_id."""
    for user in ("a\nb", "\x1b[2J", "x\x00", "\x85"):
        response = http.get(f"/api/v1/recommendations/{quote(user, safe='')}")
        assert response.status_code == 422, (user, response.text)
        for extra in ({}, {"sort": "price_asc", "limit": "3"}):
            response = http.get("/api/v1/search", params={"q": "чайник", "user": user, **extra})
            assert response.status_code == 422, (user, extra, response.text)
            assert response.json()["error"]["field"] == "user"
        body = {"user_id": user, "type": "view", "product_id": "1"}
        assert http.post("/api/v1/events", json=body).status_code == 422
    tab = http.get("/api/v1/search", params={"q": "чайник"}, headers={"X-User-Id": "a\tb"})
    assert tab.status_code == 422, tab.text
    fine = http.get("/api/v1/search", params={"q": "чайник", "user": "Анна Петрова"})
    assert fine.status_code == 200, fine.text


def test_bad_event_bodies(http: httpx.Client) -> None:
    for body in (
        {},
        {"user_id": "", "type": "view", "product_id": "1"},
        {"user_id": "u", "type": "view", "product_id": "1", "rating": 6},
        {"user_id": "u", "type": "view", "product_id": "1", "extra": 1},
        [1, 2],
        "text",
    ):
        assert_clean(http.post("/api/v1/events", json=body))
    raw = http.post(
        "/api/v1/events", content=b"\xff\xfe", headers={"Content-Type": "application/json"}
    )
    assert raw.status_code == 400  # not JSON at all: "malformed JSON", as b"\xff\xfe\x00"
    assert assert_clean(raw)["error"]["message"].startswith("malformed JSON")


def test_an_unparsable_event_body_says_what_to_send(http: httpx.Client) -> None:
    """Seen: a body nested 10,000 deep, or bytes that are no UTF-8 JSON, got 400 "There was
    an error parsing the body" with no hint."""
    headers = {"Content-Type": "application/json"}
    for body in (b"[" * 10_000 + b"]" * 10_000, b"\xff\xfe\x00"):
        response = http.post("/api/v1/events", content=body, headers=headers)
        error = assert_clean(response)["error"]
        assert response.status_code == 400, response.text
        assert error["hint"] and "JSON" in error["hint"], error


# -- schema-driven fuzzing ---------------------------------------------------------------
def test_openapi_fuzz_finds_no_server_error(fuzz_url: str) -> None:
    """Every operation of the spec, 30 generated requests each (operator ones with the token)."""
    schema = schemathesis.openapi.from_url(f"{fuzz_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "the spec lists every route"
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=30,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: Any) -> None:
            case.call_and_validate(headers=AUTH, checks=[not_a_server_error], timeout=30)

        no_server_error()
