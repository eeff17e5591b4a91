"""The benchmarks that plan their runs' topics ahead run to the end at a tiny size: each
side's unmeasured warm-up needs a run of its own (shop_load ran out of topics with a
StopIteration when the warm-up came), the filter's ban latency goes to its last run, and
the filter's rebuild runs with both readers.
Timing is not checked (no timing asserts in tests); what each prints is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_benchmark(name: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), *args],
        capture_output=True,
        text=True,
        timeout=280,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_shop_load_benchmark_runs_every_round() -> None:
    result = run_benchmark("shop_load.py", "--n", "300", "--rounds", "2")
    assert result["rounds"] == 2
    assert result["order"] == "ABBA, BAAB by turns"
    assert result["ratio"] > 0


def test_filter_benchmark_measures_its_ban_latency_on_the_last_run() -> None:
    result = run_benchmark(
        "filter.py", "--n", "300", "--rounds", "2", "--bans", "20", "--latency-bans", "2"
    )
    assert result["rounds"] == 2
    assert result["banned_leaked"] == 0
    latency = result["ban_to_tombstone_s"]
    assert latency["n"] == 2 and latency["missed"] == 0
    assert latency["p95"] == latency["max"] >= latency["p50"]


def test_filter_rebuild_benchmark_rebuilds_every_product_with_both_readers() -> None:
    result = run_benchmark("filter_rebuild.py", "--n", "300", "--rounds", "2")
    assert result["rounds"] == 2
    runs = result["runs"]["baseline"] + result["runs"]["candidate"]
    assert len(runs) == 8  # 2 rounds of 4 runs (each run exits unless all 300 are rebuilt)
    assert result["candidate"]["reader"]["fetch.queue.backoff.ms"] <= 50
    assert "fetch.queue.backoff.ms" not in result["baseline"]["reader"]


def _bundle_orders(path: Path) -> int:
    """300 customers, each buying 4 orders of 3 products from one of 10 bundles of 6 (and a
    bestseller): the products a customer has not bought yet are their bundle's others."""
    import random

    rng = random.Random(5)
    lines = ["customer,product,placed,order_no"]
    for c in range(300):
        bundle = [f"b{c % 10}-{k}" for k in range(6)]
        for o in range(4):
            day = f"2024-03-{o + 1:02d}T10:00:00Z"
            for product in [*rng.sample(bundle, 3), f"best-{rng.randrange(3)}"]:
                lines.append(f"c{c},{product},{day},c{c}o{o}")
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return len(lines) - 1


def test_recs_csv_scores_the_model_on_a_file_it_has_never_seen(tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    rows = _bundle_orders(orders)
    columns = ("--user", "customer", "--item", "product", "--time", "placed")
    result = run_benchmark("recs_csv.py", str(orders), *columns, "--order", "order_no")
    assert result["split"] == "last-order"
    assert result["training_lines"] == rows - 300 * 4  # each customer's last order held out
    assert 0 < result["customers_scored"] <= 300
    vitrina = result["models"]["vitrina"]
    assert vitrina["recall@10"] > result["popularity_recall@10"], result
    assert result["vitrina_meets_target"] is True
    assert result["vitrina_model_check"], "the run's model check is reported"
    by_rows = run_benchmark("recs_csv.py", str(orders), *columns, "--holdout", "last-n", "--n", "2")
    assert by_rows["training_lines"] == rows - 300 * 2


def test_search_benchmark_measures_only_the_parts_asked_for() -> None:
    """At 100k the whole search benchmark runs for over half an hour, most of it the naive
    scan its query latency is compared with; `--parts build` is the index build alone."""
    result = run_benchmark("search.py", "--n", "2000", "--parts", "build", "--no-replay")
    assert result["index_build"]["docs_per_s"] > 0
    assert result["index_build"]["abba_rounds"] == 4
    assert not {"queries_per_s", "suggest_ms", "relevance", "freshness"} & set(result)
    refused = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "search.py"), "--parts", "build,scan"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert refused.returncode == 2 and "unknown scan" in refused.stderr
