"""SHOP API over a real uvicorn server and the real embedded broker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from tests.conftest import free_port
from tests.support import UvicornThread, WatchedClaims

from vitrina.domain.generator import generate_catalog
from vitrina.domain.limits import MAX_RECORD_BYTES
from vitrina.kafka.inspect import read_to_end
from vitrina.services.shop_api import create_app, shop_tokens
from vitrina.services.shop_load import load_paths
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
    settings = make_settings(
        ports={"shop_api": free_port()}, api={"max_batch": 5, "max_body_bytes": 16384}
    )
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
    assert "nothing of the batch was written" in body["error"]["message"]
    assert body["error"]["status"] == 422
    assert [(e["index"], e["field"], e["rule"]) for e in body["error"]["errors"]] == [
        (1, "price.amount", "minimum"),
        (3, "(root)", "required"),
    ]
    assert _written(settings) == []
    assert (
        'vitrina_shop_products_rejected_total{reason="minimum",source="api"}'
        in http.get("/metrics").text
    )


def test_tokens_and_store_ownership(shop) -> None:
    settings, http, tokens = shop
    [product] = _products(1, seed=11)
    assert http.post("/api/v1/products", json=product).status_code == 401
    r = http.post("/api/v1/products", json=product, headers=_auth("nope"))
    assert r.status_code == 401 and "unknown token" in r.json()["error"]["message"]
    foreign = {**product, "store_id": "store_004"}
    r = http.post("/api/v1/products", json=[product, foreign], headers=_auth(tokens["store_001"]))
    assert r.status_code == 403 and "index [1]" in r.json()["error"]["message"]
    assert _written(settings) == []
    assert (settings.secrets_dir / "shop-tokens.json").stat().st_mode & 0o777 == 0o600


def test_a_store_id_that_names_no_store_is_not_another_stores(shop) -> None:
    """Seen on the running platform: `"store_id": null`, which the contract allows (a product
    without a store), and `"store_id": 5` were both refused with 403 "name another store"."""
    settings, http, tokens = shop
    first, second = _products(2, seed=13)
    r = http.post(
        "/api/v1/products", json={**first, "store_id": None}, headers=_auth(tokens["store_002"])
    )
    assert r.status_code == 200, r.text
    assert [p["store_id"] for p in _written(settings)] == ["store_002"]
    r = http.post(
        "/api/v1/products", json={**second, "store_id": 5}, headers=_auth(tokens["store_002"])
    )
    assert r.status_code == 422, r.text
    [error] = r.json()["error"]["errors"]
    assert (error["field"], error["rule"]) == ("store_id", "type")


def test_a_compressed_body_is_refused_for_what_it_is(shop) -> None:
    """Seen: a gzip body (Content-Encoding: gzip) was read as JSON and refused with 400
    "str is not valid UTF-8", which sends the store looking for an encoding problem."""
    import gzip

    settings, http, tokens = shop
    [product] = _products(1, seed=17)
    headers = {
        **_auth(tokens["store_001"]),
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    r = http.post("/api/v1/products", content=gzip.compress(orjson.dumps(product)), headers=headers)
    assert r.status_code == 415, r.text
    assert "gzip" in r.json()["error"]["message"]
    assert _written(settings) == []
    headers["Content-Encoding"] = "identity"
    r = http.post("/api/v1/products", content=orjson.dumps(product), headers=headers)
    assert r.status_code == 200, r.text


def test_a_form_upload_is_refused_for_what_it_is(shop) -> None:
    """Seen: `curl -F file=@catalog.json` (multipart/form-data) was read as JSON and refused
    with 400 "malformed JSON: no digit after sign", which says nothing of the upload."""
    settings, http, tokens = shop
    [product] = _products(1, seed=19)
    r = http.post(
        "/api/v1/products",
        files={"file": ("catalog.json", orjson.dumps([product]), "application/json")},
        headers=_auth(tokens["store_001"]),
    )
    assert r.status_code == 415, r.text
    assert "multipart/form-data" in r.json()["error"]["message"]
    assert "--data-binary" in r.json()["error"]["hint"]
    assert _written(settings) == []
    # `curl -d` sends the catalogue as application/x-www-form-urlencoded: still read as JSON.
    headers = {**_auth(tokens["store_001"]), "Content-Type": "application/x-www-form-urlencoded"}
    r = http.post("/api/v1/products", content=orjson.dumps([product]), headers=headers)
    assert r.status_code == 200, r.text


def test_a_utf16_body_is_refused_for_what_it_is(shop) -> None:
    """Seen: a UTF-16 body got 400 "malformed JSON: str is not valid UTF-8: surrogates not
    allowed: line 1 column 1", which does not say what to change."""
    _settings, http, tokens = shop
    [product] = _products(1, seed=19)
    headers = {**_auth(tokens["store_001"]), "Content-Type": "application/json"}
    body = orjson.dumps(product).decode().encode("utf-16")
    r = http.post("/api/v1/products", content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert "UTF-16" in r.json()["error"]["message"]


def test_a_store_can_send_json_lines(shop) -> None:
    _settings, http, tokens = shop
    products = _products(2)
    body = b"".join(orjson.dumps(p) + b"\n" for p in products)
    headers = {**_auth(tokens["store_001"]), "Content-Type": "application/x-ndjson"}
    r = http.post("/api/v1/products", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["product_ids"] == [p["product_id"] for p in products]


def test_a_catalogue_of_bare_prices_is_admitted_in_the_currency_it_declares(shop) -> None:
    """Seen in another course project's catalogue (JSON Lines, 33 products): `id` and a bare
    `price`, no currency anywhere — each refused, and nothing guesses one. The store says
    it for the whole request; the refusal said how."""
    settings, http, tokens = shop
    lines = [
        {"id": "p1001", "name": "Смартфон XYZ", "category": "Electronics", "price": 299.99},
        {"id": "p1002", "name": "Ноутбук Pro", "category": "Computers", "price": "899,00"},
    ]
    body = b"".join(orjson.dumps(p) + b"\n" for p in lines)
    headers = {**_auth(tokens["store_004"]), "Content-Type": "application/x-ndjson"}
    r = http.post("/api/v1/products", content=body, headers=headers)
    assert r.status_code == 422, r.text
    assert "?currency=RUB" in r.json()["error"]["hint"]
    r = http.post("/api/v1/products?currency=rub", content=body, headers=headers)
    assert r.status_code == 400 and "not a currency" in r.json()["error"]["message"], r.text
    assert _written(settings) == []
    r = http.post("/api/v1/products?currency=RUB", content=body, headers=headers)
    assert r.status_code == 200, r.text
    written = {p["product_id"]: p for p in _written(settings)}
    assert written["p1001"]["price"] == {"amount": 299.99, "currency": "RUB"}
    assert written["p1002"]["price"] == {"amount": 899.0, "currency": "RUB"}
    assert written["p1002"]["store_id"] == "store_004"
    spec = http.get("/openapi.json").json()["paths"]["/api/v1/products"]["post"]
    assert [p["name"] for p in spec["parameters"]] == ["currency", "category"]
    # /docs without a CDN (api/docs.py): the page, its start-up script, Swagger UI's files
    docs = http.get("/docs").text
    assert "cdn." not in docs and "/docs-files/swagger-ui-bundle.js" in docs
    assert "SwaggerUIBundle" in http.get("/docs/start.js").text
    assert http.get("/docs-files/swagger-ui-bundle.js").status_code == 200


def test_a_catalogue_without_categories_is_admitted_in_the_category_it_declares(shop) -> None:
    """Seen in another course project's catalogue: a minimal product with no category (and
    no brand, index…) — refused, and nothing guesses one. The store says it for the
    request; a product that names its own keeps it."""
    settings, http, tokens = shop
    products = [
        {"product_id": "34567", "name": "Ручка", "price": {"amount": 35, "currency": "BYN"}},
        {"product_id": "34568", "name": "Книга", "price": 20, "category": "Книги"},
    ]
    headers = _auth(tokens["store_005"])
    r = http.post("/api/v1/products", json=products, headers=headers)
    assert r.status_code == 422, r.text
    r = http.post("/api/v1/products", json=products[:1], headers=headers)
    assert r.status_code == 422 and "?category=" in r.json()["error"]["hint"], r.text
    r = http.post("/api/v1/products?category=%20", json=products, headers=headers)
    assert r.status_code == 400 and "not a category" in r.json()["error"]["message"], r.text
    # A blind review: bytes that are no UTF-8 were stored as the category "��".
    r = http.post("/api/v1/products?category=%ff%fe", json=products, headers=headers)
    assert r.status_code == 400 and "not UTF-8" in r.json()["error"]["message"], r.text
    assert _written(settings) == []
    query = "?category=Канцелярия&currency=BYN"
    r = http.post(f"/api/v1/products{query}", json=products, headers=headers)
    assert r.status_code == 200, r.text
    written = {p["product_id"]: p for p in _written(settings)}
    assert written["34567"]["category"] == "Канцелярия"
    assert written["34568"]["category"] == "Книги"
    assert written["34568"]["price"] == {"amount": 20, "currency": "BYN"}


def test_bad_bodies_get_precise_4xx(shop) -> None:
    _settings, http, tokens = shop
    headers = {**_auth(tokens["store_001"]), "Content-Type": "application/json"}
    r = http.post("/api/v1/products", content=b'{"product_id": ', headers=headers)
    assert r.status_code == 400 and "malformed JSON" in r.json()["error"]["message"]
    r = http.post("/api/v1/products", json=_products(6), headers=headers)
    assert r.status_code == 413 and "limit of 5" in r.json()["error"]["message"]
    r = http.post("/api/v1/products", content=b"[" + b" " * 20000 + b"]", headers=headers)
    assert r.status_code == 413 and "byte limit" in r.json()["error"]["message"]
    r = http.post("/api/v1/products", json=[], headers=headers)
    assert r.status_code == 400
    # Seen: the wrapper with an empty list was judged as one product (422 "product_id is a
    # required property"), not as the empty batch it is.
    r = http.post("/api/v1/products", json={"products": []}, headers=headers)
    assert r.status_code == 400 and "empty" in r.json()["error"]["message"], r.text


def test_broker_away_is_503_and_nothing_accepted(make_settings) -> None:
    settings = make_settings(
        create_topics=False,
        ports={"shop_api": free_port()},
        kafka={"bootstrap_servers": f"127.0.0.1:{free_port()}"},
    )
    token = _tokens(settings)["store_001"]
    with ShopServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        r = http.post("/api/v1/products", json=_products(1), headers=_auth(token))
        assert r.status_code == 503, r.text
        # Either the ownership view or the write says the broker is away; never a 500.
        assert r.headers["Retry-After"]
        assert (
            "ownership" in r.json()["error"]["message"]
            or "did not confirm" in r.json()["error"]["message"]
        )
        assert http.get("/healthz").status_code == 200


def _deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {}
    for _ in range(levels - 1):
        node = {"a": node}
    return node


def test_records_that_cannot_flow_are_4xx_naming_the_rule(make_settings) -> None:
    """Issue 12 item 4: nesting past orjson's limit or a record over Kafka's size was a 500."""
    settings = make_settings(
        ports={"shop_api": free_port()}, api={"max_body_bytes": 4 * 1024 * 1024}
    )
    token = _tokens(settings)["store_001"]
    [product] = _products(1, seed=21)
    with ShopServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        r = http.post(
            "/api/v1/products", json={**product, "extra": _deep(300)}, headers=_auth(token)
        )
        assert r.status_code == 422, r.text
        assert r.json()["error"]["errors"][0]["rule"] == "depth"
        deeper = orjson.dumps(product)[:-1] + b',"x":' + b'{"a":' * 1100 + b"1" + b"}" * 1101
        r = http.post(
            "/api/v1/products",
            content=deeper,
            headers={**_auth(token), "Content-Type": "application/json"},
        )
        assert r.status_code == 422 and "rule: depth" in r.json()["error"]["message"], r.text
        big = {**product, "extra": "x" * (MAX_RECORD_BYTES + 10)}
        r = http.post("/api/v1/products", json=big, headers=_auth(token))
        assert r.status_code == 422, r.text
        assert r.json()["error"]["errors"][0]["rule"] == "size"
        assert http.post("/api/v1/products", json=product, headers=_auth(token)).status_code == 200
    assert [p["product_id"] for p in _written(settings)] == [product["product_id"]]


def test_a_store_cannot_overwrite_another_stores_product(make_settings, tmp_path) -> None:
    """Issue 12 item 7: store_002 replaced store_001's product by omitting store_id."""
    settings = make_settings(ports={"shop_api": free_port()})
    tokens = _tokens(settings)
    [mine, loaded] = _products(2, seed=31)
    catalogue = tmp_path / "store1.json"
    catalogue.write_bytes(orjson.dumps([{**loaded, "store_id": "store_001"}]))
    assert load_paths(settings, [catalogue]).sent == 1  # the loader claims it for store_001
    with ShopServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        assert (
            http.post("/api/v1/products", json=mine, headers=_auth(tokens["store_001"])).status_code
            == 200
        )
        thief = {**mine, "name": "подмена", "price": {"amount": 1.0, "currency": "RUB"}}
        r = http.post("/api/v1/products", json=thief, headers=_auth(tokens["store_002"]))
        assert r.status_code == 403, r.text
        assert "rule: owner" in r.json()["error"]["message"]
        assert "store_001" in r.json()["error"]["message"]
        assert r.json()["error"]["errors"][0]["rule"] == "owner"
        r = http.post(
            "/api/v1/products",
            json={**loaded, "name": "подмена"},
            headers=_auth(tokens["store_002"]),
        )
        assert r.status_code == 403, r.text
    # A new process (restart) folds ownership from the topic, not from memory.
    with ShopServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        r = http.post("/api/v1/products", json=mine, headers=_auth(tokens["store_002"]))
        assert r.status_code == 403, r.text
        r = http.post(
            "/api/v1/products",
            json={**mine, "name": "обновлён"},
            headers=_auth(tokens["store_001"]),
        )
        assert r.status_code == 200, r.text
    names = [p["name"] for p in _written(settings) if p["product_id"] == mine["product_id"]]
    assert names == [mine["name"], "обновлён"]


def test_seed_date_forms_are_accepted_and_normalised(shop) -> None:
    """Issue 12 item 14: naive / space-separated / epoch instants, stored canonical (UTC)."""
    settings, http, tokens = shop
    a, b, c = _products(3, seed=41)
    a["created_at"] = "2025-08-01 16:33:58"
    b["created_at"], b["updated_at"] = "2025-08-13T13:44:54.019379", 1754000000
    c["created_at"] = "2025-08-01T19:33:58+03:00"
    r = http.post("/api/v1/products", json=[a, b, c], headers=_auth(tokens["store_001"]))
    assert r.status_code == 200, r.text
    written = {p["product_id"]: p for p in _written(settings)}
    assert written[a["product_id"]]["created_at"] == "2025-08-01T16:33:58Z"
    assert written[b["product_id"]]["created_at"] == "2025-08-13T13:44:54.019379Z"
    assert written[b["product_id"]]["updated_at"] == "2025-07-31T22:13:20Z"
    assert written[c["product_id"]]["created_at"] == "2025-08-01T16:33:58Z"


def test_one_contract_refuses_what_the_lake_cannot_store(shop) -> None:
    """Issue 12 item 16: stock 2^63 and a leap second were indexed but dead-lettered."""
    settings, http, tokens = shop
    a, b = _products(2, seed=51)
    a["stock"] = {"available": 2**63, "reserved": 0}
    b["created_at"] = "2016-12-31T23:59:60Z"
    r = http.post("/api/v1/products", json=[a, b], headers=_auth(tokens["store_001"]))
    assert r.status_code == 422
    assert [(e["field"], e["rule"]) for e in r.json()["error"]["errors"]] == [
        ("stock.available", "maximum"),
        ("created_at", "pattern"),
    ]
    assert _written(settings) == []


def test_openapi_documents_body_auth_and_errors(shop) -> None:
    """Issue 13 item 5: the spec had no request body, no auth and no error codes."""
    _settings, http, _ = shop
    spec = http.get("/openapi.json").json()
    post = spec["paths"]["/api/v1/products"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/Product"} in schema["oneOf"]
    assert "product_id" in spec["components"]["schemas"]["Product"]["properties"]
    assert post["security"] == [{"StoreToken": []}]
    assert spec["components"]["securitySchemes"]["StoreToken"]["scheme"] == "bearer"
    assert {"200", "400", "401", "403", "413", "422", "503"} <= set(post["responses"])
    assert post["responses"]["403"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }


def test_a_batchs_products_are_produced_after_its_claims_are_acknowledged(make_settings) -> None:
    """An API killed between a batch's claims and its products must leave claims without
    products, never a product published unclaimed for another store to take over: before,
    both went out together and the API only waited for all of them at the end."""
    from vitrina.kafka.produce import make_producer
    from vitrina.services.shop_api import ProductWriter

    settings = make_settings()
    watched = WatchedClaims(make_producer(settings, "shop-api"), settings.topics.product_owners)
    writer = ProductWriter(settings, producer=watched)  # type: ignore[arg-type]
    products = [(p["product_id"], orjson.dumps(p)) for p in generate_catalog(20, seed=3)]
    writer.write(products, 30, claims=[(key, "store_001") for key, _ in products])
    kinds = [kind for kind, _ in watched.events]
    assert kinds.count("claim acknowledged") == 20 and kinds.count("product produced") == 20
    assert kinds[:20] == ["claim acknowledged"] * 20, kinds
    assert all(err is None for _, err in watched.events)
    published = {m.key().decode() for m in read_to_end(settings, [settings.topics.shop_products])}
    assert published == {key for key, _ in products}
