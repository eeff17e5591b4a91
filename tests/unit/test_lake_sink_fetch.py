"""The lake sink's consumer waits for 1 MiB or 500 ms a fetch: it writes a file every 5 s,
and fetching the query log as it came (librdkafka's default) cost the broker and the sink
~40 % more CPU at 5k records/s (benchmarks/lake_steady.py). A caller's own settings win."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from vitrina.kafka import worker
from vitrina.services.lake_sink import FETCH_BATCHING, build_worker
from vitrina.settings import load_settings


class _Recording:
    """Stands in for the consumer: records its config (no broker is needed to read it)."""

    made: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, config: dict[str, Any]) -> None:
        self.made.append(config)


@pytest.fixture
def consumers(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    _Recording.made = []
    monkeypatch.setattr(worker, "Consumer", _Recording)
    return _Recording.made


def test_the_sink_fetches_in_batches(consumers: list[dict[str, Any]], tmp_path: Path) -> None:
    build_worker(load_settings(data_dir=tmp_path))
    [config] = consumers
    assert config["fetch.min.bytes"] == FETCH_BATCHING["fetch.min.bytes"] >= 1 << 20
    assert config["fetch.wait.max.ms"] == FETCH_BATCHING["fetch.wait.max.ms"] <= 500


def test_a_callers_fetch_settings_win(consumers: list[dict[str, Any]], tmp_path: Path) -> None:
    build_worker(load_settings(data_dir=tmp_path), consumer_extra={"fetch.min.bytes": 1})
    [config] = consumers
    assert config["fetch.min.bytes"] == 1
    assert config["fetch.wait.max.ms"] == FETCH_BATCHING["fetch.wait.max.ms"]
