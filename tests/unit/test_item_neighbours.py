"""The product page's neighbour lists are read from the lake off the request path.

Real parts: a local lake (fsspec), real Parquet outputs and run markers as `analytics run`
commits them; the lake is wrapped only to record which thread read it.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import fsspec
import pyarrow as pa
import pytest
from tests.conftest import wait_for

from vitrina.analytics.lakeio import AnalyticsLake
from vitrina.analytics.neighbours import ItemNeighbours


def commit(
    lake: AnalyticsLake,
    run: str,
    rows: list[tuple[str, int, str, float, str]],
    *,
    published: bool = True,
) -> None:
    table = pa.table(
        {
            "product_id": [r[0] for r in rows],
            "rank": pa.array([r[1] for r in rows], pa.int64()),
            "other_id": [r[2] for r in rows],
            "score": [r[3] for r in rows],
            "kind": [r[4] for r in rows],
        }
    )
    lake.write_output("item_neighbours", run, table)
    report = {"published": {"recommendations": len(rows)}} if published else {}
    lake.commit_run(run, json.dumps(report).encode())


class Recorded(AnalyticsLake):
    """The real lake, noting the thread of every read."""

    def __init__(self, root: Path) -> None:
        super().__init__(fsspec.filesystem("file"), str(root), str(root))
        self.readers: list[str] = []

    def last_run(self, name: str = "recommendations", *, published: bool = False) -> str | None:
        self.readers.append(threading.current_thread().name)
        return super().last_run(name, published=published)

    def read_output(self, name: str, run_id: str | None = None) -> Any:
        self.readers.append(threading.current_thread().name)
        return super().read_output(name, run_id)


def test_a_started_reader_serves_without_reading_the_lake_and_follows_new_runs(
    tmp_path: Path,
) -> None:
    """Each server process's first product page read the whole run (~0.2 s, more with a
    bigger model) and so did the first one after every committed run, holding the lock all
    other product pages waited on. Started, the reader does it in a thread of its own."""
    lake = Recorded(tmp_path / "lake")
    commit(
        lake,
        "20261203T010000Z-a",
        [
            ("1", 1, "2", 0.9, "similar"),
            ("1", 2, "3", 0.5, "also_bought"),
            ("2", 1, "1", 0.9, "similar"),
        ],
    )
    reader = ItemNeighbours(lake, refresh_s=0.2).start()
    try:
        assert reader.lists("1") == (
            "20261203T010000Z-a",
            {"similar": [("2", 0.9)], "also_bought": [("3", 0.5)]},
        )
        assert reader.of("9") == {"similar": [], "also_bought": []}
        commit(lake, "20261203T020000Z-b", [("1", 1, "4", 0.7, "similar")])
        wait_for(
            lambda: reader.lists("1")[0] == "20261203T020000Z-b",
            timeout=10,
            message="the newer run to be served",
        )
        assert reader.of("1") == {"similar": [("4", 0.7)], "also_bought": []}
        assert reader.of("2") == {"similar": [], "also_bought": []}  # not in the newer run
        assert lake.readers and set(lake.readers) == {"item-neighbours"}
    finally:
        reader.stop()


def test_a_reader_not_started_reads_the_lake_itself(tmp_path: Path) -> None:
    lake = Recorded(tmp_path / "lake")
    reader = ItemNeighbours(lake)
    assert reader.lists("1") == (None, {"similar": [], "also_bought": []})  # no run yet
    commit(lake, "20261203T010000Z-a", [("1", 1, "2", 0.9, "similar")])
    reader._checked = float("-inf")  # its next look (every REFRESH_S)
    assert reader.lists("1") == ("20261203T010000Z-a", {"similar": [("2", 0.9)], "also_bought": []})
    assert set(lake.readers) == {threading.current_thread().name}


def test_a_run_not_published_is_not_served(tmp_path: Path) -> None:
    """A `--no-publish` run changed the product pages (they followed the newest marked run)
    while the recommendations topic kept the last published one's lists (an analytics
    review); its help says it is not served."""
    lake = Recorded(tmp_path / "lake")
    reader = ItemNeighbours(lake)
    commit(lake, "20261203T010000Z-a", [("1", 1, "2", 0.9, "similar")])
    commit(lake, "20261203T020000Z-b", [("1", 1, "5", 0.1, "similar")], published=False)
    assert reader.lists("1") == ("20261203T010000Z-a", {"similar": [("2", 0.9)], "also_bought": []})
    commit(lake, "20261203T030000Z-c", [("1", 1, "6", 0.4, "also_bought")])
    reader._checked = float("-inf")  # its next look (every REFRESH_S)
    assert reader.lists("1") == ("20261203T030000Z-c", {"similar": [], "also_bought": [("6", 0.4)]})


def test_pruning_keeps_the_run_served_behind_runs_not_published(tmp_path: Path) -> None:
    """Pruning kept the newest `keep_runs` markers, published or not: a few `--no-publish`
    runs deleted the run the product pages serve and whose lists the next run withdraws."""
    from datetime import UTC, datetime

    lake = Recorded(tmp_path / "lake")
    commit(lake, "20261203T010000Z-a", [("1", 1, "2", 0.9, "similar")])
    for hour in (2, 3, 4):
        commit(lake, f"20261203T0{hour}0000Z-x", [("1", 1, "5", 0.1, "similar")], published=False)
    assert lake.prune_runs(2, datetime(2026, 12, 3, 12, tzinfo=UTC)) == ["20261203T020000Z-x"]
    assert lake.last_published_run() == "20261203T010000Z-a"
    assert ItemNeighbours(lake).lists("1")[0] == "20261203T010000Z-a"


def test_a_lake_that_fails_keeps_the_run_served(tmp_path: Path) -> None:
    lake = Recorded(tmp_path / "lake")
    commit(lake, "20261203T010000Z-a", [("1", 1, "2", 0.9, "similar")])
    reader = ItemNeighbours(lake, refresh_s=0.1).start()
    try:
        assert reader.lists("1")[0] == "20261203T010000Z-a"  # waits for the first read
        # a newer run marker whose output file is unreadable
        commit(lake, "20261203T020000Z-b", [("1", 1, "5", 0.1, "similar")])
        (Path(lake.output_path("item_neighbours", "20261203T020000Z-b"))).write_bytes(b"nope")
        wait_for(lambda: len(lake.readers) > 6, timeout=10, message="a few more looks")
        assert reader.lists("1") == (
            "20261203T010000Z-a",
            {"similar": [("2", 0.9)], "also_bought": []},
        )
    finally:
        reader.stop()


def test_a_lake_client_that_cannot_be_made_does_not_stop_the_api_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated (settings validation stops the misconfigurations found here first): the
    client API starts without the thread, and the route reads the lake itself as before."""
    from vitrina.analytics import following as followers
    from vitrina.analytics.refinements import SearchRefinements
    from vitrina.api.deps import following
    from vitrina.errors import ConfigError
    from vitrina.settings import load_settings

    def refuse(settings: Any) -> AnalyticsLake:
        raise ConfigError("the s3 lake backend cannot load its client")

    monkeypatch.setattr(AnalyticsLake, "from_settings", refuse)
    monkeypatch.setattr(followers, "_served", {})
    settings = load_settings(data_dir=tmp_path / "d")
    assert following("neighbours", settings) is None
    assert following("refinements", settings) is None
    monkeypatch.undo()
    monkeypatch.setattr(followers, "_served", {})
    reader = following("neighbours", settings)
    refinements = following("refinements", settings)
    try:
        assert isinstance(reader, ItemNeighbours) and reader.lists("1")[0] is None
        assert isinstance(refinements, SearchRefinements) and refinements.of("каскан") is None
    finally:
        reader.stop()
        refinements.stop()
