"""The generators: deterministic, valid against the contracts, with real preference signal."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from importlib import resources

import orjson

from vitrina.contracts import validate
from vitrina.domain.catalog import dump_catalog
from vitrina.domain.generator import (
    CATALOGUE,
    customers,
    generate_catalog,
    generate_traffic,
)

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def test_catalog_is_deterministic_and_prefix_stable() -> None:
    first = list(generate_catalog(50, seed=7, now=NOW))
    assert first == list(generate_catalog(50, seed=7, now=NOW))
    assert list(generate_catalog(80, seed=7, now=NOW))[:50] == first
    assert first != list(generate_catalog(50, seed=8, now=NOW))


def test_catalog_products_are_valid_realistic_and_about_1kb() -> None:
    products = list(generate_catalog(1000, seed=1, now=NOW))
    for product in products:
        validate("product", product)
    assert products[0]["product_id"] == "100001"
    assert len({p["product_id"] for p in products}) == 1000
    assert {p["category"] for p in products} == set(CATALOGUE)
    assert {p["store_id"] for p in products} == {f"store_00{i}" for i in range(1, 6)}
    out_of_stock = sum(p["stock"]["available"] == 0 for p in products) / len(products)
    assert 0.04 < out_of_stock < 0.12
    mean_size = sum(len(orjson.dumps(p)) for p in products) / len(products)
    assert 800 < mean_size < 1500
    for product in products:
        assert product["created_at"] <= product["updated_at"] <= "2025-03-01T00:00:00Z"
        assert product["price"]["currency"] == "RUB" and product["price"]["amount"] > 0


def test_customers_have_stable_ids_and_preferences() -> None:
    few, many = customers(12, seed=3), customers(40, seed=3)
    assert few == many[:12]
    assert [c["customer_id"] for c in few[:3]] == ["Alice", "Bob", "Charlie"]
    assert few[10]["customer_id"] == "customer-00011"
    assert few[0]["email"] == "alice@example.com"
    for customer in many:
        assert 1 <= len(customer["favourite_categories"]) <= 3
        assert set(customer["favourite_categories"]) <= set(CATALOGUE)


def test_traffic_is_valid_ordered_and_follows_preferences() -> None:
    catalog = list(generate_catalog(600, seed=2, now=NOW))
    people = customers(30, seed=2)
    by_id = {p["product_id"]: p for p in catalog}
    messages = list(generate_traffic(catalog, people, seed=2, start=NOW, count=4000))
    assert len(messages) == 4000
    assert messages == list(generate_traffic(catalog, people, seed=2, start=NOW, count=4000))
    kinds: Counter[str] = Counter()
    last = ""
    in_favourites = 0
    prefs = {c["customer_id"]: c for c in people}
    for topic, message in messages:
        if topic == "orders":
            validate("order", message)
            kinds["order"] += 1
            stamp = message["order_date"]
            assert all(by_id[i["product_id"]]["stock"]["available"] > 0 for i in message["items"])
        else:
            assert topic == "client_events"
            validate("client_event", message)
            kinds[message["type"]] += 1
            stamp = message["timestamp"]
            category = by_id[message["product_id"]]["category"]
            in_favourites += category in prefs[message["user_id"]]["favourite_categories"]
        assert stamp >= last
        last = stamp
    assert kinds["view"] > kinds["add_to_cart"] > kinds["purchase"] > kinds["review"] > 0
    assert kinds["order"] == kinds["purchase"]
    events = sum(v for k, v in kinds.items() if k != "order")
    # 12 categories: random picks would hit a customer's favourites ~1/6 of the time.
    assert in_favourites / events > 0.6


def test_packaged_sample_catalog_is_the_generator_output() -> None:
    raw = (resources.files("vitrina") / "data" / "sample-catalog.json").read_bytes()
    products = orjson.loads(raw)
    assert len(products) == 300
    assert raw == b"".join(dump_catalog(generate_catalog(300, seed=42), jsonl=False))
