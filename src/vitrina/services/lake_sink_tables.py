"""The lake sink's conversion of one buffer into its file's table, and the dead letters of
records the lake cannot hold (runs on the sink's writer thread: `lake_sink_writes`).

Fast-path products (the one-pass check accepted them) are parsed by Arrow's JSON reader
(`lake.raw_columns`); a batch it does not take, or one mixed with dict-path records, goes
column by column from decoded values (`lake.columns`); a batch that does not convert goes
record by record (`lake.rows`, the definition), which finds and dead-letters the culprit.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from vitrina.contracts.codec import decode, loads
from vitrina.contracts.product_check import canonical_product
from vitrina.errors import ContractError
from vitrina.kafka.deadletter import Output, dead_letter
from vitrina.kafka.produce import fits
from vitrina.lake.columns import (
    COLUMNAR,
    META,
    VALUES,
    ColumnarUnfit,
    canonical_product_values,
    lake_table,
)
from vitrina.lake.layout import CONTRACT_OF
from vitrina.lake.raw_columns import RAW_ITEM, RawUnfit, raw_product_table
from vitrina.lake.rows import RecordMeta, Row, lake_rows
from vitrina.lake.writer import to_table
from vitrina.settings import Settings

SERVICE = "lake-sink"
# A product waiting for its file: (offset, timestamp ms, key, raw value, raw key, replay
# headers, *column values) — the raw bytes for the per-record path and a dead letter — or,
# accepted by the one-pass check, (..., JSON line, specifications, images): RAW_ITEM long.
Pending = tuple[Any, ...]


def file_table(
    settings: Settings, pii_key: bytes, role: str, partition: int, items: list[Any]
) -> tuple[pa.Table | None, list[tuple[Output, str]]]:
    """The file's table (None: nothing left to write) and the dead letters (with the rule
    broken) of records it can not hold. Products go column by column, or record by record when a value does
    not convert: the per-record path names the culprit."""
    if role not in COLUMNAR:
        return to_table(role, items), []
    topic = getattr(settings.topics, role)
    if any(len(item) == RAW_ITEM for item in items):
        if all(len(item) == RAW_ITEM for item in items):
            try:
                return raw_product_table(topic, partition, items), []
            except RawUnfit:
                pass
        items = [as_values(item) for item in items]
    try:
        return lake_table(role, topic, partition, items), []
    except ColumnarUnfit:
        pass
    rows: list[Row] = []
    dead: list[tuple[Output, str]] = []
    for pending in items:
        offset, ts, key, raw = pending[:4]
        try:
            converted = lake_rows(
                role,
                decode(CONTRACT_OF[role], raw),
                RecordMeta(topic, partition, offset, ts, key),
                pii_key,
            )
            to_table(role, converted)  # a value Arrow refuses fails here, alone
        except (ContractError, pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            dead.append(lake_dead_letter(settings, topic, partition, pending, exc))
            continue
        rows.extend(converted)
    return (to_table(role, rows) if rows else None), dead


def as_values(item: Pending) -> Pending:
    """A fast-path item as a column-values item (a batch Arrow's JSON reader did not
    take, or one mixed with dict-path records): decoded again, rarely."""
    if len(item) != RAW_ITEM:
        return item
    canonical = canonical_product(item[3])
    values = None if canonical is None else canonical_product_values(canonical)
    if values is None:  # not reached: raw_values accepted it; the dict path decides
        values = VALUES["shop_products"](loads(item[3]))
    return (*item[:META], *values)


def lake_dead_letter(
    settings: Settings, topic: str, partition: int, pending: Pending, exc: Exception
) -> tuple[Output, str]:
    """The dead letter of a record the lake cannot hold, and the rule it broke."""
    offset, _, _, raw, raw_key, carried = pending[:META]
    rule = (exc.rule if isinstance(exc, ContractError) else "") or "unwritable"
    extra = list(carried or ())
    if not fits(raw_key, raw):  # the dead letter itself must fit: keep the start
        extra.append(("value_truncated_from", str(len(raw or b"")).encode()))
        raw = (raw or b"")[:100_000]
    letter = dead_letter(
        settings.topics.dead_letters,
        service=SERVICE,
        error=f"the lake cannot store this record: {exc}",
        key=raw_key,
        value=raw,
        source_topic=topic,
        partition=partition,
        offset=offset,
        extra_headers=extra,
    )
    return letter, rule
