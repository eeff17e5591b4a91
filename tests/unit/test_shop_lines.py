"""The loader's candidates: one-pass verdicts agree with the full door, positions with the parser."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from vitrina.contracts.door import admit_product
from vitrina.domain.catalog import dump_catalog, parse_catalog
from vitrina.domain.generator import generate_catalog
from vitrina.errors import ContractError
from vitrina.services.shop_lines import candidates


def mixed_catalogue(jsonl: bool) -> bytes:
    products = list(generate_catalog(6, seed=5))
    products[1]["created_at"] = "2025-08-01 16:33:58+03:00"  # valid, normalised at the door
    products[2]["warehouse"] = {"shelf": 3}  # valid, unknown field: the slow way
    products[3]["price"] = {"amount": -1, "currency": "RUB"}  # invalid
    if not jsonl:
        return b"".join(dump_catalog(products, jsonl=False))
    lines = [orjson.dumps(p) for p in products]
    lines.insert(2, b"")  # a blank line still counts
    lines.insert(4, b'{"product_id": "x",')  # malformed JSON
    return b"\r\n".join(lines) + b"\n"


def test_verdicts_agree_with_the_full_door_and_positions_with_the_parser() -> None:
    for jsonl in (True, False):
        data = mixed_catalogue(jsonl)
        expected = [r.position for r in parse_catalog(data).records]
        seen = list(candidates(parse_catalog(data)))
        assert [c[0] for c in seen] == expected
        fast = 0
        for _position, raw, _record, product_id, store in seen:
            if product_id is None:
                continue
            fast += 1
            value = orjson.loads(raw)  # accepted bytes go out as they are: the door agrees
            assert admit_product(value, raw) == raw
            assert (product_id, store) == (value["product_id"], value.get("store_id"))
        assert fast == 3, jsonl  # the three plain products; the rest take the slow way


def test_the_slow_way_still_names_the_rule() -> None:
    data = mixed_catalogue(jsonl=True)
    slow = [c for c in candidates(parse_catalog(data)) if c[3] is None]
    rules = []
    for _position, raw, _record, _id, _store in slow:
        try:
            admit_product(orjson.loads(raw or b"null"), raw)
        except (ContractError, orjson.JSONDecodeError) as exc:
            rules.append(getattr(exc, "rule", "json"))
    assert rules == ["json", "minimum"]


def pretty_stream(products: list[dict[str, object]]) -> bytes:
    """Pretty-printed objects one after another, a blank line between (no array, no commas)."""
    return b"\n\n".join(orjson.dumps(p, option=orjson.OPT_INDENT_2) for p in products) + b"\n"


def test_pretty_printed_objects_one_after_another_are_a_catalogue() -> None:
    """Stores that `json.dump` product after product into one file (seen in a course repo)."""
    products = list(generate_catalog(3, seed=7))
    data = pretty_stream(products)
    catalog = parse_catalog(data)
    records = list(catalog.records)
    assert catalog.shape == "objects"
    assert [r.value for r in records] == products
    starts = [n + 1 for n, line in enumerate(data.split(b"\n")) if line == b"{"]
    assert [r.where for r in records] == [f"line {n}" for n in starts]  # where each one begins
    for _position, raw, record, _id, _store in candidates(parse_catalog(data)):
        assert record is not None and admit_product(record.value, raw)


def test_a_broken_object_in_a_stream_costs_only_itself() -> None:
    products = list(generate_catalog(3, seed=7))
    pretty = [orjson.dumps(p, option=orjson.OPT_INDENT_2) for p in products]
    pretty[1] = pretty[1].replace(b",\n", b"\n", 1)  # a missing comma
    data = b"\n".join(pretty)
    records = list(parse_catalog(data).records)
    assert [(r.ok, r.rule) for r in records] == [(True, None), (False, "json"), (True, None)]
    assert records[2].value == products[2]


def test_jsonl_with_a_broken_first_line_stays_line_by_line() -> None:
    lines = [b'{"product_id": "1",', b'{"product_id": "2"}', b'{"product_id": "3"}']
    catalog = parse_catalog(b"\n".join(lines))
    assert catalog.shape == "jsonl"
    assert [(r.position, r.ok) for r in catalog.records] == [(1, False), (2, True), (3, True)]


def test_a_catalogue_wrapped_in_one_key_is_its_products() -> None:
    """`{"products": [...]}`: the array under the only key is the catalogue, at both doors."""
    from vitrina.services.shop_api import check_batch

    products = [{**p, "store_id": "store_001"} for p in generate_catalog(2, seed=7)]
    for key in ("products", "items"):
        catalog = parse_catalog(orjson.dumps({key: products}))
        assert catalog.shape == "array" and [r.value for r in catalog.records] == products
    admitted = check_batch({"products": products}, "store_001", 10)
    assert [pid for pid, _ in admitted] == [p["product_id"] for p in products]
    one = parse_catalog(orjson.dumps({"products": products, "store": "x"}))  # not a wrapper
    assert one.shape == "object"


def test_a_page_of_an_api_dump_is_its_products() -> None:
    """`{"items": [...], "total": 120, "page": 3, "next": "..."}` — a catalogue saved from a
    paginated API — is its products at both doors: the paging fields say nothing of a
    product. Anything else beside the list (a store, a second list) is not guessed at."""
    from vitrina.services.shop_api import check_batch

    products = [{**p, "store_id": "store_001"} for p in generate_catalog(2, seed=7)]
    page = {"items": products, "total": 120, "page": 3, "per_page": 2, "next": "/p?page=4"}
    catalog = parse_catalog(orjson.dumps(page))
    assert catalog.shape == "array" and [r.value for r in catalog.records] == products
    admitted = check_batch(page, "store_001", 10)
    assert [pid for pid, _ in admitted] == [p["product_id"] for p in products]
    assert list(parse_catalog(orjson.dumps({"products": [], "total": 0})).records) == []
    for not_paging in (
        {"products": products, "total": 2, "store": "x"},
        {"products": products, "more": products},
        {"products": products, "total": {"value": 2}},
        {**products[0], "total": 2},  # a product with a field named like paging
    ):
        assert parse_catalog(orjson.dumps(not_paging)).shape == "object", not_paging


def test_the_api_reads_a_body_with_a_byte_order_mark_as_shop_load_does() -> None:
    from vitrina.services.shop_api import parse_body

    product = next(iter(generate_catalog(1, seed=7)))
    assert parse_body(b"\xef\xbb\xbf" + orjson.dumps(product)) == product


def test_the_api_reads_json_lines_and_objects_one_after_another_as_shop_load_does() -> None:
    import pytest

    from vitrina.errors import BadRequestError
    from vitrina.services.shop_api import parse_body

    products = list(generate_catalog(3, seed=7))
    lines = b"\n".join(orjson.dumps(p) for p in products) + b"\n"
    assert parse_body(lines) == products
    assert parse_body(lines.replace(b"\n", b"\r\n")) == products  # Windows line ends
    pretty = b"\n".join(orjson.dumps(p, option=orjson.OPT_INDENT_2) for p in products)
    assert parse_body(pretty) == products
    broken = lines.replace(orjson.dumps(products[1]), b'{"product_id": "1",', 1)
    with pytest.raises(BadRequestError) as caught:  # all or nothing, the record named
        parse_body(broken)
    assert "1 of 3 records" in caught.value.message and "line 2" in caught.value.message
    with pytest.raises(BadRequestError) as caught:  # one broken value: the plain message
        parse_body(b'{"product_id": ')
    assert caught.value.message.startswith("malformed JSON")


def test_the_api_reads_no_more_records_of_a_body_than_a_batch_may_hold(
    monkeypatch: Any,
) -> None:
    """Work, not time: a body of 4M lines of `{` (8 MB, under the size limit) was read to
    its last line, 13 s of the SHOP API's event loop, every store's requests and /healthz
    waiting (a blind review). One record past the batch limit is read, no more."""
    import pytest

    from vitrina.domain import catalog
    from vitrina.errors import BadRequestError
    from vitrina.services.shop_api import PayloadTooLarge, parse_body

    seen: list[int] = []
    real = catalog._bad_json
    monkeypatch.setattr(catalog, "_bad_json", lambda *a: seen.append(1) or real(*a))
    with pytest.raises(BadRequestError) as caught:
        parse_body(b"{\n" * 400_000, max_records=1000)
    assert caught.value.message.startswith("malformed JSON")
    assert len(seen) <= 1001
    lines = b"".join(orjson.dumps(p) + b"\n" for p in generate_catalog(30, seed=7))
    assert len(parse_body(lines, max_records=30)) == 30
    with pytest.raises(PayloadTooLarge, match="more than 29 products"):
        parse_body(lines, max_records=29)


def test_unclosed_objects_line_after_line_are_not_scanned_for_ever() -> None:
    """Each `{"a":` line made the stream scanner parse ~1,000 levels deep: 6 MB took 45 s."""
    opened = b'{"a":\n' * 200_000
    assert parse_catalog(opened).shape == "jsonl"  # never one parsed object: not a stream
    stream = orjson.dumps(next(iter(generate_catalog(1, seed=7))), option=orjson.OPT_INDENT_2)
    records = list(parse_catalog(stream + b"\n" + opened).records)
    assert records[0].ok and not records[-1].ok and len(records) <= 1_002
    assert "not read" in (records[-1].error or "")


_texts = st.text(max_size=8)
_values = st.none() | st.booleans() | st.integers(-(10**9), 10**9) | _texts
_objects = st.dictionaries(  # non-empty: `{}` pretty-prints on one line, as JSON Lines do
    _texts,
    _values | st.lists(_values, max_size=3) | st.dictionaries(_texts, _values, max_size=3),
    min_size=1,
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(
    objects=st.lists(_objects, min_size=2, max_size=6), gap=st.sampled_from(["\n", "\n\n", "\r\n"])
)
def test_any_objects_one_after_another_read_back_equal(
    objects: list[dict[str, object]], gap: str
) -> None:
    data = gap.encode().join(orjson.dumps(o, option=orjson.OPT_INDENT_2) for o in objects)
    assert [r.value for r in parse_catalog(data).records] == objects


def test_json_lines_with_a_too_large_product_are_refused_as_the_array_is() -> None:
    """A product over the record size limit is the door's refusal (422, its index, rule
    size) whether the batch came as an array or as JSON Lines — not "not valid JSON"."""
    import pytest

    from vitrina.domain.limits import MAX_RECORD_BYTES
    from vitrina.services.shop_api import InvalidBatch, check_batch, parse_body

    small, big = ({**p, "store_id": "store_001"} for p in generate_catalog(2, seed=7))
    big["specifications"] = {f"k{i}": "д" * 50 for i in range(MAX_RECORD_BYTES // 50)}
    refusals = []
    for body in (orjson.dumps([small, big]), orjson.dumps(small) + b"\n" + orjson.dumps(big)):
        with pytest.raises(InvalidBatch) as caught:
            check_batch(parse_body(body), "store_001", 10)
        refusals.append(caught.value.errors)
    assert refusals[0] == refusals[1]
    assert [(e["index"], e["rule"]) for e in refusals[1]] == [(1, "size")]
