"""The embedded index's schema versions: new indexes keep no positions (no query uses
them), and an index written with version 1's schema still opens, takes writes and answers."""

from __future__ import annotations

from pathlib import Path

import pytest
import tantivy

from vitrina.errors import ConfigError
from vitrina.search.embedded import MARKER, EmbeddedSearch
from vitrina.search.schema import SCHEMA_VERSION, build_schema


def product(pid: str, name: str) -> dict[str, object]:
    return {
        "product_id": pid,
        "name": name,
        "description": "удобные и лёгкие",
        "price": {"amount": 4990.0, "currency": "RUB"},
        "category": "Обувь",
        "brand": "Nike",
        "stock": {"available": 3, "reserved": 0},
    }


def test_new_index_is_version_2_without_positions(tmp_path: Path) -> None:
    index = EmbeddedSearch(tmp_path / "ix")
    index.upsert([product("1", "Кроссовки беговые Nike")])
    index.commit()
    assert (tmp_path / "ix" / MARKER).read_text() == SCHEMA_VERSION == "2"
    assert [h.product_id for h in index.search("кроссовок").hits] == ["1"]
    assert [h.product_id for h in index.search("кроссовки", filters=None).hits] == ["1"]
    # No API query is a phrase: positions are not indexed, so tantivy refuses one.
    phrase = tantivy.Query.phrase_query(index.schema, "name", ["кроссовк", "бегов"])
    with pytest.raises(ValueError, match="position"):
        index.index.searcher().search(phrase)
    index.close()


def test_version_1_index_still_opens_writes_and_searches(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    path.mkdir()
    tantivy.Index(build_schema("1"), path=str(path))  # as the previous release created it
    (path / MARKER).write_text("1")
    index = EmbeddedSearch(path)
    assert index.schema_version == "1"
    index.upsert([product("7", "Кроссовки беговые Adidas")])
    index.commit()
    reader = EmbeddedSearch(path, readonly=True)
    assert [h.product_id for h in reader.search("кроссовок").hits] == ["7"]
    assert reader.get("7") is not None
    index.close()


def test_unknown_schema_version_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    EmbeddedSearch(path).close()
    (path / MARKER).write_text("99")
    with pytest.raises(ConfigError, match="schema version '99'") as info:
        EmbeddedSearch(path, readonly=True)
    assert "delete the directory" in (info.value.hint or "")
