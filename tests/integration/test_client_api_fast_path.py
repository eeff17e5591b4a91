"""GET /api/v1/search answered by the fast path (api/fast_search.py) is the FastAPI route's
answer: same body, headers, metrics, query log and live ban re-check; what the fast path
does not accept still gets the route's own validation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from tests.conftest import wait_for
from tests.integration.test_client_api import (
    ADMIN,
    ApiServer,
    api_settings,
    catalogue,
    seed_index,
)

from vitrina.kafka.inspect import read_to_end
from vitrina.settings import Settings

pytestmark = pytest.mark.integration

# `route=fastapi` is a parameter the route ignores and the fast path refuses: the same search
# is then answered by the FastAPI route.
VIA_ROUTE = {"route": "fastapi"}
SEARCHES: list[dict[str, Any]] = [
    {"q": "клавиатура"},
    {"q": "умные часы", "limit": 5, "offset": 1},
    {"q": "", "category": "Электроника", "sort": "price_asc", "limit": 20},
    {"q": "кроссовки", "in_stock": "true", "price_min": 100, "price_max": 50000.5},
    {"q": "ноутбук", "sort": "price_desc", "in_stock": "false", "brand": ""},
    {"q": "!!!"},
    {"q": "zzzzqqqq несуществующее"},
    {"q": "клавиатура до 5к в наличии"},  # typed filters: "understood"
    {"q": "самая дешевая клавиатура"},  # a price order said in words
    {"q": "самая дешевая клавиатура", "sort": "price_desc"},  # the caller's sort wins
]


@pytest.fixture(scope="module")
def served(
    broker_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, list[dict[str, Any]], httpx.Client]]:
    settings = api_settings(broker_settings, tmp_path_factory.mktemp("fast"))
    products = catalogue(200)
    seed_index(settings, products)
    with ApiServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        yield settings, products, http


def without_latency(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body.pop("latency_ms") >= 0
    return body


@pytest.mark.parametrize("params", SEARCHES)
def test_fast_path_answers_as_the_route_does(
    served: tuple[Settings, list[Any], httpx.Client], params: dict[str, Any]
) -> None:
    http = served[2]
    fast = http.get("/api/v1/search", params=params)
    route = http.get("/api/v1/search", params={**params, **VIA_ROUTE})
    assert without_latency(fast) == without_latency(route)
    for name in ("content-type", "content-security-policy", "x-content-type-options"):
        assert fast.headers[name] == route.headers[name]


def test_forms_the_fast_path_refuses_get_the_routes_validation(
    served: tuple[Settings, list[Any], httpx.Client],
) -> None:
    http = served[2]
    for bad in ({"limit": 0}, {"limit": "ten"}, {"offset": -1}, {"sort": "name"}):
        response = http.get("/api/v1/search", params={"q": "x", **bad})
        assert response.status_code == 422 and response.json()["error"]["message"]
    # Pydantic's lax forms are still accepted by the route.
    loose = http.get("/api/v1/search", params={"q": "клавиатура", "in_stock": "True"})
    strict = http.get("/api/v1/search", params={"q": "клавиатура", "in_stock": "true"})
    assert without_latency(loose) == without_latency(strict)


def test_fast_path_is_measured_and_logged(
    served: tuple[Settings, list[Any], httpx.Client],
) -> None:
    settings, _, http = served

    def searches_counted() -> float:
        for line in http.get("/metrics").text.splitlines():
            if line.startswith("vitrina_api_requests_total{") and (
                'route="/api/v1/search"' in line and 'status="200"' in line
            ):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = searches_counted()
    marker = "гантели fastlog"
    http.get("/api/v1/search", params={"q": marker, "user": "Dana"})
    http.get("/api/v1/search", params={"q": marker}, headers={"X-User-Id": "Erin"})
    assert searches_counted() == before + 2

    def logged() -> list[dict[str, Any]] | None:
        records = [
            orjson.loads(m.value())
            for m in read_to_end(settings, [settings.topics.client_queries], 10)
        ]
        mine = [r for r in records if r["query"] == marker]
        return mine if len(mine) == 2 else None

    users = {r["user_id"] for r in wait_for(logged, 20, message="both searches logged")}
    assert users == {"Dana", "Erin"}


def test_a_ban_vanishes_from_fast_path_results_at_once(
    served: tuple[Settings, list[Any], httpx.Client],
) -> None:
    _, products, http = served
    target = products[60]
    params = {"q": target["name"], "limit": 50}

    def shown() -> bool:
        items = http.get("/api/v1/search", params=params).json()["items"]
        return any(i["product_id"] == target["product_id"] for i in items)

    assert shown()
    auth = {"Authorization": f"Bearer {ADMIN}"}
    banned = http.post(f"/api/v1/bans/{target['product_id']}", json={"reason": "t"}, headers=auth)
    assert banned.status_code == 201, banned.text
    wait_for(lambda: not shown(), 20, message="the banned product to leave fast-path results")
    assert http.delete(f"/api/v1/bans/{target['product_id']}", headers=auth).status_code == 200
    wait_for(shown, 20, message="the unbanned product to come back")


def test_the_answer_says_how_the_query_was_read(
    served: tuple[Settings, list[Any], httpx.Client],
) -> None:
    """ "understood": the words looked for and what the query typed besides them; null
    for a plain query. The same on both paths (test_fast_path_answers_as_the_route_does)."""
    http = served[2]

    def read(**params: Any) -> Any:
        return without_latency(http.get("/api/v1/search", params=params))["understood"]

    assert read(q="клавиатура до 5к в наличии") == {
        "q": "клавиатура",
        "price_max": 5000.0,
        "in_stock": True,
    }
    assert read(q="самая дешевая клавиатура") == {"q": "клавиатура", "sort": "price_asc"}
    assert read(q="самая дешевая клавиатура", sort="price_desc") is None
    assert read(q="клавиатура") is None
    # a typed bound the caller's contradicts is searched as words: nothing was read
    assert read(q="клавиатура до 5к", price_min=6000) is None
    assert read(q="клавиатура до 5к", price_max=9000) == {"q": "клавиатура", "price_max": 5000.0}
    cheapest = http.get("/api/v1/search", params={"q": "самая дешевая клавиатура"}).json()
    prices = [item["price"]["amount"] for item in cheapest["items"]]
    assert len(prices) >= 2 and prices == sorted(prices)
