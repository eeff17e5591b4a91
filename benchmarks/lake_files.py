"""The analytics job over the lake's small files, before and after the sink's compaction.

A generated lake is cut into the files a sink flushing every few seconds writes (`--per-file`
records each, as a day of the demo's trickle leaves), then copied and compacted
(`lake.compaction`, as the sink does below its committed offset). The baseline (A) is the
analytics computation on the small files, the candidate (B) the same on the compacted copy;
rounds interleaved ABBA/BAAB, rate = runs a second. Both give the same outputs (checked).

    .venv/bin/python benchmarks/lake_files.py                   # 20k messages, 10 per file
    .venv/bin/python benchmarks/lake_files.py --messages 60000 --per-file 5
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from abba import abba, load_average, spread, stop_cleanly_on_sigterm

from vitrina.analytics.definitions import Params
from vitrina.analytics.job import compute
from vitrina.analytics.synthetic import as_small_files, write_generated_lake
from vitrina.lake.compaction import compact
from vitrina.lake.layout import DATASETS
from vitrina.lake.writer import LakeWriter
from vitrina.settings import Settings, load_settings

SPLIT = ("orders", "client_events", "client_queries")  # the trickling datasets


def compact_all(writer: LakeWriter) -> dict[str, Any]:
    started = time.perf_counter()
    absorbed = 0
    for role in DATASETS:
        files = writer.files(role)
        for incarnation in {f.incarnation for f in files}:
            committed = {f.partition: 1 << 62 for f in files}
            absorbed += compact(writer, role, committed, incarnation, 128 << 20).absorbed
    return {"absorbed": absorbed, "seconds": round(time.perf_counter() - started, 2)}


def file_count(writer: LakeWriter) -> int:
    return sum(len(writer.files(role)) for role in DATASETS)


def side(settings: Settings) -> Any:
    def run() -> dict[str, Any]:
        started = time.perf_counter()
        compute(settings, Params(as_of=2e9))
        seconds = time.perf_counter() - started
        return {"rate": 1 / seconds, "seconds": round(seconds, 3)}

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="generated messages")
    parser.add_argument("--per-file", type=int, default=10, help="Kafka records per small file")
    parser.add_argument("--rounds", type=int, default=4, help="ABBA/BAAB rounds")
    args = parser.parse_args()
    stop_cleanly_on_sigterm()
    root = Path(tempfile.mkdtemp(prefix="vitrina-lake-files-"))
    try:
        small = load_settings(data_dir=root / "small")
        merged = load_settings(data_dir=root / "merged")
        writer = LakeWriter.from_settings(small)
        write_generated_lake(writer, products=500, customer_count=200, messages=args.messages)
        as_small_files(writer, SPLIT, args.per_file)
        shutil.copytree(root / "small", root / "merged")
        merged_writer = LakeWriter.from_settings(merged)
        compaction = compact_all(merged_writer)
        a, b = compute(small, Params(as_of=2e9)), compute(merged, Params(as_of=2e9))
        same = all(a[name].equals(b[name]) for name in a)
        result = abba(side(small), side(merged), rounds=args.rounds)
        print(
            json.dumps(
                {
                    "benchmark": "analytics over small lake files vs compacted",
                    "messages": args.messages,
                    "files_small": file_count(writer),
                    "files_compacted": file_count(merged_writer),
                    "compaction": compaction,
                    "same_outputs": same,
                    "seconds_small": spread([r["seconds"] for r in result["baseline_runs"]]),
                    "seconds_compacted": spread([r["seconds"] for r in result["candidate_runs"]]),
                    "ratio": result["ratio"],
                    "load_average": result["load_average"],
                    "load_average_end": load_average(),
                    "candidate_runs": result["candidate_runs"],
                    "baseline_runs": result["baseline_runs"],
                },
                indent=2,
            )
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
