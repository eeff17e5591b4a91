"""SHOP API over a real uvicorn server and the real embedded broker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from tests.conftest import free_port
from tests.support import UvicornThread

from vitrina.domain.generator import generate_catalog
from vitrina.kafka.inspect import read_to_end
from vitrina.services.shop_api import create_app, shop_tokens
from vitrina.settings import Settings

pytestmark = pytest.mark.integration


class ShopServer(UvicornThread):
    """The SHOP API on a real uvicorn server, on the settings' shop_api port."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(create_app(settings), settings.ports.shop_api)


def _tokens(settings: Settings) -> dict[str, str]:
    """store_id -> token."""
    return {store: token for token, store in shop_tokens(settings).items()}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _products(n: int, seed: int = 5) -> list[dict[str, Any]]:
    products = list(generate_catalog(n, seed=seed))
    for p in products:
        del p["store_id"]
    return products


@pytest.fixture
def shop(make_settings) -> Iterator[tuple[Settings, httpx.Client, dict[str, str]]]:
    settings = make_settings(ports={"shop_api": free_port()},
                             api={"max_batch": 5, "max_body_bytes": 16384})
    with ShopServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        yield settings, http, _tokens(settings)


def _written(settings: Settings) -> list[dict[str, Any]]:
    return [orjson.loads(m.value()) for m in read_to_end(settings, [settings.topics.shop_products])]


def test_single_and_batch_are_written_with_the_tokens_store(shop) -> None:
    settings, http, tokens = shop
    one, *batch = _products(4)
    r = http.post("/api/v1/products", json=one, headers=_auth(tokens["store_002"]))
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 1, "store_id": "store_002", "product_ids": [one["product_id"]]}
    r = http.post("/api/v1/products", json=batch, headers=_auth(tokens["store_003"]))
    assert r.status_code == 200 and r.json()["accepted"] == 3
    written = {p["product_id"]: p for p in _written(settings)}
    assert set(written) == {p["product_id"] for p in [one, *batch]}
    assert written[one["product_id"]]["store_id"] == "store_002"
    assert written[batch[0]["product_id"]]["store_id"] == "store_003"
    assert written[one["product_id"]]["name"] == one["name"]
    text = http.get("/metrics").text
    assert 'vitrina_shop_products_accepted_total{source="api"}' in text
    assert "vitrina_api_requests_total" in text
    assert http.get("/healthz").json()["status"] == "ok"


def test_invalid_batch_is_refused_whole_with_every_error(shop) -> None:
    settings, http, tokens = shop
    batch = _products(4, seed=9)
    batch[1]["price"]["amount"] = -1
    del batch[3]["name"]
    r = http.post("/api/v1/products", json=batch, headers=_auth(tokens["store_001"]))
    assert r.status_code == 422
    body = r.json()
    assert "nothing of the batch was written" in body["error"]
    assert [(e["index"], e["field"], e["rule"]) for e in body["errors"]] == [
        (1, "price.amount", "minimum"), (3, "(root)", "required")]
    assert _written(settings) == []
    assert 'vitrina_shop_products_rejected_total{reason="minimum",source="api"}' in \
        http.get("/metrics").text


def test_tokens_and_store_ownership(shop) -> None:
    settings, http, tokens = shop
    [product] = _products(1, seed=11)
    assert http.post("/api/v1/products", json=product).status_code == 401
    r = http.post("/api/v1/products", json=product, headers=_auth("nope"))
    assert r.status_code == 401 and "unknown token" in r.json()["error"]
    foreign = {**product, "store_id": "store_004"}
    r = http.post("/api/v1/products", json=[product, foreign], headers=_auth(tokens["store_001"]))
    assert r.status_code == 403 and "index [1]" in r.json()["error"]
    assert _written(settings) == []
    assert (settings.secrets_dir / "shop-tokens.json").stat().st_mode & 0o777 == 0o600


def test_bad_bodies_get_precise_4xx(shop) -> None:
    _settings, http, tokens = shop
    headers = {**_auth(tokens["store_001"]), "Content-Type": "application/json"}
    r = http.post("/api/v1/products", content=b'{"product_id": ', headers=headers)
    assert r.status_code == 400 and "malformed JSON" in r.json()["error"]
    r = http.post("/api/v1/products", json=_products(6), headers=headers)
    assert r.status_code == 413 and "limit of 5" in r.json()["error"]
    r = http.post("/api/v1/products", content=b"[" + b" " * 20000 + b"]", headers=headers)
    assert r.status_code == 413 and "byte limit" in r.json()["error"]
    r = http.post("/api/v1/products", json=[], headers=headers)
    assert r.status_code == 400


def test_broker_away_is_503_and_nothing_accepted(make_settings) -> None:
    settings = make_settings(create_topics=False, ports={"shop_api": free_port()},
                             kafka={"bootstrap_servers": f"127.0.0.1:{free_port()}"})
    token = _tokens(settings)["store_001"]
    with ShopServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        r = http.post("/api/v1/products", json=_products(1), headers=_auth(token))
        assert r.status_code == 503, r.text
        assert "did not confirm" in r.json()["error"] and r.headers["Retry-After"]
        assert "0 of 1 confirmed" in r.json()["error"]
        assert http.get("/healthz").status_code == 200
