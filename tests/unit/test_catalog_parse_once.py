"""Issue 15: a JSON Lines catalogue is parsed once, line by line — not first as one whole
document (which fails after reading it) and then again by line."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from vitrina.domain import catalog as catalog_module
from vitrina.domain.catalog import dump_catalog, parse_catalog
from vitrina.domain.generator import generate_catalog


def test_json_lines_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    products = list(generate_catalog(50, seed=1))
    data = b"".join(dump_catalog(products, jsonl=True))
    parsed: list[int] = []
    real_loads = orjson.loads

    def counted_loads(raw: Any) -> Any:
        parsed.append(len(raw))
        return real_loads(raw)

    monkeypatch.setattr(catalog_module.orjson, "loads", counted_loads)
    found = parse_catalog(data)
    values = [r.value for r in found.records]
    assert found.shape == "jsonl" and values == products
    assert max(parsed) < len(data) / 10, "the whole file was parsed as one document"
    assert len(parsed) <= len(products) + 1  # the first line may be looked at twice


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        (b'{"product_id": "1"}\n', "object"),
        (b'{\n  "product_id": "1"\n}\n', "object"),
        (b'{"product_id": "1"}\n{"product_id": "2"}\n', "jsonl"),
        (b'{"product_id": "1"}\nnot json\n', "jsonl"),
        (b'{"product_id": "1"\n', "jsonl"),
    ],
)
def test_the_shape_of_object_files_is_unchanged(text: bytes, shape: str) -> None:
    assert parse_catalog(text).shape == shape
