"""A bulk build (many upserts, one commit) writes segments while documents are still coming.

The writer's budget (`WRITER_HEAP_BYTES`) decides when the indexing thread writes a segment;
small enough, most of a large build is written beside the Python thread that builds the
documents, and the commit writes only the rest (benchmarks/search.py measures the time).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vitrina.domain.generator import generate_catalog
from vitrina.search.embedded import EmbeddedSearch

pytestmark = pytest.mark.slow


def test_a_bulk_build_larger_than_the_writer_budget_is_written_in_several_segments(
    tmp_path: Path,
) -> None:
    catalog = list(generate_catalog(70_000, seed=42))
    index = EmbeddedSearch(tmp_path / "ix")
    for start in range(0, len(catalog), 5000):
        index.upsert(catalog[start : start + 5000])
    index.commit()
    index.close()
    meta = json.loads((tmp_path / "ix" / "meta.json").read_text("utf-8"))
    sizes = [segment["max_doc"] for segment in meta["segments"]]
    assert sum(sizes) == len(catalog)
    assert len(sizes) >= 2  # one segment: the whole build was written by the commit
    reader = EmbeddedSearch(tmp_path / "ix", readonly=True)
    assert reader.count() == len(catalog)
    assert reader.get(str(catalog[-1]["product_id"])) == catalog[-1]
