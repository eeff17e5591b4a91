"""Decoded Kafka records → lake rows: plain functions over plain data, no I/O.

One function per dataset turns a validated message (a dict from the codec) into the typed
columns of `layout.SCHEMAS`; an order becomes one row per order line. Timestamps become
milliseconds since the epoch (UTC) so pyarrow stores them as `timestamp('ms', 'UTC')`
without a per-value conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from vitrina.domain.instants import from_iso
from vitrina.domain.limits import is_product_id
from vitrina.errors import ContractError
from vitrina.lake.pii import email_hash

Row = dict[str, Any]
# JSON allows (and orjson parses) integers up to 2**64 - 1; the lake's columns are int64.
# Refusing the record here dead-letters it instead of crashing every flush that holds it.
_INT64_MAX = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RecordMeta:
    """Where a record came from: becomes the `_topic … _key` metadata columns."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: str | None

    def columns(self) -> Row:
        return {
            "_topic": self.topic,
            "_partition": self.partition,
            "_offset": self.offset,
            "_timestamp": self.timestamp_ms,
            "_key": self.key,
        }


def timestamp_ms(value: Any, field: str) -> int | None:
    """ISO 8601 text (or epoch seconds) → ms since the epoch, UTC; naive times are taken as UTC."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value * 1000)
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = from_iso(str(value))
        except ValueError:
            raise ContractError(
                f"field {field}: {value!r} is not an ISO 8601 date-time", field=field, rule="format"
            ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    # Exact integer arithmetic (a float timestamp is 1 ms off for some far dates), truncated
    # toward zero like Arrow's own conversion in lake/columns.py.
    delta = parsed - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros // 1000 if micros >= 0 else -(-micros // 1000)


def int64(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
        raise ContractError(
            f"field {field}: {value} does not fit a 64-bit integer", field=field, rule="maximum"
        )
    return int(value)


def _json_text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError as exc:  # e.g. nested deeper than orjson writes (255)
        raise ContractError(
            f"field {field}: cannot be stored as JSON text: {exc}", field=field, rule="depth"
        ) from None


def product_row(value: dict[str, Any]) -> Row:
    price = value.get("price") or {}
    stock = value.get("stock") or {}
    tags = value.get("tags")
    return {
        "product_id": value["product_id"],
        "name": value.get("name"),
        "description": value.get("description"),
        "price_amount": None if price.get("amount") is None else float(price["amount"]),
        "price_currency": price.get("currency"),
        "category": value.get("category"),
        "brand": value.get("brand"),
        "stock_available": int64(stock.get("available"), "stock.available"),
        "stock_reserved": int64(stock.get("reserved"), "stock.reserved"),
        "sku": value.get("sku"),
        "tags": None if tags is None else [str(t) for t in tags],
        "store_id": value.get("store_id"),
        "created_at": timestamp_ms(value.get("created_at"), "created_at"),
        "updated_at": timestamp_ms(value.get("updated_at"), "updated_at"),
        "specifications_json": _json_text(value.get("specifications"), "specifications"),
        "images_json": _json_text(value.get("images"), "images"),
    }


def shop_product_rows(value: dict[str, Any], pii_key: bytes) -> list[Row]:
    return [product_row(value)]


def blocked_product_rows(value: dict[str, Any], pii_key: bytes) -> list[Row]:
    ban = value.get("ban") or {}
    row = product_row(value)
    row.update(
        ban_reason=ban.get("reason"),
        banned_by=ban.get("banned_by"),
        banned_at=timestamp_ms(ban.get("banned_at"), "ban.banned_at"),
    )
    return [row]


def ban_rows(value: dict[str, Any], pii_key: bytes) -> list[Row]:
    return [
        {
            "product_id": value["product_id"],
            "reason": value.get("reason"),
            "banned_by": value.get("banned_by"),
            "banned_at": timestamp_ms(value.get("banned_at"), "banned_at"),
            "tombstone": False,
        }
    ]


def unban_rows(key: str | None) -> list[Row]:
    """A tombstone in `banned-products` is an unban: a row with the key and tombstone=true."""
    if not is_product_id(key):  # one rule: domain/limits.py
        raise ContractError(
            f"ban tombstone without a valid product_id key (key={key!r})",
            field="(key)",
            rule="pattern",
            hint="unbans are null values keyed by the product_id",
        )
    return [
        {"product_id": key, "reason": None, "banned_by": None, "banned_at": None, "tombstone": True}
    ]


def order_rows(value: dict[str, Any], pii_key: bytes) -> list[Row]:
    """One row per order line; the email is replaced by its keyed hash."""
    head = {
        "order_id": value["order_id"],
        "customer_id": value["customer_id"],
        "email_hash": email_hash(pii_key, value.get("email")),
        "order_date": timestamp_ms(value.get("order_date"), "order_date"),
        "state": value.get("state", "created"),
    }
    rows = []
    for line_no, item in enumerate(value["items"]):
        price = item.get("price")
        rows.append(
            {
                **head,
                "line_no": line_no,
                "product_id": item["product_id"],
                "quantity": item.get("quantity", 1),
                "price": None if price is None else float(price),
            }
        )
    return rows


def client_event_rows(value: dict[str, Any], pii_key: bytes) -> list[Row]:
    return [
        {
            "event_id": value["event_id"],
            "user_id": value.get("user_id"),
            "type": value.get("type"),
            "product_id": value.get("product_id"),
            "timestamp": timestamp_ms(value.get("timestamp"), "timestamp"),
            "rating": value.get("rating"),
        }
    ]


def client_query_rows(value: dict[str, Any], pii_key: bytes) -> list[Row]:
    return [
        {
            "query_id": value["query_id"],
            "user_id": value.get("user_id"),
            "kind": value.get("kind"),
            "query": value.get("query", ""),
            "filters_json": _json_text(value.get("filters") or {}, "filters"),
            "result_count": int64(value.get("result_count"), "result_count"),
            "latency_ms": None if value.get("latency_ms") is None else float(value["latency_ms"]),
            "timestamp": timestamp_ms(value.get("timestamp"), "timestamp"),
        }
    ]


CONVERTERS: dict[str, Callable[[dict[str, Any], bytes], list[Row]]] = {
    "shop_products": shop_product_rows,
    "blocked_products": blocked_product_rows,
    "banned_products": ban_rows,
    "orders": order_rows,
    "client_events": client_event_rows,
    "client_queries": client_query_rows,
}


def lake_rows(
    role: str, value: dict[str, Any] | None, meta: RecordMeta, pii_key: bytes
) -> list[Row]:
    """All lake rows for one validated record (None value = tombstone) with metadata columns."""
    if value is None:
        if role != "banned_products":
            raise ContractError("empty message (null value)", field="(root)", rule="json")
        data = unban_rows(meta.key)
    else:
        data = CONVERTERS[role](value, pii_key)
    head = meta.columns()
    return [{**head, **row} for row in data]
