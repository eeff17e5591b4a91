"""The one-pass product check (contracts/product_check.py) never accepts what the contract refuses.

It may send a valid record the slow way (codec.validate decides), but whatever it accepts
must keep the JSON Schema contract, the depth and instant rules, be canonical, parse with
orjson to the same product_id — and the door built on it must accept every seed catalogue
and name the field and the rule of every bad fixture.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import FIXTURES, SEED_DIR

from vitrina.contracts.codec import validate
from vitrina.contracts.door import admit_canonical, admit_product, judge_product
from vitrina.contracts.product_check import canonical_product
from vitrina.domain.catalog import parse_catalog
from vitrina.domain.generator import generate_catalog
from vitrina.domain.instants import is_canonical
from vitrina.errors import ContractError

BAD = FIXTURES / "bad-records"
BASE = next(iter(generate_catalog(1, seed=3)))


def contract_accepts(raw: bytes) -> bool:
    """The authority: orjson parses it and codec.validate (schema, depth, instants) passes."""
    try:
        validate("product", orjson.loads(raw), raw)
    except (orjson.JSONDecodeError, ContractError):
        return False
    return True


def assert_sound(raw: bytes) -> None:
    """Accepted by the one-pass check => accepted by the contract, canonical, same id."""
    product = canonical_product(raw)
    if product is None:
        return
    assert contract_accepts(raw), raw[:300]
    value = orjson.loads(raw)
    assert value["product_id"] == product.product_id
    assert value.get("store_id") == product.store_id
    for field in ("created_at", "updated_at"):
        assert value.get(field) is None or is_canonical(value[field]), value[field]


def fixture_lines() -> list[tuple[str, bytes]]:
    cases = []
    for path in sorted(BAD.iterdir()):
        lines = path.read_bytes().splitlines() if path.suffix == ".jsonl" else [path.read_bytes()]
        cases += [(f"{path.name}:{i}", line) for i, line in enumerate(lines, 1) if line.strip()]
    return cases


@pytest.mark.parametrize(("name", "raw"), fixture_lines())
def test_bad_fixtures_are_never_accepted_and_name_field_and_rule(name: str, raw: bytes) -> None:
    assert_sound(raw)
    if contract_accepts(raw):
        return  # a fixture meant for another rule (ownership, key, size at the door)
    with pytest.raises(ContractError) as caught:
        judge_product(raw)
    assert caught.value.rule, name
    assert caught.value.field, name
    if caught.value.rule == "json":
        assert caught.value.message.startswith("malformed JSON"), name
    else:
        assert f"(rule: {caught.value.rule})" in caught.value.message, name


def seed_products() -> list[tuple[str, Any, bytes]]:
    if not SEED_DIR.is_dir():
        return []
    out = []
    for path in sorted(SEED_DIR.iterdir()):
        catalog = parse_catalog(path.read_bytes())
        for record in catalog.records:
            assert record.error is None, (path.name, record.error)
            out.append((f"{path.name}:{record.where}", record.value, record.raw))
    return out


@pytest.mark.skipif(not SEED_DIR.is_dir(), reason=f"seed catalogues not present at {SEED_DIR}")
def test_every_seed_catalogue_product_passes_the_door() -> None:
    products = seed_products()
    assert len(products) > 10
    for name, value, raw in products:
        assert_sound(raw)
        admitted = admit_product(value, raw)  # raises ContractError naming the rule if not
        assert judge_product(admitted)[0] == value["product_id"], name
        if admit_canonical(raw) is not None:  # forwarded as-is only when nothing changes
            assert admitted == raw, name


def test_generated_products_take_the_one_pass_way() -> None:
    for product in generate_catalog(300, seed=11):
        raw = orjson.dumps(product)
        assert canonical_product(raw) is not None, raw[:300]
        assert judge_product(raw) == (product["product_id"], None)
        assert admit_product(product, raw) == raw


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"product_id": "abc\n"}, "Python's $ matches before a final newline; the schema's not"),
        ({"product_id": "a" * 65}, "id too long"),
        ({"product_id": ""}, "id empty"),
        ({"product_id": "ид-1"}, "id letters are ASCII"),
        ({"product_id": "a b"}, "no space in an id"),
        ({"product_id": "١٢٣"}, "Arabic-Indic digits are no [0-9]"),
        ({"price": {"amount": 1, "currency": "RUБ"}}, "currency letters are ASCII"),
        ({"price": {"amount": 1, "currency": "RU"}}, "currency has 3 letters"),
        ({"price": {"amount": 1, "currency": "rub"}}, "currency is upper case"),
        ({"price": {"amount": 1, "currency": "RUB", "vat": 20}}, "price allows no extra field"),
        ({"price": {"amount": 1.0, "currency": "RUB\n"}}, "currency pattern"),
        ({"price": {"amount": True, "currency": "RUB"}}, "a boolean is no number"),
        ({"stock": {"available": 2**63, "reserved": 0}}, "over int64"),
        ({"stock": {"available": -1, "reserved": 0}}, "negative stock"),
        ({"brand": "😀" * 201}, "maxLength counts code points"),
        ({"specifications": {"size": {"w": 1}}}, "spec values are scalars"),
        ({"images": [{"url": "u"}] * 51}, "maxItems"),
        ({"created_at": "2025-02-30T10:00:00Z"}, "no such day"),
        ({"created_at": "2025-08-01T16:33:60Z"}, "leap second"),
        ({"updated_at": "0000-01-01T00:00:00Z"}, "year 0"),
        ({"tags": ["a", 1]}, "tags are strings"),
        ({"product_id": "."}, "a dot segment: no URL reaches it"),
        ({"product_id": ".."}, "a dot segment: no URL reaches it"),
        ({"name": " \u200b\u00a0\ufeff"}, "a name with nothing that shows"),
        ({"name": "\u2003\u2060"}, "a name with nothing that shows"),
        ({"category": "\t\u3000"}, "a category with nothing that shows"),
        # product v5 (a blind review): fillers, the braille blank, selectors, noncharacters
        ({"name": "\u3164"}, "a Hangul filler shows nothing"),
        ({"name": "\u2800\u2800"}, "braille blanks show nothing"),
        ({"name": "\u115f\u1160\uffa0"}, "Hangul fillers show nothing"),
        ({"category": "\u034f\ufe0f\u180b"}, "joiners and selectors show nothing"),
        ({"category": "\ufffe\uffff\u2066"}, "noncharacters and isolates show nothing"),
    ],
)
def test_near_misses_are_never_accepted(change: dict[str, Any], why: str) -> None:
    raw = orjson.dumps({**BASE, **change})
    assert canonical_product(raw) is None, why
    assert not contract_accepts(raw), why


@pytest.mark.parametrize(
    "change",
    [
        {"created_at": "2025-08-01 16:33:58+03:00"},
        {"created_at": 1754000000},
        {"updated_at": "2025-08-01T16:33:58.123456789Z"},
        {"warehouse": {"a": [1, 2]}},  # unknown fields: allowed, checked the slow way
        {"images": [{"url": "u", "width": 10}]},
        {"stock": {"available": 5.0, "reserved": 0}},  # an integer-valued number
    ],
)
def test_valid_but_unusual_records_go_the_slow_way_and_pass(change: dict[str, Any]) -> None:
    value = {**BASE, **change}
    raw = orjson.dumps(value)
    assert canonical_product(raw) is None
    product_id, parsed = judge_product(raw)
    assert product_id == BASE["product_id"] and parsed == value


def test_deep_nesting_in_an_unknown_field_is_refused_with_the_depth_rule() -> None:
    raw = orjson.dumps(BASE)[:-1] + b',"x":' + b"[" * 70 + b"]" * 70 + b"}"
    assert canonical_product(raw) is None
    with pytest.raises(ContractError) as caught:
        judge_product(raw)
    assert caught.value.rule == "depth"


def test_a_record_over_the_doors_size_limit_is_refused_by_the_filter_too() -> None:
    """A valid 990,000-byte product produced straight to shop-products (around the doors,
    which refuse anything over 960 KiB) was published, indexed and shown in search."""
    from vitrina.domain.limits import MAX_RECORD_BYTES

    value = {**BASE, "description": "д" * (MAX_RECORD_BYTES // 2)}
    raw = orjson.dumps(value)
    assert len(raw) > MAX_RECORD_BYTES
    with pytest.raises(ContractError) as caught:
        judge_product(raw)
    assert caught.value.rule == "size"


# -- property tests: random values in every field, random bytes anywhere --------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "RUB",
            "rub",
            "abc\n",
            "2025-08-01T16:33:58Z",
            "2025-08-01T16:33:58.123456Z",
            "2025-08-01T24:00:00Z",
            "2025-02-29T00:00:00Z",
            "2024-02-29T00:00:00Z",
            "2025-08-01T16:33:58+00:00",
            "2025-08-01T16:33:58.1234567Z",
            "x" * 201,
            "я" * 501,
        ]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = sorted(set(BASE) | {"images", "stock", "specifications", "tags", "extra"})
SUB_FIELDS = {
    "price": ["amount", "currency", "vat"],
    "stock": ["available", "reserved", "x"],
    "specifications": ["a", "b", "c"],
}


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3),
    inner=st.tuples(st.sampled_from(sorted(SUB_FIELDS)), st.integers(0, 2), json_values),
    drop=st.sets(st.sampled_from(FIELDS), max_size=2),
    escape=st.booleans(),
)
def test_random_field_values_never_fool_the_one_pass_check(
    changes: dict[str, Any], inner: tuple[str, int, Any], drop: set[str], escape: bool
) -> None:
    value = {k: v for k, v in {**BASE, **changes}.items() if k not in drop}
    parent, index, sub_value = inner
    if isinstance(value.get(parent), dict):
        value[parent] = {**value[parent], SUB_FIELDS[parent][index]: sub_value}
    # The stdlib writer: it writes integers beyond 64 bits too (orjson refuses them).
    assert_sound(json.dumps(value, ensure_ascii=escape).encode())


@settings(max_examples=600, deadline=None)
@given(
    at=st.integers(0, 10_000),
    cut=st.integers(0, 3),
    insert=st.binary(max_size=4) | st.sampled_from([b'"', b"\\", b",", b"}", b"\\ud800", b"\xff"]),
)
def test_random_byte_edits_never_fool_the_one_pass_check(at: int, cut: int, insert: bytes) -> None:
    raw = orjson.dumps(BASE)
    at %= len(raw)
    assert_sound(raw[:at] + insert + raw[at + cut :])


def test_duplicate_keys_resolve_like_orjson() -> None:
    body = orjson.dumps(BASE)[:-1]
    raw = body + b',"product_id":"other-1"}'
    product = canonical_product(raw)
    assert (
        product is not None and product.product_id == "other-1" == orjson.loads(raw)["product_id"]
    )
