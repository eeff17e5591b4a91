"""Products the door's one-pass check accepted → an Arrow table parsed from their raw bytes.

`columns.lake_table` hands Arrow one Python object per value (a str per text, a tuple per
tag list): ~9 µs a product holding the GIL (the column tuple, then the conversion, with a
UTF-8 re-encode of every Cyrillic text). Here the sink keeps only the raw bytes of a product
`contracts.product_check` accepted (plus its two JSON columns, which are sorted-key texts
the raw bytes do not hold), and Arrow's JSON reader parses the plain columns of a whole
batch straight into Arrow in C++ with the GIL released: on the sink's background writer
(`services.lake_sink_writes`) this runs beside the consumer thread.

It is an optimisation of `columns.lake_table`, never a second definition: the accepted
bytes are valid JSON of known fields only (the check refuses unknown ones), with in-range
numbers and canonical instants, so the reader's values are the check's values. Anything
the reader does not parse the same way, or at all (a duplicate key, a count mismatch),
raises `RawUnfit` and the caller converts the batch the classic way.
"""

from __future__ import annotations

import io
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.json as pj

from vitrina.contracts.product_check import CanonicalProduct
from vitrina.errors import ContractError
from vitrina.lake import layout
from vitrina.lake.columns import META, canonical_json_columns, instants

# A fast-path item: (offset, ts, key, raw, raw_key, carried, line, specifications, images).
# `line` is the raw value, or its re-encoding when the raw one spans lines (JSON Lines).
RAW_ITEM = META + 3

_TEXT = pa.string()
_TS_US = pa.timestamp("us", tz="UTC")
# The plain columns as they sit in the product JSON; instants as text (parsed by `instants`).
RAW_SCHEMA = pa.schema(
    [
        ("product_id", _TEXT),
        ("name", _TEXT),
        ("description", _TEXT),
        ("price", pa.struct([("amount", pa.float64()), ("currency", _TEXT)])),
        ("category", _TEXT),
        ("brand", _TEXT),
        ("stock", pa.struct([("available", pa.int64()), ("reserved", pa.int64())])),
        ("sku", _TEXT),
        ("tags", pa.list_(_TEXT)),
        ("store_id", _TEXT),
        ("created_at", _TEXT),
        ("updated_at", _TEXT),
    ]
)
# specifications, images (kept as sorted-key JSON by the sink) and index are not columns
# here: the reader skips them.
_PARSE = pj.ParseOptions(explicit_schema=RAW_SCHEMA, unexpected_field_behavior="ignore")
_BLOCK = 1 << 24  # one block per batch of ~5,000 products: on the writer thread, no pool


_ENCODE = msgspec.json.Encoder().encode


def raw_values(p: CanonicalProduct, raw: bytes) -> tuple[bytes, bytes | None, bytes | None] | None:
    """What a fast-path item keeps after its metadata: the JSON line Arrow parses and the
    two JSON columns; None where `columns.canonical_json_columns` declines (the dict path)."""
    json_columns = canonical_json_columns(p)
    if json_columns is None:
        return None
    # A line break between tokens is valid JSON but not JSON Lines: the accepted value,
    # re-encoded compactly, says the same on one line.
    return (raw if b"\n" not in raw else _ENCODE(p)), *json_columns


class RawUnfit(Exception):
    """This batch needs `columns.lake_table` (the reader did not parse it as the check did)."""


def raw_product_table(topic: str, partition: int, items: list[tuple[Any, ...]]) -> pa.Table:
    """The shop_products table of a batch of fast-path items, with the dataset's schema."""
    n = len(items)
    columns = list(zip(*items, strict=True))
    data = b"\n".join(columns[META])
    try:
        parsed = pj.read_json(
            io.BytesIO(data),
            read_options=pj.ReadOptions(use_threads=False, block_size=max(_BLOCK, len(data) + 1)),
            parse_options=_PARSE,
        )
        if parsed.num_rows != n:
            raise RawUnfit(f"{parsed.num_rows} rows parsed from {n} records")
        price = parsed.column("price").combine_chunks()
        stock = parsed.column("stock").combine_chunks()
        arrays = [
            pa.array([topic] * n, _TEXT),
            pa.array([partition] * n, pa.int32()),
            pa.array(columns[0], pa.int64()),
            pa.array(columns[1], layout.TS),
            pa.array(columns[2], _TEXT),
            _one(parsed, "product_id"),
            _one(parsed, "name"),
            _one(parsed, "description"),
            price.field("amount"),
            price.field("currency"),
            _one(parsed, "category"),
            _one(parsed, "brand"),
            stock.field("available"),
            stock.field("reserved"),
            _one(parsed, "sku"),
            _one(parsed, "tags"),
            _one(parsed, "store_id"),
            _instants(_one(parsed, "created_at"), "created_at"),
            _instants(_one(parsed, "updated_at"), "updated_at"),
            pa.array(columns[META + 1], pa.binary()).cast(_TEXT),
            pa.array(columns[META + 2], pa.binary()).cast(_TEXT),
        ]
        return pa.Table.from_arrays(arrays, schema=layout.schema_for("shop_products"))
    except (
        pa.ArrowInvalid,
        pa.ArrowTypeError,
        pa.ArrowNotImplementedError,
        ContractError,
        ValueError,
    ) as exc:
        raise RawUnfit(str(exc)) from None


def _one(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


def _instants(texts: pa.Array, field: str) -> pa.Array:
    """Instant texts → timestamp('ms', UTC) as `columns.instants` casts them (µs first, then
    truncated to ms); what Arrow refuses goes value by value through that definition."""
    try:
        return texts.cast(_TS_US).cast(layout.TS, safe=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return instants(texts.to_pylist(), field)
