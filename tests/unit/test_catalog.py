"""The catalogue parser: every shape stores send, one bad record never stops a load."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vitrina.contracts import validate
from vitrina.domain.catalog import CatalogError, dump_catalog, is_json_schema, parse_catalog
from vitrina.domain.generator import generate_catalog

SEED_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "seed-catalogs"

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False)
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_objects = st.dictionaries(st.text(max_size=10), _json, max_size=6)


def _values(data: bytes) -> list[Any]:
    return [r.value for r in parse_catalog(data).records]


@settings(max_examples=150, deadline=None)
@given(products=st.lists(_objects, min_size=1, max_size=8))
def test_array_and_jsonl_round_trip(products: list[dict[str, Any]]) -> None:
    array = b"".join(dump_catalog(products, jsonl=False))
    lines = b"".join(dump_catalog(products, jsonl=True))
    schema_like = len(products) == 1 and is_json_schema(products[0])
    assert _values(array) == ([] if schema_like else products)
    jsonl = parse_catalog(lines)
    if len(products) > 1:
        assert jsonl.shape == "jsonl" and _values(lines) == products


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_any_bytes_never_crash(data: bytes) -> None:
    try:
        catalog = parse_catalog(data)
    except CatalogError as exc:  # the file refused whole, saying why
        assert str(exc).startswith("not a catalogue")
        return
    for record in catalog.records:
        assert (record.value is None) or record.error is None
        assert record.where


def test_a_file_with_no_json_object_in_its_first_lines_is_refused_whole() -> None:
    """A new user's `shop load README.md` left 89 dead letters of Markdown for good; text
    with no JSON line is refused whole, and one garbage line before JSON Lines still costs
    only that line (and a JSON scalar, or bytes not UTF-8, stay records: dead letters)."""
    readme = b"# Vitrina\n\nThe analytics platform.\n" + b"Some text, 42.\n" * 80
    with pytest.raises(CatalogError, match="not a catalogue"):
        parse_catalog(readme)
    products = list(generate_catalog(3, seed=1))
    headed = b"id,name,price\n" + b"\n".join(orjson.dumps(p) for p in products)
    records = list(parse_catalog(headed).records)
    assert [r.ok for r in records] == [False, True, True, True]


@settings(max_examples=100, deadline=None)
@given(n=st.integers(2, 12), bad=st.data())
def test_one_broken_line_costs_only_that_line(n: int, bad: st.DataObject) -> None:
    products = list(generate_catalog(n, seed=n))
    lines = [orjson.dumps(p) for p in products]
    broken = bad.draw(st.integers(0, n - 1))
    lines[broken] = lines[broken][: len(lines[broken]) // 2]
    records = list(parse_catalog(b"\n".join(lines)).records)
    assert [r.ok for r in records] == [i != broken for i in range(n)]
    assert records[broken].where == f"line {broken + 1}"
    assert [r.value for r in records if r.ok] == products[:broken] + products[broken + 1 :]


def test_one_broken_array_element_costs_only_that_element() -> None:
    products = list(generate_catalog(3, seed=1))
    text = b"[\n" + b",\n".join(orjson.dumps(p) for p in products) + b"\n]"
    broken = text.replace(b'"category":', b'"category" ', 1)  # break element 1 only
    records = list(parse_catalog(broken).records)
    assert [r.ok for r in records] == [False, True, True]
    assert "malformed JSON" in (records[0].error or "")
    assert [r.value for r in records[1:]] == products[1:]


@pytest.mark.parametrize("tail", [b"", b",", b", ", b",\n  "])
def test_an_array_cut_between_elements_says_so(tail: bytes) -> None:
    """Seen with `vitrina shop load`: `[{…},{…},{…},` (an upload cut short) sent its three
    products and reported nothing wrong; the rest of the catalogue was lost silently."""
    products = list(generate_catalog(3, seed=2))
    body = b"[" + b",".join(orjson.dumps(p) for p in products) + tail
    records = list(parse_catalog(body).records)
    assert [r.value["product_id"] for r in records if r.ok] == [p["product_id"] for p in products]
    [cut] = [r for r in records if not r.ok]
    assert cut.rule == "truncated" and cut.position == 4
    assert "not closed" in (cut.error or "") and "truncated" in (cut.error or "")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_named_for_what_it_is(encoding: str) -> None:
    """Seen with `vitrina shop load`: a UTF-16 catalogue (what Windows PowerShell writes)
    was one record "malformed JSON: str is not valid UTF-8: surrogates not allowed"."""
    products = list(generate_catalog(2, seed=3))
    catalog = parse_catalog(orjson.dumps(products).decode().encode(encoding))
    [record] = list(catalog.records)
    assert catalog.shape == "utf-16" and record.rule == "encoding"
    assert "UTF-16" in (record.error or "") and "UTF-8" in (record.error or "")


def test_bytes_that_are_not_utf8_are_named_for_what_they_are() -> None:
    """A CP1251 or Latin-1 line, or a gzip file, was "malformed JSON: str is not valid
    UTF-8: surrogates not allowed", at the door, in `shop load` and in dead letters
    (hostile-input review): there was no surrogate in any of them."""
    [cp1251] = parse_catalog('{"name": "Чайник"}'.encode("cp1251")).records
    assert cp1251.error is not None and "surrogate" not in cp1251.error
    assert cp1251.error.startswith("not UTF-8: byte 0xd7 at byte 10")
    [escaped] = parse_catalog(b'{"name": "\\ud800"}').records  # a real lone surrogate
    assert escaped.error is not None and escaped.error.startswith("malformed JSON")


def test_a_gzip_catalogue_is_unpacked_within_the_size_limit() -> None:
    products = list(generate_catalog(3, seed=3))
    catalog = parse_catalog(gzip.compress(orjson.dumps(products)))
    assert [r.value for r in catalog.records] == products
    bomb = gzip.compress(b"[" + b" " * 5000 + b"]")
    with pytest.raises(CatalogError, match="over the 1,000-byte limit"):
        parse_catalog(bomb, max_bytes=1000)
    [cut] = parse_catalog(gzip.compress(orjson.dumps(products))[:-20]).records
    assert cut.error is not None and "does not unpack" in cut.error


def test_lines_ended_by_cr_alone_are_lines() -> None:
    """Classic Mac OS line ends: the file was one line, and every product after the first
    was lost as "unexpected content after document"."""
    products = list(generate_catalog(3, seed=3))
    data = b"\r".join(orjson.dumps(p) for p in products) + b"\r"
    assert [r.value for r in parse_catalog(data).records] == products


def test_original_bytes_are_kept_for_jsonl() -> None:
    line = b'{"product_id": "1",  "name": "x"}'
    first, second = parse_catalog(line + b"\n" + line.replace(b'"1"', b'"2"')).records
    assert first.raw == line and second.value["product_id"] == "2"


def test_shapes_bom_empty_and_schemas() -> None:
    product = next(generate_catalog(1))
    assert parse_catalog(b"\xef\xbb\xbf" + orjson.dumps(product)).shape == "object"
    assert parse_catalog(b"  \n ").shape == "empty"
    schema = parse_catalog(
        b'{"$schema": "http://json-schema.org/draft-07/schema#", '
        b'"type": "object", "properties": {}}'
    )
    assert schema.shape == "schema" and "JSON Schema" in (schema.skipped or "")
    [scalar] = parse_catalog(b"42").records
    assert scalar.value == 42  # a lone scalar becomes one record the contract rejects


def test_hostile_sizes_are_clear_errors() -> None:
    with pytest.raises(CatalogError, match="over the 100-byte limit"):
        parse_catalog(b"[" + b" " * 200 + b"]", max_bytes=100)
    big = orjson.dumps({"product_id": "1", "blob": "x" * 5000})
    [record] = parse_catalog(big, max_record_bytes=1000).records
    assert not record.ok and "over the 1,000-byte limit" in (record.error or "")
    deep = b"[" * 5000 + b"]" * 5000
    assert all(not r.ok or r.value is not None for r in parse_catalog(deep).records)


def test_estimates_for_progress() -> None:
    products = list(generate_catalog(7))
    assert parse_catalog(b"".join(dump_catalog(products, jsonl=False))).estimate == 7
    assert parse_catalog(b"".join(dump_catalog(products, jsonl=True))).estimate >= 7


@pytest.mark.skipif(not SEED_DIR.is_dir(), reason="seed catalogues not present")
def test_every_seed_catalogue_parses_and_validates() -> None:
    shapes = {}
    for path in sorted(SEED_DIR.iterdir()):
        catalog = parse_catalog(path.read_bytes())
        shapes[path.name] = catalog.shape
        for record in catalog.records:
            assert record.ok, (path.name, record.where, record.error)
            validate("product", record.value)
    assert sorted(set(shapes.values())) == ["array", "object", "schema"]


def test_a_record_too_deep_to_serialise_costs_only_itself() -> None:
    """Issue 12 item 4: a 300-deep element made `_array`'s orjson.dumps raise mid-load."""
    from vitrina.domain.catalog import parse_catalog

    deep = b'{"product_id": "1", "x": ' + b"[" * 300 + b"]" * 300 + b"}"
    data = b"[" + deep + b', {"product_id": "2"}]'
    records = list(parse_catalog(data).records)
    assert [(r.ok, r.rule) for r in records] == [(False, "depth"), (True, None)]
    assert "64 levels" in (records[0].error or "")


def test_the_load_summary_names_each_encoding_refusal_for_what_it_is() -> None:
    """A docs review: `shop load`'s summary counted UTF-16 text and a gzip file cut short as
    "not UTF-8", while their dead letters said what they were."""
    from vitrina.errors import ContractError
    from vitrina.services.shop_load import check_product
    from vitrina.services.shop_report import reason_of

    def reason(data: bytes) -> str:
        [record] = parse_catalog(data).records
        with pytest.raises(ContractError) as info:
            check_product(record)
        return reason_of(info.value)

    text = orjson.dumps([{"product_id": "1", "name": "Чай"}])
    assert reason(text.decode().encode("utf-16")) == "UTF-16, not UTF-8"
    assert reason(gzip.compress(text)[:20]) == "gzip that does not unpack"
    assert reason('[{"name": "Чай"}]'.encode("cp1251")) == "not UTF-8"
