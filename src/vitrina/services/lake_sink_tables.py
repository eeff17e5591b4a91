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
import pyarrow.compute as pc

from vitrina.contracts.codec import check_depth, decode, loads, validate, validator
from vitrina.contracts.product_check import canonical_product
from vitrina.errors import ContractError
from vitrina.kafka.deadletter import Output, dead_letter, replay_targets
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
from vitrina.lake.product_batch import product_batch
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
    broken) of records it can not hold. Raw products are checked and parsed per batch
    (`lake.product_batch`); those it is not sure of, and any other product, go column by
    column, or record by record when a value does not convert: the per-record path names
    the culprit."""
    if role not in COLUMNAR:
        return to_table(role, items), []
    topic = getattr(settings.topics, role)
    dead: list[tuple[Output, str]] = []
    fast: pa.Table | None = None
    if any(len(item) == META for item in items):
        raw = [i for i, item in enumerate(items) if len(item) == META]
        fast, rows, _ = product_batch(topic, partition, [items[i] for i in raw])
        if len(rows) == len(items):  # every record raw and taken: nothing else to convert
            return fast, []
        taken = {raw[i] for i in rows}
        rest: list[Any] = []
        for position, item in enumerate(items):
            if position in taken:
                continue
            if len(item) == META:  # not sure in the batch: judged alone, as on arrival
                try:
                    item = (*item, *checked_values(role, item[3]))
                except ContractError as exc:
                    letter = contract_dead_letter(settings, topic, partition, item, exc)
                    if letter is not None:
                        dead.append(letter)
                    continue
            rest.append(item)
        items = rest
    slow, refused = _values_table(settings, pii_key, role, topic, partition, items)
    return _in_offset_order(fast, slow), dead + refused


def _values_table(
    settings: Settings, pii_key: bytes, role: str, topic: str, partition: int, items: list[Any]
) -> tuple[pa.Table | None, list[tuple[Output, str]]]:
    if not items:
        return None, []
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


def _in_offset_order(fast: pa.Table | None, slow: pa.Table | None) -> pa.Table | None:
    """One table of the batch's two parts, rows in offset order as the buffer held them
    (a buffer is one partition's records in consumption order: offsets increase)."""
    if fast is None or slow is None:
        return fast if slow is None else slow
    table = pa.concat_tables([fast, slow])
    return table.take(pc.sort_indices(table.column("_offset")))


def checked_values(role: str, raw: bytes | None) -> tuple[Any, ...]:
    """A product's column values, judged alone: the door's one-pass check, else the JSON
    Schema (ContractError naming field and rule). Without the codec's instant check: the
    column path parses every instant itself, and an impossible one (2025-02-30) sends the
    batch through the per-record path, where the codec's decode dead-letters it."""
    if raw is not None:
        canonical = canonical_product(raw)
        values = None if canonical is None else canonical_product_values(canonical)
        if values is not None:
            return values
    contract = CONTRACT_OF[role]
    value = loads(raw)
    check_depth(contract, value, raw)
    if not validator(contract).is_valid(value):
        validate(contract, value, raw)  # raises the ContractError naming field and rule
    return VALUES[role](value)


def contract_dead_letter(
    settings: Settings, topic: str, partition: int, pending: Pending, exc: ContractError
) -> tuple[Output, str] | None:
    """The dead letter of a record that breaks its contract, as the worker writes one on
    arrival (`StreamWorker._dead_letter`): its reason, headers and rule. None for a replayed
    record another of the services it was replayed for dead-letters (the first of them)."""
    *_, carried = pending[:META]
    targets = replay_targets(carried or ())  # checked by the worker on arrival
    if targets and sorted(targets)[0] != SERVICE:
        return None
    return _letter(settings, topic, partition, pending, str(exc)), exc.rule or "invalid"


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
    rule = (exc.rule if isinstance(exc, ContractError) else "") or "unwritable"
    error = f"the lake cannot store this record: {exc}"
    return _letter(settings, topic, partition, pending, error), rule


def _letter(settings: Settings, topic: str, partition: int, pending: Pending, error: str) -> Output:
    """The dead letter of a pending record, with its replay headers; a value too large for
    a dead letter keeps its start and says how long it was."""
    offset, _, _, raw, raw_key, carried = pending[:META]
    extra = list(carried or ())
    if not fits(raw_key, raw):  # the dead letter itself must fit: keep the start
        extra.append(("value_truncated_from", str(len(raw or b"")).encode()))
        raw = (raw or b"")[:100_000]
    return dead_letter(
        settings.topics.dead_letters,
        service=SERVICE,
        error=error,
        key=raw_key,
        value=raw,
        source_topic=topic,
        partition=partition,
        offset=offset,
        extra_headers=extra,
    )
