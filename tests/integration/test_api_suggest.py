"""Suggest-as-you-type over the real client API (uvicorn), broker and embedded index."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.conftest import wait_for
from tests.integration.test_client_api import (
    ADMIN,
    ApiServer,
    api_settings,
    catalogue,
    seed_index,
)

from vitrina.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api(
    broker_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, list[dict[str, Any]]]]:
    settings = api_settings(broker_settings, tmp_path_factory.mktemp("suggest"))
    products = catalogue()
    seed_index(settings, products)
    with ApiServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        yield http, products


def _names(client: httpx.Client, q: str) -> list[str]:
    response = client.get("/api/v1/suggest", params={"q": q})
    assert response.status_code == 200, response.text
    return [s["name"] for s in response.json()["suggestions"]]


def test_a_partly_typed_word_completes_to_product_names(
    api: tuple[httpx.Client, list[dict[str, Any]]],
) -> None:
    client, _ = api
    names = _names(client, "клавиат")
    assert names and all("лавиатур" in n for n in names), names
    assert len(names) == len(set(names)) <= 8
    assert _names(client, "") == []
    assert client.get("/api/v1/suggest", params={"q": "x", "limit": 0}).status_code == 422


def test_a_banned_product_is_never_suggested(
    api: tuple[httpx.Client, list[dict[str, Any]]],
) -> None:
    client, products = api
    target = next(p for p in products if p["name"].startswith("Клавиатура распродана"))
    assert "Клавиатура распродана" in _names(client, "клавиатура распрод")
    response = client.post(
        f"/api/v1/bans/{target['product_id']}",
        json={"reason": "qa"},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert response.status_code == 201, response.text
    wait_for(
        lambda: "Клавиатура распродана" not in _names(client, "клавиатура распрод"),
        20,
        message="the banned product to leave the suggestions",
    )


def test_a_word_search_reads_is_suggested_though_no_name_begins_with_it(
    api: tuple[httpx.Client, list[dict[str, Any]]],
) -> None:
    """No name begins with мышку or наушнеки (Мышь, Наушники), so the names completed
    nothing; search reads both, and so do suggestions now (`search.completion`)."""
    client, _ = api
    for typed, start in (("мышку", "Мышь"), ("наушнеки", "Наушники")):
        names = _names(client, typed)
        assert names and all(n.startswith(start) for n in names), (typed, names)


def test_a_word_begun_on_the_other_layout_or_with_one_slip_is_suggested(
    api: tuple[httpx.Client, list[dict[str, Any]]],
) -> None:
    """A blind review: «ноту», «кофимаш» (one slip in a begun word) and «cvfh», «gkfy»,
    «ыфьы» (begun on the other keyboard layout) completed nothing; search reads only a
    whole word so. A lone begun word that nothing completes is read as retyped."""
    client, products = api
    for typed, word in (("клвиа", "клавиатур"), ("rkfdbf", "клавиатур"), ("vsi", "мыш")):
        assert any(word in p["name"].lower() for p in products)
        names = _names(client, typed)
        assert names and all(word in n.lower() for n in names), (typed, names)
