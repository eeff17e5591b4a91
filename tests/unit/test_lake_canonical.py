"""Products the one-pass check accepts (`contracts.product_check`) get exactly the column
values the dict path gives; where the two could differ the fast path declines (None), and
the sink takes the dict path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support import ConsumedRecord

from vitrina.contracts.product_check import canonical_product
from vitrina.domain.generator import generate_catalog
from vitrina.lake.columns import canonical_product_values, product_values

SEEDS = Path("/work/shared/data/seed-catalogs")


def both(raw: bytes) -> tuple[tuple[Any, ...] | None, tuple[Any, ...]]:
    canonical = canonical_product(raw)
    assert canonical is not None, raw[:200]
    return canonical_product_values(canonical), product_values(orjson.loads(raw))


def test_generated_catalogue_equals_the_dict_path() -> None:
    for product in generate_catalog(500, seed=5):
        fast, plain = both(orjson.dumps(product))
        assert fast == plain


def seed_products() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(SEEDS.glob("*.json")) if SEEDS.is_dir() else []:
        try:
            data = json.loads(path.read_text("utf-8"))
        except ValueError:
            continue
        out += [p for p in (data if isinstance(data, list) else [data]) if isinstance(p, dict)]
    return out


def test_seed_catalogues_equal_the_dict_path_when_accepted() -> None:
    products = seed_products()
    if not products:
        pytest.skip(f"no seed catalogues at {SEEDS}")
    for product in products:
        raw = orjson.dumps(product)
        canonical = canonical_product(raw)
        if canonical is not None and (fast := canonical_product_values(canonical)) is not None:
            assert fast == product_values(orjson.loads(raw))


BASE = next(iter(generate_catalog(1, seed=9)))


@pytest.mark.parametrize(
    "images",
    [[{"url": "https://x/1.jpg"}], [{"url": "https://x/1.jpg", "alt": None}]],
    ids=["no alt", "alt null"],
)
def test_an_image_without_alt_declines(images: list[dict[str, Any]]) -> None:
    # `alt` absent and `alt: null` decode alike but are different JSON texts in the lake.
    canonical = canonical_product(orjson.dumps({**BASE, "images": images}))
    assert canonical is not None
    assert canonical_product_values(canonical) is None


def test_an_integer_beyond_64_bits_declines() -> None:
    # orjson parses it as a float (the dict path writes 1e+20); msgspec keeps the integer.
    raw = orjson.dumps({k: v for k, v in BASE.items() if k != "specifications"})[:-1]
    raw += b',"specifications":{"x":100000000000000000000}}'
    canonical = canonical_product(raw)
    assert canonical is not None
    assert canonical_product_values(canonical) is None


SPEC = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)


@settings(max_examples=200, deadline=None)
@given(
    specifications=st.one_of(st.none(), st.dictionaries(st.text(max_size=20), SPEC, max_size=6)),
    tags=st.one_of(st.none(), st.lists(st.text(max_size=20), max_size=5)),
    stock=st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {"available": st.integers(0, 2**63 - 1), "reserved": st.integers(0, 2**63 - 1)}
        ),
    ),
    amount=st.one_of(st.integers(0, 10**12), st.floats(0, 1e12, allow_nan=False)),
    description=st.one_of(st.none(), st.text(max_size=100)),
)
def test_any_accepted_product_equals_the_dict_path(
    specifications: Any, tags: Any, stock: Any, amount: Any, description: Any
) -> None:
    product = {
        **BASE,
        "specifications": specifications,
        "tags": tags,
        "stock": stock,
        "price": {"amount": amount, "currency": "RUB"},
        "description": description,
    }
    raw = orjson.dumps(product)
    canonical = canonical_product(raw)
    if canonical is None:
        return  # the schema decides: the dict path, as before
    fast = canonical_product_values(canonical)
    if fast is not None:
        assert fast == product_values(orjson.loads(raw))


def test_the_sink_writes_both_paths_as_the_per_record_definition(tmp_path: Path) -> None:
    from vitrina.lake.rows import RecordMeta, lake_rows
    from vitrina.lake.writer import LakeWriter, to_table
    from vitrina.services.lake_sink import LakeSink
    from vitrina.settings import load_settings

    config = load_settings(data_dir=tmp_path)
    sink = LakeSink(config, LakeWriter.from_settings(config), b"key")
    products = list(generate_catalog(6, seed=4))
    products[1]["images"] = [{"url": "https://x/1.jpg"}]  # declined: the dict path
    products[2]["vendor_note"] = {"a": [1, 2]}  # an unknown field: the schema decides
    products[3]["created_at"] = "2024-04-02 10:00:00+03:00"  # not canonical: the schema
    for offset, product in enumerate(products):
        sink.process(ConsumedRecord(offset, orjson.dumps(product)))  # type: ignore[arg-type]
    [items] = sink.buffers.values()
    table, dead = sink._table("shop_products", 0, items)
    rows = [
        row
        for offset, product in enumerate(products)
        for row in lake_rows(
            "shop_products",
            product,
            RecordMeta("shop-products", 0, offset, 1714561200000 + offset, "k"),
            b"key",
        )
    ]
    assert not dead and table is not None
    assert table.equals(to_table("shop_products", rows))
