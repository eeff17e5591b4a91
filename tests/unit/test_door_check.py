"""The filter's fast contract check (door.check_product) agrees with codec.validate."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from vitrina.contracts.codec import validate
from vitrina.contracts.door import admit_product, admitted_product, check_product
from vitrina.domain.generator import generate_catalog
from vitrina.domain.product_shapes import Declared
from vitrina.errors import ContractError

BAD = Path(__file__).parent.parent / "fixtures" / "bad-records"


def rule_of(check: object, value: object, raw: bytes) -> str | None:
    try:
        if check is validate:
            validate("product", value, raw)
        else:
            check_product(value, raw)
    except ContractError as exc:
        return exc.rule
    return None


def bad_values() -> list[tuple[str, object, bytes]]:
    cases = []
    for path in sorted(BAD.iterdir()):
        for line in (
            path.read_bytes().splitlines() if path.suffix == ".jsonl" else [path.read_bytes()]
        ):
            try:
                cases.append((path.name, orjson.loads(line), line))
            except orjson.JSONDecodeError:
                continue  # malformed JSON never reaches the contract check
    return cases


@pytest.mark.parametrize(("name", "value", "raw"), bad_values())
def test_bad_records_break_the_same_rule(name: str, value: object, raw: bytes) -> None:
    assert rule_of(check_product, value, raw) == rule_of(validate, value, raw), name


def test_generated_products_and_odd_but_valid_instants_pass() -> None:
    for product in generate_catalog(200, seed=3):
        check_product(product, orjson.dumps(product))
    base = next(iter(generate_catalog(1, seed=3)))
    for instant in ("2025-08-01 16:33:58+03:00", "2025-08-01T16:33:58.123456789Z", 1754000000):
        value = {**base, "created_at": instant}
        check_product(value, orjson.dumps(value))


@pytest.mark.parametrize("instant", ["2025-02-30T10:00:00Z", "2025-08-01T16:33:60Z", "вчера"])
def test_instants_that_are_no_day_are_refused(instant: str) -> None:
    value = {**next(iter(generate_catalog(1, seed=3))), "updated_at": instant}
    with pytest.raises(ContractError) as caught:
        check_product(value, orjson.dumps(value))
    assert caught.value.rule == rule_of(validate, value, orjson.dumps(value))


# Shapes real stores send that the door rewrites into the contract's form (docs/contracts.md).
def _plain() -> dict[str, object]:
    return dict(next(iter(generate_catalog(1, seed=3))))


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("9247", 9247), ("4999.99", 4999.99), ("1 299,00", 1299.0), ("1\u00a0299,5", 1299.5)],
)
def test_a_price_sent_as_text_is_admitted_as_a_number(sent: str, stored: float) -> None:
    value = {**_plain(), "price": {"amount": sent, "currency": "RUB"}}
    out = orjson.loads(admit_product(value))
    assert out["price"] == {"amount": stored, "currency": "RUB"}
    validate("product", out)
    check_product(out, orjson.dumps(out))  # what the workers see keeps the contract


def test_stock_counts_sent_as_text_are_admitted_as_integers() -> None:
    value = {**_plain(), "stock": {"available": "119", "reserved": "93"}}
    assert orjson.loads(admit_product(value))["stock"] == {"available": 119, "reserved": 93}


@pytest.mark.parametrize("amount", ["дорого", "1,299", "-5", "1e3", "NaN", "", "9" * 5000])
def test_text_that_is_no_plain_amount_is_still_refused(amount: str) -> None:
    value = {**_plain(), "price": {"amount": amount, "currency": "RUB"}}
    with pytest.raises(ContractError) as caught:
        admit_product(value)
    assert caught.value.field == "price.amount" and caught.value.rule == "type"


def test_camel_case_field_names_are_admitted_in_snake_case() -> None:
    snake = {**_plain(), "store_id": "store_007", "updated_at": "2025-04-06T10:04:04Z"}
    names = {"product_id": "productId", "created_at": "createdAt", "updated_at": "updatedAt"}
    camel = {names.get(k, k): v for k, v in snake.items() if k != "store_id"}
    camel["storeId"] = "store_007"
    assert orjson.loads(admit_product(camel)) == orjson.loads(admit_product(snake))


def test_both_doors_take_id_and_store_from_the_admitted_product() -> None:
    from vitrina.domain.catalog import Record
    from vitrina.services.shop_api import check_batch
    from vitrina.services.shop_load import check_product as load_check

    camel = {**_plain(), "productId": "85123A", "storeId": "store_007"}
    camel["price"] = {"amount": "1 299,00", "currency": "RUB"}
    del camel["product_id"]
    camel.pop("store_id", None)  # sent only as storeId
    product_id, out, store = load_check(Record(1, "item", camel, raw=orjson.dumps(camel)))
    assert (product_id, store) == ("85123A", "store_007")
    [(api_id, api_out)] = check_batch([camel], "store_007", 10)
    assert api_id == "85123A" and api_out == out
    assert orjson.loads(out)["price"]["amount"] == 1299.0


def test_a_store_named_in_both_spellings_is_read_once() -> None:
    """A blind review: `"store_id": null, "storeId": "store_002"` sent with store_001's
    token was stored as store_001's product, the product API showing both stores. A null
    snake_case field takes the camelCase value; the camelCase copy never stays."""
    from vitrina.services.shop_api import Forbidden, check_batch

    both = {**_plain(), "store_id": None, "storeId": "store_002"}
    with pytest.raises(Forbidden, match="name another store"):
        check_batch([both], "store_001", 10)
    kept = {**_plain(), "store_id": "store_001", "storeId": "store_002"}
    [(_, out)] = check_batch([kept], "store_001", 10)
    stored = orjson.loads(out)
    assert stored["store_id"] == "store_001" and "storeId" not in stored


def test_a_flat_catalogue_is_admitted_in_the_contracts_form() -> None:
    """Seen in another store's catalogue (20 products, every one refused as "product_id is
    a required property"): `id`, a bare `price` with a top-level `currency`, `quantity`.
    They are the contract's fields in another spelling; the rest stays as sent."""
    flat = {
        "id": "prod-001",
        "name": "Ноутбук Dell XPS 13",
        "category": "electronics",
        "price": 89999.00,
        "currency": "RUB",
        "quantity": 42,
        "seller_id": "seller-tech-001",
        "tags": ["laptop"],
        "created_at": "2024-01-10T08:00:00Z",
    }
    out = orjson.loads(admit_product(flat))
    assert out == {
        "product_id": "prod-001",
        "name": "Ноутбук Dell XPS 13",
        "category": "electronics",
        "price": {"amount": 89999.0, "currency": "RUB"},
        "stock": {"available": 42, "reserved": 0},
        "seller_id": "seller-tech-001",
        "tags": ["laptop"],
        "created_at": "2024-01-10T08:00:00Z",
    }
    check_product(out, orjson.dumps(out))  # what the workers see keeps the contract
    texts = orjson.loads(admit_product({**flat, "price": "89 999,00", "quantity": "42"}))
    assert texts == out
    camel = {**flat, "storeId": "store_007"}
    assert orjson.loads(admit_product(camel))["store_id"] == "store_007"
    # The contract's own fields win: only what is absent is taken from the flat ones.
    both = {**flat, "product_id": "A-1", "stock": {"available": 1, "reserved": 1}}
    kept = orjson.loads(admit_product(both))
    assert (kept["product_id"], kept["id"]) == ("A-1", "prod-001")
    assert (kept["stock"], kept["quantity"]) == ({"available": 1, "reserved": 1}, 42)


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"currency": None}, "price", "type"),  # no currency is guessed
        ({"currency": "руб"}, "price", "type"),
        ({"price": "дорого"}, "price", "type"),
        ({"id": 1001}, "(root)", "required"),  # ids are text: a number may have lost zeros
    ],
)
def test_a_flat_field_that_is_not_unambiguous_is_still_refused(
    change: dict[str, object], field: str, rule: str
) -> None:
    value = {"id": "p-1", "name": "Н", "category": "c", "price": 10.0, "currency": "RUB"}
    with pytest.raises(ContractError) as caught:
        admit_product({**value, **change})
    assert (caught.value.field, caught.value.rule) == (field, rule)


@pytest.mark.parametrize("quantity", [-1, 2.5, "много", True])
def test_a_quantity_that_is_no_count_stays_an_extra_field(quantity: object) -> None:
    value = {"id": "p-1", "name": "Н", "category": "c", "price": 10.0, "currency": "RUB"}
    out = orjson.loads(admit_product({**value, "quantity": quantity}))
    assert "stock" not in out and out["quantity"] == quantity


def test_a_quantity_in_a_product_of_the_contracts_form_is_left_alone() -> None:
    """There it may count something else (the bottles in a pack), not the stock."""
    value = {**_plain(), "quantity": 6}
    value.pop("stock", None)
    out = orjson.loads(admit_product(value))
    assert "stock" not in out and out["quantity"] == 6


def test_a_missing_field_says_what_a_product_needs() -> None:
    """A record without an id in any spelling is refused saying how to fix it."""
    value = {"sku": "prod-001", "name": "Ноутбук", "price": 89999.0, "currency": "RUB"}
    with pytest.raises(ContractError) as caught:
        admit_product(value)
    assert caught.value.rule == "required"
    assert "product_id, name, price {amount, currency}, category" in str(caught.value)


# A store's JSON Lines catalogue as found (another course project: 33 products, each
# refused as "price is not of type object"): `id`, a bare price, no currency anywhere.
BARE = {"id": "p1001", "name": "Смартфон XYZ", "category": "Electronics", "price": 299.99}


def _declared(
    value: dict[str, object], currency: str | None, category: str | None = None
) -> dict[str, object]:
    return orjson.loads(admitted_product(value, declared=Declared(currency, category))[1])


def test_a_bare_price_is_refused_saying_how_to_declare_its_currency() -> None:
    """Nothing guesses a currency: the refusal names the two ways to give it."""
    for value in (BARE, {**_plain(), "price": {"amount": 10}}):
        with pytest.raises(ContractError) as caught:
            admit_product(value)
        assert caught.value.field == "price"
        assert "?currency=RUB" in (caught.value.hint or "")
        assert "--currency RUB" in (caught.value.hint or "")


def test_a_catalogues_declared_currency_prices_what_names_none() -> None:
    from vitrina.domain.catalog import Record
    from vitrina.services.shop_api import check_batch
    from vitrina.services.shop_load import check_product as load_check

    out = _declared(BARE, "RUB")
    assert out == {
        "product_id": "p1001",
        "name": "Смартфон XYZ",
        "category": "Electronics",
        "price": {"amount": 299.99, "currency": "RUB"},
    }
    check_product(out, orjson.dumps(out))  # what the workers see keeps the contract
    text = {**_plain(), "price": {"amount": "1 299,00"}}
    assert _declared(text, "KZT")["price"] == {
        "amount": 1299.0,
        "currency": "KZT",
    }
    # A price that names its currency keeps it, in the product or beside a bare amount.
    own = {**_plain(), "price": {"amount": 5, "currency": "USD"}}
    assert _declared(own, "RUB")["price"]["currency"] == "USD"
    beside = {**BARE, "currency": "EUR"}
    assert _declared(beside, "RUB")["price"]["currency"] == "EUR"
    # ...taken at its word even when it is no currency: refused, not overridden.
    with pytest.raises(ContractError):
        _declared({**BARE, "currency": "руб"}, "RUB")
    # Both doors admit the same bytes.
    rub = Declared(currency="RUB")
    product_id, loaded, _ = load_check(Record(1, "line", BARE, raw=orjson.dumps(BARE)), rub)
    [(api_id, api_out)] = check_batch([dict(BARE)], "store_001", 10, rub)
    assert product_id == api_id == "p1001"
    assert orjson.loads(api_out) == {**orjson.loads(loaded), "store_id": "store_001"}


@pytest.mark.parametrize("values", [["rub"], ["RUB", "USD"], ["RU"], ["RUB "]])
def test_a_declared_currency_that_is_none_is_a_bad_request(values: list[str]) -> None:
    from vitrina.errors import BadRequestError
    from vitrina.services.shop_api import declared_currency

    with pytest.raises(BadRequestError) as caught:
        declared_currency(values)
    assert "?currency=RUB" in (caught.value.hint or "")
    assert declared_currency([]) is None and declared_currency(["RUB"]) == "RUB"


# A store's catalogue as found (another course project): its third product has only
# product_id, name, price, stock, sku, timestamps and store_id — no category.
UNCATEGORISED = {
    "product_id": "34567",
    "name": "Ручка шариковая",
    "price": {"amount": 35, "currency": "BYN"},
    "stock": {"available": 10, "reserved": 0},
    "sku": "МММ-1",
    "store_id": "store_001",
}


def test_a_product_without_category_is_refused_saying_how_to_declare_one() -> None:
    """Nothing guesses a category: the refusal (missing, or null) names the two ways."""
    for value in (UNCATEGORISED, {**UNCATEGORISED, "category": None}):
        with pytest.raises(ContractError) as caught:
            admit_product(value)
        assert "?category=" in (caught.value.hint or "")
        assert "--category" in (caught.value.hint or "")


def test_a_catalogues_declared_category_is_given_to_products_that_name_none() -> None:
    from vitrina.domain.catalog import Record
    from vitrina.services.shop_api import check_batch
    from vitrina.services.shop_load import check_product as load_check

    out = _declared(UNCATEGORISED, None, "Канцелярия")
    assert out == {**UNCATEGORISED, "category": "Канцелярия"}
    check_product(out, orjson.dumps(out))  # what the workers see keeps the contract
    assert _declared({**UNCATEGORISED, "category": None}, None, "Канцелярия") == out
    # A product that names its category keeps it; an empty one is refused, not replaced.
    own = {**UNCATEGORISED, "category": "Книги"}
    assert _declared(own, None, "Канцелярия")["category"] == "Книги"
    with pytest.raises(ContractError):
        _declared({**UNCATEGORISED, "category": ""}, None, "Канцелярия")
    # With a declared currency too, and at both doors the same bytes.
    flat = {"id": "p7", "name": "Ручка", "price": 35}
    both = Declared(currency="BYN", category="Канцелярия")
    product_id, loaded, _ = load_check(Record(1, "line", flat, raw=orjson.dumps(flat)), both)
    [(api_id, api_out)] = check_batch([dict(flat)], "store_001", 10, both)
    assert product_id == api_id == "p7"
    assert orjson.loads(loaded)["category"] == "Канцелярия"
    assert orjson.loads(api_out) == {**orjson.loads(loaded), "store_id": "store_001"}


@pytest.mark.parametrize("values", [[""], ["   "], ["x" * 201], ["Книги", "Одежда"]])
def test_a_declared_category_that_is_none_is_a_bad_request(values: list[str]) -> None:
    from vitrina.errors import BadRequestError
    from vitrina.services.shop_api import declared_category

    with pytest.raises(BadRequestError) as caught:
        declared_category(values)
    assert "?category=" in (caught.value.hint or "")
    assert declared_category([]) is None and declared_category(["Книги"]) == "Книги"


def test_a_key_repeated_in_one_object_reads_as_the_last_everywhere() -> None:
    """docs/contracts.md: a repeated key is not refused; the last one wins at both doors
    (the one-pass check, the full door), in the filter's check and in the codec, so no
    part of Vitrina reads such a record otherwise than another."""
    from vitrina.contracts.codec import decode
    from vitrina.contracts.door import admit_canonical, judge_product

    good = orjson.dumps(next(iter(generate_catalog(1, seed=3))))
    raw = good.replace(b'{"product_id":"', b'{"product_id":"first","product_id":"', 1)
    assert raw.count(b'"product_id"') == 2
    last = orjson.loads(good)["product_id"]
    checked = admit_canonical(raw)
    assert checked is not None and checked.product_id == last
    assert orjson.loads(admit_product(orjson.loads(raw), raw))["product_id"] == last
    assert judge_product(raw)[0] == last
    assert decode("product", raw)["product_id"] == last
