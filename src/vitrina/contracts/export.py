"""Regenerate the JSON Schema files from the typed models (`vitrina contracts export`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vitrina.contracts.models import CONTRACTS, VERSIONS

SCHEMA_DIR = Path(__file__).parent / "schemas"


def _flatten_optional(node: Any) -> Any:
    """Turn pydantic's ``anyOf: [X, {type: null}]`` into ``X`` with a nullable type.

    Same meaning, but a validation error then names the real rule (``format``, ``maxLength``)
    instead of a vague ``anyOf``.
    """
    if isinstance(node, list):
        return [_flatten_optional(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _flatten_optional(v) for k, v in node.items()}
    branches = node.get("anyOf")
    if isinstance(branches, list) and len(branches) == 2 and {"type": "null"} in branches:
        other = next(b for b in branches if b != {"type": "null"})
        if isinstance(other.get("type"), str):
            del node["anyOf"]
            merged = {**other, **node}
            merged["type"] = [other["type"], "null"]
            return merged
    return node


def generated_schema(name: str) -> dict[str, Any]:
    model = CONTRACTS[name]
    body = _flatten_optional(model.model_json_schema(mode="validation"))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://vitrina.local/schemas/{name}.json",
        "x-version": VERSIONS.get(name, 1),
        **body,
    }


def render(name: str) -> str:
    return json.dumps(generated_schema(name), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def export_all(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in CONTRACTS:
        path = directory / f"{name}.json"
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written
