"""Validated product records → one Arrow table per file, column by column: no I/O.

The per-record path (`rows.lake_rows`: a dict per row kept until the flush, then
`pa.Table.from_pylist`) cost ~30 µs a product, most of it in keeping thousands of parsed
dicts alive (allocation, cache misses, the garbage collector walking them). Here a record
leaves one flat tuple of its column values (texts, numbers, the JSON texts of its open maps)
and its parsed dict dies at once; at the flush each column is handed to Arrow whole, and
the instants are parsed by Arrow's ISO 8601 parser for the whole column.

The per-record path stays the definition: a batch this path cannot convert (`ColumnarUnfit`:
a value Arrow refuses, an integer beyond int64) is converted record by record by the caller,
which finds the culprit and dead-letters it. Values equal the per-record path's, except that
an instant with a fraction of a millisecond is truncated exactly (that path goes through a
float).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pyarrow as pa

from vitrina.contracts.product_check import CanonicalProduct, _Image
from vitrina.errors import ContractError
from vitrina.lake import layout
from vitrina.lake.rows import timestamp_ms

# Microseconds first: Arrow's parser refuses a string with more digits than the unit holds.
_TS_US = pa.timestamp("us", tz="UTC")
# Pending record = (offset, timestamp ms, key, raw value, raw key, replay headers, *values)
META = 6


class ColumnarUnfit(Exception):
    """This batch needs the per-record path (which says which record is wrong and why)."""


def instants(values: list[Any] | tuple[Any, ...], field: str) -> pa.Array:
    """ISO 8601 texts (or None) → timestamp('ms', UTC), parsed by Arrow for the whole column.

    Arrow refuses what it can not read exactly (no zone, a leap second, 2025-02-30, epoch
    numbers, nanoseconds): then each value goes through `rows.timestamp_ms`, the definition,
    which also raises the ContractError that dead-letters a wrong one.
    """
    try:
        parsed = pa.array(values, pa.string()).cast(_TS_US)
        return parsed.cast(layout.TS, safe=False)  # µs → ms truncates, as the definition does
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.array([timestamp_ms(v, field) for v in values], pa.int64()).cast(layout.TS)


def _json_bytes(value: Any, field: str) -> bytes | None:
    if value is None:
        return None
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:  # e.g. nested deeper than orjson writes (255)
        raise ContractError(
            f"field {field}: cannot be stored as JSON text: {exc}", field=field, rule="depth"
        ) from None


def product_values(v: dict[str, Any]) -> tuple[Any, ...]:
    """A product's column values in the order of the dataset's data fields.

    Only atoms and tuples (tags as a tuple): the garbage collector stops tracking such a
    tuple once it has seen it, so thousands of buffered products cost its passes nothing.
    """
    price = v.get("price") or {}
    stock = v.get("stock") or {}
    tags = v.get("tags")
    return (
        v["product_id"],
        v.get("name"),
        v.get("description"),
        price.get("amount"),
        price.get("currency"),
        v.get("category"),
        v.get("brand"),
        stock.get("available"),
        stock.get("reserved"),
        v.get("sku"),
        tags if tags is None else tuple(tags),
        v.get("store_id"),
        v.get("created_at"),
        v.get("updated_at"),
        _json_bytes(v.get("specifications"), "specifications"),
        _json_bytes(v.get("images"), "images"),
    )


def canonical_json_columns(p: CanonicalProduct) -> tuple[bytes | None, bytes | None] | None:
    """The specifications and images JSON texts of a product `contracts.product_check`
    accepted (`json_columns`)."""
    return json_columns(p.specifications, p.images)


def json_columns(
    specifications: dict[str, Any] | None, images: Sequence[_Image] | None
) -> tuple[bytes | None, bytes | None] | None:
    """The specifications and images JSON texts of a product's parts as
    `contracts.product_check` types them; None when the dict path's could differ (an image
    without `alt` may have had `"alt": null` or no key; an integer beyond 64 bits, which
    orjson parses as a float): then the caller takes the dict path."""
    if images is not None and any(image.alt is None for image in images):
        return None
    try:
        specifications_json = _json_bytes(specifications, "specifications")
    except ContractError:
        return None
    if images is None:
        return specifications_json, None
    # Keys written in sorted order already (alt < url): no sort needed.
    return specifications_json, orjson.dumps(
        [{"alt": image.alt, "url": image.url} for image in images]
    )


def canonical_product_values(p: CanonicalProduct) -> tuple[Any, ...] | None:
    """`product_values` of a product `contracts.product_check` accepted (decoded and checked
    in one pass, no dict); None where `canonical_json_columns` declines."""
    json_columns = canonical_json_columns(p)
    if json_columns is None:
        return None
    price, stock, tags = p.price, p.stock, p.tags
    return (
        p.product_id,
        p.name,
        p.description,
        price.amount,
        price.currency,
        p.category,
        p.brand,
        None if stock is None else stock.available,
        None if stock is None else stock.reserved,
        p.sku,
        tags if tags is None else tuple(tags),
        p.store_id,
        p.created_at,
        p.updated_at,
        *json_columns,
    )


def blocked_product_values(v: dict[str, Any]) -> tuple[Any, ...]:
    ban = v.get("ban") or {}
    return (*product_values(v), ban.get("reason"), ban.get("banned_by"), ban.get("banned_at"))


#: Datasets converted column by column (their records are the lake's large ones).
VALUES: dict[str, Callable[[dict[str, Any]], tuple[Any, ...]]] = {
    "shop_products": product_values,
    "blocked_products": blocked_product_values,
}
COLUMNAR: frozenset[str] = frozenset(VALUES)


def _array(values: Any, field: pa.Field) -> pa.Array:
    if field.type == layout.TS:
        return instants(values, field.name)
    if field.name.endswith("_json"):
        # orjson's bytes: copied as binary, then checked as UTF-8 once for the whole column
        # (about half the cost of checking value by value).
        return pa.array(values, pa.binary()).cast(field.type)
    return pa.array(values, field.type)


def lake_table(role: str, topic: str, partition: int, pending: list[tuple[Any, ...]]) -> pa.Table:
    """One Arrow table of a (dataset, partition) batch with the dataset's exact schema.

    ColumnarUnfit when a value does not convert exactly (then use the per-record path).
    """
    columns = list(zip(*pending, strict=True))
    n = len(pending)
    schema = layout.schema_for(role)
    data_fields = list(schema)[len(layout.METADATA_FIELDS) :]
    try:
        # Arrow checks as it converts: no float → int truncation, no int beyond int64,
        # no non-text in a text column.
        arrays = [
            pa.array([topic] * n, pa.string()),
            pa.array([partition] * n, pa.int32()),
            pa.array(columns[0], pa.int64()),
            pa.array(columns[1], layout.TS),
            pa.array(columns[2], pa.string()),
            *(_array(columns[META + i], f) for i, f in enumerate(data_fields)),
        ]
        return pa.Table.from_arrays(arrays, schema=schema)
    except (
        pa.ArrowInvalid,
        pa.ArrowTypeError,
        ContractError,
        OverflowError,
        TypeError,
        ValueError,
    ) as exc:
        raise ColumnarUnfit(str(exc)) from None


def warm_up() -> None:
    """Load what Arrow loads on its first conversion and first Parquet file (numpy, the cast
    kernels, the zstd codec: ~0.5-0.8 s) now, at start-up, not inside the first flush."""
    import pyarrow.parquet as pq

    table = pa.table({"t": instants(["2025-01-01T00:00:00Z"], "warm_up"), "x": [1.0]})
    pq.write_table(table, pa.BufferOutputStream(), compression="zstd")
