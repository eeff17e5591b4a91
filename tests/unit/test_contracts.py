"""Contracts: schema files match the models, and no schema changes incompatibly.

The schema-evolution guard compares each schema with its previous committed version: the
HEAD version when the working file differs, else the version before the last commit that
touched it. Adding a required field, removing a field or narrowing a type fails the test.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema_rs
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vitrina.contracts import validate
from vitrina.contracts.export import SCHEMA_DIR, render
from vitrina.contracts.models import CHANGES, CONTRACTS, PATTERN_WIDENINGS, PRODUCT_ID_V2
from vitrina.domain.generator import generate_catalog
from vitrina.domain.limits import (
    INVISIBLE,
    PRODUCT_ID_PATTERN,
    USER_ID_PATTERN,
    VISIBLE_PATTERN,
    has_control,
    is_blank,
    is_product_id,
    re2_pattern,
)
from vitrina.errors import ContractError

REPO = Path(__file__).resolve().parents[2]
# Numeric types from wide to narrow: integer data is valid number data, not the reverse.
_NUMERIC = {"integer": {"number"}}


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_schema_file_is_up_to_date(name: str) -> None:
    path = SCHEMA_DIR / f"{name}.json"
    assert path.is_file(), f"{path} missing: run `vitrina contracts export`"
    assert path.read_text("utf-8") == render(name), (
        f"{path.name} is stale: run `vitrina contracts export` and commit it"
    )


# -- the evolution guard -------------------------------------------------------------------
def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _resolve(root["$defs"][ref.split("/")[-1]], root)
    return schema


def _types(schema: dict[str, Any]) -> set[str] | None:
    kind = schema.get("type")
    if kind is None:
        return None  # any type
    return {kind} if isinstance(kind, str) else set(kind)


def _narrowed_types(old: set[str] | None, new: set[str] | None) -> set[str]:
    if new is None:
        return set()
    if old is None:
        return {"any"}
    lost = set()
    for kind in old:
        widened = {kind} | _NUMERIC.get(kind, set())
        if not widened & new:
            lost.add(kind)
    return lost


def incompatibilities(
    old: dict[str, Any],
    new: dict[str, Any],
    path: str = "",
    old_root: dict[str, Any] | None = None,
    new_root: dict[str, Any] | None = None,
) -> list[str]:
    """Changes that break readers or writers of the old version (empty = compatible)."""
    old_root, new_root = old_root or old, new_root or new
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    where = path or "(root)"
    problems = []
    lost = _narrowed_types(_types(old), _types(new))
    if lost:
        problems.append(f"{where}: type narrowed (no longer accepts {sorted(lost)})")
    for bound, tighter in (
        ("maxLength", min),
        ("maximum", min),
        ("maxItems", min),
        ("minLength", max),
        ("minimum", max),
        ("minItems", max),
    ):
        if bound in new and (bound not in old or tighter(old[bound], new[bound]) != old[bound]):
            problems.append(f"{where}: {bound} narrowed ({old.get(bound)} → {new[bound]})")
    if (
        "pattern" in new
        and old.get("pattern") != new["pattern"]
        and (old.get("pattern"), new["pattern"]) not in PATTERN_WIDENINGS
    ):
        problems.append(f"{where}: pattern changed ({old.get('pattern')} → {new['pattern']})")
    for key in ("format", "const"):
        if key in new and old.get(key) != new[key]:
            problems.append(f"{where}: {key} changed ({old.get(key)} → {new[key]})")
    if "enum" in new and not set(old.get("enum", new["enum"])) <= set(new["enum"]):
        problems.append(f"{where}: enum narrowed")
    if new.get("additionalProperties") is False and old.get("additionalProperties") is not False:
        problems.append(f"{where}: additional properties no longer allowed")
    added = set(new.get("required", [])) - set(old.get("required", []))
    problems += [f"{where}: required field added: {f}" for f in sorted(added)]
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    problems += [f"{where}: field removed: {f}" for f in sorted(set(old_props) - set(new_props))]
    for field in sorted(set(old_props) & set(new_props)):
        problems += incompatibilities(
            old_props[field],
            new_props[field],
            f"{path}.{field}" if path else field,
            old_root,
            new_root,
        )
    for key in ("items", "additionalProperties"):
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            problems += incompatibilities(old[key], new[key], f"{where}[{key}]", old_root, new_root)
    old_any, new_any = old.get("anyOf"), new.get("anyOf")
    if isinstance(old_any, list) and isinstance(new_any, list):
        if len(new_any) < len(old_any):
            problems.append(f"{where}: anyOf lost alternatives")
        for i, (o, n) in enumerate(zip(old_any, new_any, strict=False)):
            problems += incompatibilities(o, n, f"{where}|{i}", old_root, new_root)
    return problems


def undeclared(name: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Incompatibilities not declared in `CHANGES` for a version between old and new."""
    before, after = old.get("x-version", 1), new.get("x-version", 1)
    declared = {
        problem
        for version, changes in CHANGES.get(name, {}).items()
        if before < version <= after
        for problem in changes
    }
    return [p for p in incompatibilities(old, new) if p not in declared]


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def previous_version(name: str) -> str | None:
    """The schema's previous committed text, or None when it has no earlier version."""
    rel = f"src/vitrina/contracts/schemas/{name}.json"
    head = _git("show", f"HEAD:{rel}")
    if head is None:
        return None
    if head != (REPO / rel).read_text("utf-8"):
        return head
    last = (_git("log", "-1", "--format=%H", "--", rel) or "").strip()
    return _git("show", f"{last}^:{rel}") if last else None


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_schema_evolves_compatibly(name: str) -> None:
    if _git("rev-parse", "HEAD") is None:
        pytest.skip("git history is not available")
    before = previous_version(name)
    if before is None:
        pytest.skip(f"{name}: no previous committed version to compare with")
    now = json.loads((SCHEMA_DIR / f"{name}.json").read_text("utf-8"))
    problems = undeclared(name, json.loads(before), now)
    assert not problems, (
        f"{name}.json changed incompatibly: {problems}; add a new optional "
        "field or a new contract version instead"
    )


_BASE = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "string"},
        "n": {"type": ["number", "null"]},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 50}},
    },
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s["required"].append("n"), "required field added: n"),
        (lambda s: s["properties"].pop("n"), "field removed: n"),
        (lambda s: s["properties"]["n"].update(type="integer"), "n: type narrowed"),
        (lambda s: s["properties"]["tags"]["items"].update(maxLength=10), "maxLength narrowed"),
    ],
)
def test_guard_catches_incompatible_changes(change: Any, expected: str) -> None:
    new = json.loads(json.dumps(_BASE))
    change(new)
    assert any(expected in p for p in incompatibilities(_BASE, new))


def test_guard_allows_compatible_changes() -> None:
    new = json.loads(json.dumps(_BASE))
    new["properties"]["extra"] = {"type": "string"}  # optional field added
    new["properties"]["n"]["type"] = ["number", "string", "null"]  # widened
    new["properties"]["tags"]["items"]["maxLength"] = 100  # relaxed
    assert incompatibilities(_BASE, new) == []


# -- the product contract on generated data ------------------------------------------------
@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 20))
def test_generated_products_always_satisfy_the_contract(seed: int, n: int) -> None:
    for product in generate_catalog(n, seed=seed):
        validate("product", product)


@settings(max_examples=100, deadline=None)
@given(amount=st.floats(max_value=-0.001, allow_nan=False, allow_infinity=False))
def test_negative_price_is_always_rejected_with_its_path(amount: float) -> None:
    product = next(generate_catalog(1))
    product["price"]["amount"] = amount
    with pytest.raises(ContractError) as info:
        validate("product", product)
    assert info.value.field == "price.amount" and info.value.rule == "minimum"


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_guard_on_the_real_schemas(name: str) -> None:
    current = json.loads((SCHEMA_DIR / f"{name}.json").read_text("utf-8"))
    assert incompatibilities(current, current) == []
    changed = json.loads(json.dumps(current))
    changed["required"] = [*changed.get("required", []), "brand_new_field"]
    assert incompatibilities(current, changed) == ["(root): required field added: brand_new_field"]


def test_guard_follows_refs_into_nested_definitions() -> None:
    current = json.loads((SCHEMA_DIR / "product.json").read_text("utf-8"))
    changed = json.loads(json.dumps(current))
    del changed["$defs"]["Price"]["properties"]["currency"]
    assert "price: field removed: currency" in incompatibilities(current, changed)


BASELINE = Path(__file__).resolve().parents[1] / "fixtures" / "schema-baseline" / "v1"


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_schema_compatible_with_released_baseline(name: str) -> None:
    """Against v1 as released (what Schema Registry holds): never skipped, unlike git history."""
    released = json.loads((BASELINE / f"{name}.json").read_text("utf-8"))
    now = json.loads((SCHEMA_DIR / f"{name}.json").read_text("utf-8"))
    problems = undeclared(name, released, now)
    assert not problems, (
        f"{name}.json is incompatible with the released v1: {problems}; "
        "add a new optional field or a new contract version instead"
    )


@pytest.mark.parametrize(("old", "new"), sorted(PATTERN_WIDENINGS))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_declared_pattern_widenings_accept_every_old_value(
    old: str, new: str, data: st.DataObject
) -> None:
    import re

    value = data.draw(st.from_regex(old, fullmatch=True))
    assert re.search(new, value), f"{value!r} matched {old} but not {new}"


def test_guard_accepts_a_declared_narrowing_only_with_a_version_bump() -> None:
    released = json.loads((BASELINE / "product.json").read_text("utf-8"))
    now = json.loads((SCHEMA_DIR / "product.json").read_text("utf-8"))
    assert now["x-version"] >= 2  # v2: the int64 stock bound; v3: ids and blank names
    assert undeclared("product", released, now) == []
    same_version = {**now, "x-version": released.get("x-version", 1)}
    assert any("maximum narrowed" in p for p in undeclared("product", released, same_version))


def test_widened_product_id_is_still_refused_when_not_a_token() -> None:
    product = next(generate_catalog(1))
    for good in ("85123A", "SKU-1.2_b", "00090002", "x" * 64):
        validate("product", {**product, "product_id": good})
    for bad in ("", "x" * 65, "85 123", "товар1", "a/b", "12\n"):
        with pytest.raises(ContractError) as info:
            validate("product", {**product, "product_id": bad})
        assert info.value.field == "product_id"


def test_dot_segment_ids_are_refused_by_every_contract_that_names_a_product() -> None:
    """Seen by an outsider: products `.` and `..` were accepted, indexed and found, but no
    page opened them (browsers and HTTP clients resolve dot segments: /api/v1/products/..
    is /api/v1/), nor could an unban reach them. v3 refuses both; other dotted ids stay."""
    product = next(generate_catalog(1))
    for good in ("...", ".5", "..a", "a.", "a..", "." + "x" * 63, ".." + "x" * 62):
        validate("product", {**product, "product_id": good})
    for bad in (".", "..", ".." + "x" * 63):
        with pytest.raises(ContractError) as info:
            validate("product", {**product, "product_id": bad})
        assert (info.value.field, info.value.rule) == ("product_id", "pattern")
    with pytest.raises(ContractError, match=re.escape("not '.' or '..'")):
        validate("product", {**product, "product_id": ".."})
    order = {
        "order_id": "o-1",
        "customer_id": "c-1",
        "items": [{"product_id": ".."}],
        "order_date": "2026-11-30T10:00:00Z",
    }
    with pytest.raises(ContractError) as info:
        validate("order", order)
    assert info.value.field == "items[0].product_id"
    ban = {"product_id": ".", "reason": "r", "banned_by": "b", "banned_at": "2026-11-30T10:00:00Z"}
    with pytest.raises(ContractError):
        validate("ban", ban)


_ID_VALIDATOR = jsonschema_rs.validator_for({"type": "string", "pattern": PRODUCT_ID_PATTERN})


@settings(max_examples=300, deadline=None)
@given(st.from_regex(PRODUCT_ID_V2, fullmatch=True) | st.text(".a-", max_size=66))
def test_product_ids_are_the_v2_tokens_but_the_two_dot_segments(text: str) -> None:
    """The pattern is spelt without a lookahead (RE2 reads it too); it must mean exactly
    "a v2 id, but not `.` or `..`" in Python, Rust (the schema validator) and RE2."""
    expected = re.fullmatch(PRODUCT_ID_V2, text) is not None and text not in (".", "..")
    assert is_product_id(text) == expected
    assert _ID_VALIDATOR.is_valid(text) == expected
    re2 = pc.match_substring_regex(pa.array([text]), re2_pattern(PRODUCT_ID_PATTERN))
    assert re2.to_pylist() == [expected]


def test_blank_names_and_categories_are_refused_with_what_is_wrong() -> None:
    """Seen by an outsider: a product named "   " (or only zero-width characters) was
    accepted, indexed and shown as a blank line in search. v3 asks for one character that
    shows, in the name and in the category; the error says so instead of quoting a regex.
    v5 (a blind review): Hangul fillers, the braille blank, the grapheme joiner, variation
    selectors and noncharacters show nothing either."""
    product = next(generate_catalog(1))
    blanks = [" ", "\u200b", "\u00a0\u2060\ufeff", "\t\n\u3000", "\u00ad\u202e"]
    blanks += ["\u3164", "\u2800", "\u115f\u1160", "\u034f", "\ufe0f\uffa0", "\ufffe\uffff"]
    for blank in blanks:
        for field in ("name", "category"):
            with pytest.raises(ContractError) as info:
                validate("product", {**product, field: blank})
            assert (info.value.field, info.value.rule) == (field, "pattern")
            assert "no visible character" in str(info.value)
    for shown in (" a ", "\u200bж", ".", "😀", "\u00a0-\u00a0", "\u3164ж"):
        validate("product", {**product, "name": shown, "category": shown})


def test_the_visible_pattern_means_the_same_in_every_engine_that_reads_it() -> None:
    """The schema's pattern is read by Rust (jsonschema-rs), Python's re, RE2 (the
    lake's vectorised check) and str.strip (the one-pass check): every code point of the
    basic plane and a few beyond must get one answer from all of them."""
    chars = [chr(c) for c in [*range(0xD800), *range(0xE000, 0x10000), 0x1F600, 0xE0020]]
    expected = [not is_blank(c) for c in chars]
    assert expected.count(False) == len(INVISIBLE)
    assert [re.search(VISIBLE_PATTERN, c) is not None for c in chars] == expected
    schema = jsonschema_rs.validator_for({"type": "string", "pattern": VISIBLE_PATTERN})
    assert [schema.is_valid(c) for c in chars] == expected
    re2 = pc.match_substring_regex(pa.array(chars), re2_pattern(VISIBLE_PATTERN))
    assert re2.to_pylist() == expected


def test_customer_ids_with_a_control_character_are_refused_by_every_contract_that_takes_one() -> (
    None
):
    """Seen: a user id with a newline, NUL or escape was accepted by the client API and
    landed in the lake and the analytics. Orders v5, client events v4, client queries v2
    refuse it with what is wrong; the API's rules (has_control on the fast path, Rust's regex in FastAPI) and
    the schema's (jsonschema-rs) give one answer for every character."""
    order = {
        "order_id": "o1",
        "customer_id": "c1",
        "items": [{"product_id": "1", "quantity": 1}],
        "order_date": "2024-05-01T10:00:00Z",
    }
    event = {"event_id": "e", "user_id": "u", "type": "view", "product_id": "1"}
    event["timestamp"] = "2024-05-01T10:00:00Z"
    query = {"query_id": "q", "user_id": "u", "kind": "search", "result_count": 0}
    query |= {"latency_ms": 1.0, "timestamp": "2024-05-01T10:00:00Z"}
    records = {"order": (order, "customer_id"), "client_event": (event, "user_id")}
    records["client_query"] = (query, "user_id")
    for contract, (record, field) in records.items():
        for fine in ("Анна Петрова", "user@example", "😀", "a" * 100, " x "):
            validate(contract, {**record, field: fine})
        for bad in ("a\nb", "a\n", "\x00", "tab\there", "\x1b[31m", "\x7f", "x\x85"):
            with pytest.raises(ContractError) as info:
                validate(contract, {**record, field: bad})
            assert (info.value.field, info.value.rule) == (field, "pattern")
            assert "control character" in str(info.value)
    schema = jsonschema_rs.validator_for({"type": "string", "pattern": USER_ID_PATTERN})
    chars = [chr(c) for c in range(0x200)]
    assert [schema.is_valid(c) for c in chars] == [not has_control(c) for c in chars]
    assert sum(map(has_control, chars)) == 32 + 1 + 32


# -- issue 12 items 14-16: the seeds' own formats, one contract ---------------------------------
def test_the_order_format_of_the_stores_generators_is_accepted() -> None:
    """Item 14: a generator's whole order stream was dead-lettered (and tripped the flood)."""
    order = {
        "order_id": "o-1",
        "customer_id": "c-1",
        "items": [{"product_id": "85123A"}],
        "order_date": "2025-08-01 16:33:58",
        "timestamp": "2025-08-13T13:44:54.019379",
        "state": "created",
        "email": "a@b.c",
    }
    validate("order", order)
    validate("order", {**order, "timestamp": 1755092694.019379})
    with pytest.raises(ContractError) as info:
        validate("order", {**order, "order_date": "2025-02-30 10:00:00"})
    assert (info.value.field, info.value.rule) == ("order_date", "date-time")


def test_an_order_price_is_bounded_like_a_product_price() -> None:
    """Seen on `vitrina up`: one order produced with an item at 1e308 (quantity 100,000)
    reached the lake, and every analytics run after it failed ("Could not cast value inf
    to DECIMAL(28,6)"): no statistics or recommendations any more. A price is bounded like
    a product's (price.amount ≤ 1e12), so the lake sink dead-letters such an order."""
    order = {
        "order_id": "o-1",
        "customer_id": "c-1",
        "items": [{"product_id": "100006", "quantity": 100000, "price": 1e12}],
        "order_date": "2026-11-30T10:00:00Z",
    }
    validate("order", order)
    with pytest.raises(ContractError) as info:
        validate("order", {**order, "items": [{"product_id": "100006", "price": 1e308}]})
    assert (info.value.field, info.value.rule) == ("items[0].price", "maximum")


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2025-08-01 16:33:58", "2025-08-01T16:33:58Z"),
        ("2025-08-13T13:44:54.019379", "2025-08-13T13:44:54.019379Z"),
        ("2025-08-01T19:33:58+03:00", "2025-08-01T16:33:58Z"),
        ("2025-08-01T19:33:58+0300", "2025-08-01T16:33:58Z"),
        (1754000000, "2025-07-31T22:13:20Z"),
        ("2023-10-01T12:00:00Z", "2023-10-01T12:00:00Z"),
        # The pattern allows a lower-case z; Python's fromisoformat refused it, so such
        # records were refused here and dead-lettered by the lake sink (hostile-input review).
        ("2023-10-01T12:00:00z", "2023-10-01T12:00:00Z"),
        ("2023-10-01 12:00:00.5z", "2023-10-01T12:00:00.500000Z"),
    ],
)
def test_instants_are_normalised_at_the_door(sent: Any, stored: str) -> None:
    from vitrina.contracts.door import admit_product

    product = {**next(generate_catalog(1)), "created_at": sent}
    assert json.loads(admit_product(product))["created_at"] == stored


def _order(order_date: str) -> dict[str, Any]:
    """One order line of 10.0 dated `order_date`."""
    return {
        "order_id": "o-1",
        "customer_id": "c-1",
        "items": [{"product_id": "100006", "quantity": 1, "price": 10.0}],
        "order_date": order_date,
    }


@pytest.mark.parametrize("offset", ["+9959", "+24:00", "-2400", "+00:60", "+0399"])
def test_a_zone_offset_past_23_59_is_refused_in_words(offset: str) -> None:
    """`+00:60` was read as +01:00, `+9959` refused in Python's words ("offset must be a
    timedelta strictly between ...")."""
    with pytest.raises(ContractError, match=r"zone offset .* is not within ±23:59"):
        validate("order", _order(f"2026-11-30T10:00:00{offset}"))


def test_an_order_dated_with_a_lower_case_z_reaches_the_lake() -> None:
    from vitrina.lake.rows import RecordMeta, lake_rows

    order = _order("2026-12-06T03:00:00z")
    validate("order", order)
    meta = RecordMeta(topic="orders", partition=0, offset=0, timestamp_ms=0, key="c-1")
    rows = lake_rows("orders", order, meta, b"k")
    assert [row["order_date"] for row in rows] == [1796526000000]  # 2026-12-06T03:00:00Z


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"stock": {"available": 2**63, "reserved": 0}}, "stock.available", "maximum"),
        ({"updated_at": "2016-12-31T23:59:60Z"}, "updated_at", "pattern"),
        ({"extra": json.loads('{"a":' * 70 + "1" + "}" * 70)}, "(root)", "depth"),
        ({"description": None, "blob": "x" * (960 * 1024)}, "(root)", "size"),
    ],
)
def test_what_the_lake_cannot_store_is_refused_at_the_door(
    change: dict[str, Any], field: str, rule: str
) -> None:
    """Item 16 (and item 4): the index took stock 2^63 / a leap second, the lake refused."""
    from vitrina.contracts.door import admit_product

    with pytest.raises(ContractError) as info:
        admit_product({**next(generate_catalog(1)), **change})
    assert (info.value.field, info.value.rule) == (field, rule)
