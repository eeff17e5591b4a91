"""A file's batch of raw products → the lake table of those that surely keep the contract.

The sink's consumer thread keeps only each product's raw bytes and metadata (no parse); the
check happens here, per batch, on the sink's writer thread, with no Python work per record
on the way: Arrow's JSON reader parses the whole batch in C++ (the GIL released) with the
product's explicit types, inferring only what the contract leaves open (the
`specifications` map, and unknown fields, which it appends as extra columns or struct
fields), and vectorised checks (`pyarrow.compute`, in `lake.product_rules`) enforce the
schema per row: required fields present and non-null, lengths in code points, ranges, the
product_id / currency / canonical-instant patterns, tag and image counts, no unknown field.
The two JSON columns (sorted-key JSON texts, as orjson writes them) are assembled from the
parsed strings, escaped as orjson escapes them.

Like `contracts.product_check` it may be STRICTER than the contract, never looser: a row it
is not sure of — a JSON null that may sit in `specifications` (null and absent parse alike),
a number there (orjson's float text), a control character orjson writes as \\u00XX, an
unknown field, an image without `alt` — is returned to the caller, which judges it record
by record as before (`product_check.canonical_product`, then the JSON Schema) and
dead-letters it with the same reason. A batch Arrow refuses as a whole (bad UTF-8, a wrong
type, a duplicate key, a day that does not exist, a type met two ways) goes that way
entirely. The batch's explicit schema (with the `specifications` keys met so far) is kept
between batches: inference costs about twice the parse. Accepted rows hold exactly
the values of the per-record path (tests/unit/test_lake_product_batch.py).
"""

from __future__ import annotations

import io
from typing import Any

import numpy
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from vitrina.lake import layout, specifications_text
from vitrina.lake.product_rules import (
    all_of,
    column,
    images_json,
    rows_ok,
    specifications_column,
    specifications_json,
)
from vitrina.lake.raw_columns import RAW_SCHEMA

_TEXT = pa.string()
_IMAGE = pa.struct([("url", _TEXT), ("alt", _TEXT)])
# The plain columns, `index` (not a lake column, but a field the contract limits) and the
# images; `specifications` and any unknown field are inferred.
_SCHEMA = RAW_SCHEMA.append(pa.field("index", _TEXT)).append(pa.field("images", pa.list_(_IMAGE)))
_KNOWN = frozenset(_SCHEMA.names) | {"specifications"}
_PARSE = pj.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="infer")
# `specifications` cut out (`{}` in the lines): an empty struct, no key to parse; an
# unknown field anywhere fails the first read, the second reports it as an extra column.
_CUT_SCHEMA = _SCHEMA.append(pa.field("specifications", pa.struct([])))
_CUT = pj.ParseOptions(explicit_schema=_CUT_SCHEMA, unexpected_field_behavior="error")
_CUT_INFER = pj.ParseOptions(explicit_schema=_CUT_SCHEMA, unexpected_field_behavior="infer")
_BLOCK = 1 << 24  # one block per batch: on the writer thread, no pool
_TS_US = pa.timestamp("us", tz="UTC")


class _Unfit(Exception):
    """The batch as a whole needs the per-record path."""


def product_batch(
    topic: str, partition: int, items: list[tuple[Any, ...]]
) -> tuple[pa.Table | None, list[int], list[int]]:
    """The table of the batch's records that surely keep the contract, the positions (in
    `items`) of its rows, and the positions of the records it leaves to the caller.

    `items` are the sink's raw products: (offset, ts, key, raw value, raw key, headers).
    First with `specifications` cut out as text (`lake.specifications_text`); the records
    that leaves (and a batch it refuses) with `specifications` parsed as a struct.
    """
    lines = [i for i, item in enumerate(items) if b"\n" not in item[3]]  # JSON Lines
    parts: list[tuple[pa.Table, list[int]]] = []
    rest = lines
    if lines:
        try:
            batch = items if len(lines) == len(items) else [items[i] for i in lines]
            table, sure = _cut_batch(topic, partition, batch)
            if len(sure) == len(lines):  # every line sure (usual): no position to map
                parts.append((table, lines))
                rest = []
            else:
                parts.append((table, [lines[i] for i in sure]))
                taken = set(sure)
                rest = [line for i, line in enumerate(lines) if i not in taken]
        except (_Unfit, pa.ArrowException, ValueError):  # UTF-8, types, duplicates, days
            pass
    if parts and not rest and len(lines) == len(items):  # all taken at once (usual)
        return parts[0][0], lines, []
    if rest:
        table, rows, _ = _struct_batch(topic, partition, [items[i] for i in rest])
        if table is not None:
            parts.append((table, [rest[i] for i in rows]))
    rows = sorted(position for _, positions in parts for position in positions)
    left = sorted(set(range(len(items))) - set(rows))
    return reordered(parts), rows, left


def _cut_batch(
    topic: str, partition: int, items: list[tuple[Any, ...]]
) -> tuple[pa.Table, list[int]]:
    """The table of the records sure with `specifications` cut out as text, and their
    positions; _Unfit (or an Arrow error) when none is."""
    raws = [item[3] for item in items]
    data, cut_texts, left = specifications_text.cut_objects(raws)
    cut, specifications, specifications_sure = specifications_text.lake_texts(cut_texts)
    not_cut = pc.indices_nonzero(pc.and_(specifications.is_valid(), pc.invert(cut))).to_pylist()
    left = sorted(left + not_cut)
    if left:
        specifications_text.blank_lines(data, raws, left)
    # Arrow's reader copies bytes into its strings unchecked: bad UTF-8 (which orjson, and
    # so the contract, refuses) is found here, for the whole batch at once.
    whole = numpy.array([0, len(data)], numpy.int64)
    buffer = pa.py_buffer(data)
    pa.LargeStringArray.from_buffers(1, pa.py_buffer(whole), buffer).validate(full=True)
    read = pj.ReadOptions(use_threads=False, block_size=max(_BLOCK, len(data) + 1))
    try:
        parsed = pj.read_json(pa.BufferReader(buffer), read_options=read, parse_options=_CUT)
    except pa.ArrowInvalid:  # an unknown field (or a batch to refuse): its rows are left
        parsed = pj.read_json(pa.BufferReader(buffer), read_options=read, parse_options=_CUT_INFER)
    parsed = _parsed_fits(parsed, len(raws))
    if parsed.schema.field("specifications").type.num_fields:  # a key not cut out
        raise _Unfit("specifications parsed")
    images = images_json(parsed.column("images"), b"\\" in data)
    ok = all_of([rows_ok(parsed, None, False, _KNOWN), images[1], specifications_sure])
    if left:
        everyone = pa.array(range(len(raws)), pa.int64())
        ok = pc.and_(ok, pc.invert(pc.is_in(everyone, value_set=pa.array(left, pa.int64()))))
    sure = pc.indices_nonzero(ok).to_pylist()
    if not sure:
        raise _Unfit("no row sure")
    if len(sure) < len(parsed):
        parsed = parsed.filter(ok)
        specifications = specifications.filter(ok)
        images = (images[0].filter(ok), ok)
    table = _table(
        topic,
        partition,
        items if len(sure) == len(items) else [items[i] for i in sure],
        parsed,
        specifications,
        images[0],
        _instants(parsed.column("created_at")),
        _instants(parsed.column("updated_at")),
    )
    return table, sure


def _struct_batch(
    topic: str, partition: int, items: list[tuple[Any, ...]]
) -> tuple[pa.Table | None, list[int], list[int]]:
    """As `product_batch`, with `specifications` parsed as a struct of the keys met."""
    taken = [i for i, item in enumerate(items) if b"\n" not in item[3]]  # JSON Lines
    try:
        if not taken:
            raise _Unfit("no record on one line")
        raws = [items[i][3] for i in taken]
        parsed, records, data = _parse(raws)
        ok = rows_ok(parsed, records, b"null" in data, _KNOWN)
        escapes = b"\\" in data  # else no text of the batch needs an escape
        specifications = specifications_json(specifications_column(parsed), escapes)
        images = images_json(parsed.column("images"), escapes)
        ok = pc.and_(ok, pc.and_(specifications[1], images[1]))
        keep = ok.to_pylist()
        rows = [i for i, good in zip(taken, keep, strict=True) if good]
        if not rows:
            raise _Unfit("no row sure")
        if len(rows) < len(parsed):
            parsed = parsed.filter(ok)
            specifications = (specifications[0].filter(ok), ok)
            images = (images[0].filter(ok), ok)
        created = _instants(parsed.column("created_at"))
        updated = _instants(parsed.column("updated_at"))
    except (_Unfit, pa.ArrowException, ValueError):  # UTF-8, types, duplicates, no such day
        return None, [], list(range(len(items)))
    left = sorted(set(range(len(items))) - set(rows))
    table = _table(
        topic,
        partition,
        [items[i] for i in rows],
        parsed,
        specifications[0],
        images[0],
        created,
        updated,
    )
    return table, rows, left


def _parse(raws: list[bytes]) -> tuple[pa.Table, pa.Array, bytes]:
    """The batch parsed, its records as one text array over the same bytes (each with the
    line break that follows it), and those bytes."""
    data = b"\n".join(raws)
    ends = numpy.zeros(len(raws) + 1, numpy.int64)
    numpy.cumsum([len(raw) + 1 for raw in raws], out=ends[1:])
    ends[-1] = len(data)
    records = pa.LargeStringArray.from_buffers(len(raws), pa.py_buffer(ends), pa.py_buffer(data))
    # Arrow's reader copies bytes into its strings unchecked: bad UTF-8 (which orjson, and
    # so the contract, refuses) is found here, for the whole batch at once.
    records.validate(full=True)
    read = pj.ReadOptions(use_threads=False, block_size=max(_BLOCK, len(data) + 1))
    known = _KNOWN_SCHEMA[0]
    try:  # the schema of earlier batches: no inference, and no unknown field at all
        parsed = pj.read_json(io.BytesIO(data), read_options=read, parse_options=known)
    except pa.ArrowInvalid:  # a new specification key (or a batch to refuse)
        parsed = pj.read_json(io.BytesIO(data), read_options=read, parse_options=_PARSE)
        _learn(known, parsed.schema)
    return _parsed_fits(parsed, len(raws)), records, data


def _parsed_fits(parsed: pa.Table, records: int) -> pa.Table:
    """The parsed batch in one chunk; _Unfit when its rows or nested types are not sure."""
    if parsed.num_rows != records:
        raise _Unfit(f"{parsed.num_rows} rows parsed from {records} records")
    if parsed.schema.field("price").type.num_fields != 2:
        raise _Unfit("a price with an unknown field")  # refused by the contract
    if parsed.schema.field("stock").type.num_fields != 2:
        raise _Unfit("a stock with an unknown field")  # refused by the contract
    if parsed.schema.field("images").type.value_type != _IMAGE:
        raise _Unfit("an image with an unknown field")  # kept in images_json: dict path
    return parsed.combine_chunks()


# The explicit schema of the last batches read with `specifications` inferred (a struct of
# every key met, texts or booleans): inferring costs about twice the parse of explicit
# types. Read with unexpected fields an error, a batch with a key not met yet (or anything
# unknown) is read again with inference, and its keys are added.
_KNOWN_SCHEMA = [pj.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="error")]
_MAX_KEYS = 1000  # an open map: stop learning rather than grow without bound


def _learn(known: pj.ParseOptions, schema: pa.Schema) -> None:
    if "specifications" not in schema.names or set(schema.names) != _KNOWN:
        return
    met = schema.field("specifications").type
    if not pa.types.is_struct(met):
        return
    fields = {}
    if "specifications" in known.explicit_schema.names:
        fields = {f.name: f for f in known.explicit_schema.field("specifications").type}
    for field in met:
        if not (pa.types.is_string(field.type) or pa.types.is_boolean(field.type)):
            return
        if fields.setdefault(field.name, field).type != field.type:
            return
    if len(fields) > _MAX_KEYS:
        return
    specifications = pa.field("specifications", pa.struct(list(fields.values())))
    _KNOWN_SCHEMA[0] = pj.ParseOptions(
        explicit_schema=_SCHEMA.append(specifications), unexpected_field_behavior="error"
    )


def _instants(texts: Any) -> pa.Array:
    """Canonical instant texts → timestamp('ms', UTC) as `columns.instants` casts them;
    ArrowInvalid for a day that does not exist."""
    texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    return texts.cast(_TS_US).cast(layout.TS, safe=False)


def _table(
    topic: str,
    partition: int,
    items: list[tuple[Any, ...]],
    parsed: pa.Table,
    specifications: pa.Array,
    images: pa.Array,
    created: pa.Array,
    updated: pa.Array,
) -> pa.Table:
    n = len(items)
    offsets, timestamps, keys = list(zip(*items, strict=True))[:3]
    price = column(parsed, "price")
    stock = column(parsed, "stock")
    arrays = [
        pa.array([topic] * n, _TEXT),
        pa.array([partition] * n, pa.int32()),
        pa.array(offsets, pa.int64()),
        pa.array(timestamps, layout.TS),
        pa.array(keys, _TEXT),
        column(parsed, "product_id"),
        column(parsed, "name"),
        column(parsed, "description"),
        price.field("amount"),
        price.field("currency"),
        column(parsed, "category"),
        column(parsed, "brand"),
        stock.field("available"),
        stock.field("reserved"),
        column(parsed, "sku"),
        column(parsed, "tags"),
        column(parsed, "store_id"),
        created,
        updated,
        specifications,
        images,
    ]
    return pa.Table.from_arrays(arrays, schema=layout.schema_for("shop_products"))


def reordered(tables: list[tuple[pa.Table, list[int]]]) -> pa.Table | None:
    """Tables of parts of one batch, each with its rows' positions → one table in batch
    order (the order the per-record path writes)."""
    present = [(t, p) for t, p in tables if t is not None and t.num_rows]
    if not present:
        return None
    if len(present) == 1:
        return present[0][0]
    table = pa.concat_tables([t for t, _ in present])
    positions = pa.array([i for _, p in present for i in p], pa.int64())
    return table.take(pc.sort_indices(positions))
