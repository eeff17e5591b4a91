"""Raw products checked and parsed per batch (`lake.product_batch`) against the per-record
definition: every record the batch takes keeps the contract (the codec's JSON Schema decode
accepts it) and its row equals `rows.lake_rows` of the decoded record; every other record is
left to the per-record path. Then the sink's file table (`file_table`): the invalid records
of a mixed batch are dead-lettered as the worker dead-letters them on arrival, the rest
written as the definition writes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import ConsumedRecord

from vitrina.contracts.codec import decode
from vitrina.domain.generator import generate_catalog
from vitrina.errors import ContractError
from vitrina.kafka.deadletter import (
    HEADER_ERROR,
    HEADER_REPLAY_FOR,
    HEADER_SERVICE,
    DeadLetterFlood,
)
from vitrina.lake import product_batch as product_batch_module
from vitrina.lake import specifications_text
from vitrina.lake.product_batch import product_batch
from vitrina.lake.rows import RecordMeta, lake_rows
from vitrina.lake.writer import LakeWriter, to_table
from vitrina.services.lake_sink import LakeSink
from vitrina.services.lake_sink_tables import SERVICE, file_table
from vitrina.settings import load_settings

SEEDS = Path("/work/shared/data/seed-catalogs")
TOPIC, PARTITION, TS = "shop-products", 3, 1714561200000


def items_of(raws: list[bytes]) -> list[tuple[Any, ...]]:
    return [(i, TS + i, f"k{i}", raw, f"k{i}".encode(), None) for i, raw in enumerate(raws)]


def definition(items: list[tuple[Any, ...]]) -> pa.Table:
    """The per-record path: decode with the JSON Schema, one lake row per record."""
    rows = []
    for offset, ts, key, raw, *_ in items:
        meta = RecordMeta(TOPIC, PARTITION, offset, ts, key)
        rows += lake_rows("shop_products", decode("product", raw), meta, b"key")
    return to_table("shop_products", rows)


def valid(raw: bytes) -> bool:
    try:
        decode("product", raw)
    except ContractError:
        return False
    return True


def check(raws: list[bytes]) -> tuple[list[int], list[int]]:
    """Assert the batch's promise for these records; their taken and left positions."""
    items = items_of(raws)
    table, taken, left = product_batch(TOPIC, PARTITION, items)
    assert sorted(taken + left) == list(range(len(items)))
    if not taken:
        assert table is None
        return taken, left
    for position in taken:
        assert valid(raws[position]), raws[position][:300]
    assert table is not None
    expected = definition([items[i] for i in taken])
    assert table.equals(expected), (table.to_pylist()[:1], expected.to_pylist()[:1])
    return taken, left


def test_a_generated_catalogue_is_taken_as_the_definition_writes_it() -> None:
    raws = [orjson.dumps(p) for p in generate_catalog(1500, seed=31)]
    _, left = check(raws)
    assert not left  # escaped quotes in specifications included
    assert any(b"\\" in raw for raw in raws)


def seed_products() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(SEEDS.glob("*.json")) if SEEDS.is_dir() else []:
        try:
            data = json.loads(path.read_text("utf-8"))
        except ValueError:
            continue
        out += [p for p in (data if isinstance(data, list) else [data]) if isinstance(p, dict)]
    return out


def test_seed_catalogue_records_valid_or_not_among_good_ones() -> None:
    products = seed_products()
    if not products:
        pytest.skip(f"no seed catalogues at {SEEDS}")
    generated = [orjson.dumps(p) for p in generate_catalog(5, seed=32)]
    taken_seeds = 0
    for seed in products:
        # Each with good records: one producer's types differ from another's, and a type
        # Arrow meets two ways sends the whole batch to the per-record path.
        taken, _ = check([generated[0], orjson.dumps(seed), *generated[1:]])
        taken_seeds += 1 in taken
    assert taken_seeds  # some seed records are sure in a batch


def product(**changes: Any) -> bytes:
    base = dict(next(iter(generate_catalog(1, seed=33))))
    base.update(changes)
    return orjson.dumps({k: v for k, v in base.items() if v is not DROP})


DROP = object()

EDGES = {
    "missing name": product(name=DROP),
    "null name": product(name=None),
    "empty name": product(name=""),
    "long name": product(name="я" * 501),
    "name of 500 code points": product(name="я" * 500),
    "numeric name": product(name=12),
    "bad product_id": product(product_id="a b"),
    "long product_id": product(product_id="a" * 65),
    "lower currency": product(price={"amount": 1.5, "currency": "rub"}),
    "negative amount": product(price={"amount": -1, "currency": "RUB"}),
    "huge amount": product(price={"amount": 1e13, "currency": "RUB"}),
    "integer amount": product(price={"amount": 7, "currency": "RUB"}),
    "price extra": product(price={"amount": 1, "currency": "RUB", "x": 1}),
    "no price": product(price=DROP),
    "half stock": product(stock={"available": 1}),
    "negative stock": product(stock={"available": -1, "reserved": 0}),
    "null stock": product(stock=None),
    "max stock": product(stock={"available": 2**63 - 1, "reserved": 0}),
    "null tag": product(tags=["a", None]),
    "101 tags": product(tags=["t"] * 101),
    "100 tags": product(tags=["t"] * 100),
    "empty tags": product(tags=[]),
    "zone instant": product(created_at="2024-01-01T00:00:00+03:00"),
    "epoch instant": product(created_at=1700000000),
    "no such day": product(created_at="2025-02-30T00:00:00Z"),
    "micro instant": product(updated_at="2024-04-01T10:00:00.123456Z"),
    "leap second": product(updated_at="2024-06-30T23:59:60Z"),
    "image without alt": product(images=[{"url": "u"}]),
    "image with null alt": product(images=[{"url": "u", "alt": None}]),
    "image extra": product(images=[{"url": "u", "alt": "a", "w": 1}]),
    "null image": product(images=[None]),
    "51 images": product(images=[{"url": "u", "alt": "a"}] * 51),
    "empty images": product(images=[]),
    "spec number": product(specifications={"a": 1.5, "b": "x"}),
    "spec bool": product(specifications={"б": True, "a": False}),
    "spec null": product(specifications={"a": None}),
    "spec nested": product(specifications={"a": {"b": 1}}),
    "empty spec": product(specifications={}),
    "null spec": product(specifications=None),
    "spec escapes": product(specifications={'a"b': "c\\d\n"}),
    "spec control": product(specifications={"a": "x\x01"}),
    "spec tab": product(specifications={"a\t": "x\x1f\b\f\r"}),
    "alt escapes": product(images=[{"url": "u\\", "alt": 'a"\t\u2028'}]),
    "alt control": product(images=[{"url": "u", "alt": "a\x00"}]),
    "unknown field": product(colour="red"),
    "unknown null": product(colour=None),
    "unknown deep": product(
        colour=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
    ),
    "long index": product(index="x" * 201),
    "spec braces in a text": product(specifications={"a": "x}y{", "b": "}"}),
    "spec key order": product(
        specifications={"😀": "x", "\uffff": "y", "a b": "z", "a": "w", "A": True, "я": "v"}
    ),
    "spec key named specifications": product(specifications={"specifications": "x"}),
    "spec control escapes": product(specifications={"a": "\x00\x0b\x1f\x7f\u2028/"}),
    "spec nested in an unknown field": product(colour={"specifications": {"a": "b"}}),
    "spec only nested in an unknown field": product(
        specifications=DROP, colour={"specifications": {"a": "b"}}
    ),
    "spec nested in an image": product(
        images=[{"url": "u", "alt": "a", "specifications": {"a": "b"}}]
    ),
    "spec spaced": json.dumps(dict(next(iter(generate_catalog(1, seed=33))))).encode(),
    "emoji": product(name="😀 ж\u2028"),
    "dot id": product(product_id="."),
    "dots id": product(product_id=".."),
    "three dots id": product(product_id="..."),
    "dot-led id": product(product_id=".5"),
    "blank name": product(name=" \u200b\u00a0"),
    "blank category": product(category="\u3000\ufeff"),
    "filler name": product(name="\u3164\u2800"),  # product v5
    "selector category": product(category="\u034f\ufe0f\ufffe"),  # product v5
    "name after a filler": product(name="\u3164ж\u2800"),
    "name spaced": product(name="\u00a0ж\u200b"),
    "NUL in a name": product(name="ж\x00к"),
    "tab in a name": product(name="ж\tк"),
    "C1 control in a name": product(name="ж\x85"),
    "escape in a category": product(category="Обувь\x1b[31m"),
    "DEL in a category": product(category="Обувь\x7f"),
}


@pytest.mark.parametrize("case", sorted(EDGES))
def test_an_edge_record_among_good_ones(case: str) -> None:
    good = [orjson.dumps(p) for p in generate_catalog(4, seed=34)]
    good = [raw for raw in good if b"\\" not in raw]
    raws = [good[0], EDGES[case], *good[1:]]
    taken, _ = check(raws)
    if not valid(EDGES[case]):
        assert 1 not in taken


def test_specifications_are_cut_out_as_text_for_a_generated_catalogue() -> None:
    # The fast path itself (`specifications` never parsed) takes every record, and writes
    # them as the struct path (and so the definition) does.
    items = items_of([orjson.dumps(p) for p in generate_catalog(600, seed=40)])
    table, sure = product_batch_module._cut_batch(TOPIC, PARTITION, items)
    assert sure == list(range(len(items)))
    assert table.equals(definition(items))


def test_a_record_the_cut_leaves_is_parsed_with_its_specifications() -> None:
    good = [orjson.dumps(p) for p in generate_catalog(3, seed=41)]
    cut_short = product(specifications={"a": "x}y", "b": "c"})  # a brace inside a text
    spaced = json.dumps(dict(next(iter(generate_catalog(1, seed=42))))).encode()
    null = product(specifications=None)
    raws = [good[0], cut_short, spaced, null, good[1], good[2]]
    _, sure = product_batch_module._cut_batch(TOPIC, PARTITION, items_of(raws))
    assert sure == [0, 4, 5]
    taken, left = check(raws)  # the struct path takes the others, as the definition
    assert taken == [0, 1, 2, 3, 4, 5] and not left


def test_specifications_are_checked_and_sorted_once_across_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A distinct object is learnt by the first batch that meets it; later batches (and the
    # same batch again) look it up and write what the definition writes, sure or not.
    escaped_key = product(specifications={'a"b': "x", "a": "y"})  # sorted unescaped: left
    repeated_key = product(specifications={"a": "x"}).replace(b'{"a":"x"}', b'{"b":"1","b":"2"}')
    long = {"a": "я" * 1100}  # 2,2xx bytes: checked and sorted with its batch, not kept
    good = [orjson.dumps(p) for p in generate_catalog(40, seed=43)]
    raws = [good[0], escaped_key, repeated_key, product(specifications=long), *good[1:]]
    known = specifications_text._KNOWN
    known.clear()
    first = check(raws)
    assert 3 in first[0]
    texts = {raw.split(b'"specifications":')[1].split(b"}")[0] for raw in raws}
    assert len(known) == len(texts) - 1
    assert orjson.dumps(long) not in known
    cut, _, sure = known[b'{"b":"1","b":"2"}']
    assert cut and not sure
    assert check(raws) == first  # every text known
    assert check(list(reversed(raws)))[0]
    monkeypatch.setattr(specifications_text, "_KNOWN_MAX", 3)  # forgotten as it goes
    assert check(raws) == first and len(known) <= 3 + len(raws)


def test_a_batch_arrow_refuses_is_left_whole() -> None:
    good = [orjson.dumps(p) for p in generate_catalog(3, seed=35)]
    valid_but_utf8 = good[0].replace(b'"name":"', b'"name":"\xff', 1)
    surrogate = good[0].replace(b'"name":"', b'"name":"\xed\xa0\x80', 1)
    for bad in (valid_but_utf8, surrogate, b"[1]", b"nul", b'{"name": "a\x01"}'):
        table, taken, left = product_batch(TOPIC, PARTITION, items_of([good[0], bad, good[2]]))
        assert table is None and taken == [] and left == [0, 1, 2]


def test_an_escaped_lone_surrogate_and_a_duplicate_key_are_left() -> None:
    good = [orjson.dumps(p) for p in generate_catalog(3, seed=35)]
    lone = good[0].replace(b'"name":"', b'"name":"\\ud800', 1)
    duplicate = good[0][:-1] + b',"name":"the last name wins"}'
    for bad in (lone, duplicate):
        _, left = check([good[1], bad, good[2]])
        assert 1 in left


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = sorted(dict(next(iter(generate_catalog(1, seed=36)))))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from([*FIELDS, "price.amount", "stock.reserved", "extra"]), JSON),
        max_size=6,
    )
)
def test_mutated_records_mixed_with_good_ones(mutations: list[tuple[str, Any]]) -> None:
    products = [dict(p) for p in generate_catalog(6, seed=37)]
    for i, (field, value) in enumerate(mutations):
        target = products[i % len(products)]
        if "." in field:
            outer, inner = field.split(".")
            target[outer] = {**(target.get(outer) or {}), inner: value}
        else:
            target[field] = value
    try:
        raws = [orjson.dumps(p) for p in products]
    except orjson.JSONEncodeError:
        return  # an integer beyond 64 bits: not a record a producer can send
    taken, _ = check(raws)
    # The untouched records are taken unless Arrow refused the whole batch.
    touched = {i % len(products) for i in range(len(mutations))}
    untouched = [i for i in range(len(raws)) if i not in touched and b"\\" not in raws[i]]
    assert not taken or set(untouched) <= set(taken)


def test_file_table_dead_letters_the_invalid_as_the_worker_does(tmp_path: Path) -> None:
    config = load_settings(data_dir=tmp_path)
    good = [orjson.dumps(p) for p in generate_catalog(4, seed=38)]
    bad = product(price={"amount": -1, "currency": "RUB"})
    replay_other = (HEADER_REPLAY_FOR, b"aa-first,lake-sink")
    replay_mine = (HEADER_REPLAY_FOR, b"lake-sink,search")
    items = [
        (10, TS, "k10", good[0], b"k10", None),
        (11, TS, "k11", bad, b"k11", None),
        (12, TS, "k12", good[1], b"k12", None),
        (13, TS, "k13", bad, b"k13", (replay_other,)),
        (14, TS, "k14", bad, b"k14", (replay_mine,)),
        (15, TS, "k15", good[2], b"k15", None),
    ]
    table, dead = file_table(config, b"key", "shop_products", PARTITION, items)
    assert table is not None
    assert table.column("_offset").to_pylist() == [10, 12, 15]
    expected = definition([items[0], items[2], items[5]])
    assert table.drop_columns(["_topic"]).equals(expected.drop_columns(["_topic"]))
    with pytest.raises(ContractError) as refused:
        decode("product", bad)
    # 13: replayed for two services, another one first: it dead-letters the record.
    assert [letter.key for letter, _ in dead] == [b"k11", b"k14"]
    for letter, rule in dead:
        headers = dict(letter.headers or [])
        assert headers[HEADER_ERROR].decode() == str(refused.value)
        assert headers[HEADER_SERVICE] == SERVICE.encode()
        assert letter.value == bad and rule == refused.value.rule
    assert dict(dead[1][0].headers or [])[HEADER_REPLAY_FOR] == b"lake-sink,search"


def test_duplicate_keys_in_open_and_nested_parts() -> None:
    good = [orjson.dumps(p) for p in generate_catalog(3, seed=39)]
    good = [raw for raw in good if b"\\" not in raw] or [product()]
    base = product(specifications={"a": "x"}, images=[{"url": "u", "alt": "a"}])
    twice = [
        base.replace(b'{"a":"x"}', b'{"a":"x","a":"y"}'),
        base.replace(b'"alt":"a"', b'"alt":"a","alt":"b"'),
        base[:-1] + b',"images":null}',
        base[:-1] + b',"specifications":{"b":"z"}}',
        base[:-1] + b',"colour":1,"colour":{"x":1}}',
    ]
    for raw in twice:
        assert raw != base
        check([good[0], raw, *good[1:]])


def test_the_sink_checks_products_with_their_file_and_dead_letters_before_commit(
    tmp_path: Path,
) -> None:
    """On arrival a product is only kept (nothing raises); the invalid one is dead-lettered
    when its file is written, and offsets may commit only once that letter was taken."""
    config = load_settings(data_dir=tmp_path)
    sink = LakeSink(config, LakeWriter.from_settings(config), b"key")
    raws = [orjson.dumps(p) for p in generate_catalog(4, seed=40)]
    raws[2] = product(tags=["a", None])  # breaks the contract
    for offset, raw in enumerate(raws):
        assert sink.process(ConsumedRecord(offset, raw)) == []  # type: ignore[arg-type]
    assert sink.buffered == 4 and not sink.durable()
    sink.flush()
    assert not sink.durable()  # the dead letter is not taken yet
    [letter] = sink.take_dead_letters()
    assert letter.value == raws[2] and letter.topic == config.topics.dead_letters
    assert sink.durable()
    sink.close()


def test_a_partition_mostly_invalid_stops_the_sink_as_the_worker_would(tmp_path: Path) -> None:
    """The worker's flood rule holds for records refused with their file's batch too."""
    config = load_settings(data_dir=tmp_path, worker={"dlq_window": 10, "dlq_flood_ratio": 0.5})
    sink = LakeSink(config, LakeWriter.from_settings(config), b"key")
    bad = product(price={"amount": -1, "currency": "RUB"})
    for offset in range(4):  # 4 of 10: under the limit
        sink.process(ConsumedRecord(offset, bad))  # type: ignore[arg-type]
    sink.flush()
    assert len(sink.take_dead_letters()) == 4
    for offset in range(4, 10):  # 10 of the last 10
        sink.process(ConsumedRecord(offset, bad))  # type: ignore[arg-type]
    with pytest.raises(DeadLetterFlood):
        sink.flush()
    assert not sink.durable()
    sink.close()


def test_a_key_repeated_in_one_object_is_the_last_in_the_lake_too() -> None:
    """Arrow's reader refuses a repeated key for the whole batch; the batch then goes the
    per-record way, which keeps the last (docs/contracts.md), as the doors do."""
    good = [orjson.dumps(p) for p in generate_catalog(3, seed=35)]
    repeated = good[1].replace(b'{"product_id":"', b'{"product_id":"first","product_id":"', 1)
    items = items_of([good[0], repeated, good[2]])
    table, taken, left = product_batch(TOPIC, PARTITION, items)
    assert sorted(taken + left) == [0, 1, 2]
    rows = definition([items[i] for i in left]).to_pylist() if left else []
    if table is not None:
        rows += table.to_pylist()
    ids = {row["product_id"] for row in rows}
    assert "first" not in ids
    assert orjson.loads(good[1])["product_id"] in ids
