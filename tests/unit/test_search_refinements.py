"""How the client API looks up a learned refinement (analytics/refinements.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from vitrina.analytics.lakeio import AnalyticsLake
from vitrina.analytics.refinements import SearchRefinements, refinement_key
from vitrina.settings import load_settings


def test_a_query_is_found_however_the_engine_trimmed_it(tmp_path: Path) -> None:
    """The run groups queries by the engine's LOWER(TRIM(query)), which leaves a tab (and on
    Spark a no-break space); a request's query is keyed by Python's strip().lower(). The
    learned keys are folded the request's way, so «каскан» + tab, typed again, is found;
    where two learned keys meet, the refinement more customers made wins."""
    typed = ["  Каскан\t", "\xa0ТОРБА", "торба "]
    grouped = [duckdb.execute("SELECT LOWER(TRIM(?))", [t]).fetchone()[0] for t in typed]
    assert grouped[0] == "каскан\t"  # what the run writes
    table = pa.table(
        {
            "query": grouped,
            "refined_to": ["мантоварка", "сумка", "рюкзак"],
            "users": pa.array([2, 2, 5], pa.int64()),
        }
    )
    lake = AnalyticsLake.from_settings(load_settings(data_dir=tmp_path))
    folded = SearchRefinements(lake).fold(table)
    assert folded[refinement_key("каскан\t")].query == "мантоварка"
    assert folded[refinement_key("Торба")].query == "рюкзак"
    assert set(folded) == {"каскан", "торба"}
