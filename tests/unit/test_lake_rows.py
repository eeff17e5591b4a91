"""Row conversion for every dataset, and PII hashing (no clear email anywhere)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from vitrina.contracts.codec import decode
from vitrina.errors import ContractError
from vitrina.lake import layout
from vitrina.lake.pii import email_hash
from vitrina.lake.rows import RecordMeta, lake_rows
from vitrina.lake.writer import to_table

KEY = b"test-pii-key"
TS = 1714561200000  # 2024-05-01T11:00:00Z

PRODUCT = {
    "product_id": "12345",
    "name": "Умные часы X",
    "description": "Водозащита",
    "price": {"amount": 4999.9, "currency": "RUB"},
    "category": "Электроника",
    "brand": "XYZ",
    "stock": {"available": 10, "reserved": 2},
    "sku": "XYZ-1",
    "tags": ["часы", "гаджет"],
    "images": [{"url": "https://x/1.jpg", "alt": "front"}],
    "specifications": {"weight": "50g", "waterproof": True},
    "created_at": "2024-04-01T10:00:00Z",
    "updated_at": "2024-04-02T10:00:00+03:00",
    "index": "products",
    "store_id": "store-1",
}
BAN = {
    "product_id": "12345",
    "reason": "counterfeit",
    "banned_by": "moderator",
    "banned_at": "2024-05-01T10:00:00Z",
}
ORDER = {
    "order_id": "o-1",
    "customer_id": "c-1",
    "email": "Ivan.Petrov@Example.COM",
    "order_date": "2024-05-01T09:00:00Z",
    "state": "paid",
    "items": [{"product_id": "12345", "quantity": 2, "price": 10.5}, {"product_id": "777"}],
}
EVENT = {
    "event_id": "e-1",
    "user_id": "u-1",
    "type": "review",
    "product_id": "12345",
    "timestamp": "2024-05-01T09:00:00Z",
    "rating": 5,
    "text": "отлично",
}
QUERY = {
    "query_id": "q-1",
    "user_id": "u-1",
    "kind": "search",
    "query": "умные часы",
    "filters": {"category": "Электроника", "in_stock": True},
    "result_count": 7,
    "latency_ms": 3.5,
    "timestamp": "2024-05-01T09:00:00Z",
}


def meta(key: str | None = "k", offset: int = 7) -> RecordMeta:
    return RecordMeta("raw-topic", 1, offset, TS, key)


def rows_for(role: str, value: dict | None, key: str | None = "k") -> list[dict]:
    if value is not None:
        value = decode(layout.CONTRACT_OF[role], __import__("orjson").dumps(value))
    return lake_rows(role, value, meta(key), KEY)


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize(
    ("role", "value", "n"),
    [
        ("shop_products", PRODUCT, 1),
        (
            "blocked_products",
            {**PRODUCT, "ban": {k: BAN[k] for k in ("reason", "banned_by", "banned_at")}},
            1,
        ),
        ("banned_products", BAN, 1),
        ("orders", ORDER, 2),
        ("client_events", EVENT, 1),
        ("client_queries", QUERY, 1),
    ],
)
def test_every_dataset_converts_to_its_exact_schema(role: str, value: dict, n: int) -> None:
    rows = rows_for(role, value)
    assert len(rows) == n
    table = to_table(role, rows)
    assert table.schema == layout.SCHEMAS[role]
    assert table.num_rows == n
    first = table.to_pylist()[0]
    assert first["_topic"] == "raw-topic" and first["_partition"] == 1 and first["_offset"] == 7
    assert first["_timestamp"] == datetime(2024, 5, 1, 11, tzinfo=UTC)
    assert first["_key"] == "k"


def test_product_columns() -> None:
    (row,) = rows_for("shop_products", PRODUCT)
    assert row["price_amount"] == 4999.9 and row["price_currency"] == "RUB"
    assert row["stock_available"] == 10 and row["stock_reserved"] == 2
    assert row["tags"] == ["часы", "гаджет"]
    assert row["updated_at"] == ms("2024-04-02T07:00:00+00:00")
    assert row["specifications_json"] == '{"waterproof":true,"weight":"50g"}'
    assert '"https://x/1.jpg"' in row["images_json"]


def test_minimal_product_leaves_optional_columns_null() -> None:
    minimal = {
        "product_id": "1",
        "name": "n",
        "price": {"amount": 1, "currency": "RUB"},
        "category": "c",
    }
    (row,) = to_table("shop_products", rows_for("shop_products", minimal)).to_pylist()
    assert row["stock_available"] is None and row["tags"] is None and row["created_at"] is None
    assert row["price_amount"] == 1.0


def test_blocked_product_carries_the_ban() -> None:
    (row,) = rows_for(
        "blocked_products",
        {
            **PRODUCT,
            "ban": {"reason": "fake", "banned_by": "m", "banned_at": "2024-05-01T10:00:00Z"},
        },
    )
    assert (row["ban_reason"], row["banned_by"]) == ("fake", "m")
    assert row["banned_at"] == ms("2024-05-01T10:00:00+00:00")


def test_ban_and_unban_tombstone() -> None:
    (ban,) = rows_for("banned_products", BAN)
    assert ban["tombstone"] is False and ban["reason"] == "counterfeit"
    (unban,) = rows_for("banned_products", None, key="12345")
    assert unban["tombstone"] is True and unban["product_id"] == "12345"
    assert unban["reason"] is None


def test_unban_without_a_product_id_key_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="tombstone"):
        rows_for("banned_products", None, key="not an id")
    with pytest.raises(ContractError):
        rows_for("banned_products", None, key=None)


def test_null_value_on_other_topics_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="null"):
        rows_for("orders", None)


def test_orders_are_one_row_per_line_with_the_email_hashed() -> None:
    rows = rows_for("orders", ORDER)
    assert [r["line_no"] for r in rows] == [0, 1]
    assert [r["product_id"] for r in rows] == ["12345", "777"]
    assert rows[0]["quantity"] == 2 and rows[0]["price"] == 10.5
    assert rows[1]["quantity"] == 1 and rows[1]["price"] is None
    expected = email_hash(KEY, "ivan.petrov@example.com")
    assert all(r["email_hash"] == expected for r in rows)
    assert len(expected or "") == 64
    table = to_table("orders", rows)
    assert "email" not in table.column_names
    for column in table.columns:
        for value in column.to_pylist():
            assert "@" not in str(value), f"clear email in {column}"


def test_email_hash_is_keyed_and_normalised() -> None:
    a = email_hash(KEY, " A@B.ru ")
    assert a == email_hash(KEY, "a@b.ru")
    assert a != email_hash(b"another-key", "a@b.ru")
    assert email_hash(KEY, None) is None and email_hash(KEY, "  ") is None


def test_order_without_email_has_null_hash() -> None:
    rows = rows_for("orders", {k: v for k, v in ORDER.items() if k != "email"})
    assert all(r["email_hash"] is None for r in rows)


def test_events_and_queries() -> None:
    (event,) = rows_for("client_events", EVENT)
    assert event["rating"] == 5 and event["type"] == "review"
    assert "text" not in event
    (query,) = rows_for("client_queries", QUERY)
    assert query["filters_json"] == '{"category":"Электроника","in_stock":true}'
    assert query["result_count"] == 7 and query["latency_ms"] == 3.5
    table = to_table("client_queries", [query])
    assert table.schema.field("timestamp").type == pa.timestamp("ms", tz="UTC")


def test_integers_beyond_int64_are_contract_errors_not_flush_crashes() -> None:
    huge = {**PRODUCT, "stock": {"available": 2**63, "reserved": 0}}
    # The product contract itself refuses it now (issue 12 item 16), at the door too.
    with pytest.raises(ContractError, match=r"64-bit|maximum"):
        rows_for("shop_products", huge)
    with pytest.raises(ContractError, match="64-bit"):
        rows_for("client_queries", {**QUERY, "result_count": 2**64 - 1})


def test_a_value_too_deep_to_store_is_a_contract_error_not_a_crash() -> None:
    # orjson parses 1,024 levels but writes only 255: a record that got past a door without
    # the depth rule must be dead-lettered by the sink, never crash-loop it (issue 12.4).
    from vitrina.errors import ContractError
    from vitrina.lake.rows import RecordMeta, lake_rows

    deep: object = "x"
    for _ in range(300):
        deep = {"a": deep}
    product = {"product_id": "1", "name": "n", "specifications": {"deep": deep}}
    meta = RecordMeta("shop-products", 0, 5, 1714561200000, "1")
    with pytest.raises(ContractError) as err:
        lake_rows("shop_products", product, meta, b"key")
    assert err.value.field == "specifications" and err.value.rule == "depth"
