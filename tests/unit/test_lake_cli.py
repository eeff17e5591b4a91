"""`vitrina lake ls|stats` over a real lake directory, through the real command."""

from __future__ import annotations

import os
import subprocess
from datetime import date
from pathlib import Path

from tests.support import run_vitrina

from vitrina.lake.writer import LakeWriter
from vitrina.settings import load_settings


def vitrina(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITRINA_")}
    env.update(VITRINA__DATA_DIR=str(data_dir), COLUMNS="200")
    return run_vitrina("lake", *args, env=env, timeout=60)


def test_lake_commands_on_a_populated_lake(tmp_path: Path) -> None:
    writer = LakeWriter.from_settings(load_settings(data_dir=tmp_path))
    rows = [
        {
            "_topic": "client-queries",
            "_partition": 1,
            "_offset": o,
            "_timestamp": 1714561200000 + o * 1000,
            "_key": "u",
            "query_id": f"q{o}",
            "user_id": "u",
            "kind": "search",
            "query": "часы",
            "filters_json": "{}",
            "result_count": 1,
            "latency_ms": 1.0,
            "timestamp": 1714561200000,
        }
        for o in range(100, 125)
    ]
    writer.write("client_queries", date(2024, 5, 1), rows[:20])
    writer.write("client_queries", date(2024, 5, 2), rows[20:])

    ls = vitrina(tmp_path, "ls")
    assert ls.returncode == 0, ls.stderr
    assert "client_queries" in ls.stdout and "2024-05-01" in ls.stdout
    assert "2024-05-02" in ls.stdout and "20" in ls.stdout

    stats = vitrina(tmp_path, "stats")
    assert stats.returncode == 0, stats.stderr
    assert "25" in stats.stdout  # rows of the dataset
    assert "100–124" in stats.stdout  # offset range of partition 1
    assert "2024-05-01 11:02:04 UTC" in stats.stdout  # newest record: offset 124 + 124 s


def test_empty_lake_and_unknown_dataset_say_what_to_do(tmp_path: Path) -> None:
    missing = vitrina(tmp_path, "stats")
    assert missing.returncode == 1
    assert "empty" in missing.stderr and "lake-sink" in missing.stderr
    (tmp_path / "lake").mkdir()
    empty = vitrina(tmp_path, "ls", "orders")
    assert empty.returncode == 1 and "no data files" in empty.stderr
    unknown = vitrina(tmp_path, "ls", "nope")
    assert unknown.returncode == 1 and "one of:" in unknown.stderr
