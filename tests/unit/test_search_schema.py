"""The embedded index's schema versions: new indexes keep no positions (no query uses
them), take their text fields stemmed already (version 3), with the same terms, counts
and scores as version 2, and index what a name says its product serves apart (version 4:
the same scores as version 3 for names that say none); indexes written with versions 1, 2
and 3 still open, take writes and answer."""

from __future__ import annotations

from pathlib import Path

import pytest
import tantivy

from vitrina.domain.generator import generate_catalog
from vitrina.errors import ConfigError
from vitrina.search.embedded import MARKER, EmbeddedSearch
from vitrina.search.fields import TEXT_FIELDS
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


def test_new_index_is_version_4_without_positions(tmp_path: Path) -> None:
    index = EmbeddedSearch(tmp_path / "ix")
    index.upsert([product("1", "Кроссовки беговые Nike")])
    index.commit()
    assert (tmp_path / "ix" / MARKER).read_text() == SCHEMA_VERSION == "4"
    assert [h.product_id for h in index.search("кроссовок").hits] == ["1"]
    assert [h.product_id for h in index.search("кроссовки", filters=None).hits] == ["1"]
    # No API query is a phrase: positions are not indexed, so tantivy refuses one.
    phrase = tantivy.Query.phrase_query(index.schema, "name", ["кроссовк", "бегов"])
    with pytest.raises(ValueError, match="position"):
        index.index.searcher().search(phrase)
    index.close()


def older_index(path: Path, version: str) -> EmbeddedSearch:
    """A writer on an index created as a previous release created it."""
    path.mkdir()
    tantivy.Index(build_schema(version), path=str(path))
    (path / MARKER).write_text(version)
    index = EmbeddedSearch(path)
    assert index.schema_version == version
    return index


@pytest.mark.parametrize("version", ["1", "2", "3"])
def test_older_index_still_opens_writes_and_searches(tmp_path: Path, version: str) -> None:
    path = tmp_path / "ix"
    index = older_index(path, version)
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


def test_version_3_indexes_the_same_terms_and_scores_as_version_2(tmp_path: Path) -> None:
    """v3 stems in Python (stem_text) what v2's tantivy analyzer stemmed: every query finds
    the same products with the same BM25 scores (same terms, same token counts)."""
    catalog = [*generate_catalog(400, seed=3), product("1", "Санкт-Петербург: кроссовки!")]
    v2, v3 = older_index(tmp_path / "v2", "2"), older_index(tmp_path / "v3", "3")
    for index in (v2, v3):
        index.upsert(catalog)
        index.commit()
    queries = ["кроссовки", "петербург", "смартфон samsung", "чайник", "книги", "эксмо роман"]
    queries += [str(p["name"]).split()[0] for p in catalog[:40]]

    def results(index: EmbeddedSearch, query: str) -> list[tuple[float, str]]:
        return sorted(
            (-round(h.score, 4), h.product_id) for h in index.search(query, limit=500).hits
        )

    for query in queries:
        assert results(v3, query) == results(v2, query), query
    for typed in ("санкт-пет", "кроссовки бег"):  # regexes run over the same terms
        assert sorted(map(str, v3.suggest(typed, 50))) == sorted(map(str, v2.suggest(typed, 50)))
    assert v3.suggest("санкт-пет")
    searchers = v2.index.searcher(), v3.index.searcher()
    for term in ("кроссовк", "петербург", "санкт", "эксм", "книг", "смартфон"):
        for field in TEXT_FIELDS:
            assert searchers[1].doc_freq(field, term) == searchers[0].doc_freq(field, term)
    v2.close()
    v3.close()


def test_version_4_scores_names_that_serve_nothing_as_version_3(tmp_path: Path) -> None:
    """v4 takes the words after для out of the name (`fields.served_apart`); a name with
    none is indexed as v3 indexed it, and every query scores it alike."""
    catalog = [p for p in generate_catalog(400, seed=3) if " для " not in str(p["name"])]
    v3, v4 = older_index(tmp_path / "v3", "3"), EmbeddedSearch(tmp_path / "v4")
    assert v4.schema_version == "4"
    for index in (v3, v4):
        index.upsert(catalog)
        index.commit()
    queries = ["кроссовки", "смартфон samsung", "чайник", "книги", "эксмо роман", "чехол для"]
    queries += [str(p["name"]).split()[0] for p in catalog[:40]]
    for query in queries:
        got = [
            sorted((-round(h.score, 4), h.product_id) for h in index.search(query, limit=500).hits)
            for index in (v3, v4)
        ]
        assert got[0] == got[1], query
    v3.close()
    v4.close()
