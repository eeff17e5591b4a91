"""open_search picks the backend from settings; search() is the one entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from vitrina.errors import UnavailableError
from vitrina.search.api import open_search, search
from vitrina.search.embedded import EmbeddedSearch
from vitrina.search.opensearch import OpenSearchIndex
from vitrina.settings import load_settings


def test_embedded_backend_by_default(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    with pytest.raises(UnavailableError, match="no search index"):
        search("часы", settings=settings)  # readers never create an index
    writer = open_search(settings)
    assert isinstance(writer, EmbeddedSearch) and writer.path == settings.search_path
    writer.upsert(
        [
            {
                "product_id": "1",
                "name": "Умные часы",
                "category": "Электроника",
                "price": {"amount": 10.0, "currency": "RUB"},
            }
        ]
    )
    writer.commit()
    page = search("часов", {"category": "электроника"}, settings=settings)
    assert [h.product_id for h in page.hits] == ["1"]
    assert search("часы", backend=writer).total == 1
    writer.close()


def test_opensearch_backend_by_type(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        search={
            "backend": {"type": "opensearch", "url": "http://127.0.0.1:1", "index": "products-x"}
        },
    )
    backend = open_search(settings, readonly=True)
    assert isinstance(backend, OpenSearchIndex) and backend.index == "products-x"
    with pytest.raises(UnavailableError, match="OpenSearch cluster does not answer"):
        backend.count()  # nothing listens on port 1: a clear error, not a traceback
    backend.close()


def test_dropping_an_opensearch_index_of_a_cluster_away_is_a_clear_error(tmp_path: Path) -> None:
    """`vitrina index rebuild` dropped the index through the raw client: a cluster that does
    not answer was a traceback, not an error naming it."""
    settings = load_settings(
        data_dir=tmp_path,
        search={"backend": {"type": "opensearch", "url": "http://127.0.0.1:1", "index": "p-y"}},
    )
    backend = open_search(settings)
    assert isinstance(backend, OpenSearchIndex)
    with pytest.raises(UnavailableError, match="delete index"):
        backend.drop()
    backend.close()
