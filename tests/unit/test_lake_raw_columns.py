"""Products the one-pass check accepted, parsed by Arrow's JSON reader from their raw bytes
(`lake.raw_columns`), give exactly the table of the column-values path (`columns.lake_table`,
itself held to the per-record definition); what the reader does not parse alike makes the
batch `RawUnfit` and the sink converts it the classic way."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vitrina.contracts.product_check import canonical_product
from vitrina.domain.generator import generate_catalog
from vitrina.lake.columns import canonical_product_values, lake_table
from vitrina.lake.raw_columns import RAW_ITEM, RawUnfit, raw_product_table, raw_values
from vitrina.services.lake_sink import LakeSink
from vitrina.settings import load_settings

TS = 1714561200000


def both(raws: list[bytes]) -> tuple[pa.Table, list[tuple[Any, ...]]]:
    """The column-values table of these records, and their fast-path items."""
    full, fast = [], []
    for i, raw in enumerate(raws):
        canonical = canonical_product(raw)
        assert canonical is not None, raw[:200]
        values, kept = canonical_product_values(canonical), raw_values(canonical, raw)
        assert values is not None and kept is not None
        meta = (i, TS + i, f"k{i}", raw, b"k", None)
        full.append((*meta, *values))
        fast.append((*meta, *kept))
    return lake_table("shop_products", "shop-products", 2, full), fast


def test_a_generated_catalogue_parses_as_the_column_values_path() -> None:
    expected, fast = both([orjson.dumps(p) for p in generate_catalog(400, seed=21)])
    assert all(len(item) == RAW_ITEM for item in fast)
    assert raw_product_table("shop-products", 2, fast).equals(expected)


def test_edge_records_parse_alike() -> None:
    products = list(generate_catalog(6, seed=22))
    products[0]["name"] = 'a"b\\😀 ж'  # escapes (a name holds no control character)
    products[0]["description"] = 'a\n"b\\\u0000\u2028😀 ж'  # a NUL, a line separator
    products[1] = {k: v for k, v in products[1].items() if k not in ("brand", "stock", "tags")}
    products[2]["price"] = {"amount": 5, "currency": "RUB"}  # an integer amount
    products[2]["created_at"] = "2024-04-01T10:00:00.123456Z"  # sub-ms: truncated alike
    products[2]["updated_at"] = None
    products[3]["stock"] = {"available": 2**63 - 1, "reserved": 0}
    raws = [orjson.dumps(p) for p in products]
    # Line breaks between tokens: valid JSON, not JSON Lines (re-encoded on one line).
    raws[4] = json.dumps(products[4], indent=2, ensure_ascii=False).encode()
    raws[5] = json.dumps(products[5], separators=(",\r\n", ":\r")).encode()
    expected, fast = both(raws)
    assert raw_product_table("shop-products", 2, fast).equals(expected)


def test_a_duplicate_key_is_unfit_and_the_sink_falls_back(tmp_path: Any) -> None:
    raws = [orjson.dumps(p) for p in generate_catalog(3, seed=23)]
    raws[1] = raws[1][:-1] + b',"name":"the last name wins"}'  # msgspec keeps the last
    expected, fast = both(raws)
    with pytest.raises(RawUnfit):
        raw_product_table("shop-products", 2, fast)
    config = load_settings(data_dir=tmp_path)
    sink = LakeSink(config, None, b"key")  # type: ignore[arg-type]  # _table writes nothing
    table, dead = sink._table("shop_products", 2, fast)
    assert not dead and table is not None and table.equals(expected)
    assert table.column("name")[1].as_py() == "the last name wins"


TEXT = st.text(max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    name=st.text(min_size=1, max_size=40),
    description=st.one_of(st.none(), TEXT),
    tags=st.one_of(st.none(), st.lists(TEXT, max_size=4)),
    amount=st.one_of(st.integers(0, 10**12), st.floats(0, 1e12, allow_nan=False)),
    stock=st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {"available": st.integers(0, 2**63 - 1), "reserved": st.integers(0, 2**63 - 1)}
        ),
    ),
    specifications=st.one_of(
        st.none(),
        st.dictionaries(
            TEXT,
            st.one_of(
                TEXT,
                st.integers(-(2**63), 2**63 - 1),
                st.floats(allow_nan=False, allow_infinity=False),
                st.booleans(),
                st.none(),
            ),
            max_size=4,
        ),
    ),
)
def test_any_accepted_product_parses_alike(
    name: str, description: Any, tags: Any, amount: Any, stock: Any, specifications: Any
) -> None:
    product = {
        **next(iter(generate_catalog(1, seed=24))),
        "name": name,
        "description": description,
        "tags": tags,
        "price": {"amount": amount, "currency": "RUB"},
        "stock": stock,
        "specifications": specifications,
    }
    raw = orjson.dumps(product)
    canonical = canonical_product(raw)
    if canonical is None or raw_values(canonical, raw) is None:
        return  # the schema or the dict path decides, as before
    expected, fast = both([raw])
    assert raw_product_table("shop-products", 2, fast).equals(expected)
